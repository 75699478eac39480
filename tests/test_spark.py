"""DuckDB and Spark give the same figures at every level, from the same templates.

The data is the demo's two months (two sets of shops, ~300 k messages) made harder: a
tenth of the rows lose their ``seq`` (T3 orders them by file and row), a twentieth are
snapped to the whole minute (equal timestamps), and some buyers change their rating the
same day (S3). The demo already has bots and system cards (R2), chats across midnight
(R6), an own account's test chat (R3), re-ratings within 24 hours and refusals (F1).
Counts must be equal, means, medians and p90 equal to 1e-9; types equal too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from parity import assert_same_table, write_hard_data
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.demo.scale import write_dataset

AS_OF = dt.date(2024, 3, 1)
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def hard_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("parity")
    write_hard_data(folder, AS_OF, seeds=(7, 8))
    assert pq.read_metadata(folder / "messages.parquet").num_rows >= 200_000
    return folder


def assert_same_figures(duck: kefu.Result, spark: kefu.Result) -> int:
    """Every level equal; returns the number of values compared."""
    return sum(assert_same_table(duck.figures[v], spark.figures[v], v) for v in duck.figures)


#: P3's other consultation split (no shipped profile uses it): its own template, a sort.
GAP_PROFILE = 'name = "taobao-gap"\nextends = "taobao"\n\n[params]\nconsultation_split = "gap"\n'


@pytest.mark.parametrize("profile", ["taobao", "tmall", "1688", "gap"])
def test_duckdb_and_spark_give_the_same_figures(hard_data, spark_engine, profile, tmp_path):
    if profile == "gap":
        profile = str(tmp_path / "gap.toml")
        Path(profile).write_text(GAP_PROFILE, "utf-8")
    duck = kefu.assess(hard_data, profile, AS_OF)
    spark = kefu.assess(hard_data, profile, AS_OF, engine=spark_engine)
    try:
        assert duck.load.counts == spark.load.counts  # one loader
        assert duck.figures["shop"].num_rows == 6
        assert assert_same_figures(duck, spark) > 10_000
        # The audit relations explain reads are the same rows too.
        for relation in ("rounds", "rating_audit", "refusal_audit"):
            columns = duck.assessment.relation(relation, "FALSE").column_names
            order = ", ".join(columns)  # every column: ties sort the same on both engines
            rows = [r.assessment.relation(relation, order=order) for r in (duck, spark)]
            assert assert_same_table(*rows, relation) > 1_000
    finally:
        spark.assessment.close()


def test_explain_works_on_a_spark_result(hard_data, spark_engine):
    spark = kefu.assess(hard_data, "taobao", AS_OF, engine=spark_engine)
    try:
        shop = spark.figures["shop"].to_pylist()[0]
        why = kefu.explain(spark, "response_rate", shop_id=shop["shop_id"])
        assert why.totals()["rounds"] == shop["rounds"]
    finally:
        spark.assessment.close()


def test_kefu_assess_engine_spark_on_a_day_partitioned_dataset(tmp_path, spark_engine):
    data = tmp_path / "year"
    write_dataset(data, 20_000, 3, AS_OF, days=45, seed=3)
    runner = CliRunner()
    args = ["assess", str(data), "--as-of", AS_OF.isoformat(), "-f", "parquet"]
    duck = runner.invoke(app, [*args, "--out", str(tmp_path / "duck")])
    spark = runner.invoke(app, [*args, "--out", str(tmp_path / "spark"), "--engine", "spark"])
    assert duck.exit_code == 0, duck.output
    assert spark.exit_code == 0, spark.output
    assert "messages: read 32 of 45 day partitions" in spark.output  # only the window's
    for level in ("shop", "agent", "group", "day", "hour", "agent_day"):
        a = pq.read_table(tmp_path / "duck" / f"figures-{level}.parquet")
        b = pq.read_table(tmp_path / "spark" / f"figures-{level}.parquet")
        assert assert_same_table(a, b, level) > 0


def test_an_unknown_engine_is_one_line_before_any_work(tmp_path):
    result = CliRunner().invoke(app, ["assess", str(tmp_path), "--engine", "presto"])
    assert result.exit_code == 2
    assert "--engine 'presto': unknown engine (known: duckdb, spark)" in result.output
