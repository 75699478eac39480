"""Readers: one input file → a raw DuckDB table with a 1-based ``row_no`` per data row.

CSV, JSON / JSON Lines, Parquet and Excel (XLSX, and old XLS). Rows keep file order (T3):
``row_no`` is the position of the record among the file's data rows, the header not
counted, so a CSV record with a quoted newline (RFC 4180) counts once. A file that cannot
be read raises :class:`InputError` with one line naming the file and the problem.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from kefu.engine.duckdb import DuckDBEngine
from kefu.io.csvtext import EXTRA, csv_header, csv_source, has_extra, shape_problem
from kefu.io.errors import InputError, engine_message
from kefu.io.text import readable_text
from kefu.metrics.params import sql_str

__all__ = ["ROW_PROBLEM", "SUFFIXES", "InputError", "file_format", "read_raw"]

#: Columns a raw table may add: the field and reason of a record unusable as a whole.
ROW_PROBLEM = ("_row_field", "_row_reason")

SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xlsx",
}


def file_format(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(set(SUFFIXES)))
        raise InputError(f"{path}: unknown file type {path.suffix!r} (known: {known})")
    return fmt


def unique_headers(names: list[str]) -> list[str]:
    """Header names made unique and non-empty: a repeated name gets ``_2``, ``_3``….

    The first column of a repeated header keeps the name, so header mapping takes the
    first, in every format (docs/schema.md); an empty header is ``column<n>`` (1-based).

    >>> unique_headers(["ts", "text", "ts", ""])
    ['ts', 'text', 'ts_2', 'column4']
    """
    taken: set[str] = set()
    out = []
    for i, name in enumerate(names, 1):
        name = name.strip() or f"column{i}"
        base, n = name, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.lower())
        out.append(name)
    return out


def _cell(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header(row: Sequence[object]) -> tuple[str, ...]:
    return tuple(str(_cell(h) or "").strip() for h in row)


def _xlsx_table(path: Path, notes: list[str] | None = None) -> pa.Table:
    """Every sheet whose header row is the first sheet's, one after another.

    A workbook split by month (one sheet each, same header) is read whole; a sheet with
    other headers (notes, a summary) holds no rows of this table and is not read
    (docs/schema.md) — ``notes`` is told each such sheet, so no data is left out unsaid.
    """
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        named = [(n, book.get_sheet_by_name(n).to_python()) for n in book.sheet_names]
    except Exception as exc:  # calamine raises its own error types per format problem
        raise InputError(f"{path}: cannot read as Excel: {exc}") from None
    sheets = [(n, s) for n, s in named if s]
    if not sheets:
        raise InputError(f"{path}: every sheet is empty")
    header = _header(sheets[0][1][0])
    rows = [r for _, s in sheets if _header(s[0]) == header for r in s[1:]]
    for name, sheet in sheets:
        if _header(sheet[0]) != header and notes is not None:
            notes.append(
                f"{path}: sheet {name!r} not read: its header row is not the first sheet's"
            )
    names = unique_headers(list(header))
    columns = {
        name: pa.array([_cell(r[i]) if i < len(r) else None for r in rows], pa.string())
        for i, name in enumerate(names)
    }
    return pa.table(columns)


def _restore_cr(engine: DuckDBEngine, name: str, stand_in: str) -> None:
    """Turn the stand-ins of bare carriage returns back into ``chr(13)``."""
    cols = [c for c, t in engine.columns(name) if t == "VARCHAR"]
    sets = ", ".join(f'"{c}" = replace("{c}", {sql_str(stand_in)}, chr(13))' for c in cols)
    if sets:
        engine.execute(f"UPDATE {name} SET {sets}")


def _json_source(engine: DuckDBEngine, path: str) -> str:
    """SQL reading JSON records with every column as text, like CSV.

    The names come from DuckDB's sample of the file; the values are read as text, so a
    column that holds numbers in the sample and text further on (``buyer_id`` 123, then
    ``"a7"``) reads whole, and the loader parses every value the same way whatever its
    JSON type (a number becomes ``"123"``, an object its JSON text).
    """
    auto = f"read_json({sql_str(path)}, format = 'auto', records = true)"
    names = [row[0] for row in engine.con.execute(f"DESCRIBE SELECT * FROM {auto}").fetchall()]
    columns = ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in names)
    return f"read_json({sql_str(path)}, format = 'auto', records = true, columns = {{{columns}}})"


def _json_value(value: object) -> str | None:
    """A JSON value as the text DuckDB reads it as: strings as they are, the rest as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _json_lines_table(path: Path) -> pa.Table:
    """JSON Lines read line by line: the fallback for a file with lines DuckDB refuses.

    Each non-blank line is a record (``row_no`` its place, as DuckDB numbers them); a line
    that is no JSON object keeps its place with ``_row_field`` / ``_row_reason`` set, so
    the loader quarantines that line alone and reads the rest.
    """
    records: list[dict[str, object]] = []
    reasons: list[str | None] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.strip():
                continue
            why: str | None = None
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as exc:
                record, why = {}, f"not valid JSON ({getattr(exc, 'msg', 'too deep')})"
            else:
                why = None if isinstance(record, dict) else "not a JSON object"
            records.append(record if isinstance(record, dict) else {})
            reasons.append(why and f"{why}: {line.strip()[:120]}")
    names = dict.fromkeys(k for r in records for k in r)
    columns = {n: pa.array([_json_value(r.get(n)) for r in records], pa.string()) for n in names}
    columns[ROW_PROBLEM[0]] = pa.array([w and "record" for w in reasons], pa.string())
    columns[ROW_PROBLEM[1]] = pa.array(reasons, pa.string())
    return pa.table(columns)


def _json_lines(path: Path) -> bool:
    """Whether a JSON file holds one record a line (JSON Lines) rather than one document."""
    with path.open("rb") as fh:
        start = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return path.suffix.lower() in (".jsonl", ".ndjson") or start.startswith(b"{")


def _read_text(engine: DuckDBEngine, path: Path, fmt: str, name: str) -> None:
    """CSV / JSON into table ``{name}_in`` and view ``name``, via UTF-8 without bare CRs.

    A CSV record with more fields than the header keeps its place and row number; the
    view names it in ``_row_field`` / ``_row_reason`` (only when the file has one), and
    the loader quarantines it.
    """
    tsv = path.suffix.lower() == ".tsv"
    with readable_text(path) as text:
        if fmt == "csv":
            header = unique_headers(csv_header(text.path, tsv))
            if not header:
                raise InputError(f"{path}: no header line")
            source = csv_source(str(text.path), header, tsv)
        try:
            if fmt != "csv":
                source = _json_source(engine, str(text.path))
            # Copied once: a table keeps file order in its rowid, which gives row numbers.
            engine.materialize(f"{name}_in", f"SELECT * FROM {source}")
        except duckdb.Error:
            if fmt == "csv" or not _json_lines(text.path):
                raise
            engine.register(f"{name}_in", _json_lines_table(text.path))
        if text.stand_in:
            _restore_cr(engine, f"{name}_in", text.stand_in)
    if fmt != "csv":
        engine.view(name, f"SELECT *, rowid + 1 AS row_no FROM {name}_in")
        return
    shape = ""
    if engine.scalar(f"SELECT COUNT(*) FROM {name}_in WHERE {has_extra()}"):
        field, reason = shape_problem(len(header))
        shape = f", {field} AS _row_field, {reason} AS _row_reason"
    engine.view(
        name, f"SELECT * EXCLUDE ({', '.join(EXTRA)}), rowid + 1 AS row_no{shape} FROM {name}_in"
    )


def read_raw(
    engine: DuckDBEngine, path: Path, name: str, notes: list[str] | None = None
) -> list[str]:
    """Load ``path`` into table ``name`` (raw values plus ``row_no``); return its headers.

    ``notes`` is told what was left out of a readable file (an Excel sheet of other headers).
    """
    fmt = file_format(path)
    try:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        if fmt == "parquet":
            source = f"read_parquet({sql_str(str(path))}, file_row_number = true)"
            # Parquet is columnar and typed: read it where it lies, no copy.
            engine.view(
                name, f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS row_no "
                f"FROM {source}",
            )  # fmt: skip
        elif fmt == "xlsx":
            engine.register(f"{name}_in", _xlsx_table(path, notes))
            engine.view(name, f"SELECT *, rowid + 1 AS row_no FROM {name}_in")
        else:
            _read_text(engine, path, fmt, name)
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot read as {fmt.upper()}: {engine_message(exc)}") from None
    except OSError as exc:  # unreadable (permissions), vanished while read, a device error
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return [c for c, _ in engine.columns(name) if c not in ("row_no", *ROW_PROBLEM)]
