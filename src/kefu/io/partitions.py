"""Hive-partitioned inputs: the day partitions an assessment opens (T2).

A table folder may hold its files in ``key=value`` folders (``messages/day=2024-03-01/
part-0.parquet``), as data lakes and export pipelines write them. When every messages file
lies in a day partition (``day=``, ``date=`` or ``dt=``, an ISO date), only the days whose
messages the assessment needs (``Params.message_days``: the window, its history and a day
of margin) are read; the other files are never opened. Ratings, refusals and the other
tables are read whole: S3's rating dedupe chains across history, and a refusal click may
come any time after its prompt (F1).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from kefu.engine.duckdb import DuckDBEngine
from kefu.io.errors import InputError, engine_message
from kefu.metrics.params import Params, sql_str
from kefu.rules.profile import Profile

#: Partition keys read as the local day of the rows below them.
DAY_KEYS = ("day", "date", "dt")


def partition_keys(path: Path) -> tuple[str, ...]:
    """The keys of the ``key=value`` folders ``path`` lies in, outermost first."""
    return tuple(p.partition("=")[0].lower() for p in path.parent.parts if "=" in p)


def partition_day(path: Path) -> dt.date | None:
    """The day of the innermost ``day=YYYY-MM-DD`` folder ``path`` lies in, else None.

    >>> partition_day(Path("messages/day=2024-03-01/part-0.parquet"))
    datetime.date(2024, 3, 1)
    """
    for part in reversed(path.parent.parts):
        key, sep, value = part.partition("=")
        if sep and key.lower() in DAY_KEYS:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return None
    return None


def _days(files: list[Path]) -> list[dt.date] | None:
    """Each file's partition day, or None unless every file has one."""
    days = [partition_day(f) for f in files]
    return None if not days or None in days else [d for d in days if d is not None]


def partitioned_as_of(inputs: dict[str, list[Path]]) -> dt.date | None:
    """The default assessment date of a day-partitioned dataset, from its folder names alone.

    The same meaning as ``api.default_as_of`` (the day after the latest message or rating),
    with the latest day partition of messages, and of ratings when they are partitioned
    too, standing for the latest time (a partition holds the rows of its local day). None
    when the messages are not day-partitioned. (decided)
    """
    messages = _days(inputs.get("messages", []))
    if messages is None:
        return None
    ratings = _days(inputs.get("ratings", [])) or []
    return max(messages + ratings) + dt.timedelta(days=1)


def prune_messages(
    inputs: dict[str, list[Path]], profile: Profile, as_of: dt.date, windows: int = 1
) -> tuple[dict[str, list[Path]], list[str]]:
    """``inputs`` without the message partitions the assessment does not need, and a note.

    Kept: the days of ``Params.message_days()`` for ``as_of`` and, with ``windows`` > 1, the
    windows before it too (a report compares with the previous window). Nothing is pruned
    unless every messages file lies in a day partition.
    """
    files = inputs.get("messages", [])
    days = _days(files)
    if days is None:
        return inputs, []
    span = dt.timedelta(days=int(profile["window_days"]) * (windows - 1))
    first = Params(profile, as_of - span).message_days()[0]
    last = Params(profile, as_of).message_days()[1]
    kept = [f for f, d in zip(files, days, strict=True) if first <= d <= last]
    read = sorted({d for d in days if first <= d <= last})
    total = len(set(days))
    if read:
        note = f"messages: read {len(read)} of {total} day partitions, {read[0]} … {read[-1]}"
    else:
        note = f"messages: read 0 of {total} day partitions (none from {first} to {last})"
    return {**inputs, "messages": kept}, [note]


def same_schema_runs(paths: list[Path]) -> list[list[Path]]:
    """``paths`` cut into runs of consecutive Parquet files of one schema and partition keys.

    Each run is read as one source (``read_parquet_files``): a year of day partitions is one
    scan, not 365 views. Any other file is a run of its own. A Parquet file whose footer
    cannot be read is an :class:`InputError` naming it (``kefu: <file>: cannot read as
    PARQUET: …``), as when it is read alone.
    """
    runs: list[list[Path]] = []
    last: object = None
    for path in paths:
        key = _parquet_key(path) if path.suffix.lower() in PARQUET_SUFFIXES else None
        if key is not None and key == last:
            runs[-1].append(path)
        else:
            runs.append([path])
        last = key
    return runs


PARQUET_SUFFIXES = (".parquet", ".pq")


def _parquet_key(path: Path) -> tuple[object, ...]:
    try:
        schema = pq.read_schema(path)
    except OSError as exc:  # unreadable, gone
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (pa.ArrowException, ValueError) as exc:  # not Parquet, a broken footer
        raise InputError(f"{path}: cannot read as PARQUET: {exc}") from None
    return (partition_keys(path), tuple((f.name, str(f.type)) for f in schema))


def read_parquet_files(
    engine: DuckDBEngine, paths: list[Path], name: str, first_no: int
) -> list[str]:
    """View ``name`` over Parquet files of one schema, as one scan; return its headers.

    Like ``readers.read_raw`` for one file (``row_no`` is the 1-based row within its file),
    plus ``__file_no``: ``first_no`` for the first file, ``first_no + 1`` for the next….
    Partition keys become columns as DuckDB reads them for one file (``hive_partitioning``).
    """
    listed = ", ".join(sql_str(str(p)) for p in paths)
    source = (
        f"read_parquet([{listed}], file_row_number = true, "
        f"hive_partitioning = {'true' if partition_keys(paths[0]) else 'false'})"
    )
    try:
        engine.view(
            name,
            f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS row_no, "
            f"CAST(file_index AS INTEGER) + {first_no} AS __file_no FROM {source}",
        )
    except duckdb.Error as exc:
        raise InputError(
            f"{paths[0]} (and {len(paths) - 1} more): cannot read as PARQUET: {engine_message(exc)}"
        ) from None
    return [c for c, _ in engine.columns(name) if c not in ("row_no", FILE_NO)]


#: The column of a multi-file raw view that holds each row's file number.
FILE_NO = "__file_no"
