"""The Excel workbook (``kefu report --xlsx``): the engine's figures of one shop per level.

One sheet per level — shop, group, agent, day, hour, and agent × day (E1) — with every
column of the engine's figure table, plus ``rounds`` and ``ratings`` sheets with the audit
rows behind the figures (the same rows ``kefu explain`` lists, with the reason of each) and
an ``about`` sheet (profile, window, assumed parameters, load reconciliation, caps).

Values are written as the engine returns them: rates as fractions with a percent format,
seconds with one decimal, counts as integers. Headers are the column names of ``kefu
assess``'s exports, or Chinese with ``lang="zh"``. Header rows are frozen and filtered; a
figure whose ``<figure>_status`` is ``not_qualified`` is filled red, ``not_assessed`` amber.
"""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from kefu.api import Result
from kefu.metrics.params import sql_str
from kefu.report.aggregates import shop_rows
from kefu.report.catalog import COLUMN_ZH, outcome_text, word
from kefu.report.notes import all_assumed

#: Sheets of the levels: engine level → (English, Chinese) sheet name.
LEVEL_SHEETS = {
    "shop": ("shop", "店铺"),
    "group": ("group", "分组"),
    "agent": ("agent", "客服"),
    "day": ("day", "日"),
    "hour": ("hour", "小时"),
    "agent_day": ("agent_day", "客服日"),
}
#: Rows of a drill-down sheet at most (missed rounds come first); ``kefu explain --csv``
#: lists every row.
DRILL_CAP = 20_000

ROUND_COLUMNS = (
    "start_ts", "buyer_id", "agent_id", "answer_ts", "wait_s", "buyer_messages", "counted",
    "responded", "in_average", "in_first_average", "outcome",
)  # fmt: skip
RATING_COLUMNS = ("ts", "buyer_id", "agent_id", "score", "source", "counted", "satisfied", "status")

FILL = {"not_qualified": "#F8D7DA", "not_assessed": "#FFE8B3", "qualified": "#D4EDDA"}
FONT = {"not_qualified": "#9C0006", "not_assessed": "#7A4F00", "qualified": "#1E5631"}


def sheet_name(key: str, lang: str) -> str:
    """A sheet's name in ``lang`` (levels, ``rounds``, ``ratings``, ``about``)."""
    if key in LEVEL_SHEETS:
        en, zh = LEVEL_SHEETS[key]
        return zh if lang == "zh" else en
    return word(f"sheet_{key}", lang)


def header(column: str, lang: str) -> str:
    """A column's header: the export's column name, or its Chinese label."""
    return COLUMN_ZH.get(column, column) if lang == "zh" else column


def num_format(column: str) -> str | None:
    """The Excel number format of a column, from its name (rates, seconds, counts …)."""
    if column.endswith("_status") or column.endswith("_ok"):
        return None
    if column.endswith("_rate") or column.endswith("_rate_line"):
        return "0.0%"
    if column.endswith("_s") or column.endswith("_s_line"):
        return "0.0"
    if column.startswith("experience_"):
        return "0.00"
    if column.endswith("_ts") or column == "ts":
        return "yyyy-mm-dd hh:mm:ss"
    if column == "day":
        return "yyyy-mm-dd"
    return "#,##0"


class _Formats:
    """xlsxwriter formats, made once per (number format, status) pair."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.cache: dict[tuple[str | None, str | None, bool], Format] = {}
        self.head = book.add_format(
            {"bold": True, "bg_color": "#1F2A44", "font_color": "#FFFFFF", "text_wrap": True,
             "valign": "top", "border": 1}
        )  # fmt: skip
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})

    def get(self, fmt: str | None, status: str | None = None, bold: bool = False) -> Format:
        key = (fmt, status, bold)
        if key not in self.cache:
            props: dict[str, Any] = {}
            if fmt:
                props["num_format"] = fmt
            if status in FILL:
                props["bg_color"] = FILL[status]
                props["font_color"] = FONT[status]
            if bold:
                props["bold"] = True
            self.cache[key] = self.book.add_format(props)
        return self.cache[key]


EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def excel_serial(value: dt.datetime | dt.date) -> float:
    """Excel's serial day number of a (naive, local) date or time: what Excel stores.

    Written as a number with a date format, it reads back as the same date or time; done
    here because xlsxwriter's own conversion dominates the time of big sheets.
    """
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return (value - EXCEL_EPOCH) / dt.timedelta(days=1)


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value)
    return value


def _write_cell(
    ws: Worksheet, row: int, col: int, value: Any, fmt: Format, lang: str, column: str
) -> None:
    value = _plain(value)
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, dt.datetime | dt.date):
        ws.write_number(row, col, excel_serial(value), fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    elif column.endswith("_status"):
        ws.write_string(row, col, word(value, lang) if value in FILL else str(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _write_table(
    ws: Worksheet,
    formats: _Formats,
    columns: list[str],
    rows: list[dict[str, Any]],
    lang: str,
    keys: int,
) -> None:
    """Header, rows with number formats and status fills, frozen header and key columns."""
    ws.set_row(0, 30)  # before any cell: constant-memory mode flushes rows as it goes
    for c, column in enumerate(columns):
        ws.write_string(0, c, header(column, lang), formats.head)
        ws.set_column(c, c, max(10, min(28, len(header(column, lang)) + 2)))
    status_of = {c: f"{c}_status" for c in columns if f"{c}_status" in columns}
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(columns):
            status = row.get(status_of[column]) if column in status_of else None
            if column.endswith("_status"):
                status = row[column]
            fmt = formats.get(num_format(column), status if status in FILL else None)
            _write_cell(ws, r, c, row[column], fmt, lang, column)
    ws.freeze_panes(1, keys)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)


def _level_sheet(
    book: xlsxwriter.Workbook, formats: _Formats, result: Result, shop_id: str, level: str,
    lang: str,
) -> None:  # fmt: skip
    table: pa.Table = result.figures[level]
    rows = shop_rows(table, shop_id)
    ws = book.add_worksheet(sheet_name(level, lang))
    keys = {"shop": 1, "agent_day": 3}.get(level, 2)
    _write_table(ws, formats, table.column_names, rows, lang, keys)


def _drill_rows(result: Result, shop_id: str, kind: str, cap: int) -> tuple[list[dict], int]:
    shop = f"shop_id = {sql_str(shop_id)} AND in_window"
    if kind == "rounds":
        cols = ", ".join(ROUND_COLUMNS)
        order = (
            "CASE WHEN counted AND NOT responded THEN 0 WHEN counted THEN 1 ELSE 2 END, "
            "start_ts, buyer_id, round_no"
        )
        sql = f"SELECT {cols}, time_note, COUNT(*) OVER () AS total FROM rounds WHERE {shop}"
    else:
        cols = ", ".join(RATING_COLUMNS)
        order = "ts, buyer_id, file_no, row_no"
        sql = f"SELECT {cols}, COUNT(*) OVER () AS total FROM rating_audit WHERE {shop}"
    rows = result.assessment.query(f"{sql} ORDER BY {order} LIMIT {int(cap)}").to_pylist()
    return rows, (rows[0]["total"] if rows else 0)


def _drill_sheet(
    book: xlsxwriter.Workbook, formats: _Formats, result: Result, shop_id: str, kind: str,
    lang: str, cap: int,
) -> tuple[int, int]:  # fmt: skip
    rows, total = _drill_rows(result, shop_id, kind, cap)
    code = "outcome" if kind == "rounds" else "status"
    for r in rows:
        reason = outcome_text(r[code], lang, result.profile)
        note = outcome_text(r.get("time_note"), lang, result.profile)
        r["reason"] = f"{reason}; {note}" if note else reason
    columns = [*(ROUND_COLUMNS if kind == "rounds" else RATING_COLUMNS), "reason"]
    ws = book.add_worksheet(sheet_name(kind, lang))
    _write_table(ws, formats, columns, rows, lang, 1)
    ws.set_column(len(columns) - 1, len(columns) - 1, 48)
    if total > len(rows):
        ws.write_string(
            len(rows) + 1, 0, word("more_rows", lang).format(n=f"{total - len(rows):,}")
        )
    return len(rows), total


def _about(
    book: xlsxwriter.Workbook, formats: _Formats, result: Result, shop_id: str, lang: str,
    drills: dict[str, tuple[int, int]],
) -> None:  # fmt: skip
    ws = book.add_worksheet(sheet_name("about", lang))
    ws.set_column(0, 0, 34)
    ws.set_column(1, 3, 40)
    p = result.params
    last_day = p.window_end - dt.timedelta(days=1)
    lines: list[tuple[str, ...]] = [
        (f"{word('report_title', lang)} · {shop_id}",),
        (word("profile", lang), result.profile.name),
        (word("window", lang), f"{p.window_start:%Y-%m-%d} – {last_day:%Y-%m-%d} (T2)"),
        (word("as_of", lang), p.as_of.isoformat()),
        (word("method_note", lang),),
        ("",),
        (word("assumed", lang),),
        *((a.name, str(a.value), f"{a.rule}*", a.note) for a in all_assumed(result.profile)),
        ("",),
        *((line,) for line in result.load.lines()),
    ]  # fmt: skip
    for kind, (shown, total) in drills.items():
        if total > shown:
            lines.append(
                (
                    word("about_capped", lang).format(
                        sheet=sheet_name(kind, lang), shown=shown, total=total
                    ),
                )
            )
    for r, line in enumerate(lines):
        for c, text in enumerate(line):
            ws.write_string(r, c, text, formats.title if r == 0 else None)


def write_workbook(
    result: Result, shop_id: str, path: Path, lang: str = "en", cap: int = DRILL_CAP
) -> Path:
    """Write one shop's workbook to ``path`` and return it."""
    if not shop_rows(result.figures["shop"], shop_id):
        raise ValueError(f"shop {shop_id!r} is not in the data")
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    formats = _Formats(book)
    sheets = {}
    for level in LEVEL_SHEETS:
        _level_sheet(book, formats, result, shop_id, level, lang)
    for kind in ("rounds", "ratings"):
        sheets[kind] = _drill_sheet(book, formats, result, shop_id, kind, lang, cap)
    _about(book, formats, result, shop_id, lang, sheets)
    book.close()
    return path
