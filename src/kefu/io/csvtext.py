"""CSV as kefu reads it: RFC 4180, in order, every record kept, its shape checked.

DuckDB's own dialect detection gives up on a file with one cut or over-long row ("Error
when sniffing file"), and its parallel reader cannot combine short rows with quoted
newlines. So the header is read here, with Python's ``csv`` module, and DuckDB reads the
rest with that header, one reader in file order: a quoted newline stays inside its field
(the record counts once), a short row is padded with NULLs, and ``EXTRA`` sentinel columns
catch fields beyond the header's, which DuckDB would otherwise drop silently. The caller
quarantines such a row (:func:`shape_problem`); docs/schema.md says so.

>>> csv_source("messages.csv", ["shop_id", "ts"], tsv=False)[:30]  # doctest: +SKIP
"read_csv('messages.csv', auto_"
"""

from __future__ import annotations

import csv
from pathlib import Path

from kefu.io.errors import InputError
from kefu.metrics.params import sql_str

#: Sentinel columns after the header's: a row filling them has that many extra fields.
EXTRA = tuple(f"_extra_field_{i}" for i in range(1, 5))
#: The longest record read (DuckDB's default is 2 MB; a chat export's longest is far less).
MAX_RECORD_BYTES = 1 << 26


def csv_header(path: Path, tsv: bool = False) -> list[str]:
    """The header record of a UTF-8 CSV (a BOM removed); ``[]`` for an empty file."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return next(csv.reader(fh, delimiter="\t" if tsv else ","), [])
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the header line: {exc}") from None


def csv_source(path: str, header: list[str], tsv: bool) -> str:
    """SQL reading the CSV at ``path`` with these (unique) header names, all text."""
    columns = ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in (*header, *EXTRA))
    delim = "\\t" if tsv else ","
    return (
        f"read_csv({sql_str(path)}, auto_detect = false, header = true, "
        f"columns = {{{columns}}}, delim = E'{delim}', quote = '\"', escape = '\"', "
        "strict_mode = false, null_padding = true, parallel = false, "
        f"max_line_size = {MAX_RECORD_BYTES})"
    )


def shape_problem(header_len: int) -> tuple[str, str]:
    """SQL (field, reason) naming a record with more fields than the header, else NULL.

    >>> shape_problem(6)[1]  # doctest: +ELLIPSIS
    "CASE WHEN ... THEN 'row has ' || ... || ' fields, header has 6' END"
    """
    last = " ".join(
        f"WHEN {c} IS NOT NULL THEN {header_len + len(EXTRA) - i}"
        for i, c in enumerate(reversed(EXTRA))
    )
    count = f"CASE {last} END"
    more = f"CASE WHEN {EXTRA[-1]} IS NOT NULL THEN 'at least ' ELSE '' END"
    reason = (
        f"CASE WHEN {has_extra()} THEN 'row has ' || {more} || {count} || "
        f"' fields, header has {header_len}' END"
    )
    field = f"CASE WHEN {has_extra()} THEN 'field {header_len + 1}' END"
    return field, reason


def has_extra() -> str:
    """SQL: the record has a non-empty field beyond the header's."""
    return f"COALESCE({', '.join(EXTRA)}) IS NOT NULL"
