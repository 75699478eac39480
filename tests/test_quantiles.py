"""P3, P4: the medians and p90s every level reports equal ``quantile_cont`` over its rows.

``level_parts`` takes quantiles by ranking rows within each level's groups (a sort, which
spills) instead of a holistic aggregate (which keeps every value in memory); the two must
agree exactly — on the demo month, where waits tie at whole seconds, and on groups of one
and two rows, where the interpolation's edges are.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

import kefu
from kefu.demo.generator import generate_demo, write_demo
from kefu.metrics import registry
from kefu.metrics.figures import LEVELS, ONE_AGENT

from conftest import msg, write_jsonl

QUANTILES = [f for f in registry.aggregated() if f.kind == "quantile"]


def _direct(result: kefu.Result, level: str) -> dict[tuple, dict[str, float | None]]:
    """Each group's quantiles by DuckDB's own holistic ``quantile_cont``."""
    lv = LEVELS[level]
    cols = ", ".join(
        f"quantile_cont(CASE WHEN {f.of} THEN {f.value} END, {f.q}) AS {f.name}" for f in QUANTILES
    )
    having = " HAVING COUNT(CASE WHEN x.in_window THEN 1 END) > 0" if lv.window_keys else ""
    rows = result.assessment.query(
        f"SELECT {', '.join(lv.key_exprs)}, {cols} FROM rounds AS x "
        f"LEFT JOIN ({ONE_AGENT}) AS g ON g.shop_id = x.shop_id AND g.agent_id = x.agent_id "
        f"GROUP BY {', '.join(lv.key_exprs)}{having}"
    ).to_pylist()
    return {tuple(r[k] for k in lv.keys): {f.name: r[f.name] for f in QUANTILES} for r in rows}


def _reported(result: kefu.Result, level: str) -> dict[tuple, dict[str, float | None]]:
    keys = LEVELS[level].keys
    return {
        tuple(r[k] for k in keys): {f.name: r[f.name] for f in QUANTILES}
        for r in result.figures[level].to_pylist()
    }


def _assert_equal(result: kefu.Result) -> int:
    compared = 0
    for level in LEVELS:
        direct, reported = _direct(result, level), _reported(result, level)
        for key, values in direct.items():
            for name, value in values.items():
                got = reported[key][name]
                if value is None:
                    assert got is None, (level, key, name)
                else:
                    assert got is not None and math.isclose(got, value, abs_tol=1e-9), (
                        level,
                        key,
                        name,
                        got,
                        value,
                    )
                    compared += 1
    return compared


def test_every_levels_quantiles_equal_quantile_cont_on_the_demo_month(tmp_path):
    write_demo(generate_demo(dt.date(2026, 11, 1)), tmp_path)
    result = kefu.assess(tmp_path, as_of="2026-11-01")
    assert _assert_equal(result) > 500


@pytest.mark.parametrize("waits", [[30], [30, 90], [10, 10, 10], [5, 60, 61, 300, 7, 7]])
def test_quantiles_of_one_two_and_tied_rounds(tmp_path, waits):
    """Edges of h = (n − 1)·q: one row (h = 0), two rows (h = 0.5, 0.9), ties."""
    rows = []
    for i, wait in enumerate(waits):
        start = dt.datetime(2024, 3, 1, 10, 0) + dt.timedelta(hours=i)
        rows += [
            msg(f"b{i}", "buyer", start.isoformat(sep=" ")),
            msg(f"b{i}", "agent", (start + dt.timedelta(seconds=wait)).isoformat(sep=" "), "a1"),
        ]
    write_jsonl(tmp_path / "messages.jsonl", rows)
    result = kefu.assess(tmp_path, as_of="2024-03-02")
    assert _assert_equal(result) > 0
    shop = result.figures["shop"].to_pylist()[0]
    ordered = sorted(waits)
    assert shop["response_median_s"] == pytest.approx(
        (ordered[(len(waits) - 1) // 2] + ordered[len(waits) // 2]) / 2
    )
