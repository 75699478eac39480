"""Write the Qianniu example exports of docs/importers.md (made up for the docs).

    uv run python docs/examples/make_examples.py

- ``qianniu-export.json``: the per-buyer JSON of browser export scripts, one buyer.
- ``千牛聊天记录_2024-05-09.zip``: the exporter's ZIP of per-buyer JSON files: days written
  今天 / 昨天 (resolved against ``exportTime``), a recall notice, a sender-less transfer
  notice, a file without ``exportTime`` whose 今天 chat is quarantined, and a text file
  that is not JSON (quarantined as one record).
- ``千牛聊天记录_5月9日.xlsx``: the exporter's Excel form: in each 聊天记录 cell a time
  without a date on its own line, then ``name: text``; messages separated by blank lines.
  The day comes from the file name with ``--year 2024``. It holds transfer notices (one to
  a bare sub-account name), a recall, a 系统 notice and a time with no message
  (quarantined).
- ``qianniu-export.xlsx``: the Excel form, columns 客户ID / 聊天记录, one buyer per row,
  each cell holding lines ``time sender: content``. It holds, on purpose, a multi-line
  message (lines without a time continue the message above), a welcome message that only
  ``--bot-marker`` tells from a human answer, a chat between two of the shop's own
  accounts (rule R3) and one broken line (second 60), which the import quarantines.

The shop 青禾家居旗舰店, its sub-accounts 阿明 and 小雅, and the buyers are invented.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
SHOP = "青禾家居旗舰店"

JSON_EXPORT = {
    "user": "晴天小猪88",
    "exportTime": "2024-03-05 18:00:00",
    "count": 11,
    "chats": [
        {"date": "2024-03-05", "time": "09:58:02", "sender": "晴天小猪88",
         "text": "在吗？这款收纳柜有白色的吗", "imgUrl": ""},
        {"date": "2024-03-05", "time": "09:58:03", "sender": SHOP,
         "text": "[自动回复]亲，欢迎光临青禾家居！客服马上就来~", "imgUrl": ""},
        {"date": "2024-03-05", "time": "09:59:40", "sender": f"{SHOP}:阿明",
         "text": "亲，在的，白色有现货哦", "imgUrl": ""},
        {"date": "2024-03-05", "time": "10:01:15", "sender": "晴天小猪88",
         "text": "尺寸是多少呀", "imgUrl": ""},
        {"date": "2024-03-05", "time": "10:01:16", "sender": "晴天小猪88",
         "text": "", "imgUrl": "https://img.example.com/qianniu/cabinet-photo.jpg"},
        {"date": "2024-03-05", "time": "10:05:30", "sender": f"cntaobao{SHOP}:阿明",
         "text": "宽80cm，高180cm，深40cm", "imgUrl": ""},
        {"date": "2024-03-05", "time": "10:06:02", "sender": "晴天小猪88",
         "text": "好的，今天下单什么时候发货", "imgUrl": ""},
        {"date": "2024-03-05", "time": "10:06:40", "sender": f"{SHOP}:小雅",
         "text": "亲，下午4点前下单当天发货哦", "imgUrl": ""},
        {"date": "2024-03-05", "time": "10:07:00", "sender": "系统",
         "text": "买家已拍下，待付款", "imgUrl": ""},
        {"date": "2024-03-05", "time": "10:07:05", "sender": "晴天小猪88",
         "text": "好的谢谢", "imgUrl": ""},
        {"date": "2024-03-05", "time": "10:07:30", "sender": f"{SHOP}:小雅",
         "text": "不客气，有问题随时找我们哦~", "imgUrl": ""},
    ],
}  # fmt: skip

XLSX_ROWS = [
    (
        "tb_8812xq",
        [
            "2024-03-05 14:20:11 tb_8812xq: 你好，上次买的柜子门有点歪",
            f"2024-03-05 14:20:12 {SHOP}: 欢迎光临青禾家居旗舰店，有什么可以帮您？",
            f"2024-03-05 14:22:40 {SHOP}:小雅: 亲，抱歉给您添麻烦了，麻烦提供一下：",
            "1. 订单号",
            "2. 门歪的照片",
            "2024-03-05 14:25:03 tb_8812xq: 好的 订单号 3561xxxx",
            f"2024-03-05 14:26:30 {SHOP}:小雅: 收到，已为您登记补发合页",
        ],
    ),
    (
        "momo_home",
        [
            "2024-03-06 21:05:00 momo_home: 有优惠券吗",
            f"2024-03-06 21:07:10 {SHOP}:阿明: 亲，领券中心有满300减30",
            "2024-03-06 21:08:60 momo_home: 好的，谢谢",
            "2024-03-06 21:09:12 momo_home: 什么时候到期？",
            f"2024-03-06 21:09:40 {SHOP}:阿明: 本月底到期哦",
        ],
    ),
    (
        f"{SHOP}:阿明",
        [
            f"2024-03-06 09:00:00 {SHOP}:阿明: 今天的活动价改好了吗",
            f"2024-03-06 09:05:00 {SHOP}:小雅: 改好了",
        ],
    ),
]


def _chat(date: str, time: str, sender: str, text: str) -> dict[str, str]:
    return {"date": date, "time": time, "sender": sender, "text": text, "imgUrl": ""}


#: Members of the exporter's ZIP, in the order they are written.
ZIP_MEMBERS: dict[str, object] = {
    "晴天小猪88.json": {
        "user": "晴天小猪88",
        "exportTime": "2024-05-09 18:30:00",
        "count": 8,
        "chats": [
            _chat("昨天", "20:00:00", "晴天小猪88", "在吗，收纳柜还有货吗"),
            _chat("昨天", "20:00:40", f"cntaobao{SHOP}:阿明", "在的亲，有现货"),
            _chat("昨天", "20:01:00", "晴天小猪88", "晴天小猪88撤回了一条消息"),
            _chat("今天", "09:30:00", "晴天小猪88", "我昨天拍的柜子发货了吗"),
            _chat("今天", "09:30:30", "", f"会话已转交给 {SHOP}:小雅"),
            _chat("今天", "09:32:30", f"{SHOP}:小雅", "亲，今天下午发出哦"),
            _chat("今天", "09:35:00", "", f"会话已转交给 {SHOP}:阿明"),
            _chat("今天", "09:40:00", "晴天小猪88", "好的，能改一下收货地址吗"),
        ],
    },
    "tb_8812xq.json": {
        "user": "cntaobaotb_8812xq",
        "count": 3,
        "chats": [
            _chat("2024-05-09", "14:00:00", "tb_8812xq", "你好，柜门有点歪"),
            _chat("2024-05-09", "14:01:00", f"{SHOP}:阿明", "亲，麻烦拍张照片给我"),
            _chat("今天", "14:02:00", "tb_8812xq", "[图片]"),
        ],
    },
    "说明.txt": "千牛聊天记录导出 2024-05-09\n",
}  # fmt: skip

#: The exporter's Excel form: (客户ID, messages as (time, line)); a line without
#: ``name:`` is a sender-less, system message. ``None`` as a line: a time left alone.
BLOCK_ROWS: list[tuple[str, list[tuple[str, str | None]]]] = [
    (
        "cntaobao晴天小猪88",
        [
            ("10:01:15", "晴天小猪88: 在吗，这个柜子能改尺寸吗"),
            ("10:01:40", f"{SHOP}:阿明: 亲，可以定制的"),
            ("10:02:30", "晴天小猪88: 那发票能开吗"),
            ("10:02:50", f"会话已转交给 {SHOP}:小雅"),
            ("10:04:10", f"{SHOP}:小雅: 可以开的，请提供抬头\n和税号"),
        ],
    ),
    (
        "momo_home",
        [
            ("21:05:00", "momo_home: 有优惠券吗"),
            ("21:05:20", "momo_home撤回了一条消息"),
            ("21:06:00", "系统: 买家已拍下，待付款"),
            ("21:06:30", None),
            ("21:10:00", f"cntaobao{SHOP}:阿明: 亲，领券中心有满300减30"),
            ("21:11:00", "会话已转交给 小雅"),
            ("21:12:00", "momo_home: 好的，还有别的颜色吗"),
        ],
    ),
]


def write_zip(path: Path) -> None:
    """The exporter's ZIP, with fixed member times so the file is the same on every run."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, member in ZIP_MEMBERS.items():
            text = (
                member
                if isinstance(member, str)
                else json.dumps(member, ensure_ascii=False, indent=2) + "\n"
            )
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 9, 18, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))


def block_cell(messages: list[tuple[str, str | None]]) -> str:
    """A 聊天记录 cell of the block form: time, then the message; blank lines between."""
    return "\n\n".join(time if line is None else f"{time}\n{line}" for time, line in messages)


def write_json(path: Path) -> None:
    path.write_text(json.dumps(JSON_EXPORT, ensure_ascii=False, indent=2) + "\n", "utf-8")


def write_xlsx(path: Path, rows: list[tuple[str, str]] | None = None) -> None:
    """The Excel form: one row per buyer; ``rows`` (客户ID, cell) default to the line form."""
    cells = rows or [(buyer, "\n".join(lines)) for buyer, lines in XLSX_ROWS]
    book = xlsxwriter.Workbook(path)
    book.set_properties({"created": dt.datetime(2024, 5, 9, 18, 30)})
    sheet = book.add_worksheet("聊天记录")
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_row(0, 0, ["客户ID", "聊天记录"])
    for i, (buyer, cell) in enumerate(cells, start=1):
        sheet.write_string(i, 0, buyer, wrap)
        sheet.write_string(i, 1, cell, wrap)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 70)
    book.close()


if __name__ == "__main__":
    write_json(HERE / "qianniu-export.json")
    write_xlsx(HERE / "qianniu-export.xlsx")
    write_zip(HERE / "千牛聊天记录_2024-05-09.zip")
    write_xlsx(HERE / "千牛聊天记录_5月9日.xlsx", [(b, block_cell(m)) for b, m in BLOCK_ROWS])
