"""Write the two Qianniu example exports of docs/importers.md (made up for the docs).

    uv run python docs/examples/make_examples.py

- ``qianniu-export.json``: the per-buyer JSON of browser export scripts, one buyer.
- ``qianniu-export.xlsx``: the Excel form, columns 客户ID / 聊天记录, one buyer per row,
  each cell holding lines ``time sender: content``. It holds, on purpose, a multi-line
  message (lines without a time continue the message above), a welcome message that only
  ``--bot-marker`` tells from a human answer, a chat between two of the shop's own
  accounts (rule R3) and one broken line (second 60), which the import quarantines.

The shop 青禾家居旗舰店, its sub-accounts 阿明 and 小雅, and the buyers are invented.
"""

from __future__ import annotations

import json
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


def write_json(path: Path) -> None:
    path.write_text(json.dumps(JSON_EXPORT, ensure_ascii=False, indent=2) + "\n", "utf-8")


def write_xlsx(path: Path) -> None:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("聊天记录")
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_row(0, 0, ["客户ID", "聊天记录"])
    for i, (buyer, lines) in enumerate(XLSX_ROWS, start=1):
        sheet.write_string(i, 0, buyer, wrap)
        sheet.write_string(i, 1, "\n".join(lines), wrap)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 70)
    book.close()


if __name__ == "__main__":
    write_json(HERE / "qianniu-export.json")
    write_xlsx(HERE / "qianniu-export.xlsx")
