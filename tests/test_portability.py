"""Every definition runs after a DuckDB → Spark → DuckDB round trip and gives the same rows.

The definitions are written once, in DuckDB's dialect (``kefu/metrics/sql``); the Spark
engine runs them transpiled by sqlglot. Executing each one on DuckDB after the trip to
Spark SQL and back catches transpiler drift (a function renamed, an argument dropped, a
NULL order flipped) without a JVM: every audit relation and every level's figures must
equal the direct run's, row for row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from roundtrip import RoundTripEngine

import kefu
from kefu.demo.generator import generate_demo, write_demo
from kefu.metrics.assessment import Assessment
from kefu.metrics.relations import RELATIONS, STREAM_ORDER
from kefu.metrics.templates import parsed, placeholders, template_names
from kefu.rules.profile import load_profile

AS_OF = dt.date(2026, 11, 1)
PROFILES = {
    "taobao": load_profile("taobao"),
    # 1688's same-day rating changes, with the idle-gap consultation split and literal R4
    # (no same-day rule) so that every template variant makes the trip.
    "1688-gap": load_profile("1688").override(consultation_split="gap", reply_same_day=False),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo(generate_demo(AS_OF), folder)
    return folder


def _sorted(table: pa.Table) -> list[dict]:
    rows = table.to_pylist()
    return sorted(rows, key=lambda r: [str(v) for v in r.values()])


def test_the_stream_order_constant_is_the_templates_order():
    """T3: queries that list a stream's messages use the order stream_counts.sql sorts by."""
    text = (Path(kefu.__file__).parent / "metrics" / "sql" / "stream_counts.sql").read_text()
    assert "ORDER BY " + ", ".join(STREAM_ORDER) in text


def test_every_template_parses_and_names_its_placeholders():
    for name in template_names():
        assert parsed(name) is not None
        assert all(p.isidentifier() for p in placeholders(name)), name


@pytest.mark.parametrize("profile", PROFILES, ids=list(PROFILES))
def test_every_definition_survives_the_round_trip_to_spark(demo, profile):
    result = kefu.assess(demo, PROFILES[profile], AS_OF)
    tripped = RoundTripEngine(result.assessment.engine)
    other = Assessment(tripped, result.params)
    relations = [r.name for r in RELATIONS] + ["level_parts"]
    assert len(tripped.statements) == len(relations)
    for name in relations:
        direct = result.assessment.engine.query(f"SELECT * FROM {result.assessment.table(name)}")
        via_spark = result.assessment.engine.query(f"SELECT * FROM {other.table(name)}")
        assert direct.schema.names == via_spark.schema.names, name
        assert _sorted(direct) == _sorted(via_spark), name
    for level, table in other.all_figures().items():
        assert table.to_pylist() == result.figures[level].to_pylist(), level
    assert result.figures["shop"]["rounds"].to_pylist() != [0, 0, 0]  # the data has rounds
