"""Importers of Wangwang text exports, WeChat customer-service sync_msg and Pinduoduo chats.

The example files of docs/examples are imported with the exact commands of
docs/examples/README.md and assessed; the figures must be the README's (they are read from
it, so the docs cannot drift from what kefu computes). Small files written here cover the
edge cases: encodings, lost dates, epoch times as text and as numbers, unknown codes.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.explain.explain import explain
from kefu.importers.commands import run_import
from kefu.importers.common import ImportReport, epoch_instant
from kefu.io.readers import InputError

from conftest import example_claims, example_figures, shop_row

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
README = EXAMPLES / "README.md"
SHOP = "青禾家居旗舰店"
HEADER = "消息记录（此消息记录为文本格式，不支持重新导入）"
RULE = "=" * 64


def messages(out: Path) -> list[dict[str, Any]]:
    return pq.read_table(out / "messages.parquet").to_pylist()


def quarantine(out: Path) -> list[dict[str, Any]]:
    return pacsv.read_csv(out / "quarantine.csv").to_pylist() if out.exists() else []


def reconciled(report: ImportReport, out: Path) -> ImportReport:
    """Every record is in exactly one place: accepted in messages, or quarantined."""
    assert report.read == report.accepted + report.quarantined
    assert len(messages(out)) == report.accepted
    assert len(quarantine(out)) == report.quarantined
    return report


# ------------------------------------------------------------- the README's examples


def readme_section(fmt: str) -> str:
    text = README.read_text("utf-8")
    match = re.search(rf"^## `{re.escape(fmt)}`\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section ## `{fmt}` in {README}"
    return match[1]


def readme_claims(fmt: str) -> tuple[list[str], str, dict[str, str]]:
    """The section's import command (arguments), reconciliation line and figures row."""
    return example_claims(readme_section(fmt))


@pytest.mark.parametrize("fmt", ["wangwang-txt", "wechat-kf", "pdd"])
def test_example_gives_the_readme_figures(fmt, tmp_path, monkeypatch):
    args, line, figures = readme_claims(fmt)
    assert args[:2] == ["import", fmt]
    out = tmp_path / "d"
    args[args.index("--out") + 1] = str(out)
    monkeypatch.chdir(ROOT)  # the README's paths are from the repository's root
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert line in done.output
    read, accepted, quarantined = map(int, re.findall(r"\d+", line))
    assert read == accepted + quarantined
    assert len(messages(out)) == accepted and len(quarantine(out)) == quarantined
    (s,) = kefu.assess(out).figures["shop"].to_pylist()
    assert figures == example_figures(s)


def test_the_examples_are_what_the_script_writes(tmp_path, monkeypatch):
    import runpy

    script = runpy.run_path(str(EXAMPLES / "make_platform_examples.py"))
    monkeypatch.setitem(script["main"].__globals__, "HERE", tmp_path)
    script["main"]()
    for name in ("wangwang-export.txt", "wechat-kf-sync_msg.jsonl", "pdd-chat.jsonl"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def mangled(data: bytes, seed: str) -> list[bytes]:
    """Empty, cut, binary and randomly damaged copies of an export."""
    rnd = random.Random(seed)
    cases = [b"", b"\n\n", data[: len(data) // 3], data[:-9], data.replace(b"\n", b"\r")]
    cases.append(bytes(rnd.randrange(256) for _ in range(300)))
    for _ in range(40):
        damaged = bytearray(data)
        for _ in range(rnd.randrange(1, 6)):
            at = rnd.randrange(len(damaged))
            junk = rnd.choice(
                [b"", b"{", b"]", b'"', b"\x00", b"\xff\xfe", b"1e999", b"\n", b"null"]
            )
            damaged[at : at + rnd.randrange(0, 30)] = junk
        cases.append(bytes(damaged))
    return cases


@pytest.mark.parametrize(
    "fmt, name",
    [("wangwang-txt", "wangwang-export.txt"), ("wechat-kf", "wechat-kf-sync_msg.jsonl"),
     ("pdd", "pdd-chat.jsonl")],
)  # fmt: skip
def test_damaged_examples_reconcile_or_stop_with_one_line(fmt, name, tmp_path):
    for k, data in enumerate(mangled((EXAMPLES / name).read_bytes(), fmt)):
        path, out = tmp_path / f"in{k}", tmp_path / f"out{k}"
        path.write_bytes(data)
        try:
            report = run_import(
                fmt, [path], out, accounts=[SHOP] if fmt == "wangwang-txt" else None
            )
        except InputError as exc:  # the CLI prints it as one line and exits 2
            assert "\n" not in str(exc), (k, str(exc))
        else:
            reconciled(report, out)


def test_every_format_is_documented_with_its_command():
    importers = (ROOT / "docs" / "importers.md").read_text("utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    for fmt in ("wangwang-txt", "wechat-kf", "pdd"):
        assert f"kefu import {fmt} " in importers and f"kefu import {fmt} " in readme


# ---------------------------------------------------------------------- wangwang-txt


def wangwang(blocks: list[tuple[str, list[str]]], header: bool = True) -> str:
    lines = [HEADER, ""] if header else []
    for contact, body in blocks:
        lines += [RULE, "消息分组:我的好友", RULE, f"消息对象:{contact}", RULE, "", *body, ""]
    return "\r\n".join(lines)


def import_ww(tmp_path: Path, text: str, encoding: str = "utf-8", **options: Any):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "消息记录.txt"
    path.write_bytes(text.encode(encoding))
    out = tmp_path / "out"
    report = run_import("wangwang-txt", [path], out, **options)
    return reconciled(report, out), messages(out), quarantine(out)


def test_wangwang_example_roles_and_ids(tmp_path):
    report = run_import(
        "wangwang-txt", [EXAMPLES / "wangwang-export.txt"], tmp_path, accounts=[SHOP]
    )
    got = messages(tmp_path)
    assert [m["sender"] for m in got[:6]] == ["buyer", "bot", "agent", "buyer", "agent", "system"]
    assert got[2]["agent_id"] == f"{SHOP}:阿明"  # from nick(userid), cntaobao removed
    assert got[3]["text"] == "尺寸是多少呀\n想放在卧室"
    assert {m["buyer_id"] for m in got} == {"晴天小猪88", "mumu_home", f"{SHOP}:小雅"}
    assert [m["seq"] for m in got] == sorted(m["seq"] for m in got)
    (q,) = quarantine(tmp_path)
    assert (q["row"], q["reason"], q["value"]) == (20, "message line without a date",
                                                   "10:06:02 晴天小猪88")  # fmt: skip
    assert json.loads(q["record"])["content"] == "好的，那我拍白色的"
    own = pq.read_table(tmp_path / "accounts.parquet").column("account").to_pylist()
    assert sorted(own) == [SHOP, f"{SHOP}:小雅", f"{SHOP}:阿明"]  # R3
    assert report.unit == "messages"
    again = tmp_path / "again"
    run_import("wangwang-txt", [EXAMPLES / "wangwang-export.txt"], again, accounts=[SHOP])
    assert [m["msg_id"] for m in messages(again)] == [m["msg_id"] for m in got]


def test_wangwang_gbk_and_utf8_read_alike(tmp_path):
    text = wangwang([("tb_buyer", ["2024-03-05 10:00:00 tb_buyer", "柜子有货吗",
                                   f"2024-03-05 10:01:00 {SHOP}:阿明", "有的"])])  # fmt: skip
    for encoding in ("gbk", "gb18030", "utf-8", "utf-8-sig"):
        folder = tmp_path / encoding
        folder.mkdir()
        _, got, _ = import_ww(folder, text, encoding)
        assert [(m["sender"], m["text"]) for m in got] == [
            ("buyer", "柜子有货吗"),
            ("agent", "有的"),
        ]


def test_wangwang_shop_accounts_are_read_from_sub_accounts_or_asked_for(tmp_path):
    text = wangwang([("b1", ["2024-03-05 10:00:00 b1", "在吗",
                             f"2024-03-05 10:00:30 {SHOP}:小雅(cntaobao{SHOP}:小雅)", "在"])])  # fmt: skip
    _, got, _ = import_ww(tmp_path, text)  # no --account: 青禾家居旗舰店 from shop:name
    assert got[1]["shop_id"] == SHOP and got[1]["agent_id"] == f"{SHOP}:小雅"
    bare = wangwang(
        [("b1", ["2024-03-05 10:00:00 b1", "在吗", f"2024-03-05 10:00:30 {SHOP}", "在"])]
    )
    with pytest.raises(InputError, match="give the main account with --account"):
        import_ww(tmp_path / "x", bare)


def test_wangwang_broken_lines_are_quarantined_with_their_line(tmp_path):
    text = wangwang([
        ("木木(cntaobaomumu)", [
            "孤立的一行",                                                    # line 9
            "2024-03-05 10:00:00 木木(cntaobaomumu)", "柜门歪了",
            "2024-02-30 10:01:00 木木(cntaobaomumu)", "还在吗",             # 12: no such day
            "2024-03-05 25:61:00 木木", "？",                                # 14: no such time
            "2024-03-05 10:02:00", "没有发送人",                             # 16: no sender
            f"10:03:00 {SHOP}:阿明", "已补发",                               # 18: date lost
            "12:00:00 之前能到吗",                    # 20: content, 之前能到吗 is no sender
            "2024-03-05 10:04:00 路人甲", "广告",                            # 21: stranger
            "2024-03-05 10:05:00 木木", "好的",                              # nick only
            f"2024-03-05 10:06:00 {SHOP}:阿明", "不客气",
        ]),
    ])  # fmt: skip
    report, got, q = import_ww(tmp_path, text, accounts=[SHOP])
    assert [(m["sender"], m["text"]) for m in got] == [
        ("buyer", "柜门歪了"), ("buyer", "好的"), ("agent", "不客气"),
    ]  # fmt: skip
    assert all(m["buyer_id"] == "mumu" for m in got)  # 木木 without (userid) is the buyer too
    assert [(r["row"], r["reason"]) for r in q] == [
        (9, "content with no message line above it"),
        (12, "unparseable time"),
        (14, "unparseable time"),
        (16, "no sender: expected `YYYY-MM-DD HH:MM:SS nick(userid)`"),
        (18, "message line without a date"),
        (21, "unknown sender: neither the 消息对象 nor one of the shop's accounts (--account)"),
    ]
    assert json.loads(q[4]["record"])["content"] == "已补发\n12:00:00 之前能到吗"
    assert [r["kind"] for r in q] == ["invalid"] * 5 + ["excluded"]
    assert (report.read, report.accepted, report.quarantined) == (9, 3, 6)


def test_wangwang_message_before_any_contact_and_not_an_export(tmp_path):
    text = HEADER + "\n\n2024-03-05 10:00:00 b1\n在吗\n"
    _, got, q = import_ww(tmp_path, text + wangwang([("b1", ["2024-03-05 10:01:00 b1", "x",
                          f"2024-03-05 10:02:00 {SHOP}:阿明", "y"])], header=False))  # fmt: skip
    assert [(r["row"], r["field"], r["reason"]) for r in q] == [
        (3, "消息对象", "message before any 消息对象 line: no buyer")
    ]
    assert len(got) == 2
    (tmp_path / "plain.txt").write_text("hello\nworld\n", "utf-8")
    done = CliRunner().invoke(
        app,
        [
            "import",
            "wangwang-txt",
            str(tmp_path / "plain.txt"),
            "-a",
            SHOP,
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert done.exit_code == 2 and "plain.txt" in done.output
    assert "not a Wangwang message-manager export" in done.output
    assert "Traceback" not in done.output


# ------------------------------------------------------------------------- wechat-kf

KFID, USER = "wkShop01", "wmUser01"


def kf_msg(n: int, t: Any, origin: Any, **extra: Any) -> dict[str, Any]:
    return {"msgid": f"m{n}", "open_kfid": KFID, "external_userid": USER, "send_time": t,
            "origin": origin, "msgtype": "text", "text": {"content": f"text {n}"}, **extra}  # fmt: skip


def kf_event(n: int, t: int, change: int, new: str | None, old: str | None = None) -> dict:
    event = {"event_type": "session_status_change", "open_kfid": KFID, "external_userid": USER,
             "change_type": change, "new_servicer_userid": new, "old_servicer_userid": old}  # fmt: skip
    return {"msgid": f"m{n}", "send_time": t, "origin": 4, "msgtype": "event", "event": event}


T0 = 1709604000  # 2024-03-05 10:00:00 in Shanghai


def import_kf(tmp_path: Path, text: str, **options: Any):
    path = tmp_path / "sync_msg.json"
    path.write_text(text, "utf-8")
    out = tmp_path / "out"
    report = run_import("wechat-kf", [path], out, **options)
    return reconciled(report, out), messages(out), quarantine(out)


def test_wechat_pretty_json_names_the_line_of_each_bad_message(tmp_path):
    response = {"errcode": 0, "errmsg": "ok", "msg_list": [
        kf_msg(1, T0, 3),
        kf_msg(2, "昨天", 5, servicer_userid="a1"),
        kf_msg(3, T0 + 60, 7),
        kf_msg(4, str(T0 + 90), "5", servicer_userid="a1"),      # origin and time as text
        kf_msg(5, (T0 + 120) * 1000, 3),                          # milliseconds
        {"msgid": "m6", "send_time": T0, "origin": 4, "msgtype": "event",
         "event": {"event_type": "servicer_status_change", "servicer_userid": "a1",
                   "open_kfid": KFID}},
        kf_msg(7, T0, 3) | {"open_kfid": ""},
        "not a message",
    ]}  # fmt: skip
    text = json.dumps(response, ensure_ascii=False, indent=2)
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line == "    {"]
    report, got, q = import_kf(tmp_path, text)
    assert [(r["row"], r["field"], r["kind"]) for r in q] == [
        (1, "msg_list", "invalid"),  # not an object: the line of its response
        (starts[1], "send_time", "invalid"),
        (starts[2], "origin", "invalid"),
        (starts[5], "external_userid", "excluded"),
        (starts[6], "open_kfid", "excluded"),
    ]
    assert q[1]["value"] == "昨天" and q[2]["value"] == "7"
    assert [(m["msg_id"], m["sender"]) for m in got] == [("m1", "buyer"), ("m4", "agent"),
                                                          ("m5", "buyer")]  # fmt: skip
    assert [m["ts"].timestamp() for m in got] == [T0, T0 + 90, T0 + 120]
    assert (report.read, report.accepted, report.quarantined) == (8, 3, 5)


def test_wechat_transfers_address_the_buyer_to_the_new_servicer(tmp_path):
    msgs = [kf_event(1, T0 - 10, 1, "xiaoya"), kf_msg(2, T0, 3),
            kf_event(3, T0 + 20, 2, "aming", "xiaoya"), kf_msg(4, T0 + 30, 3),
            kf_event(5, T0 + 40, 3, None, "aming"), kf_msg(6, T0 + 50, 3)]  # fmt: skip
    text = "\n".join(json.dumps({"msg_list": [m]}) for m in msgs)  # one response per line
    _, got, _ = import_kf(tmp_path, text)
    assert [(m["sender"], m["agent_id"]) for m in got] == [
        ("system", "xiaoya"),
        ("buyer", "xiaoya"),
        ("system", "aming"),
        ("buyer", "aming"),
        ("system", None),
        ("buyer", None),  # change_type 3 ended the session
    ]
    assert got[2]["text"] == "[事件] 转接会话 xiaoya → aming"
    result = kefu.assess(tmp_path / "out", as_of="2024-03-06")
    (r,) = [x for x in explain(result, "rounds", KFID).rows.to_pylist()]
    assert (r["outcome"], r["agent_id"]) == ("unanswered", "xiaoya")  # P1: first addressed


def test_wechat_several_responses_error_pages_and_bot_markers(tmp_path):
    page = {
        "msg_list": [
            kf_msg(1, T0, 3),
            kf_msg(2, T0 + 5, 5, servicer_userid="a1") | {"text": {"content": "[自动回复]您好"}},
            kf_msg(3, T0 + 9, 5, servicer_userid="a1"),
        ]
    }
    text = json.dumps([page, {"errcode": 45009, "errmsg": "api freq out of limit"}]) + "\n"
    text += json.dumps({"msg_list": [kf_msg(4, T0 + 30, 3)]})  # a second value after the list
    _, got, q = import_kf(tmp_path, text, bot_markers=["您好"])
    assert [m["sender"] for m in got] == ["buyer", "bot", "agent", "buyer"]
    (error,) = q
    assert error["reason"] == "an error response, no messages"
    assert error["value"] == "errcode 45009: api freq out of limit"


def test_wechat_a_broken_json_file_is_one_line(tmp_path):
    path = tmp_path / "sync_msg.json"
    path.write_text('{\n  "msg_list": [\n    {"msgid": "m1",\n', "utf-8")
    done = CliRunner().invoke(app, ["import", "wechat-kf", str(path), "-o", str(tmp_path / "o")])
    assert done.exit_code == 2 and "Traceback" not in done.output
    assert "sync_msg.json: not valid JSON" in done.output and "line 4" in done.output
    with pytest.raises(InputError, match="--shop is not used"):
        run_import("wechat-kf", [path], tmp_path / "o", shop="s")


def test_epoch_instants():
    assert epoch_instant(1709604000) == epoch_instant("1709604000") == epoch_instant(1709604000.7)
    assert epoch_instant(1709604000123) == epoch_instant("1709604000")
    assert epoch_instant("1709604000").isoformat() == "2024-03-05T02:00:00+00:00"
    for bad in (None, True, "", "昨天", "-5", -5, float("nan"), float("inf"), "1e9", [1], 10**30):
        assert epoch_instant(bad) is None, bad


# ------------------------------------------------------------------------------- pdd

MALL, BUYER = "900100", "5550001"


def pdd_rec(n: int, ts: Any, frm: dict, to: dict, kind: Any = 0, **extra: Any) -> dict:
    message = {"msg_id": f"p{n}", "ts": ts, "type": kind, "content": f"c{n}", "from": frm, "to": to}
    return {"message": message | extra}


def user(uid: Any = BUYER) -> dict:
    return {"role": "user", "uid": uid}


def cs(uid: Any, mall: str | None = MALL) -> dict:
    return {"role": "mall_cs", "uid": uid} | ({"mall_id": mall} if mall else {})


def import_pdd_lines(tmp_path: Path, records: list[Any], **options: Any):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "chat.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "out"
    report = run_import("pdd", [path], out, **options)
    return reconciled(report, out), messages(out), quarantine(out)


def test_pdd_roles_types_and_times(tmp_path):
    records = [
        pdd_rec(1, str(T0), user(), cs(MALL)),  # ts as text
        pdd_rec(2, T0 + 30, cs(7001), user(int(BUYER))),  # numbers as ids and ts
        pdd_rec(3, str((T0 + 40) * 1000), user(), cs(7001), "1002"),  # ms; type as text
        pdd_rec(4, T0 + 50, user(), cs(7002), 24),
        pdd_rec(5, T0 + 60, user(), cs(7002), 1, content="https://img.example/1.jpg"),
        pdd_rec(6, T0 + 70, {"role": "system", "uid": "x"}, user()),
        pdd_rec(7, "刚刚", user(), cs(7002)),
        pdd_rec(8, T0, user(), cs(7002), "text"),
        pdd_rec(9, T0, cs(7001), cs(7002)),
        ["not", "a", "record"],
        '{"message": {"msg_id": "p11", "ts": "17',
        "",
        pdd_rec(12, T0 + 80, cs(7002), user())["message"],  # the bare message object
    ]
    report, got, q = import_pdd_lines(tmp_path, records)
    assert [(m["msg_id"], m["sender"], m["agent_id"]) for m in got] == [
        ("p1", "buyer", None), ("p2", "agent", "7001"), ("p3", "system", None),
        ("p4", "system", "7002"), ("p5", "buyer", "7002"), ("p12", "agent", "7002"),
    ]  # fmt: skip
    assert got[4]["text"] == "[图片] https://img.example/1.jpg"
    assert [m["ts"].timestamp() for m in got] == [T0, T0 + 30, T0 + 40, T0 + 50, T0 + 60, T0 + 80]
    assert all(m["shop_id"] == MALL and m["buyer_id"] == BUYER for m in got)
    assert [(r["row"], r["field"]) for r in q] == [
        (6, "from.role"),
        (7, "ts"),
        (8, "type"),
        (9, "to.uid"),
        (10, "message"),
        (11, "line"),
    ]
    assert q[0]["reason"] == "unknown role: expected user or mall_cs" and q[0]["value"] == "system"
    assert (report.read, report.unit) == (12, "records")  # the blank line is not a record


def test_pdd_recall_opens_no_round_and_bots_are_told_by_their_marker(tmp_path):
    records = [
        pdd_rec(1, T0, user(), cs(MALL)),
        pdd_rec(2, T0 + 2, cs(7001), user(), content="[自动回复]欢迎"),
        pdd_rec(3, T0 + 60, cs(7001), user()),
        pdd_rec(4, T0 + 90, user(), cs(7001), 1002, content="对方撤回了一条消息"),
    ]
    _, got, _ = import_pdd_lines(tmp_path, records)
    assert [m["sender"] for m in got] == ["buyer", "bot", "agent", "system"]
    s = shop_row(kefu.assess(tmp_path / "out", as_of="2024-03-06"), MALL)
    assert (s["rounds"], s["rounds_responded"], s["response_s"]) == (1, 1, 60.0)


def test_pdd_shop_comes_from_mall_id_else_shop_option(tmp_path):
    records = [pdd_rec(1, T0, user(), cs(7001, mall=None))]
    _, got, q = import_pdd_lines(tmp_path, records)
    assert got == [] and q[0]["reason"] == "no mall_id in the record and no --shop"
    _, got, _ = import_pdd_lines(tmp_path / "s", records, shop="my-shop")
    assert got[0]["shop_id"] == "my-shop"
    records = [{"target": {"mall_id": MALL}} | pdd_rec(1, T0, user(), cs(7001, mall=None))]
    _, got, _ = import_pdd_lines(tmp_path / "t", records, shop="my-shop")
    assert got[0]["shop_id"] == MALL
    with pytest.raises(InputError, match="--account and --prefix are for"):
        run_import("pdd", [tmp_path / "chat.jsonl"], tmp_path / "o", accounts=["x"])


def test_pdd_half_an_emoji_is_written_not_a_crash(tmp_path):
    line = json.dumps(pdd_rec(1, T0, user(), cs(MALL), content="好的\ud83d"))  # escaped
    _, got, _ = import_pdd_lines(tmp_path, [line, '{"message": "\\udfff"}'])
    assert got[0]["text"] == "好的?"  # the lone surrogate is replaced, the message kept
