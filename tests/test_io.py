"""Loading: formats, Chinese headers, quarantine and reconciliation, one-line errors (T1, T3)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.io.headers import map_headers
from kefu.io.readers import InputError

from conftest import shop_row

CSV_ZH = """店铺,买家,客服,发送方,时间,内容
s1,a,,买家,2024/01/07 10:00:00,在吗
s1,a,x1,客服,2024/01/07 10:00:30,亲，在的
s1,b,,买家,2024-01-07 11:00:00,有货吗
s1,b,x1,客服,2024-01-07 11:05:00,有的
"""


def test_chinese_headers_and_time_formats(tmp_path: Path):
    (tmp_path / "messages.csv").write_text(CSV_ZH, "utf-8")
    s = shop_row(kefu.assess(tmp_path, "taobao", "2024-01-08"))
    assert (s["rounds"], s["rounds_responded"]) == (2, 1)


def test_gbk_csv_is_transcoded(tmp_path: Path):
    (tmp_path / "messages.csv").write_bytes(CSV_ZH.encode("gb18030"))
    assert shop_row(kefu.assess(tmp_path, "taobao", "2024-01-08"))["rounds"] == 2


def test_user_header_map():
    assert map_headers("messages", ["发言角色"], {"发言角色": "sender"}) == {"sender": "发言角色"}


def test_parquet_and_xlsx_give_the_same_figures(tmp_path: Path):
    rows = [
        {
            "shop_id": "s1",
            "buyer_id": "a",
            "agent_id": None,
            "sender": "buyer",
            "ts": "2024-01-07 10:00:00",
        },
        {
            "shop_id": "s1",
            "buyer_id": "a",
            "agent_id": "x1",
            "sender": "agent",
            "ts": "2024-01-07 10:02:00",
        },
    ]
    pq_dir, xl_dir = tmp_path / "pq", tmp_path / "xl"
    pq_dir.mkdir(), xl_dir.mkdir()
    table = pa.Table.from_pylist(rows)
    table = table.set_column(
        4, "ts", pa.array([pa.scalar(r["ts"]).cast(pa.timestamp("s")) for r in rows])
    )
    pq.write_table(table, pq_dir / "messages.parquet")
    book = xlsxwriter.Workbook(xl_dir / "聊天记录.xlsx")
    sheet = book.add_worksheet()
    for j, h in enumerate(["店铺", "买家", "客服", "发送方", "时间"]):
        sheet.write(0, j, h)
    for i, r in enumerate(rows, start=1):
        for j, k in enumerate(["shop_id", "buyer_id", "agent_id", "sender", "ts"]):
            sheet.write(i, j, r[k])
    book.close()
    a = shop_row(kefu.assess(pq_dir, "taobao", "2024-01-08"))
    b = shop_row(kefu.assess(xl_dir, "taobao", "2024-01-08"))
    assert a["response_s"] == b["response_s"] == 120.0


def test_quarantine_names_file_row_field_and_reason(tmp_path: Path):
    (tmp_path / "messages.csv").write_text(
        "shop_id,buyer_id,agent_id,sender,ts\n"
        "s1,a,,buyer,2024-01-07 10:00:00\n"
        ",a,,buyer,2024-01-07 10:00:00\n"
        "s1,a,,buyer,yesterday\n"
        "s1,a,,customer-service-bot-9,2024-01-07 10:00:00\n",
        "utf-8",
    )
    (tmp_path / "ratings.csv").write_text(
        "shop_id,buyer_id,score,ts\ns1,a,7,2024-01-07 10:00:00\ns1,a,很满意,2024-01-07 10:00:00\n",
        "utf-8",
    )
    result = kefu.assess(tmp_path, "taobao", "2024-01-08")
    q = result.load.quarantine.to_pylist()
    got = [(Path(r["file"]).name, r["row"], r["field"], r["reason"]) for r in q]
    assert got == [
        ("messages.csv", 2, "shop_id", "missing"),
        ("messages.csv", 3, "ts", "unparseable time"),
        ("messages.csv", 4, "sender", "unknown sender (buyer, agent, bot or system)"),
        ("ratings.csv", 1, "score", "score is not 1-5 or a label 很满意…很不满意"),
    ]
    assert json.loads(q[1]["record"])["ts"] == "yesterday"
    m = result.load.counts["messages"]
    assert (m.read, m.accepted, m.quarantined, m.duplicates) == (4, 1, 3, 0) and m.reconciles


def test_duplicate_msg_id_kept_once_and_reported(tmp_path: Path):
    line = "s1,a,,buyer,2024-01-07 10:00:00,m1\n"
    (tmp_path / "messages-1.csv").write_text(
        "shop_id,buyer_id,agent_id,sender,ts,msg_id\n" + line * 2, "utf-8"
    )
    (tmp_path / "messages-2.csv").write_text(
        "shop_id,buyer_id,agent_id,sender,ts,msg_id\n" + line, "utf-8"
    )
    result = kefu.assess(tmp_path, "taobao", "2024-01-08")
    m = result.load.counts["messages"]
    assert (m.read, m.accepted, m.quarantined, m.duplicates) == (3, 1, 0, 2)
    kinds = [
        (Path(r["file"]).name, r["row"], r["kind"]) for r in result.load.quarantine.to_pylist()
    ]
    assert kinds == [("messages-1.csv", 2, "duplicate"), ("messages-2.csv", 1, "duplicate")]


def test_empty_inputs(tmp_path: Path):
    (tmp_path / "messages.csv").write_text("shop_id,buyer_id,agent_id,sender,ts\n", "utf-8")
    result = kefu.assess(tmp_path, "taobao", "2024-01-08")
    assert result.figures["shop"].num_rows == 0
    assert result.load.counts["messages"].read == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("messages.csv", "shop_id,buyer_id,ts\ns1,a,2024-01-07 10:00:00\n", "no column for sender"),
        ("messages.parquet", "not parquet at all", "cannot read as PARQUET"),
        ("messages.doc", "x", "unknown file type"),
    ],
)
def test_unreadable_files_give_one_line_errors(tmp_path: Path, name, content, message):
    (tmp_path / name).write_text(content, "utf-8")
    with pytest.raises(InputError, match=message):
        kefu.assess(tmp_path / name if name.endswith(".doc") else tmp_path, "taobao", "2024-01-08")
    result = CliRunner().invoke(app, ["assess", str(tmp_path / name), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and message in result.output.replace("\n", " ")


def test_typed_parquet_columns_are_taken_as_they_are_and_still_checked(tmp_path: Path):
    """A Parquet ``ts`` (timestamp) and ``seq`` (integer) skip the text parsing, with the
    same values and the same quarantine as text: a NULL time is "missing" (T3: seq orders
    equal times)."""
    rows = [
        ("a", "agent", "2024-01-07 10:00:00", 2, "x1"),
        ("a", "buyer", "2024-01-07 10:00:00", 1, None),
        ("b", "buyer", None, 1, None),
    ]
    typed = pa.table(
        {
            "shop_id": ["s1"] * 3,
            "buyer_id": [r[0] for r in rows],
            "sender": [r[1] for r in rows],
            "ts": pa.array([r[2] for r in rows]).cast(pa.timestamp("ms")),
            "seq": pa.array([r[3] for r in rows], pa.int32()),
            "agent_id": [r[4] for r in rows],
        }
    )
    as_text = typed.set_column(3, "ts", pa.array([r[2] for r in rows])).set_column(
        4, "seq", pa.array([str(r[3]) for r in rows])
    )
    results = []
    for name, table in (("typed", typed), ("text", as_text)):
        (tmp_path / name).mkdir()
        pq.write_table(table, tmp_path / name / "messages.parquet")
        results.append(kefu.assess(tmp_path / name, "taobao", "2024-01-08"))
    typed_result, text_result = results
    assert shop_row(typed_result)["rounds_responded"] == 1  # seq puts the buyer first
    assert shop_row(typed_result) == shop_row(text_result)
    quarantined = typed_result.load.quarantine.to_pylist()
    assert [(q["field"], q["reason"]) for q in quarantined] == [("ts", "missing")]
