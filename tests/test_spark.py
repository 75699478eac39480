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
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from parity import assert_same_table, write_hard_data
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.demo.scale import write_dataset
from kefu.report.aggregates import dissatisfied

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


def assert_same_transcripts(duck: kefu.Result, spark: kefu.Result) -> None:
    """The first shop's dissatisfied buyers, with their conversations' texts, on both."""
    shop = duck.figures["shop"].to_pylist()[0]["shop_id"]
    texts = [dissatisfied(r, shop, 5, 20).rows for r in (duck, spark)]
    assert texts[0] == texts[1] and texts[0][0]["messages"]


def _messy_canonical(folder: Path) -> None:
    """A day-partitioned canonical dataset with what the loader must catch or fix: ids
    padded with an ideographic space, a byte-order mark or a site prefix, sender aliases
    and unknown senders, missing times, repeated ``msg_id`` (plain and with other
    content), two part files a day, a day folder with a space and a non-ASCII name, times
    stored as UTC instants in one part (T1), a part without ``seq`` (T3) and ratings with
    labels instead of scores."""
    write_dataset(folder, 6_000, 2, AS_OF, days=6, seed=11)
    parts = sorted((folder / "messages").glob("day=*/part-0.parquet"))
    for n, part in enumerate(parts):
        table = pq.read_table(part)
        rows = table.to_pylist()
        for i, row in enumerate(rows):
            if i % 97 == 0:
                row["buyer_id"] = f"\u3000{row['buyer_id']}\ufeff"
            if i % 89 == 0:
                row["shop_id"] = f"cntaobao{row['shop_id']}"
            if i % 83 == 0 and row["sender"] == "agent":
                row["sender"] = "客服"
            if i % 211 == 0:
                row["sender"] = "robot?"  # unknown: quarantined
            if i % 307 == 0:
                row["ts"] = None
        rows += [dict(rows[5]), {**rows[7], "text": "另一条"}]  # a plain and a differing copy
        half = len(rows) // 2
        pq.write_table(pa.Table.from_pylist(rows[:half], table.schema), part)
        second = pa.Table.from_pylist(rows[half:], table.schema)
        if n == 1:  # instants: the loader turns them into local time (T1)
            at = second.schema.get_field_index("ts")
            second = second.set_column(at, "ts", pc.assume_timezone(second["ts"], "Asia/Shanghai"))
        if n == 2:
            second = second.drop_columns(["seq"])
        pq.write_table(second, part.with_name("part 1 补.parquet" if n == 3 else "part-1.parquet"))
    ratings = sorted((folder / "ratings").glob("day=*/*.parquet"))
    labels = {5: "很满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意"}
    table = pq.read_table(ratings[0])
    texts = pa.array([labels[s] for s in table["score"].to_pylist()])
    at = table.schema.get_field_index("score")
    pq.write_table(table.set_column(at, "score", texts), ratings[0])


def test_spark_reads_canonical_parquet_itself_and_runs_the_loaders_checks(tmp_path, spark_engine):
    from kefu.engine.spark.loading import SparkLoading

    data = tmp_path / "data"
    _messy_canonical(data)
    duck = kefu.assess(data, "taobao", AS_OF)
    spark = kefu.assess(data, "taobao", AS_OF, engine=spark_engine)
    try:
        assert isinstance(spark.load.engine, SparkLoading)  # checked on Spark, not handed over
        assert duck.load.counts == spark.load.counts
        messages = spark.load.counts["messages"]
        assert messages.quarantined > 20 and messages.duplicates > 0 and messages.reconciles
        # The same rows left out, for the same reasons, with the same raw records.
        assert duck.load.quarantine.to_pylist() == spark.load.quarantine.to_pylist()
        assert assert_same_figures(duck, spark) > 1_000
        # A dissatisfied buyer's transcript reads the texts from the files on Spark too.
        assert_same_transcripts(duck, spark)
    finally:
        spark.assessment.close()


def test_a_text_export_is_loaded_on_duckdb_and_handed_to_spark_texts_too(tmp_path, spark_engine):
    data = tmp_path / "csv"
    data.mkdir()
    write_dataset(tmp_path / "parquet", 4_000, 2, AS_OF, days=5, seed=12)
    for table in ("messages", "ratings", "accounts"):
        folder = tmp_path / "parquet" / table  # day partitions, or one file
        rows = pq.read_table(folder if folder.exists() else folder.with_suffix(".parquet"))
        pacsv.write_csv(
            rows.drop_columns([c for c in ("day",) if c in rows.column_names]),
            data / f"{table}.csv",
        )
    duck = kefu.assess(data, "taobao", AS_OF)
    shutil.rmtree(spark_engine.scratch / "messages", ignore_errors=True)  # an earlier test's
    spark = kefu.assess(data, "taobao", AS_OF, engine=spark_engine)
    try:
        # DuckDB's readers parsed it; its checked tables were handed over as Parquet.
        assert (spark_engine.scratch / "messages" / "part-0.parquet").is_file()
        assert duck.load.counts == spark.load.counts
        assert assert_same_figures(duck, spark) > 100
        assert_same_transcripts(duck, spark)
    finally:
        spark.assessment.close()
