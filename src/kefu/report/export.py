"""Write an assessment's figures as JSON, CSV or Parquet, and the quarantine as CSV.

Column names are the figure names of the conformance README (``rounds``,
``response_rate``, ``satisfaction_rate`` …); rates are fractions.

Each run's outputs are that run's (``run_outputs``): files are written into a staging
folder beside the target and moved in at the end; the files the previous run wrote there
(listed in ``.kefu-outputs.json``) and this run did not are removed. Nothing else in the
folder is touched, and a run that fails leaves the previous run's files as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kefu.api import Result
from kefu.state.daily import DailyResult

FORMATS = ("json", "csv", "parquet")
#: The list of files kefu wrote into an output folder, kept in that folder.
MANIFEST = ".kefu-outputs.json"


def check_formats(formats: Iterable[str], option: str = "format") -> list[str]:
    """The figure formats, each one known, in order without repeats; else a ``ValueError``.

    Checked before any work, so a misspelt format does not cost a whole assessment.

    >>> check_formats(["csv", "json", "csv"])
    ['csv', 'json']
    """
    chosen = list(dict.fromkeys(formats))
    for fmt in chosen:
        if fmt not in FORMATS:
            raise ValueError(f"{option} {fmt!r}: unknown format (known: {', '.join(FORMATS)})")
    return chosen


def check_out_folder(out: Path, option: str = "out") -> Path:
    """``out`` if kefu can make it a folder of outputs; a ``ValueError`` if a file is there."""
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            raise ValueError(f"{option} {out}: {path} is a file, not a folder")
    return out


def _manifest(out: Path) -> set[str]:
    """The names the previous run wrote into ``out`` (plain names only, never a path)."""
    try:
        names = json.loads((out / MANIFEST).read_text("utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {
        n for n in names if isinstance(n, str) and n == Path(n).name and n not in ("", ".", "..")
    }


def _record(out: Path, names: Iterable[str], staging: Path) -> None:
    """Write the manifest of ``out`` (through ``staging``, so it is never half written)."""
    record = {"written_by": "kefu", "files": sorted(names)}
    (staging / MANIFEST).write_text(json.dumps(record, ensure_ascii=False, indent=1), "utf-8")
    os.replace(staging / MANIFEST, out / MANIFEST)


def _commit(staging: Path, out: Path) -> None:
    """Move the staged files into ``out``; remove the previous run's files not rewritten.

    The manifest lists the old and the new names while the files move, so a move that
    fails half way leaves every file kefu wrote on the list for the next run to clear.
    """
    out.mkdir(parents=True, exist_ok=True)
    new = {p.name for p in staging.iterdir()}
    old = _manifest(out)
    _record(out, old | new, staging)
    for name in sorted(new):
        os.replace(staging / name, out / name)
    for name in sorted(old - new):
        stale = out / name
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
    _record(out, new, staging)


@contextmanager
def writing(path: Path, staging: Path | None = None) -> Iterator[None]:
    """File-system errors inside the block name ``path`` (Arrow's and ``write`` do not).

    An error naming a file in ``staging`` names it in ``path`` instead, where the user
    looks for it; its text is the system's (``No space left on device``).
    """
    try:
        yield
    except OSError as exc:
        name = Path(exc.filename) if isinstance(exc.filename, str) else None
        if name is not None and staging is not None and name.is_relative_to(staging):
            name = path / name.relative_to(staging)
        text = os.strerror(exc.errno) if exc.errno else (exc.strerror or str(exc))
        raise OSError(exc.errno, text, str(name or path)) from exc


@contextmanager
def run_outputs(out: Path) -> Iterator[Path]:
    """A staging folder for one run's files, moved into ``out`` when the block ends.

    Staged beside ``out`` (same file system, so each move is a rename). If the block
    raises, nothing in ``out`` changes. Files staged must be plain files, not folders.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "figures"
    >>> with run_outputs(out) as folder:
    ...     _ = (folder / "a.csv").write_text("x")
    >>> with run_outputs(out) as folder:
    ...     _ = (folder / "b.csv").write_text("y")
    >>> sorted(p.name for p in out.iterdir())
    ['.kefu-outputs.json', 'b.csv']
    """
    check_out_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".kefu-tmp", dir=out.parent))
    try:
        with writing(out, staging):
            yield staging
            _commit(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def summary(result: Result | DailyResult) -> dict[str, Any]:
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


def write_batches(rows: pa.RecordBatchReader, path: Path, fmt: str) -> None:
    """Write a stream of batches as one CSV or Parquet file, a batch at a time."""
    writer: pacsv.CSVWriter | pq.ParquetWriter
    if fmt == "csv":
        writer = pacsv.CSVWriter(path, rows.schema)
    else:
        writer = pq.ParquetWriter(path, rows.schema)
    with writer:
        for batch in rows:
            writer.write_batch(batch)


def write_quarantine(result: Result | DailyResult, out: Path) -> Path | None:
    """``quarantine.csv``: every row not used, with file, row, field and reason."""
    if not result.load.quarantined_rows:
        return None
    out.mkdir(parents=True, exist_ok=True)
    path = out / "quarantine.csv"
    write_batches(result.load.quarantine_batches(), path, "csv")
    return path


def write_figures(result: Result | DailyResult, out: Path, fmt: str) -> list[Path]:
    """One file per level (``figures-shop.csv`` …) or a single ``figures.json``."""
    check_formats([fmt])
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
    for level in result.figures:
        path = out / f"figures-{level}.{fmt}"
        # Streamed: a year's day and agent-day levels are never held whole in memory.
        write_batches(result.figures.batches(level), path, fmt)
        paths.append(path)
    meta = out / "assessment.json"
    meta.write_text(json.dumps(summary(result), ensure_ascii=False, indent=1), "utf-8")
    return [*paths, meta]
