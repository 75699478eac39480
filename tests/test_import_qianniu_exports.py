"""Qianniu (千牛) exports as shops really have them: the exporter's Excel block form with
dateless times, its ZIP of per-buyer JSON files, 今天/昨天 day headers, and sender-less
lines (transfers, recalls, notices) as system messages (rules R2, P1, T1).

The examples of docs/examples are imported with the exact commands of its README and
assessed; the figures must be the README's (read from it, so the docs cannot drift).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import runpy
import zipfile
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.explain.explain import explain
from kefu.importers.commands import run_import
from kefu.io.readers import InputError

from conftest import example_claims, example_figures

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
README = EXAMPLES / "README.md"
SHOP = "青禾家居旗舰店"


def messages(out: Path) -> list[dict[str, Any]]:
    return pq.read_table(out / "messages.parquet").to_pylist()


def quarantine(out: Path) -> list[dict[str, Any]]:
    return pacsv.read_csv(out / "quarantine.csv").to_pylist()


def rounds(out: Path, buyer: str | None = None) -> list[dict[str, Any]]:
    rows = explain(kefu.assess(out), "rounds", SHOP).rows.to_pylist()
    return [r for r in rows if buyer is None or r["buyer_id"] == buyer]


# ------------------------------------------------------------- the README's examples


def readme_examples() -> list[tuple[str, str, str]]:
    """(format, example file, its ### subsection) of the Qianniu sections of the README."""
    text = README.read_text("utf-8")
    found = []
    for fmt in ("qianniu-json", "qianniu-xlsx"):
        match = re.search(rf"^## `{fmt}`\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        assert match, f"no section ## `{fmt}` in {README}"
        for name, body in re.findall(r"^### (\S+)\n(.*?)(?=^### |\Z)", match[1], re.M | re.S):
            found.append((fmt, name, body))
    return found


EXAMPLE_CASES = readme_examples()


def test_every_qianniu_form_has_a_readme_example():
    names = {name for _, name, _ in EXAMPLE_CASES}
    assert names == {
        "qianniu-export.json",
        "千牛聊天记录_2024-05-09.zip",
        "qianniu-export.xlsx",
        "千牛聊天记录_5月9日.xlsx",
    }


def source_lines(path: Path) -> int:
    """Non-blank lines of the 聊天记录 cells, read apart from the importer."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return sum(1 for _, cell in rows[1:] for line in str(cell).splitlines() if line.strip())


def source_chats(path: Path) -> int:
    """Chats of a JSON file or ZIP, plus one per member that is not an export."""
    if not zipfile.is_zipfile(path):
        return len(json.loads(path.read_text("utf-8"))["chats"])
    total = 0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            try:
                total += len(json.loads(archive.read(name))["chats"])
            except ValueError:
                total += 1
    return total


@pytest.mark.parametrize("fmt, name, body", EXAMPLE_CASES, ids=[c[1] for c in EXAMPLE_CASES])
def test_example_gives_the_readme_figures(fmt, name, body, tmp_path, monkeypatch):
    args, line, figures = example_claims(body)
    assert args[:3] == ["import", fmt, f"docs/examples/{name}"]
    out = tmp_path / "d"
    args[args.index("--out") + 1] = str(out)
    monkeypatch.chdir(ROOT)  # the README's paths are from the repository's root
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert line in done.output
    read, accepted, quarantined, *made = map(int, re.findall(r"\d+", line.split(":", 1)[1]))
    assert read == accepted + quarantined
    count = source_lines if fmt == "qianniu-xlsx" else source_chats
    assert read == count(EXAMPLES / name)  # every source line / chat is accounted for
    assert len(quarantine(out)) == quarantined
    assert len(messages(out)) == (made[0] if made else accepted)
    (s,) = kefu.assess(out).figures["shop"].to_pylist()
    assert figures == example_figures(s)


def test_the_examples_are_what_the_script_writes(tmp_path):
    script = runpy.run_path(str(EXAMPLES / "make_examples.py"))
    script["write_zip"](tmp_path / "e.zip")
    assert (tmp_path / "e.zip").read_bytes() == (
        EXAMPLES / "千牛聊天记录_2024-05-09.zip"
    ).read_bytes()
    cells = [(b, script["block_cell"](m)) for b, m in script["BLOCK_ROWS"]]
    script["write_xlsx"](tmp_path / "e.xlsx", cells)
    read = [
        CalamineWorkbook.from_path(str(p)).get_sheet_by_index(0).to_python()
        for p in (tmp_path / "e.xlsx", EXAMPLES / "千牛聊天记录_5月9日.xlsx")
    ]
    assert read[0] == read[1]


def test_the_examples_transfer_and_recall(tmp_path):
    """The block-form example: the round after `会话已转交给 小雅` belongs to 小雅 (P1)."""
    name = EXAMPLES / "千牛聊天记录_5月9日.xlsx"
    run_import("qianniu-xlsx", [name], tmp_path, accounts=[SHOP], year=2024)
    got = [(r["outcome"], r["agent_id"]) for r in rounds(tmp_path, "momo_home")]
    assert got == [("over_limit", f"{SHOP}:阿明"), ("unanswered", f"{SHOP}:小雅")]
    (recall,) = [m for m in messages(tmp_path) if "撤回" in m["text"]]
    assert recall["sender"] == "system"


# ---------------------------------------------------------------- Excel, block form


def block_sheet(path: Path, rows: list[tuple[str, str]]) -> Path:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["客户ID", "聊天记录"])
    for i, (buyer, cell) in enumerate(rows, start=1):
        sheet.write_string(i, 0, buyer)
        sheet.write_string(i, 1, cell)
    book.close()
    return path


CELL = "\n\n".join(
    [
        "10:00:00\nb1: 在吗",
        f"10:00:30\n{SHOP}:阿明: 在的",
        "23:59:50\nb1: 晚上好",
        f"00:00:20\n{SHOP}:阿明: 您好",  # after midnight: the next day
    ]
)


def test_dateless_times_take_the_day_of_date(tmp_path):
    sheet = block_sheet(tmp_path / "export.xlsx", [("b1", CELL)])
    report = run_import("qianniu-xlsx", [sheet], tmp_path / "o", accounts=[SHOP], date="2024-05-09")
    assert (report.read, report.accepted, report.quarantined, report.messages) == (8, 8, 0, 4)
    assert [m["ts"] for m in messages(tmp_path / "o")] == [
        dt.datetime(2024, 5, 9, 10, 0, 0),
        dt.datetime(2024, 5, 9, 10, 0, 30),
        dt.datetime(2024, 5, 9, 23, 59, 50),
        dt.datetime(2024, 5, 10, 0, 0, 20),
    ]
    assert [m["sender"] for m in messages(tmp_path / "o")] == ["buyer", "agent"] * 2


@pytest.mark.parametrize(
    "name, year, day",
    [
        ("千牛聊天记录_5月9日.xlsx", 2024, dt.date(2024, 5, 9)),
        ("千牛聊天记录_12月31日.xlsx", 2023, dt.date(2023, 12, 31)),
        ("千牛聊天记录_2024-05-09.xlsx", None, dt.date(2024, 5, 9)),
    ],
)
def test_dateless_times_take_the_day_of_the_file_name(tmp_path, name, year, day):
    sheet = block_sheet(tmp_path / name, [("b1", "10:00:00\nb1: 在吗")])
    run_import("qianniu-xlsx", [sheet], tmp_path / "o", accounts=[SHOP], year=year)
    assert [m["ts"] for m in messages(tmp_path / "o")] == [dt.datetime.combine(day, dt.time(10))]


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("export.xlsx", [], "its times have no date (e.g. 10:01:15); give --date YYYY-MM-DD"),
        ("千牛聊天记录_5月9日.xlsx", [], "give --year (the name has no year)"),
        ("export.xlsx", ["--date", "2024-5-9"], "--date 2024-5-9: expected a day YYYY-MM-DD"),
        ("千牛聊天记录_2月30日.xlsx", ["--year", "2024"], "the file name's date does not exist"),
    ],
)
def test_a_missing_date_is_one_line_naming_the_file(tmp_path, name, options, message):
    sheet = block_sheet(tmp_path / name, [("b1", "10:00:00\nb1: 在吗")])
    args = ["import", "qianniu-xlsx", str(sheet), "-a", SHOP, "--out", str(tmp_path / "o")]
    done = CliRunner().invoke(app, [*args, *options])
    assert done.exit_code == 2, done.output
    text = done.output.replace("\n", "")
    assert message in text and "Traceback" not in done.output
    assert options or name in text


def test_date_and_year_are_only_for_the_excel_form(tmp_path):
    with pytest.raises(InputError, match="--date and --year are for qianniu-xlsx"):
        run_import("qianniu-json", [EXAMPLES / "qianniu-export.json"], tmp_path, date="2024-05-09")


def test_block_form_lines_are_accounted_for(tmp_path):
    cell = "\n".join(
        [
            "孤立的一行",  # 1: before any time
            "",
            "2024-05-09 10:00:00",  # 3: a dated time line
            "b1: 在吗",  # 4
            "第二行",  # 5: continues it
            "",
            "10:00:10",  # 7: no message after it
            "10:00:20",  # 8
            "会话已转交给 小王",  # 9: no name: a system message (a transfer)
            "",
            "10:00:30",  # 11
            "买家已付款，订单号：123",  # 12: a comma before the colon: no name, a system notice
            "",
            "10:00:40",  # 14
            "路人甲: 我也问问",  # 15: a stranger
            "",
            "25:00:00",  # 17: no such time
        ]
    )
    sheet = block_sheet(tmp_path / "e.xlsx", [("b1", cell)])
    report = run_import(
        "qianniu-xlsx", [sheet], tmp_path / "o", accounts=["shop"], date="2024-05-09"
    )
    assert report.read == 12 and report.reconciles
    got = [(q["field"], q["reason"]) for q in quarantine(tmp_path / "o")]
    assert got == [
        ("聊天记录 line 1", "no time and sender, and no message above it to continue"),
        ("聊天记录 line 7", "a time with no message after it"),
        ("聊天记录 line 14", "unknown sender: neither the buyer nor one of the shop's accounts (--account)"),
        ("聊天记录 line 14", "continues a quarantined line"),  # the stranger's 2nd line
        ("聊天记录 line 17", "unparseable time"),
    ]  # fmt: skip
    rows = [(m["sender"], m["agent_id"], m["text"]) for m in messages(tmp_path / "o")]
    assert rows == [
        ("buyer", None, "在吗\n第二行"),
        ("system", "shop:小王", "会话已转交给 小王"),
        ("system", None, "买家已付款，订单号：123"),
    ]


def test_the_line_form_still_reads_and_forms_are_told_per_cell(tmp_path):
    line_cell = f"2024-05-09 10:00:00 b1: 在吗\n2024-05-09 10:00:30 {SHOP}:阿明: 在的"
    sheet = block_sheet(tmp_path / "e.xlsx", [("b1", line_cell), ("b2", "11:00:00\nb2: 你好")])
    report = run_import("qianniu-xlsx", [sheet], tmp_path / "o", accounts=[SHOP], date="2024-05-09")
    assert (report.read, report.accepted, report.messages) == (4, 4, 3)
    assert [(m["buyer_id"], m["sender"]) for m in messages(tmp_path / "o")] == [
        ("b1", "buyer"),
        ("b1", "agent"),
        ("b2", "buyer"),
    ]


def test_every_sheet_with_the_header_is_read_and_the_others_are_named(tmp_path):
    path = tmp_path / "export.xlsx"
    book = xlsxwriter.Workbook(path)
    for name, buyer in (("5月9日", "b1"), ("5月10日", "b2")):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["客户ID", "聊天记录"])
        sheet.write_row(1, 0, [buyer, "2024-05-09 10:00:00 " + buyer + ": 在吗"])
    book.add_worksheet("说明").write_string(0, 0, "导出说明")
    book.close()
    report = run_import("qianniu-xlsx", [path], tmp_path / "o", accounts=[SHOP])
    assert (report.read, report.accepted) == (2, 2)
    assert [m["buyer_id"] for m in messages(tmp_path / "o")] == ["b1", "b2"]
    assert report.warnings == [f"{path}: sheet '说明' has no 客户ID / 聊天记录 header"]


# ---------------------------------------------------------------- JSON: ZIP, folder, days


def export(user: str, chats: list[tuple[str, str, str, str]], **extra: Any) -> dict[str, Any]:
    keys = ("date", "time", "sender", "text")
    return {"user": user, **extra, "chats": [dict(zip(keys, c, strict=True)) for c in chats]}


def test_relative_days_resolve_against_export_time(tmp_path):
    chats = [
        ("前天", "09:00:00", "b1", "在吗"),
        ("昨天", "10:00:00", "b1", "在吗"),
        ("今天", "11:00:00", "b1", "在吗"),
        ("今天 12:00:00", "", "b1", "在吗"),  # the day and time in one field
        ("2024-05-01", "08:00:00", f"{SHOP}:阿明", "在的"),
    ]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(export("b1", chats, exportTime="2024-05-09 18:30:00")), "utf-8")
    run_import("qianniu-json", [path], tmp_path / "o", accounts=[SHOP])
    assert [m["ts"] for m in messages(tmp_path / "o")] == [
        dt.datetime(2024, 5, 7, 9),
        dt.datetime(2024, 5, 8, 10),
        dt.datetime(2024, 5, 9, 11),
        dt.datetime(2024, 5, 9, 12),
        dt.datetime(2024, 5, 1, 8),
    ]


def test_a_relative_day_without_export_time_is_quarantined(tmp_path):
    chats = [("今天", "11:00:00", "b1", "在吗"), ("2024-05-09", "11:00:10", f"{SHOP}:阿明", "在的")]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(export("b1", chats), indent=1), "utf-8")
    report = run_import("qianniu-json", [path], tmp_path / "o", accounts=[SHOP])
    assert (report.read, report.accepted, report.quarantined) == (2, 1, 1)
    (q,) = quarantine(tmp_path / "o")
    assert (q["field"], q["value"]) == ("date", "今天 11:00:00")
    assert "no exportTime" in q["reason"]


def write_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_zip_of_per_buyer_files_names_each_member(tmp_path):
    one = export("b1", [("2024-05-09", "10:00:00", "b1", "在吗")])
    two = export("b2", [("2024-05-09", "11:00:00", "b2", "你好"), ("x", "y", "b2", "坏时间")])
    members = {
        "b1.json": json.dumps(one),
        "sub/b2.json": json.dumps(two, indent=1),
        "notes.txt": "not json",
        "cut.json": '{"user": "b3", "chats": [',
        "binary.json": b"\xff\xfe\x00junk",
        "deep.json": "[" * 100_000,
    }
    path = write_zip(tmp_path / "千牛聊天记录_2024-05-09.zip", members)
    report = run_import("qianniu-json", [path], tmp_path / "o", accounts=[SHOP])
    assert (report.read, report.accepted, report.quarantined) == (7, 2, 5)
    got = {(q["file"].rsplit("/", 1)[-1], q["field"]) for q in quarantine(tmp_path / "o")}
    zip_name = path.name
    assert got == {
        (f"{zip_name}:binary.json", "file"),
        (f"{zip_name}:cut.json", "file"),
        (f"{zip_name}:deep.json", "file"),
        (f"{zip_name}:notes.txt", "file"),
        ("b2.json", "time"),  # the member sub/b2.json
    }
    files = {q["file"] for q in quarantine(tmp_path / "o")}
    assert f"{path}:sub/b2.json" in files
    assert {m["buyer_id"] for m in messages(tmp_path / "o")} == {"b1", "b2"}


def test_a_broken_zip_is_one_line(tmp_path):
    path = tmp_path / "e.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(InputError, match=r"e\.zip"):
        run_import("qianniu-json", [path], tmp_path / "o", accounts=[SHOP])


def test_a_folder_of_exports_and_zips(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "b1.json").write_text(
        json.dumps(export("b1", [("2024-05-09", "10:00:00", "b1", "在吗")])), "utf-8"
    )
    write_zip(
        folder / "more.zip",
        {"b2.json": json.dumps(export("b2", [("2024-05-09", "11:00:00", "b2", "你好")]))},
    )
    (folder / "readme.md").write_text("# not an export", "utf-8")
    report = run_import("qianniu-json", [folder], tmp_path / "o", accounts=[SHOP])
    assert (report.read, report.accepted, report.quarantined) == (3, 2, 1)
    (q,) = quarantine(tmp_path / "o")
    assert q["file"] == str(folder / "readme.md")


# ---------------------------------------------------------------- system lines (R2, P1)


def test_sender_less_lines_transfers_and_recalls(tmp_path):
    chats = [
        ("2024-05-09", "10:00:00", "b1", "在吗"),
        ("2024-05-09", "10:00:20", f"{SHOP}:阿明", "在的"),
        ("2024-05-09", "10:00:40", "b1", "b1撤回了一条消息"),  # never opens a round
        ("2024-05-09", "10:01:00", "", f"会话已转交给 cntaobao{SHOP}:小雅"),
        ("2024-05-09", "10:01:30", "系统", "买家已拍下，待付款"),
        ("2024-05-09", "10:02:00", "b1", "发票怎么开"),  # unanswered: 小雅's (P1)
        ("2024-05-09", "10:06:00", f"{SHOP}:阿明", "我帮您转交给售后"),  # not a transfer
    ]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(export("b1", chats)), "utf-8")
    report = run_import("qianniu-json", [path], tmp_path / "o", accounts=[SHOP])
    assert (report.read, report.accepted, report.quarantined) == (7, 7, 0)
    got = [(m["sender"], m["agent_id"]) for m in messages(tmp_path / "o")]
    assert got == [
        ("buyer", None),
        ("agent", f"{SHOP}:阿明"),
        ("system", None),
        ("system", f"{SHOP}:小雅"),
        ("system", None),
        ("buyer", f"{SHOP}:小雅"),
        ("agent", f"{SHOP}:阿明"),
    ]
    result = rounds(tmp_path / "o")
    assert [(r["start_ts"].time(), r["outcome"]) for r in result] == [
        (dt.time(10, 0), "responded"),
        (dt.time(10, 2), "over_limit"),
    ]
    agents = pq.read_table(tmp_path / "o" / "agents.parquet").column("agent_id").to_pylist()
    assert agents == [f"{SHOP}:小雅", f"{SHOP}:阿明"]


def test_an_unanswered_round_after_a_transfer_belongs_to_the_new_agent(tmp_path):
    chats = [
        ("2024-05-09", "10:00:00", "b1", "在吗"),
        ("2024-05-09", "10:00:20", f"{SHOP}:阿明", "在的"),
        ("2024-05-09", "10:01:00", "", "会话已转交给 小雅"),
        ("2024-05-09", "10:02:00", "b1", "还在吗"),
    ]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(export("b1", chats)), "utf-8")
    run_import("qianniu-json", [path], tmp_path / "o", accounts=[SHOP])
    last = rounds(tmp_path / "o")[-1]
    assert (last["outcome"], last["agent_id"]) == ("unanswered", f"{SHOP}:小雅")


def test_cntaobao_is_stripped_from_shop_buyer_and_agent_ids(tmp_path):
    chats = [
        ("2024-05-09", "10:00:00", "cntaobaob1", "在吗"),
        ("2024-05-09", "10:00:20", f"cntaobao{SHOP}:阿明", "在的"),
    ]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(export("cntaobaob1", chats)), "utf-8")
    run_import(
        "qianniu-json", [path], tmp_path / "o", accounts=[f"cntaobao{SHOP}"], shop=f"cntaobao{SHOP}"
    )
    rows = messages(tmp_path / "o")
    assert {(m["shop_id"], m["buyer_id"]) for m in rows} == {(SHOP, "b1")}
    assert rows[1]["agent_id"] == f"{SHOP}:阿明"
    own = pq.read_table(tmp_path / "o" / "accounts.parquet").to_pylist()
    assert {a["shop_id"] for a in own} == {SHOP}
    assert {a["account"] for a in own} == {SHOP, f"{SHOP}:阿明"}


# ---------------------------------------------------------------- nothing accepted


def test_an_import_that_accepts_nothing_exits_2_and_keeps_the_quarantine(tmp_path):
    path = tmp_path / "e.json"
    path.write_text(json.dumps(export("b1", [("x", "y", "b1", "在吗")])), "utf-8")
    out = tmp_path / "o"
    done = CliRunner().invoke(
        app, ["import", "qianniu-json", str(path), "-a", SHOP, "-o", str(out)]
    )
    assert done.exit_code == 2, done.output
    text = done.output.replace("\n", "")
    assert "no chats accepted (read 1, quarantined 1)" in text and "quarantine.csv" in text
    assert "next:" not in done.output and "Traceback" not in done.output
    assert [q["reason"] for q in quarantine(out)] == ["unparseable time"]
