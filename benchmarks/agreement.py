"""Whether an implementation's shop and agent figures agree with kefu's.

Counts must be equal, rates and means within ``TOLERANCE``; a key on one side only is fine
when it has no round there (kefu lists every shop of the inputs, and every agent with a
rating, with zero rounds).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

#: The figures compared, and the keys of each level.
COUNTS = ("rounds", "rounds_responded")
MEANS = ("response_rate", "response_s", "first_response_s")
KEYS = {"shop": ("shop_id",), "agent": ("shop_id", "agent_id")}
TOLERANCE = 1e-9


def _none(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _rows(path: Path, level: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=[*KEYS[level], *COUNTS, *MEANS])
    return {tuple(r[k] for k in KEYS[level]): r for r in table.to_pylist()}


def _empty(row: dict[str, Any]) -> bool:
    return not any(row[c] for c in COUNTS) and all(_none(row[c]) for c in MEANS)


def compare_level(kefu_path: Path, other_path: Path, level: str, name: str) -> dict[str, Any]:
    """Agreement of one level: mismatches (the first 20), their count, and the totals."""
    kefu, other = _rows(kefu_path, level), _rows(other_path, level)
    mismatches: list[str] = []
    max_diff = 0.0
    for key in sorted(set(kefu) | set(other), key=lambda k: tuple(str(x) for x in k)):
        k, o = kefu.get(key), other.get(key)
        label = "/".join(str(x) for x in key)
        if k is None or o is None:
            row = k or o
            assert row is not None
            if not _empty(row):
                mismatches.append(f"{label}: only in {'kefu' if o is None else name}")
            continue
        for col in COUNTS:
            if int(k[col]) != int(o[col]):
                mismatches.append(f"{label}: {col} kefu {k[col]} {name} {o[col]}")
        for col in MEANS:
            kv, ov = k[col], o[col]
            if _none(kv) != _none(ov):
                mismatches.append(f"{label}: {col} kefu {kv} {name} {ov}")
            elif not _none(kv):
                diff = abs(kv - ov)
                max_diff = max(max_diff, diff)
                if diff > TOLERANCE:
                    mismatches.append(f"{label}: {col} kefu {kv!r} {name} {ov!r}")
    return {
        "agree": not mismatches,
        "keys": len(kefu),
        "rounds": sum(int(r["rounds"]) for r in kefu.values()),
        "rounds_responded": sum(int(r["rounds_responded"]) for r in kefu.values()),
        "max_diff": max_diff,
        "mismatches": mismatches[:20],
        "mismatch_count": len(mismatches),
    }


def compare(kefu_dir: Path, other_dir: Path, name: str) -> dict[str, Any]:
    """Agreement at shop and agent level between kefu's ``figures-<level>.parquet`` files and
    an implementation's ``<level>.parquet`` files."""
    levels = {
        level: compare_level(
            kefu_dir / f"figures-{level}.parquet", other_dir / f"{level}.parquet", level, name
        )
        for level in KEYS
    }
    return {"agree": all(v["agree"] for v in levels.values()), "levels": levels}
