"""Write an assessment's figures as JSON, CSV or Parquet, and the quarantine as CSV.

Column names are the figure names of the conformance README (``rounds``,
``response_rate``, ``satisfaction_rate`` …); rates are fractions.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kefu.api import Result

FORMATS = ("json", "csv", "parquet")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def summary(result: Result) -> dict[str, Any]:
    """The assessment's context: profile, window, and the load reconciliation."""
    p = result.params
    return {
        "profile": result.profile.name,
        "as_of": p.as_of.isoformat(),
        "window": [p.window_start.isoformat(), p.window_end.isoformat()],
        "assumed_parameters": sorted(k for k, v in result.profile.params.items() if v.assumed),
        "reconciliation": {
            t: {
                "read": c.read,
                "accepted": c.accepted,
                "quarantined": c.quarantined,
                "duplicates": c.duplicates,
            }
            for t, c in result.load.counts.items()
        },
    }


def write_quarantine(result: Result, out: Path) -> Path | None:
    """``quarantine.csv``: every row not used, with file, row, field and reason."""
    if result.load.quarantine.num_rows == 0:
        return None
    out.mkdir(parents=True, exist_ok=True)
    path = out / "quarantine.csv"
    pacsv.write_csv(result.load.quarantine, path)
    return path


def write_figures(result: Result, out: Path, fmt: str) -> list[Path]:
    """One file per level (``figures-shop.csv`` …) or a single ``figures.json``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        doc = summary(result)
        doc["levels"] = {
            level: [{k: _jsonable(v) for k, v in row.items()} for row in table.to_pylist()]
            for level, table in result.figures.items()
        }
        path = out / "figures.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
        return [path]
    paths = []
    for level, table in result.figures.items():
        path = out / f"figures-{level}.{fmt}"
        if fmt == "csv":
            pacsv.write_csv(table, path)
        else:
            pq.write_table(table, path)
        paths.append(path)
    meta = out / "assessment.json"
    meta.write_text(json.dumps(summary(result), ensure_ascii=False, indent=1), "utf-8")
    return [*paths, meta]
