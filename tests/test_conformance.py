"""Every conformance case runs on DuckDB, after a DuckDB → Spark → DuckDB round trip, and
on Spark itself (a local session).

The platform's cases are in shared/conformance; kefu's own, which also assert audit rows,
are in tests/conformance. A new file in either folder is picked up without code changes.
A case's ``expect`` names figures per level and key; its ``expect_rows`` names audit rows
per relation (``{"rounds": [{"buyer_id": "a", "round_no": 1, "outcome": "over_limit",
"wait_s": 475.0}]}``): each expected row must match exactly one row of the relation on
the columns it names, and the relation must have as many rows as are listed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from roundtrip import RoundTripEngine

import kefu
from kefu.metrics.assessment import Assessment

from conftest import SHARED, write_jsonl

HERE = Path(__file__).parent / "conformance"
CASES = sorted((SHARED / "conformance").glob("*.json")) + sorted(HERE.glob("*.json"))
TABLES = ("messages", "ratings", "refusals", "accounts", "agents", "shops")
KEYS = {"shop": "shop_id", "agent": "agent_id", "group": "agent_group", "day": "day"}


def test_cases_are_found():
    assert any(p.parent == HERE for p in CASES), f"no kefu cases under {HERE}"
    assert any(p.parent != HERE for p in CASES), f"no cases under {SHARED / 'conformance'}"


def _assess(case: dict, folder: Path, engine=None) -> kefu.Result:
    for table in TABLES:
        if case.get(table):
            write_jsonl(folder / f"{table}.jsonl", case[table])
    return kefu.assess(folder, case["profile"], case["as_of"], engine=engine)


def _check_figures(case: dict, figures: dict) -> None:
    for level, expected_by_key in case["expect"].items():
        rows = {str(r[KEYS[level]]): r for r in figures[level].to_pylist()}
        for key, expected in expected_by_key.items():
            assert key in rows, f"{case['id']}: no {level} row for {key}"
            for figure, value in expected.items():
                got = rows[key][figure]
                where = f"{case['id']} {level} {key} {figure}"
                assert got == (pytest.approx(value) if isinstance(value, float) else value), where


def _check_rows(case: dict, assessment: Assessment) -> None:
    for relation, expected_rows in case.get("expect_rows", {}).items():
        rows = assessment.relation(relation).to_pylist()
        for row in rows:  # dates and times compare as the ISO text the cases write
            row.update({k: v.isoformat() for k, v in row.items() if hasattr(v, "isoformat")})
        assert len(rows) == len(expected_rows), f"{case['id']} {relation}: {rows}"
        for expected in expected_rows:
            matches = [r for r in rows if all(r.get(k) == v for k, v in expected.items())]
            assert len(matches) == 1, f"{case['id']} {relation}: {expected} in {rows}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_conformance_case(path: Path, tmp_path: Path):
    case = json.loads(path.read_text("utf-8"))
    result = _assess(case, tmp_path)
    _check_figures(case, result.figures)
    _check_rows(case, result.assessment)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_conformance_case_after_the_round_trip_to_spark(path: Path, tmp_path: Path):
    case = json.loads(path.read_text("utf-8"))
    result = _assess(case, tmp_path)
    tripped = Assessment(RoundTripEngine(result.assessment.engine), result.params)
    _check_figures(case, tripped.all_figures())
    _check_rows(case, tripped)


@pytest.mark.spark
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_conformance_case_on_spark(path: Path, tmp_path: Path, spark_engine):
    case = json.loads(path.read_text("utf-8"))
    result = _assess(case, tmp_path, spark_engine)
    try:
        _check_figures(case, result.figures)
        _check_rows(case, result.assessment)
    finally:
        result.assessment.close()
