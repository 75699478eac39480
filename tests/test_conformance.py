"""Every case in shared/conformance runs; a new file there is picked up without code changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kefu

from conftest import SHARED, write_jsonl

CASES = sorted((SHARED / "conformance").glob("*.json"))
TABLES = ("messages", "ratings", "refusals", "accounts", "agents", "shops")


def test_cases_are_found():
    assert CASES, f"no conformance cases under {SHARED / 'conformance'}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_conformance_case(path: Path, tmp_path: Path):
    case = json.loads(path.read_text("utf-8"))
    for table in TABLES:
        if case.get(table):
            write_jsonl(tmp_path / f"{table}.jsonl", case[table])
    result = kefu.assess(tmp_path, case["profile"], case["as_of"])
    key_col = {"shop": "shop_id", "agent": "agent_id", "group": "agent_group", "day": "day"}
    for level, expected_by_key in case["expect"].items():
        rows = {str(r[key_col[level]]): r for r in result.figures[level].to_pylist()}
        for key, expected in expected_by_key.items():
            assert key in rows, f"{case['id']}: no {level} row for {key}"
            for figure, value in expected.items():
                got = rows[key][figure]
                if isinstance(value, float):
                    assert got == pytest.approx(value), f"{case['id']} {level} {key} {figure}"
                else:
                    assert got == value, f"{case['id']} {level} {key} {figure}"
