"""Readers: one input file → a raw DuckDB table with a 1-based ``row_no`` per data row.

CSV, JSON / JSON Lines, Parquet and XLSX. Rows keep file order (T3): ``row_no`` is the
position of the record among the file's data rows, the header not counted. A file that
cannot be read raises :class:`InputError` with one line naming the file and the problem.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

from kefu.engine.duckdb import DuckDBEngine
from kefu.metrics.params import sql_str

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
}


class InputError(ValueError):
    """An input that cannot be used at all; ``str()`` is the one-line message for the user."""


def file_format(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(set(SUFFIXES)))
        raise InputError(f"{path}: unknown file type {path.suffix!r} (known: {known})")
    return fmt


def _utf8_copy(path: Path) -> Path:
    """The path of a UTF-8 version of a text file: itself, or a transcoded temporary copy.

    Chinese workbench exports are often GB18030/GBK; DuckDB reads UTF-8 only.
    """
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        return path
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(f"{path}: text is neither UTF-8 nor GB18030/GBK") from None
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", suffix=path.suffix, delete=False, prefix="kefu-utf8-"
    ) as tmp:
        tmp.write(text)
    return Path(tmp.name)


def _cell(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_table(path: Path) -> pa.Table:
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    except Exception as exc:  # calamine raises its own error types per format problem
        raise InputError(f"{path}: cannot read as XLSX: {exc}") from None
    if not sheet:
        raise InputError(f"{path}: the first sheet is empty")
    header = [str(h).strip() for h in sheet[0]]
    rows = sheet[1:]
    columns = {
        name: pa.array([_cell(r[i]) if i < len(r) else None for r in rows], pa.string())
        for i, name in enumerate(header)
        if name
    }
    return pa.table(columns)


def read_raw(engine: DuckDBEngine, path: Path, name: str) -> list[str]:
    """Load ``path`` into table ``name`` (raw values plus ``row_no``); return its headers."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    fmt = file_format(path)
    try:
        if fmt == "parquet":
            source = f"read_parquet({sql_str(str(path))}, file_row_number = true)"
            # Parquet is columnar and typed: read it where it lies, no copy.
            engine.view(
                name, f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS row_no "
                f"FROM {source}",
            )  # fmt: skip
        elif fmt == "xlsx":
            table = _xlsx_table(path)
            engine.register(f"{name}_in", table)
            engine.view(name, f"SELECT *, rowid + 1 AS row_no FROM {name}_in")
        else:
            text_path = _utf8_copy(path)
            if fmt == "csv":
                delim = "\\t" if path.suffix.lower() == ".tsv" else ","
                source = (
                    f"read_csv({sql_str(str(text_path))}, all_varchar = true, header = true, "
                    f"delim = E'{delim}', strict_mode = false, null_padding = true)"
                )
            else:
                source = f"read_json({sql_str(str(text_path))}, format = 'auto', records = true)"
            # Copied once: a table keeps file order in its rowid, which gives row numbers.
            engine.materialize(f"{name}_in", f"SELECT * FROM {source}")
            engine.view(name, f"SELECT *, rowid + 1 AS row_no FROM {name}_in")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(f"{path}: cannot read as {fmt.upper()}: {first}") from None
    return [c for c, _ in engine.columns(name) if c != "row_no"]
