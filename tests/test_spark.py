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
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.demo.generator import generate_demo
from kefu.demo.scale import write_dataset

AS_OF = dt.date(2024, 3, 1)
pytestmark = pytest.mark.spark


def _renamed(table: pa.Table, prefix: str) -> pa.Table:
    """The table with its shop ids (and message ids) prefixed: another set of shops."""
    for column in ("shop_id", "msg_id", "agent_id"):
        if column in table.column_names:
            i = table.column_names.index(column)
            table = table.set_column(
                i, column, pc.binary_join_element_wise(prefix, table[column], "")
            )
    return table


def _harder(messages: pa.Table, rng: np.random.Generator) -> pa.Table:
    n = messages.num_rows
    seq = messages["seq"].to_numpy(zero_copy_only=False).astype(float)
    seq[rng.random(n) < 0.10] = np.nan
    ts = messages["ts"].cast(pa.timestamp("ms")).to_numpy(zero_copy_only=False)
    snap = rng.random(n) < 0.05
    ts = np.where(snap, ts.astype("datetime64[m]").astype("datetime64[ms]"), ts)
    i_seq, i_ts = messages.column_names.index("seq"), messages.column_names.index("ts")
    messages = messages.set_column(i_seq, "seq", pa.array(seq, pa.int64(), from_pandas=True))
    return messages.set_column(i_ts, "ts", pa.array(ts, messages["ts"].type))


def _same_day_changes(ratings: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Some ratings given again an hour later the same day with another score."""
    pick = rng.choice(ratings.num_rows, size=max(10, ratings.num_rows // 20), replace=False)
    again = ratings.take(pa.array(np.sort(pick)))
    later = pc.add(again["ts"], pa.scalar(dt.timedelta(hours=1), pa.duration("ms")))
    day = pc.floor_temporal(again["ts"], unit="day")
    later = pc.if_else(pc.equal(pc.floor_temporal(later, unit="day"), day), later, again["ts"])
    score = pc.subtract(pa.scalar(6, pa.int8()), again["score"])  # 1 ↔ 5, 2 ↔ 4
    again = again.set_column(again.column_names.index("ts"), "ts", later.cast(again["ts"].type))
    again = again.set_column(again.column_names.index("score"), "score", score)
    return pa.concat_tables([ratings, again])


@pytest.fixture(scope="module")
def hard_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("parity")
    rng = np.random.default_rng(11)
    months = [generate_demo(AS_OF, seed=7).tables(), generate_demo(AS_OF, seed=8).tables()]
    for name in months[0]:
        tables = [months[0][name], _renamed(months[1][name], "b_")]
        table = pa.concat_tables(tables, promote_options="permissive")
        if name == "messages":
            table = _harder(table, rng)
        if name == "ratings":
            table = _same_day_changes(table, rng)
        pq.write_table(table, folder / f"{name}.parquet")
    assert pq.read_metadata(folder / "messages.parquet").num_rows >= 200_000
    return folder


def assert_same_table(a: pa.Table, b: pa.Table, level: str) -> int:
    """Same types, rows and values (floats to 1e-9); returns the number of values compared."""
    assert a.schema == b.schema, f"{level}: {a.schema} vs {b.schema}"
    assert a.num_rows == b.num_rows, level
    compared = 0
    for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True):
        for name, u in x.items():
            v = y[name]
            if isinstance(u, float) and isinstance(v, float):
                same = math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) or (
                    math.isnan(u) and math.isnan(v)
                )
            else:
                same = u == v
            assert same, f"{level} {name}: DuckDB {u!r}, Spark {v!r} in {x}"
            compared += 1
    return compared


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
