"""Importers: Qianniu chat records and Twitter support threads, checked on real data.

The twcs tests run on the real sample (``shared/data/twcs_head5000.csv``); the five rounds
of ``test_hand_checked_rounds`` were read off the raw CSV lines by hand. The Qianniu tests
use the example exports of docs/importers.md and small malformed files written here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.explain.explain import explain
from kefu.importers.commands import run_import
from kefu.importers.common import ImportReport
from kefu.importers.qianniu import ShopAccounts, import_qianniu, parse_time
from kefu.importers.twcs import import_twcs
from kefu.io.readers import InputError

from conftest import SHARED, shop_row

TWCS = SHARED / "data" / "twcs_head5000.csv"
DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = DOCS / "examples"
SHOP = "青禾家居旗舰店"
CREATED_AT = "%a %b %d %H:%M:%S %z %Y"


def quarantine_rows(out: Path) -> list[dict[str, Any]]:
    return pacsv.read_csv(out / "quarantine.csv").to_pylist()


def messages(out: Path) -> list[dict[str, Any]]:
    return pq.read_table(out / "messages.parquet").to_pylist()


def round_rows(result: kefu.Result, shop: str, buyer: str | None = None) -> list[dict[str, Any]]:
    rows = explain(result, "rounds", shop).rows.to_pylist()
    return [r for r in rows if buyer is None or r["buyer_id"] == buyer]


# --------------------------------------------------------------------------- twcs, real


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[str, str]]:
    """The sample's tweets by id, read independently of the importer.

    Records end with LF; the bare CRs inside tweet 3399 are blanked for the csv module.
    """
    text = TWCS.read_bytes().decode("utf-8").replace("\r", " ")
    return {r["tweet_id"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}


@pytest.fixture(scope="module")
def twcs(tmp_path_factory) -> tuple[Path, ImportReport]:
    out = tmp_path_factory.mktemp("twcs")
    return out, import_twcs([TWCS], out)


@pytest.fixture(scope="module")
def twcs_result(twcs) -> kefu.Result:
    return kefu.assess(twcs[0], "twcs")


def test_twcs_counts_reconcile(twcs, twcs_result, raw):
    out, report = twcs
    assert report.read == len(raw) == 5000
    assert report.reconciles and report.accepted + report.quarantined == 5000
    assert len(messages(out)) == report.accepted
    assert len(quarantine_rows(out)) == report.quarantined == sum(report.reasons.values())
    loaded = twcs_result.load.counts["messages"]
    assert (loaded.read, loaded.accepted, loaded.quarantined, loaded.duplicates) == (
        report.accepted, report.accepted, 0, 0,
    )  # fmt: skip
    ids = [m["msg_id"] for m in messages(out)]
    ids += [json.loads(q["record"])["tweet_id"] for q in quarantine_rows(out)]
    assert sorted(ids) == sorted(raw)  # every tweet in exactly one place


def test_no_brand_tweet_is_ever_a_buyer_message(twcs, raw):
    out, _ = twcs
    for m in messages(out):
        tweet = raw[m["msg_id"]]
        if m["sender"] == "buyer":
            assert tweet["inbound"] == "True", m
            assert m["buyer_id"] == tweet["author_id"]
        else:
            assert (m["sender"], tweet["inbound"]) == ("agent", "False"), m
            assert m["shop_id"] == tweet["author_id"]
    brands = {t["author_id"] for t in raw.values() if t["inbound"] == "False"}
    assert not {m["buyer_id"] for m in messages(out)} & brands


def test_quarantined_tweets_name_their_line(twcs):
    out, _ = twcs
    lines = TWCS.read_bytes().decode("utf-8").split("\n")  # LF ends a line, as in an editor
    rows = quarantine_rows(out)
    assert rows
    for q in rows:
        tweet_id = json.loads(q["record"])["tweet_id"]
        assert lines[q["row"] - 1].startswith(f"{tweet_id},"), q
        assert q["table"] == "messages" and q["kind"] == "excluded" and q["reason"]


def test_times_are_utc_and_convert_to_the_profile_zone(twcs, twcs_result):
    """T1: twcs times are written with their UTC offset; taobao reads them at +08:00."""
    out, _ = twcs
    assert str(pq.read_schema(out / "messages.parquet").field("ts").type.tz) == "UTC"
    utc = round_rows(twcs_result, "sprintcare", "115712")[0]
    shanghai = round_rows(kefu.assess(out, "taobao", "2017-11-02"), "sprintcare", "115712")[0]
    assert utc["start_ts"] == dt.datetime(2017, 10, 31, 21, 45, 10)
    assert shanghai["start_ts"] == utc["start_ts"] + dt.timedelta(hours=8)


#: Five rounds read off the raw CSV: (shop, buyer, buyer tweet ids, answering tweet id,
#: start, answer, wait in s, answering agent, outcome). Line numbers are the CSV's.
HAND_CHECKED = [
    # line 8:  8,115712,True,Tue Oct 31 21:45:10 … "@sprintcare is the worst customer service"
    # line 7:  6,sprintcare,False,Tue Oct 31 21:46:24 … no sign-off → agent is the brand
    ("sprintcare", "115712", ["8"], "6", "21:45:10", "21:46:24", 74, "sprintcare", "responded"),
    # line 3:  2,115712,True,Tue Oct 31 22:11:45 … "and how do you propose we do that"
    # line 798: 1293,115712,True,Tue Oct 31 22:24:51 … a second question, same round (R4)
    # line 799: 1296,sprintcare,False,Tue Oct 31 22:26:36 … answers the round's first message
    ("sprintcare", "115712", ["2", "1293"], "1296", "22:11:45", "22:26:36", 891, "sprintcare", "over_limit"),
    # line 1524: 2152,116185,True,Tue Oct 31 21:48:28 … "No online orders today?"
    # line 1523: 2151,ChipotleTweets,False,Tue Oct 31 21:51:29 … "-Becky": 181 s > 180 (R6)
    ("ChipotleTweets", "116185", ["2152"], "2151", "21:48:28", "21:51:29", 181, "Becky", "over_limit"),
    # line 2741: 3554,116553,True,Tue Oct 31 22:35:54 … mentions no brand by name; AlaskaAir replied
    # line 2740: 3553,AlaskaAir,False,Tue Oct 31 22:37:06 … "-Sean"
    ("AlaskaAir", "116553", ["3554"], "3553", "22:35:54", "22:37:06", 72, "Sean", "responded"),
    # line 4893: 6923,117185,True,Sun Oct 08 22:32:11 … "@Delta When a flight attendant …"
    # line 4892: 6922,Delta,False,Mon Oct 09 00:49:37 … "*AFC", after midnight UTC
    ("Delta", "117185", ["6923"], "6922", "22:32:11", "00:49:37", 8246, "AFC", "over_limit"),
]  # fmt: skip


@pytest.mark.parametrize(
    "shop, buyer, asks, answer, start, end, wait, agent, outcome",
    HAND_CHECKED,
    ids=[c[0] + "-" + c[2][0] for c in HAND_CHECKED],
)
def test_hand_checked_rounds(
    twcs_result, raw, shop, buyer, asks, answer, start, end, wait, agent, outcome
):
    """R4 (first question, first answer), R6 (180 s inclusive), P1 (wait), sign-off agents."""
    start_ts = dt.datetime.strptime(raw[asks[0]]["created_at"], CREATED_AT)
    answer_ts = dt.datetime.strptime(raw[answer]["created_at"], CREATED_AT)
    assert (f"{start_ts:%H:%M:%S}", f"{answer_ts:%H:%M:%S}") == (start, end)
    assert (answer_ts - start_ts).total_seconds() == wait
    naive = start_ts.replace(tzinfo=None)
    (row,) = [r for r in round_rows(twcs_result, shop, buyer) if r["start_ts"] == naive]
    assert row["answer_ts"] == answer_ts.replace(tzinfo=None)
    assert row["wait_s"] == wait
    assert row["buyer_messages"] == len(asks)
    assert row["agent_id"] == agent
    assert row["outcome"] == outcome
    assert row["counted"]  # the twcs profile counts rounds round the clock (R5)


def test_a_brand_reply_to_a_tweet_outside_the_file_opens_no_round(twcs, twcs_result, raw):
    """Tweet 5530 replies to 5531, not in the file: an agent message in 117003's stream."""
    out, _ = twcs
    assert raw["5530"]["in_response_to_tweet_id"] == "5531" and "5531" not in raw
    (m,) = [m for m in messages(out) if m["msg_id"] == "5530"]
    assert (m["shop_id"], m["buyer_id"], m["sender"], m["agent_id"]) == (
        "Ask_Spectrum", "117003", "agent", "CS",
    )  # fmt: skip
    rounds = round_rows(twcs_result, "Ask_Spectrum", "117003")
    assert [(f"{r['start_ts']:%H:%M:%S}", r["wait_s"]) for r in rounds] == [
        ("23:12:47", 118.0),
        ("23:16:04", 68.0),
    ]
    assert all(r["answer_ts"] > m["ts"].replace(tzinfo=None) for r in rounds)


def test_a_customer_tweet_whose_reply_is_outside_the_file_is_quarantined(twcs, raw):
    """Tweet 172 was answered by 173, not in the file, and no brand reply is in it."""
    out, _ = twcs
    assert raw["172"]["response_tweet_id"] == "173,171" and "173" not in raw
    (q,) = [q for q in quarantine_rows(out) if json.loads(q["record"])["tweet_id"] == "172"]
    assert q["row"] == 110 and q["field"] == "response_tweet_id"
    assert q["reason"].startswith("thread cut at the file's edge")
    assert "172" not in {m["msg_id"] for m in messages(out)}


def test_unplaceable_tweets_are_quarantined_with_the_reason(twcs):
    out, _ = twcs
    by_id = {json.loads(q["record"])["tweet_id"]: q for q in quarantine_rows(out)}
    assert by_id["46"]["reason"].startswith("customer-to-customer")  # 115722 → 115721
    assert by_id["81"]["reason"].startswith("brand tweet to no customer")  # a promotion
    assert by_id["49"]["reason"].startswith("no brand")


def test_sign_offs_and_the_brand_as_agent(twcs):
    out, _ = twcs
    agent = {m["msg_id"]: m["agent_id"] for m in messages(out) if m["sender"] == "agent"}
    # ^JK, ^JN before a trailing link, *AFC, -Becky, and no sign-off at all
    assert (agent["21"], agent["1621"], agent["6922"], agent["2151"]) == (
        "JK",
        "JN",
        "AFC",
        "Becky",
    )
    assert agent["1"] == "sprintcare"
    names = pq.read_table(out / "agents.parquet").to_pylist()
    assert {
        "agent_id": "JK",
        "shop_id": "Ask_Spectrum",
        "name": "^JK",
        "agent_group": None,
    } in names


def test_bare_carriage_returns_stay_in_the_tweet(twcs):
    out, _ = twcs
    (m,) = [m for m in messages(out) if m["msg_id"] == "3399"]
    assert m["text"].startswith("@AskPayPal \r\rI just love")


def brand_table(result: kefu.Result) -> list[str]:
    """The per-brand rows of docs/real-data.md (brands with at least 20 rounds)."""
    waits = result.assessment.query(
        "SELECT shop_id, median(wait_s) AS m FROM rounds "
        "WHERE counted AND answer_ts IS NOT NULL GROUP BY shop_id"
    ).to_pylist()
    median_all = {w["shop_id"]: w["m"] for w in waits}

    def num(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f}"

    shops = [s for s in result.figures["shop"].to_pylist() if s["rounds"] >= 20]
    return [
        f"| {s['shop_id']} | {s['rounds']} | {s['rounds_responded']} | "
        f"{s['response_rate']:.1%} | {num(s['first_response_median_s'])} | "
        f"{num(s['response_s'])} | {s['response_time_rounds']} | "
        f"{num(median_all.get(s['shop_id']))} |"
        for s in sorted(shops, key=lambda s: (-s["rounds"], s["shop_id"]))
    ]


def test_real_data_doc_shows_what_kefu_computes(twcs_result):
    lines = (DOCS / "real-data.md").read_text("utf-8").splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("| brand |"))
    published = []
    for line in lines[top + 2 :]:
        if not line.startswith("|"):
            break
        published.append(line)
    assert published == brand_table(twcs_result)
    assert len(published) >= 20


def test_twcs_profile_is_utc_round_the_clock():
    prof = kefu.load_profile("twcs")
    assert prof.chain == ("taobao", "twcs") and "not a platform" in prof.description
    assert prof["timezone"] == "UTC"
    for window in ("response_window", "response_time_window"):
        assert (prof[f"{window}_start"], prof[f"{window}_end"]) == ("00:00", "24:00")
    assert prof["response_limit_s"] == 180  # the rules themselves are Taobao's (R6)
    assert all(prof.params[k].note for k in ("timezone", "window_days", "reply_same_day"))


def test_cli_import_then_assess_prints_the_brand_scorecards(tmp_path):
    runner = CliRunner()
    out = tmp_path / "imported"
    done = runner.invoke(app, ["import", "twcs", str(TWCS), "--out", str(out)])
    assert done.exit_code == 0, done.output
    printed = " ".join(done.output.split())  # Rich wraps long lines
    assert "tweets: read 5000 = accepted 4786 + quarantined 214" in printed
    assert f"kefu assess {out} --profile twcs" in printed
    shown = runner.invoke(
        app, ["assess", str(out), "-p", "twcs", "--out", str(tmp_path / "o"), "--scorecards", "80"]
    )
    assert shown.exit_code == 0, shown.output
    assert "Shop AlaskaAir · twcs" in shown.output
    assert "messages: read 4786 = accepted 4786" in shown.output
    # By default 76 brands are too many for full scorecards: one line per brand instead.
    summary = runner.invoke(app, ["assess", str(out), "-p", "twcs", "--out", str(tmp_path / "p")])
    assert summary.exit_code == 0, summary.output
    assert "76 shops" in summary.output and "Alaska" in summary.output  # ids fold when narrow
    assert "more shops" not in summary.output


# ------------------------------------------------------------------- twcs, small files

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
SMALL = [
    "1,100,True,Mon Oct 30 10:00:00 +0000 2017,@AcmeHelp my order is late,2,",  # line 2
    '2,AcmeHelp,False,Mon Oct 30 10:02:00 +0000 2017,"@100 Sorry! Which order?\nPlease DM us. ^JK",3,1',
    "3,100,True,Mon Oct 30 10:03:00 +0000 2017,@AcmeHelp 12345\r\rthanks,,2.0",  # line 5
    "4,101,True,not a date,@AcmeHelp hello,,",  # line 6
    "5,102,True,Mon Oct 30 11:00:00 +0000 2017,@acmehelp lower-case mention,,",  # line 7
    "5,102,True,Mon Oct 30 11:00:01 +0000 2017,the same id again,,",  # line 8
    "6,102,True,Mon Oct 30 11:01:00 +0000 2017,and another thing,,5",  # line 9
    "7,103,True,Mon Oct 30 12:00:00 +0000 2017,@102 agreed,,6",  # line 10
    "8,AcmeHelp,False,Mon Oct 30 12:30:00 +0000 2017,Big sale today!,,",  # line 11
    "9,104,True,Mon Oct 30 13:00:00 +0000 2017,@AcmeHelp is it on?,99,",  # line 12
    "10,AcmeHelp,False,Mon Oct 30 13:05:00 +0000 2017,@105 Glad to help -Becky,,98",  # line 13
    "11,106,True,Mon Oct 30 14:00:00 +0000 2017,nothing to anyone,,",  # line 14
    "12,107,maybe,Mon Oct 30 14:00:00 +0000 2017,@AcmeHelp hi,,",  # line 15
]  # fmt: skip


@pytest.fixture
def small(tmp_path) -> tuple[Path, ImportReport]:
    path = tmp_path / "twcs.csv"
    path.write_bytes(("\n".join([HEADER, *SMALL]) + "\n").encode("utf-8"))
    return tmp_path / "out", import_twcs([path], tmp_path / "out")


def test_small_twcs_every_decision(small):
    out, report = small
    assert (report.read, report.accepted, report.quarantined) == (13, 6, 7)
    got = {m["msg_id"]: m for m in messages(out)}
    assert got["2"]["agent_id"] == "JK" and got["2"]["text"].endswith("Please DM us. ^JK")
    assert got["3"]["text"] == "@AcmeHelp 12345\r\rthanks"  # bare CRs, a float reply id
    assert got["3"]["shop_id"] == "AcmeHelp"
    assert got["5"]["shop_id"] == "AcmeHelp"  # @acmehelp: handles compared without case
    assert got["6"]["shop_id"] == "AcmeHelp"  # continues the customer's own tweet 5
    assert (got["10"]["buyer_id"], got["10"]["agent_id"]) == ("105", "Becky")
    assert [m["seq"] for m in got.values()] == sorted(m["seq"] for m in got.values())
    q = {(r["row"], r["field"]): (r["kind"], r["reason"]) for r in quarantine_rows(out)}
    assert q[(6, "created_at")] == ("invalid", "unparseable time")
    assert q[(8, "tweet_id")][0] == "duplicate"
    assert q[(10, "in_response_to_tweet_id")][1].startswith("customer-to-customer")
    assert q[(11, "text")][1].startswith("brand tweet to no customer")
    assert q[(12, "response_tweet_id")][1].startswith("thread cut")
    assert q[(14, "text")][1].startswith("no brand")
    assert q[(15, "inbound")] == ("invalid", "inbound is not True or False")


def test_small_twcs_rounds(small):
    """The reply to a missing tweet (10) opens no round for 105; 100 waits 120 s (P1)."""
    out, _ = small
    result = kefu.assess(out, "twcs")
    rounds = [(r["buyer_id"], r["wait_s"], r["agent_id"], r["buyer_messages"], r["outcome"])
              for r in round_rows(result, "AcmeHelp")]  # fmt: skip
    assert rounds == [
        ("100", 120.0, "JK", 1, "responded"),
        ("100", None, None, 1, "unanswered"),
        ("102", None, None, 2, "unanswered"),
    ]


def test_twcs_without_its_columns_is_one_line_error(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("id,text\n1,hello\n", "utf-8")
    done = CliRunner().invoke(app, ["import", "twcs", str(path), "--out", str(tmp_path / "o")])
    assert done.exit_code == 2
    assert "no column tweet_id" in done.output and "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) <= 2  # one message, wrapped at most once


# ------------------------------------------------------------------------- Qianniu forms


def test_qianniu_json_example_round_trip(tmp_path):
    export = json.loads((EXAMPLES / "qianniu-export.json").read_text("utf-8"))
    report = import_qianniu(
        "qianniu-json", [EXAMPLES / "qianniu-export.json"], tmp_path, ShopAccounts((SHOP,))
    )
    assert (report.read, report.accepted, report.quarantined) == (11, 11, 0)
    got = messages(tmp_path)
    assert len(got) == len(export["chats"]) == export["count"]
    for chat, m in zip(export["chats"], got, strict=True):
        assert m["ts"] == dt.datetime.fromisoformat(f"{chat['date']} {chat['time']}")
        assert m["text"] == (chat["text"] or f"[图片] {chat['imgUrl']}")
        assert m["buyer_id"] == export["user"] and m["shop_id"] == SHOP
    roles = [m["sender"] for m in got]
    assert roles == [
        "buyer", "bot", "agent", "buyer", "buyer", "agent", "buyer", "agent", "system",
        "buyer", "agent",
    ]  # fmt: skip
    assert got[5]["agent_id"] == f"{SHOP}:阿明"  # the cntaobao prefix is removed
    result = kefu.assess(tmp_path, "taobao", "2024-03-06")
    s = shop_row(result, SHOP)
    # R4/R6: 98 s, 255 s (two questions, one answer), 38 s, 25 s; the bot never answers (R2)
    assert (s["rounds"], s["rounds_responded"]) == (4, 3)
    assert s["response_s"] == pytest.approx((98 + 255 + 38 + 25) / 4)


def test_qianniu_xlsx_example_accounts_for_every_line(tmp_path):
    report = run_import(
        "qianniu-xlsx",
        [EXAMPLES / "qianniu-export.xlsx"],
        tmp_path,
        accounts=[SHOP],
        bot_markers=["欢迎光临青禾家居"],
    )
    assert (report.read, report.accepted, report.quarantined, report.messages) == (14, 13, 1, 11)
    assert report.line() == "lines: read 14 = accepted 13 + quarantined 1 → 11 messages"
    (q,) = quarantine_rows(tmp_path)
    assert (q["row"], q["field"], q["reason"]) == (3, "聊天记录 line 3", "unparseable time")
    assert q["value"] == "2024-03-06 21:08:60 momo_home: 好的，谢谢"
    got = messages(tmp_path)
    assert got[2]["text"] == "亲，抱歉给您添麻烦了，麻烦提供一下：\n1. 订单号\n2. 门歪的照片"
    assert got[1]["sender"] == "bot"  # the welcome message, told by --bot-marker (R2)
    result = kefu.assess(tmp_path, "taobao", "2024-03-07")
    first = round_rows(result, SHOP, "tb_8812xq")[0]
    assert first["wait_s"] == 149.0  # the welcome message does not answer the round
    internal = round_rows(result, SHOP, f"{SHOP}:阿明")
    assert [r["outcome"] for r in internal] == ["own_account"]  # R3: two shop accounts


def test_without_the_marker_a_welcome_message_is_an_agent_answer(tmp_path):
    run_import("qianniu-xlsx", [EXAMPLES / "qianniu-export.xlsx"], tmp_path, accounts=[SHOP])
    result = kefu.assess(tmp_path, "taobao", "2024-03-07")
    assert round_rows(result, SHOP, "tb_8812xq")[0]["wait_s"] == 1.0


def write_sheet(path: Path, rows: list[tuple[str, list[str]]]) -> Path:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "千牛聊天记录导出")  # a title row above the header
    sheet.write_row(1, 0, ["客户ID", "聊天记录"])
    for i, (buyer, lines) in enumerate(rows, start=2):
        sheet.write_string(i, 0, buyer)
        sheet.write_string(i, 1, "\n".join(lines))
    book.close()
    return path


def test_malformed_xlsx_lines_are_quarantined_with_their_line(tmp_path):
    sheet = write_sheet(
        tmp_path / "export.xlsx",
        [
            (
                "buyer1",
                [
                    "这行没有时间",  # 1: nothing above to continue
                    "2024-03-05 10:00:00 buyer1: 在吗",  # 2
                    "第二行内容",  # 3: continues line 2
                    "2024-03-05 10:00:30 没有冒号的一行",  # 4: no sender: a system line
                    "接着上面的系统消息",  # 5: continues it
                    "",  # 6: blank, not counted
                    "2024-02-30 10:01:00 buyer1: 日期不存在",  # 7: no such day
                    "2024-03-05 10:02:00 cntaobaoshop:小王: 在的",  # 8
                    "2024-03-05 10:02:30 路人甲: 我也想问",  # 9: a stranger
                ],
            ),
            ("", ["2024-03-05 11:00:00 someone: hi"]),  # no buyer
        ],
    )
    report = run_import("qianniu-xlsx", [sheet], tmp_path / "out", accounts=["shop"])
    assert (report.read, report.accepted, report.quarantined, report.messages) == (9, 5, 4, 3)
    got = [
        (q["row"], q["field"], q["kind"], q["reason"]) for q in quarantine_rows(tmp_path / "out")
    ]
    assert got == [
        (3, "聊天记录 line 1", "invalid", "no time and sender, and no message above it to continue"),
        (3, "聊天记录 line 7", "invalid", "unparseable time"),
        (3, "聊天记录 line 9", "excluded", "unknown sender: neither the buyer nor one of the shop's accounts (--account)"),
        (4, "聊天记录 line 1", "invalid", "missing buyer (user / 客户ID)"),
    ]  # fmt: skip
    rows = messages(tmp_path / "out")
    assert [(m["sender"], m["agent_id"], m["text"]) for m in rows] == [
        ("buyer", None, "在吗\n第二行内容"),
        ("system", None, "没有冒号的一行\n接着上面的系统消息"),  # R2: a sender-less line
        ("agent", "shop:小王", "在的"),
    ]


def test_malformed_json_chats_are_quarantined_with_their_line(tmp_path):
    export = {
        "user": "buyer1",
        "exportTime": "2024-03-05 18:00:00",
        "count": 7,
        "chats": [
            {"date": "2024-03-05", "time": "10:00:00", "sender": "buyer1", "text": "在吗"},
            {"date": "2024-03-05", "time": "10:00:30", "sender": "", "text": "无发送者"},
            {"date": "2024-02-30", "time": "10:01:00", "sender": "buyer1", "text": "日期不存在"},
            "not a chat",
            {"date": "2024/3/5", "time": "10:02", "sender": "cntaobaoshop:小王", "text": "在的"},
            {"date": "2024-03-05", "time": "10:02:30", "sender": "路人甲", "text": "我也想问"},
        ],
    }
    text = json.dumps(export, ensure_ascii=False, indent=2)
    (tmp_path / "export.json").write_text(text, "utf-8")
    starts = [n for n, line in enumerate(text.split("\n"), 1) if line[:5] in ("    {", '    "')]
    report = import_qianniu("qianniu-json", [tmp_path / "export.json"], tmp_path / "out")
    assert (report.read, report.accepted, report.quarantined) == (6, 3, 3)
    assert report.warnings == [
        f"{tmp_path / 'export.json'}: user buyer1: count says 7, chats holds 6"
    ]
    got = [(q["row"], q["field"], q["reason"]) for q in quarantine_rows(tmp_path / "out")]
    assert got == [
        (starts[2], "time", "unparseable time"),
        (starts[3], "chats", "not a chat object"),
        (starts[5], "sender", "unknown sender: neither the buyer nor one of the shop's accounts (--account)"),
    ]  # fmt: skip
    # no --account: the main account is read from the sub-account sender shop:小王
    assert {m["shop_id"] for m in messages(tmp_path / "out")} == {"shop"}
    accounts = pq.read_table(tmp_path / "out" / "accounts.parquet").to_pylist()
    assert accounts == [
        {"shop_id": "shop", "account": "shop"},
        {"shop_id": "shop", "account": "shop:小王"},
    ]


def test_a_list_of_exports_and_a_repeated_export(tmp_path):
    """Two files holding the same chats: the loader keeps one copy of each (duplicates)."""
    one = json.loads((EXAMPLES / "qianniu-export.json").read_text("utf-8"))
    other = {
        "user": "b2",
        "chats": [{"date": "2024-03-05", "time": "11:00:00", "sender": "b2", "text": "在吗"}],
    }
    (tmp_path / "list.json").write_text(json.dumps([one, other], ensure_ascii=False), "utf-8")
    shutil.copy(EXAMPLES / "qianniu-export.json", tmp_path / "again.json")
    files = [tmp_path / "list.json", tmp_path / "again.json"]
    report = run_import("qianniu-json", files, tmp_path / "out", accounts=[SHOP], shop="s1")
    assert (report.read, report.accepted, report.quarantined) == (23, 23, 0)
    result = kefu.assess(tmp_path / "out", "taobao", "2024-03-06")
    counts = result.load.counts["messages"]
    assert (counts.accepted, counts.duplicates) == (12, 11)
    assert shop_row(result, "s1")["rounds"] == 5  # the example's 4, and b2's unanswered one


def test_shop_accounts():
    accounts = ShopAccounts(("shop",))
    assert accounts.bare("cntaobaoshop:小王") == "shop:小王"
    assert accounts.role("cntaobaoshop:小王", "buyer1", "在的") == "agent"
    assert accounts.role("shop", "buyer1", "[自动回复]您好") == "bot"
    assert accounts.role("shop:自动回复", "buyer1", "您好") == "bot"
    assert (
        accounts.role("shop:小王", "buyer1", "刚才的自动回复有误") == "agent"
    )  # marker not at the start
    assert accounts.role("cntaobaobuyer1", "buyer1", "在吗") == "buyer"
    assert accounts.role("系统", "buyer1", "买家已付款") == "system"
    assert accounts.role("shopping", "buyer1", "hi") is None  # a prefix of a name is not the name
    assert parse_time("2024年03月05日 10:00:15") == dt.datetime(2024, 3, 5, 10, 0, 15)
    assert parse_time("2024/3/5 10:00") == dt.datetime(2024, 3, 5, 10, 0)
    assert parse_time("2024-02-30 10:00:00") is None


def test_qianniu_needs_the_shop_account_when_it_cannot_tell(tmp_path):
    export = {
        "user": "b1",
        "chats": [{"date": "2024-03-05", "time": "10:00:00", "sender": "shop", "text": "hi"}],
    }
    (tmp_path / "e.json").write_text(json.dumps(export), "utf-8")
    with pytest.raises(InputError, match="--account"):
        import_qianniu("qianniu-json", [tmp_path / "e.json"], tmp_path / "out")
    report = run_import("qianniu-json", [tmp_path / "e.json"], tmp_path / "out", accounts=["shop"])
    assert report.accepted == 1


@pytest.mark.parametrize(
    "fmt, content, message",
    [
        ("qianniu-json", '{"user": "b1", "chats": [', "not valid JSON"),
        ("qianniu-json", '{"user": "b1"}', "not a Qianniu chat export"),
        ("qianniu-xlsx", "not a workbook", "cannot read as XLSX"),
        ("weibo", "x", "unknown import format"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(tmp_path, fmt, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, "utf-8")
    args = ["import", fmt, str(path), "--account", "shop", "--out", str(tmp_path / "o")]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2
    assert message in done.output and "Traceback" not in done.output
    assert fmt == "weibo" or "bad.json" in done.output


def test_out_folder_with_other_tables_is_refused(tmp_path):
    (tmp_path / "messages.csv").write_text("shop_id\n", "utf-8")
    with pytest.raises(InputError, match="choose an empty folder"):
        run_import("qianniu-json", [EXAMPLES / "qianniu-export.json"], tmp_path, accounts=[SHOP])


def test_cli_imports_qianniu_and_assess_reads_the_folder(tmp_path):
    runner = CliRunner()
    out = tmp_path / "qn"
    args = [
        "import",
        "qianniu-json",
        str(EXAMPLES / "qianniu-export.json"),
        "-a",
        SHOP,
        "-o",
        str(out),
        "--lang",
        "zh",
    ]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "聊天: 读取 11 = 接受 11 + 隔离 0" in done.output
    shown = runner.invoke(app, ["assess", str(out), "--out", str(tmp_path / "o")])
    assert shown.exit_code == 0, shown.output
    assert f"Shop {SHOP} · taobao" in shown.output
