"""The Excel workbook read back with openpyxl: its values are the engine's, formatted.

One sheet per level (shop, group, agent, day, hour, agent × day) holds the engine's rows of
the shop; the rounds and ratings sheets hold the audit rows whose sums are the figures (R7,
S5); headers are frozen, failing figures highlighted, Chinese headers with ``lang="zh"``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import kefu
from kefu.demo.generator import generate_demo, write_demo
from kefu.report.aggregates import shop_rows
from kefu.report.catalog import COLUMN_ZH, word
from kefu.report.workbook import FILL, LEVEL_SHEETS, excel_serial, sheet_name, write_workbook

AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> kefu.Result:
    folder = tmp_path_factory.mktemp("demo")
    write_demo(generate_demo(dt.date.fromisoformat(AS_OF)), folder)
    return kefu.assess(folder, "taobao", AS_OF)


@pytest.fixture(scope="module")
def books(result, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("books")
    return {  # the drill-down sheets of the English book are capped, to keep it quick
        "en": write_workbook(result, "shop_digital", folder / "digital.xlsx", "en", cap=200),
        "zh": write_workbook(result, "shop_snacks", folder / "snacks.xlsx", "zh"),
    }


def _rows(path: Path, sheet: str) -> tuple[list[str], list[dict[str, Any]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    values = list(book[sheet].iter_rows(values_only=True))
    book.close()
    head = [str(h) for h in values[0]]
    rows = [dict(zip(head, v, strict=True)) for v in values[1:] if v[0] is not None]
    return head, rows


def _same(engine: Any, cell: Any, column: str, lang: str) -> bool:
    if column.endswith("_status") and isinstance(engine, str):
        return cell == word(engine, lang)
    if engine is None:
        return cell is None
    if isinstance(engine, bool):
        return cell is engine
    if isinstance(engine, dt.datetime):
        return cell == engine
    if isinstance(engine, dt.date):
        return isinstance(cell, dt.datetime) and cell.date() == engine
    if isinstance(engine, float):
        return cell == pytest.approx(engine, rel=1e-12)
    return cell == engine


@pytest.mark.parametrize(("lang", "shop_id"), [("en", "shop_digital"), ("zh", "shop_snacks")])
def test_level_sheets_hold_the_engines_rows(result, books, lang, shop_id):
    for level in LEVEL_SHEETS:
        table = result.figures[level]
        head, rows = _rows(books[lang], sheet_name(level, lang))
        columns = table.column_names
        expected_head = [COLUMN_ZH.get(c, c) if lang == "zh" else c for c in columns]
        assert head == expected_head, level
        engine_rows = shop_rows(table, shop_id)
        assert len(rows) == len(engine_rows), level
        for got, want in zip(rows, engine_rows, strict=True):
            for column, header in zip(columns, head, strict=True):
                assert _same(want[column], got[header], column, lang), (level, column, got[header])


def test_sheet_names_and_chinese_headers(books):
    book = openpyxl.load_workbook(books["zh"], read_only=True)
    assert book.sheetnames == [
        "店铺",
        "分组",
        "客服",
        "日",
        "小时",
        "客服日",
        "轮次明细",
        "评价明细",
        "说明",
    ]
    book.close()
    head, _ = _rows(books["zh"], "店铺")
    assert head[:4] == ["店铺", "计入轮次", "3分钟内回复轮次", "3分钟人工响应率"]


def test_formats_frozen_headers_and_failing_figures(result, books):
    book = openpyxl.load_workbook(books["en"])
    shop = book["shop"]
    assert shop.freeze_panes == "B2"
    assert book["agent"].freeze_panes == "C2"
    head = [c.value for c in shop[1]]
    cell = shop.cell(row=2, column=head.index("response_rate") + 1)
    assert cell.number_format == "0.0%"
    row = shop_rows(result.figures["shop"], "shop_digital")[0]
    assert row["response_rate_status"] == "not_qualified"  # the demo's understaffed shop
    assert cell.fill.fgColor.rgb.endswith(FILL["not_qualified"].lstrip("#"))
    sat = shop.cell(row=2, column=head.index("satisfaction_rate") + 1)
    status = row["satisfaction_rate_status"]
    assert sat.fill.fgColor.rgb.endswith(FILL[status].lstrip("#"))
    seconds = shop.cell(row=2, column=head.index("first_response_s") + 1)
    assert seconds.number_format == "0.0"
    assert shop.cell(row=2, column=head.index("rounds") + 1).number_format == "#,##0"
    assert book["day"].cell(row=2, column=2).number_format == "yyyy-mm-dd"
    book.close()


def test_rounds_and_ratings_sheets_sum_to_the_figures(result, books):
    row = shop_rows(result.figures["shop"], "shop_snacks")[0]
    zh = {v: k for k, v in COLUMN_ZH.items()}
    _, rounds = _rows(books["zh"], "轮次明细")
    rounds = [{zh.get(k, k): v for k, v in r.items()} for r in rounds]
    assert sum(bool(r["counted"]) for r in rounds) == row["rounds"]
    assert sum(bool(r["responded"]) for r in rounds) == row["rounds_responded"]
    missed = row["rounds"] - row["rounds_responded"]
    assert all(r["counted"] and not r["responded"] for r in rounds[:missed]), "misses first"
    assert all(r["reason"] for r in rounds)
    _, ratings = _rows(books["zh"], "评价明细")
    ratings = [{zh.get(k, k): v for k, v in r.items()} for r in ratings]
    assert sum(bool(r["counted"]) for r in ratings) == row["ratings"]
    assert sum(bool(r["satisfied"]) for r in ratings) == row["ratings_satisfied"]


def test_drill_sheets_are_capped_with_a_note(result, books):
    book = openpyxl.load_workbook(books["en"], read_only=True)
    values = list(book["rounds"].iter_rows(values_only=True))
    about = [r[0] for r in book["about"].iter_rows(values_only=True)]
    book.close()
    row = shop_rows(result.figures["shop"], "shop_digital")[0]
    assert row["rounds"] > 200
    assert len(values) == 1 + 200 + 1
    assert values[-1][0].endswith("more not shown")
    assert all(v[6] and not v[7] for v in values[1:201])  # counted, not responded: misses first
    assert any(a and a.startswith("rounds: 200 of") for a in about)


def test_about_sheet_names_assumptions(books):
    book = openpyxl.load_workbook(books["en"], read_only=True)
    text = [" ".join(str(v) for v in r if v) for r in book["about"].iter_rows(values_only=True)]
    book.close()
    assert any("consultation_split" in t and "P3*" in t for t in text)
    assert any("timezone" in t and "T1*" in t for t in text)
    assert any(t.startswith("messages: read") for t in text)


def test_excel_serial():
    assert excel_serial(dt.date(1900, 3, 1)) == 61
    assert excel_serial(dt.datetime(2026, 11, 1, 12, 0)) == pytest.approx(46327.5)


def test_unknown_shop_is_refused(result, tmp_path):
    with pytest.raises(ValueError, match="not in the data"):
        write_workbook(result, "nope", tmp_path / "x.xlsx")
