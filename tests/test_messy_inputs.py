"""Messy but real files: each case found by testing with exports as tools write them.

Rows keep their 1-based data-row number whatever the file holds (T3's input order), every
row read is accepted or quarantined (read = accepted + quarantined), and a file that
cannot be used ends in one line naming it.
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.importers.twcs import import_twcs
from kefu.io.discover import discover_inputs
from kefu.io.readers import InputError

HEADER = "shop_id,buyer_id,agent_id,sender,ts,text\n"


def _row(i: int, text: str = "hi") -> str:
    sender, agent = ("buyer", "") if i % 2 == 0 else ("agent", "x1")
    return f"s1,b{i // 2},{agent},{sender},2024-01-07 10:{i % 60:02d}:00,{text}\n"


def _assess(path: Path) -> kefu.Result:
    return kefu.assess(path, "taobao", "2024-01-08")


def _reconciles(result: kefu.Result) -> None:
    c = result.load.counts["messages"]
    assert c.read == c.accepted + c.quarantined + c.duplicates


def test_quoted_newline_is_one_record_in_small_and_large_files(tmp_path: Path):
    # RFC 4180: a quoted field may hold a line break; the record still counts once.
    for n in (3, 60_000):  # the large one is past DuckDB's parallel-reader chunk size
        rows = [_row(i, '"line one\nline two"' if i % 1000 == 1 else "hi") for i in range(n)]
        rows.append("s1,bX,,buyer,not a time,last\n")
        path = tmp_path / f"messages-{n}.csv"
        path.write_text(HEADER + "".join(rows), "utf-8")
        result = _assess(path)
        c = result.load.counts["messages"]
        assert (c.read, c.quarantined) == (n + 1, 1)
        (bad,) = result.load.quarantine.to_pylist()
        assert (bad["row"], bad["field"]) == (n + 1, "ts")


def test_bare_carriage_return_stays_inside_its_field(tmp_path: Path):
    rows = "".join(_row(i, "first\rsecond") for i in range(10))
    (tmp_path / "messages.csv").write_text(HEADER + rows, "utf-8", newline="")
    result = _assess(tmp_path / "messages.csv")
    assert result.load.counts["messages"].read == 10  # not 11: no record split at the CR
    assert result.load.counts["messages"].quarantined == 0


def test_twcs_keeps_bare_carriage_returns_through_the_shared_helper(tmp_path: Path):
    header = (
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    )
    body = (
        '1,c1,True,Tue Oct 31 22:10:47 +0000 2017,"@shop help\rplease",2,\n'
        "2,shop,False,Tue Oct 31 22:11:47 +0000 2017,@c1 sure,,1\n"
    )
    (tmp_path / "twcs.csv").write_text(header + body, "utf-8", newline="")
    report = import_twcs([tmp_path / "twcs.csv"], tmp_path / "out")
    assert (report.read, report.accepted) == (2, 2)
    texts = pq.read_table(tmp_path / "out" / "messages.parquet")["text"].to_pylist()
    assert "@shop help\rplease" in texts


def test_extra_fields_quarantine_the_row_with_the_count(tmp_path: Path):
    rows = _row(0) + _row(1).rstrip("\n") + ",extra,more\n" + _row(2)
    (tmp_path / "messages.csv").write_text(HEADER + rows, "utf-8")
    result = _assess(tmp_path / "messages.csv")
    _reconciles(result)
    (bad,) = result.load.quarantine.to_pylist()
    assert (bad["row"], bad["kind"], bad["field"]) == (2, "invalid", "field 7")
    assert bad["reason"] == "row has 8 fields, header has 6"
    assert result.load.counts["messages"].accepted == 2


def test_short_row_is_padded_and_its_missing_field_named(tmp_path: Path):
    (tmp_path / "messages.csv").write_text(HEADER + _row(0) + "s1,b0,x1\n", "utf-8")
    result = _assess(tmp_path / "messages.csv")
    (bad,) = result.load.quarantine.to_pylist()
    assert (bad["row"], bad["field"], bad["reason"]) == (2, "sender", "missing")


def test_engine_error_keeps_its_cause(tmp_path: Path):
    # A record past the longest DuckDB is allowed to read: the cause, not only "Line: 1".
    from kefu.io import csvtext

    path = tmp_path / "messages.csv"
    path.write_text(HEADER + _row(0) + _row(1, "x" * 5000), "utf-8")
    old = csvtext.MAX_RECORD_BYTES
    csvtext.MAX_RECORD_BYTES = 2048
    try:
        with pytest.raises(InputError, match=r"messages.csv: cannot read as CSV: .*line size"):
            _assess(path)
    finally:
        csvtext.MAX_RECORD_BYTES = old


def test_gbk_copy_is_deleted(tmp_path: Path):
    text = "店铺,买家,发送方,时间,内容\n" + "s1,张三,买家,2024-01-07 10:00:00,在吗\r吗\n" * 3
    (tmp_path / "messages.csv").write_bytes(text.encode("gb18030"))
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "kefu-utf8-*")))
    result = _assess(tmp_path / "messages.csv")
    assert result.load.counts["messages"].accepted == 3
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "kefu-utf8-*"))) <= before


def _xlsx(path: Path, sheets: dict[str, list[list[str]]]) -> None:
    book = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row)
    book.close()


def test_xlsx_reads_every_sheet_with_the_header_and_takes_the_first_duplicate(tmp_path: Path):
    head = ["shop_id", "buyer_id", "sender", "ts", "ts"]
    _xlsx(
        tmp_path / "messages.xlsx",
        {
            "1月": [head, ["s1", "a", "buyer", "2024-01-07 10:00:00", "garbage"]],
            "2月": [head, ["s1", "a", "agent", "2024-01-07 10:01:00", "garbage"]],
            "notes": [["written by hand"]],
        },
    )
    result = _assess(tmp_path / "messages.xlsx")
    c = result.load.counts["messages"]
    assert (c.read, c.accepted) == (2, 2)  # the first `ts` column, as in CSV
    # The sheet of other headers is named, not left out unsaid.
    (note,) = [line for line in result.load.lines() if "sheet" in line]
    assert "'notes' not read" in note and "messages.xlsx" in note


def test_old_excel_xls_is_found_in_a_folder(tmp_path: Path):
    (tmp_path / "messages.csv").write_text(HEADER + _row(0), "utf-8")
    (tmp_path / "ratings.xls").write_bytes(b"")
    assert discover_inputs(tmp_path)["ratings"] == [tmp_path / "ratings.xls"]


def test_discover_offers_no_option_that_does_not_exist(tmp_path: Path):
    (tmp_path / "export.csv").write_text(HEADER, "utf-8")
    with pytest.raises(InputError) as info:
        discover_inputs(tmp_path / "export.csv")
    assert "--" not in str(info.value)


def test_corrupt_parquet_page_is_one_line(tmp_path: Path):
    table = pa.table({"shop_id": ["s1"] * 2000, "buyer_id": [f"b{i}" for i in range(2000)]})
    table = table.append_column("sender", pa.array(["buyer"] * 2000))
    table = table.append_column("ts", pa.array(["2024-01-07 10:00:00"] * 2000))
    path = tmp_path / "messages.parquet"
    pq.write_table(table, path, compression="snappy")
    data = bytearray(path.read_bytes())
    data[200:400] = b"\xff" * 200  # inside the first data pages, footer intact
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(app, ["assess", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "kefu:" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_one_line(tmp_path: Path):
    path = tmp_path / "messages.csv"
    path.write_text(HEADER + _row(0), "utf-8")
    path.chmod(0)
    result = CliRunner().invoke(app, ["assess", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "messages.csv" in result.output


def test_permission_error_while_reading_is_one_line(tmp_path: Path, monkeypatch):
    path = tmp_path / "messages.csv"
    path.write_text(HEADER + _row(0), "utf-8")

    real_open = Path.open

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    monkeypatch.setattr(Path, "read_bytes", lambda self: refuse(self).read())
    result = CliRunner().invoke(app, ["assess", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "messages.csv" in result.output


def test_vanished_file_is_one_line(tmp_path: Path):
    with pytest.raises(InputError, match=r"messages\.csv: no such file"):
        kefu.assess({"messages": [tmp_path / "messages.csv"]}, "taobao", "2024-01-08")


def test_jsonl_numeric_columns_do_not_crash(tmp_path: Path):
    lines = [
        '{"shop_id": "s1", "buyer_id": 123, "sender": "buyer", "ts": "2024-01-07 10:00:00"}',
        '{"shop_id": "s1", "buyer_id": 123, "agent_id": 7, "sender": "agent", "ts": "2024-01-07 10:01:00", "seq": 2}',
    ]
    (tmp_path / "messages.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    result = CliRunner().invoke(
        app,
        [
            "assess",
            str(tmp_path / "messages.jsonl"),
            "--as-of",
            "2024-01-08",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "read 2 = accepted 2" in result.output


def test_twcs_cut_row_is_quarantined_with_its_line(tmp_path: Path):
    header = (
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    )
    body = (
        '1,c1,True,Tue Oct 31 22:10:47 +0000 2017,"@shop help\nme",2,\n'
        "2,shop,False,Tue Oct 31 22:11:47 +0000 2017,@c1 sure,,1\n"
        "3,c2,Tr\n"  # a row cut short
        "4,shop,False,Tue Oct 31 22:12:47 +0000 2017,@c1 more,,1\n"
    )
    (tmp_path / "twcs.csv").write_text(header + body, "utf-8")
    report = import_twcs([tmp_path / "twcs.csv"], tmp_path / "out")
    assert report.read == 4 and report.accepted + report.quarantined == 4
    rows = pa.csv.read_csv(tmp_path / "out" / "quarantine.csv").to_pylist()
    cut = [r for r in rows if r["field"] == "inbound"]
    assert [r["row"] for r in cut] == [5]  # line 5 of the file: the quoted tweet spans two


def test_jsonl_column_changing_type_after_duckdbs_sample_reads_whole(tmp_path: Path):
    # DuckDB guesses a column's type from a sample; every JSON value is read as text instead.
    lines = [
        f'{{"shop_id": "s1", "buyer_id": {i if i < 25_000 else f"{chr(34)}x{i}{chr(34)}"}, '
        f'"sender": "buyer", "ts": "2024-01-07 10:00:00"}}'
        for i in range(25_010)
    ]
    (tmp_path / "messages.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    c = _assess(tmp_path / "messages.jsonl").load.counts["messages"]
    assert (c.read, c.accepted) == (25_010, 25_010)


def test_engine_advice_naming_duckdb_options_is_left_out():
    from kefu.io.errors import engine_message

    text = "JSON transform error in line 5: Failed to cast \"x\": Try increasing 'sample_size'"
    assert engine_message(ValueError(text)) == 'JSON transform error in line 5: Failed to cast "x"'


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 24])
def test_crlf_is_a_line_end_at_every_chunk_boundary(tmp_path: Path, monkeypatch, chunk: int):
    from kefu.io import text

    monkeypatch.setattr(text, "_CHUNK", chunk)
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(b"a,b\r\n1,\xe5\x9c\xa8\r\n2,3\r\n")
    with text.readable_text(crlf) as source:
        assert (source.path, source.stand_in) == (crlf, None)  # nothing to fix, no copy
    lone = tmp_path / "lone.csv"
    lone.write_bytes(b"a,b\r\n1,x\ry\r\n2,\r")
    with text.readable_text(lone) as source:
        assert source.stand_in is not None
        assert source.path.read_bytes() == f"a,b\r\n1,x{source.stand_in}y\r\n2,\r".encode()
    assert not source.path.exists()  # the copy is deleted after the block


def test_twcs_row_with_extra_fields_is_quarantined(tmp_path: Path):
    header = (
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    )
    body = (
        "1,c1,True,Tue Oct 31 22:10:47 +0000 2017,@shop help,2,\n"
        "2,shop,False,Tue Oct 31 22:11:47 +0000 2017,@c1 sure, here,,1\n"  # unquoted comma
    )
    (tmp_path / "twcs.csv").write_text(header + body, "utf-8")
    report = import_twcs([tmp_path / "twcs.csv"], tmp_path / "out")
    rows = pa.csv.read_csv(tmp_path / "out" / "quarantine.csv").to_pylist()
    extra = [r for r in rows if r["field"] == "field 8"]
    assert [(r["row"], r["reason"]) for r in extra] == [
        (3, "row has more fields than the header's 7")
    ]
    assert report.read == report.accepted + report.quarantined


def test_jsonl_bad_lines_are_quarantined_and_the_rest_read(tmp_path: Path):
    good = '{"shop_id":"s1","buyer_id":"b","sender":"%s","ts":"2024-01-07 10:00:%02d"}'
    lines = [good % ("buyer", 0), (good % ("agent", 10))[:-1], "", good % ("agent", 20), "[1, 2]"]
    (tmp_path / "messages.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    result = _assess(tmp_path / "messages.jsonl")
    c = result.load.counts["messages"]
    assert (c.read, c.accepted, c.quarantined) == (4, 2, 2)  # the blank line is no record
    bad = {q["row"]: q["reason"] for q in result.load.quarantine.to_pylist()}
    assert bad[2].startswith("not valid JSON") and '"ts":"2024-01-07 10:00:10"' in bad[2]
    assert bad[4].startswith("not a JSON object")
    assert result.figures["shop"].to_pylist()[0]["rounds_responded"] == 1
