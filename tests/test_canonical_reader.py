"""The canonical reader on the values real exports hold: times (T1), sender codes, account
prefixes, invisible characters around ids, and repeated message ids.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

import kefu
from kefu.io.load import sender_words

from conftest import write_jsonl


def loaded(tmp_path, rows, **kw) -> kefu.Result:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    write_jsonl(folder / "messages.jsonl", rows)
    return kefu.assess(folder, kw.pop("profile", "taobao"), "2024-01-08", **kw)


def messages(result: kefu.Result) -> list[dict]:
    return result.assessment.query(
        "SELECT shop_id, buyer_id, agent_id, sender, ts FROM messages ORDER BY file_no, row_no"
    ).to_pylist()


def one_ts(tmp_path, value) -> dt.datetime | None:
    r = loaded(tmp_path, [{"shop_id": "s1", "buyer_id": "b", "sender": "buyer", "ts": value}])
    rows = messages(r)
    return rows[0]["ts"] if rows else None


LOCAL_10 = dt.datetime(2024, 1, 7, 10, 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1704592800, LOCAL_10),  # epoch seconds, a number: 02:00 UTC = 10:00 in Shanghai (T1)
        ("1704592800", LOCAL_10),  # epoch seconds as text
        (1704592800000, LOCAL_10),  # epoch milliseconds
        ("1704592800500", LOCAL_10 + dt.timedelta(milliseconds=500)),
        (1704592800.25, LOCAL_10 + dt.timedelta(milliseconds=250)),
        ("2024-01-07T02:00:00Z", LOCAL_10),
        ("2024-01-07T10:00:00+08:00", LOCAL_10),
        ("2024-01-07 11:00:00+0900", LOCAL_10),
        ("2024-01-07 10:00 +08:00", LOCAL_10),  # a blank before the offset
        ("2024-01-07T10:00:00", LOCAL_10),  # naive: local
        ("2024/1/7 10:00", LOCAL_10),
        ("2024/01/07 10:00:00", LOCAL_10),
        ("2024年1月7日 10:00:00", LOCAL_10),
        ("2024年1月7日 10:00", LOCAL_10),
        ("20240107100000", LOCAL_10),
        ("2024-01-07", dt.datetime(2024, 1, 7)),  # a date alone is midnight, not 08:00
        ("2024/1/7", dt.datetime(2024, 1, 7)),
        ("  2024-01-07 10:00:00\t", LOCAL_10),
    ],
)
def test_times_real_exports_write(tmp_path, value, expected):
    assert one_ts(tmp_path, value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "12345", "10:00", "1e9"])
def test_times_that_are_no_time_are_quarantined(tmp_path, value):
    r = loaded(tmp_path, [{"shop_id": "s1", "buyer_id": "b", "sender": "buyer", "ts": value}])
    (q,) = r.load.quarantine.to_pylist()
    assert (q["row"], q["field"], q["reason"]) == (1, "ts", "unparseable time")


def test_time_zone_of_the_profile_converts_epochs(tmp_path):
    prof = kefu.load_profile("taobao").override(timezone="UTC")
    r = loaded(
        tmp_path,
        [{"shop_id": "s1", "buyer_id": "b", "sender": "buyer", "ts": 1704592800}],
        profile=prof,
    )
    assert messages(r)[0]["ts"] == dt.datetime(2024, 1, 7, 2, 0)


@pytest.mark.parametrize(
    ("header", "codes"),
    [
        ("sender", {"buyer": "buyer", "customService": "agent"}),  # Taobao open platform
        ("role", {"user": "buyer", "mall_cs": "agent"}),  # Pinduoduo
        ("from", {"im.customer": "buyer", "im.waiter": "agent"}),  # JD
        ("origin", {"3": "buyer", "5": "agent", "4": "system"}),  # WeChat 微信客服
        ("waiter_send", {"0": "buyer", "1": "agent"}),  # JD waiter_send flag
    ],
)
def test_platform_sender_codes(tmp_path, header, codes):
    rows = [
        {"shop_id": "s1", "buyer_id": "b", header: code, "ts": f"2024-01-07 10:00:0{i}"}
        for i, code in enumerate(codes)
    ]
    r = loaded(tmp_path, rows)
    assert [m["sender"] for m in messages(r)] == list(codes.values())


def test_numeric_codes_mean_something_only_in_their_column(tmp_path):
    r = loaded(tmp_path, [{"shop_id": "s1", "buyer_id": "b", "sender": "5", "ts": "2024-01-07"}])
    (q,) = r.load.quarantine.to_pylist()
    assert q["field"] == "sender" and q["value"] == "5"


def test_sender_map_extends_the_codes(tmp_path):
    rows = [
        {"shop_id": "s1", "buyer_id": "b", "origin": "3", "ts": "2024-01-07 10:00:00"},
        {"shop_id": "s1", "buyer_id": "b", "origin": "7", "ts": "2024-01-07 10:00:01"},
        {"shop_id": "s1", "buyer_id": "b", "origin": "5", "ts": "2024-01-07 10:00:02"},
    ]
    r = loaded(tmp_path, rows, sender_map={"7": "bot"})
    assert [m["sender"] for m in messages(r)] == ["buyer", "bot", "agent"]
    assert sender_words("origin", {"5": "bot"})["5"] == "bot"  # the user's map comes first


def test_cntaobao_prefix_is_one_shop_buyer_and_agent(tmp_path):
    rows = [
        {"shop_id": "cntaobao小米旗舰店", "buyer_id": "cntaobao晴天", "sender": "buyer",
         "ts": "2024-01-07 10:00:00"},
        {"shop_id": "小米旗舰店", "buyer_id": "晴天", "agent_id": "cntaobao小米旗舰店:阿明",
         "sender": "agent", "ts": "2024-01-07 10:00:30"},
    ]  # fmt: skip
    r = loaded(tmp_path, rows)
    (shop,) = r.figures["shop"].to_pylist()
    assert shop["shop_id"] == "小米旗舰店" and shop["rounds_responded"] == 1
    assert messages(r)[1]["agent_id"] == "小米旗舰店:阿明"
    assert messages(r)[0]["buyer_id"] == "晴天"


def test_prefix_alone_is_kept(tmp_path):
    r = loaded(tmp_path, [{"shop_id": "cntaobao", "buyer_id": "b", "sender": "buyer",
                           "ts": "2024-01-07"}])  # fmt: skip
    assert messages(r)[0]["shop_id"] == "cntaobao"


def test_accounts_lose_the_prefix_too(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "messages.jsonl", [
        {"shop_id": "s1", "buyer_id": "s1:boss", "sender": "buyer", "ts": "2024-01-07 10:00:00"},
    ])  # fmt: skip
    write_jsonl(folder / "accounts.jsonl", [{"shop_id": "s1", "account": "cntaobaos1:boss"}])
    r = kefu.assess(folder, "taobao", "2024-01-08")
    assert r.figures["shop"].to_pylist()[0]["rounds"] == 0  # R3: an own account


@pytest.mark.parametrize("blank", ["\t", "\x00", "\u3000", "\ufeff", " \r\n"])
def test_invisible_characters_around_ids_do_not_split_a_buyer(tmp_path, blank):
    rows = [
        {"shop_id": "s1", "buyer_id": f"b1{blank}", "sender": "buyer", "ts": "2024-01-07 10:00:00"},
        {"shop_id": f"{blank}s1", "buyer_id": "b1", "sender": "agent", "agent_id": f"x1{blank}",
         "ts": "2024-01-07 10:00:30"},
    ]  # fmt: skip
    r = loaded(tmp_path, rows)
    (shop,) = r.figures["shop"].to_pylist()
    assert (shop["rounds"], shop["rounds_responded"]) == (1, 1)
    assert {m["agent_id"] for m in messages(r)} == {None, "x1"}


class TestRepeatedMessageIds:
    def rows(self, *texts: str) -> list[dict]:
        return [
            {"shop_id": "s1", "buyer_id": "b", "sender": "buyer", "ts": "2024-01-07 10:00:00",
             "msg_id": "m1", "text": t}
            for t in texts
        ]  # fmt: skip

    def test_exact_copy_is_a_duplicate_with_its_record(self, tmp_path):
        r = loaded(tmp_path, self.rows("在吗", "在吗"))
        c = r.load.counts["messages"]
        assert (c.read, c.accepted, c.quarantined, c.duplicates) == (2, 1, 0, 1)
        (q,) = r.load.quarantine.to_pylist()
        assert q["kind"] == "duplicate" and q["row"] == 2
        assert json.loads(q["record"])["text"] == "在吗"

    def test_copy_with_other_content_is_quarantined_saying_what_differs(self, tmp_path):
        r = loaded(tmp_path, self.rows("在吗", "在吗", "改了"))
        c = r.load.counts["messages"]
        assert (c.read, c.accepted, c.quarantined, c.duplicates) == (3, 1, 1, 1)
        assert c.reconciles
        clash = [q for q in r.load.quarantine.to_pylist() if q["kind"] == "invalid"]
        (q,) = clash
        assert q["row"] == 3 and q["field"] == "msg_id" and q["value"] == "m1"
        assert "repeats row 1" in q["reason"] and "different text" in q["reason"]
        assert json.loads(q["record"])["text"] == "改了"
        kept = r.assessment.engine.query("SELECT row_no FROM messages").to_pylist()
        assert kept == [{"row_no": 1}]

    def test_other_time_or_sender_differs_too(self, tmp_path):
        rows = self.rows("a", "a")
        rows[1] |= {"ts": "2024-01-07 10:00:05", "sender": "agent"}
        r = loaded(tmp_path, rows)
        (q,) = r.load.quarantine.to_pylist()
        assert "different sender, ts" in q["reason"]


def test_schema_doc_lists_the_sender_words_the_loader_knows():
    from pathlib import Path

    from kefu.io.schema import SENDERS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text("utf-8")
    section = doc.split("## Senders", 1)[1].split("##", 1)[0]
    listed = {
        row.split("|")[1].strip(" `"): {w.strip().lower() for w in row.split("|")[2].split(",")}
        for row in section.splitlines()
        if row.startswith("| `")
    }
    assert listed == {k: {w.lower() for w in v} for k, v in SENDERS.items()}


def test_cli_sender_map(tmp_path):
    from typer.testing import CliRunner

    from kefu.cli import app

    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "messages.jsonl", [
        {"shop_id": "s1", "buyer_id": "b", "origin": "3", "ts": "2024-01-07 10:00:00"},
        {"shop_id": "s1", "buyer_id": "b", "origin": "9", "ts": "2024-01-07 10:00:20"},
    ])  # fmt: skip
    runner = CliRunner()
    args = ["assess", str(folder), "--as-of", "2024-01-08", "--out", str(tmp_path / "o")]
    mapped = runner.invoke(app, [*args, "--sender-map", "9=agent"])
    assert mapped.exit_code == 0, mapped.output
    assert "accepted 2 + quarantined 0" in mapped.output
    unmapped = runner.invoke(app, args)
    assert "accepted 1 + quarantined 1" in unmapped.output
    wrong = runner.invoke(app, [*args, "--sender-map", "9=boss"])
    assert wrong.exit_code == 2
    assert "--sender-map 9=boss: the sender must be one of buyer, agent, bot, system" in " ".join(
        wrong.output.split()
    )
