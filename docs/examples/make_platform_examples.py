"""Write the Wangwang, WeChat customer-service and Pinduoduo example exports (made up).

    uv run python docs/examples/make_platform_examples.py

- ``wangwang-export.txt``: the 旺旺/千牛 PC message manager's text export, GB18030 as the
  tool writes it: a welcome auto-reply, a sub-account written ``nick(userid)`` with the
  ``cntaobao`` prefix, a multi-line message, a system notice, a chat between two of the
  shop's own accounts (R3) and a message line whose date was lost (quarantined).
- ``wechat-kf-sync_msg.jsonl``: two ``kf/sync_msg`` response pages, one per line: session
  events (taken from the queue, transferred to another servicer), an image, ``send_time``
  as a number and as text, an agent's status event that names no customer, a message of
  an unknown origin, and a third line cut off in the middle (all three quarantined).
- ``pdd-chat.jsonl``: Pinduoduo merchant chat records: an auto-reply told by its marker, a
  recall (type 1002) and a transfer (type 24), ``ts`` as text and as a number, a record of
  an unknown role and a line cut off in the middle (both quarantined).

What ``kefu import … && kefu assess …`` shows for each is in README.md beside this script
(tests/test_import_platforms.py checks it). The shops, agents and buyers are invented.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
SHOP = "青禾家居旗舰店"
LOCAL = ZoneInfo("Asia/Shanghai")


def epoch(local: str) -> int:
    """Epoch seconds of a Shanghai clock time, as the platforms' APIs give it."""
    return int(dt.datetime.fromisoformat(local).replace(tzinfo=LOCAL).timestamp())


# ----------------------------------------------------------------------------- Wangwang

RULE = "=" * 64


def _block(group: str, contact: str, messages: list[tuple[str, str, list[str]]]) -> list[str]:
    lines = [RULE, f"消息分组:{group}", RULE, f"消息对象:{contact}", RULE, ""]
    for stamp, sender, content in messages:
        lines += [f"{stamp} {sender}".strip(), *content]
    return [*lines, ""]


AMING = f"{SHOP}:阿明(cntaobao{SHOP}:阿明)"
XIAOYA = f"{SHOP}:小雅(cntaobao{SHOP}:小雅)"
WANGWANG = [
    "消息记录（此消息记录为文本格式，不支持重新导入）",
    "",
    *_block("我的好友", "晴天小猪88", [
        ("2024-03-05 09:58:02", "晴天小猪88", ["在吗？这款收纳柜有白色的吗"]),
        ("2024-03-05 09:58:03", SHOP, ["[自动回复]亲，欢迎光临青禾家居！客服马上就来~"]),
        ("2024-03-05 09:59:40", AMING, ["亲，在的，白色有现货哦"]),
        ("2024-03-05 10:01:15", "晴天小猪88", ["尺寸是多少呀", "想放在卧室"]),
        ("2024-03-05 10:05:30", AMING, ["宽80cm，高180cm，深40cm"]),
        ("10:06:02", "晴天小猪88", ["好的，那我拍白色的"]),  # the date is lost: quarantined
        ("2024-03-05 10:07:00", "系统", ["买家已拍下，待付款"]),
    ]),
    *_block("最近联系人", "木木(cntaobaomumu_home)", [
        ("2024-03-06 14:20:11", "木木(cntaobaomumu_home)", ["你好，柜门有点歪"]),
        ("2024-03-06 14:22:40", XIAOYA, ["亲，抱歉给您添麻烦了，麻烦提供一下：",
                                          "1. 订单号", "2. 柜门的照片"]),
        ("2024-03-06 14:25:02", "木木(cntaobaomumu_home)", ["[图片]"]),
        ("2024-03-06 14:26:30", XIAOYA, ["收到，马上给您补发合页"]),
    ]),
    *_block("同事", f"{SHOP}:小雅", [
        ("2024-03-06 15:00:00", XIAOYA, ["明哥，木木那单补发合页走哪个快递？"]),
        ("2024-03-06 15:03:10", AMING, ["走顺丰"]),
    ]),
]  # fmt: skip


# ---------------------------------------------------------------------------- WeChat KF

KFID = "wkQH7mEQAAqK2k"
BUYER_A, BUYER_B = "wmQH7mEQAAtD3nYw", "wmQH7mEQAAf8Lp0c"


def kf(n: int, local: str, origin: int, user: str, msgtype: str, body: Any, **extra: Any) -> dict:
    message = {"msgid": f"kf-msg-{n:03d}", "send_time": epoch(local), "origin": origin,
               "msgtype": msgtype, msgtype: body, **extra}  # fmt: skip
    if msgtype != "event":  # sync_msg names the account and customer inside an event only
        message |= {"open_kfid": KFID, "external_userid": user}
    return message


def transfer(n: int, local: str, user: str, change: int, old: str, new: str) -> dict:
    event = {"event_type": "session_status_change", "open_kfid": KFID,
             "external_userid": user, "change_type": change}  # fmt: skip
    event |= {"old_servicer_userid": old} if old else {}
    event |= {"new_servicer_userid": new} if new else {}
    return kf(n, local, 4, user, "event", event)


def text(content: str) -> dict:
    return {"content": content}


PAGE_1 = [
    kf(1, "2024-03-05 10:00:00", 3, BUYER_A, "text", text("你好，收纳柜今天下单什么时候发货")),
    transfer(2, "2024-03-05 10:00:05", BUYER_A, 1, "", "xiaoya"),
    kf(3, "2024-03-05 10:01:10", 5, BUYER_A, "text", text("亲，今天下单明天发货哦"),
       servicer_userid="xiaoya"),
    kf(4, "2024-03-05 10:05:00", 3, BUYER_A, "text", text("可以开发票吗")),
    transfer(5, "2024-03-05 10:05:30", BUYER_A, 2, "xiaoya", "aming"),
    kf(6, "2024-03-05 10:09:40", 5, BUYER_A, "text", text("可以的，下单后在订单页申请"),
       servicer_userid="aming"),
    kf(7, "2024-03-05 10:10:00", 3, BUYER_A, "image", {"media_id": "2iSLeVyqzk4eX0IB5kTi"}),
    kf(8, "2024-03-05 10:11:20", 5, BUYER_A, "text", text("收到图片，是这款没错"),
       servicer_userid="aming"),
]  # fmt: skip
PAGE_2 = [
    {"msgid": "kf-msg-009", "send_time": epoch("2024-03-05 13:30:00"), "origin": 4,
     "msgtype": "event", "event": {"event_type": "servicer_status_change",
                                   "servicer_userid": "aming", "status": 1,
                                   "open_kfid": KFID}},
    transfer(10, "2024-03-05 13:59:50", BUYER_B, 1, "", "aming"),
    kf(11, "2024-03-05 14:00:00", 3, BUYER_B, "text", text("请问周末发货吗")) | {
        "send_time": str(epoch("2024-03-05 14:00:00"))},  # epoch seconds as text
    kf(12, "2024-03-05 14:00:30", 9, BUYER_B, "text", text("？")),  # origin 9: unknown
]  # fmt: skip


def response(messages: list[dict], cursor: str, more: int) -> dict:
    return {"errcode": 0, "errmsg": "ok", "next_cursor": cursor, "has_more": more,
            "msg_list": messages}  # fmt: skip


def wechat_lines() -> list[str]:
    pages = [response(PAGE_1, "4gw7MepFLfgF2VC5npN", 1), response(PAGE_2, "4gw7MepFLfgF2VC5npO", 0)]
    lines = [json.dumps(p, ensure_ascii=False) for p in pages]
    return [*lines, lines[0][:57]]  # a third page cut off in the middle


# ---------------------------------------------------------------------------------- PDD

MALL = "100200300"
LI, WANG = "7000001", "7000002"
BUYER_1, BUYER_2 = "8800112233", "8800445566"


def party(role: str, uid: str) -> dict:
    return {"role": role, "uid": uid} | ({"mall_id": MALL} if role == "mall_cs" else {})


def pdd(n: int, local: str, frm: dict, to: dict, content: str, kind: int = 0) -> dict:
    message = {"msg_id": f"1709{n:09d}", "ts": str(epoch(local)), "type": kind,
               "content": content, "from": frm, "to": to}  # fmt: skip
    return {"message": message, "response": "push", "target": {"mall_id": MALL}}


def from_buyer(buyer: str, cs: str = MALL) -> tuple[dict, dict]:
    return party("user", buyer), party("mall_cs", cs)


def to_buyer(cs: str, buyer: str) -> tuple[dict, dict]:
    return party("mall_cs", cs), party("user", buyer)


def pdd_lines() -> list[str]:
    records = [
        pdd(1, "2024-03-05 09:30:00", *from_buyer(BUYER_1), "在吗，这个锅有几种尺寸"),
        pdd(2, "2024-03-05 09:30:02", *to_buyer(LI, BUYER_1),
            "[自动回复]您好，欢迎光临青禾厨具，客服马上为您服务"),
        pdd(3, "2024-03-05 09:31:30", *to_buyer(LI, BUYER_1), "有28cm和32cm两种"),
        pdd(4, "2024-03-05 09:32:00", *from_buyer(BUYER_1, LI), "对方撤回了一条消息", 1002),
        pdd(5, "2024-03-05 09:45:00", *from_buyer(BUYER_1, LI), "32的多少钱"),
        pdd(6, "2024-03-05 09:45:10", *from_buyer(BUYER_1, WANG), "会话已转接给客服小王", 24),
        pdd(7, "2024-03-05 09:47:30", *to_buyer(WANG, BUYER_1), "32cm的是129元"),
        pdd(8, "2024-03-05 20:15:00", *from_buyer(BUYER_2), "退货怎么退"),
        pdd(9, "2024-03-05 20:20:00", *to_buyer(WANG, BUYER_2), "亲，在订单页申请退货即可"),
        pdd(10, "2024-03-05 20:21:00", party("robot", "r1"), party("user", BUYER_2), "？"),
    ]  # fmt: skip
    records[7]["message"]["ts"] = int(records[7]["message"]["ts"])  # ts as a number
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    return [*lines[:9], lines[9][:40], lines[9]]  # a cut line, then the unknown role


def main() -> None:
    (HERE / "wangwang-export.txt").write_bytes("\r\n".join(WANGWANG).encode("gb18030"))
    (HERE / "wechat-kf-sync_msg.jsonl").write_text("\n".join(wechat_lines()) + "\n", "utf-8")
    (HERE / "pdd-chat.jsonl").write_text("\n".join(pdd_lines()) + "\n", "utf-8")


if __name__ == "__main__":
    main()
