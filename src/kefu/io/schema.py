"""kefu's canonical event schema (see docs/schema.md).

Each table lists its columns with a kind (how raw values are read and checked) and whether
the column is required. Header aliases, Chinese ones included, live in ``headers``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id | text | sender | ts | score | source | int | tier
    required: bool = False
    sql_type: str = "VARCHAR"


def _cols(*cols: Column) -> tuple[Column, ...]:
    return cols


TABLES: dict[str, tuple[Column, ...]] = {
    "messages": _cols(
        Column("shop_id", "id", True),
        Column("buyer_id", "id", True),
        Column("agent_id", "id"),
        Column("sender", "sender", True),
        Column("ts", "ts", True, "TIMESTAMP"),
        Column("text", "text"),
        Column("msg_id", "id"),
        Column("seq", "int", sql_type="BIGINT"),
    ),
    "ratings": _cols(
        Column("shop_id", "id", True),
        Column("buyer_id", "id", True),
        Column("agent_id", "id"),
        Column("score", "score", True, "INTEGER"),
        Column("ts", "ts", True, "TIMESTAMP"),
        Column("source", "source"),
    ),
    "refusals": _cols(
        Column("shop_id", "id", True),
        Column("buyer_id", "id", True),
        Column("ts", "ts", True, "TIMESTAMP"),
    ),
    "accounts": _cols(Column("shop_id", "id", True), Column("account", "id", True)),
    "agents": _cols(
        Column("agent_id", "id", True),
        Column("shop_id", "id", True),
        Column("name", "text"),
        Column("agent_group", "text"),
    ),
    "shops": _cols(
        Column("shop_id", "id", True),
        Column("industry", "text"),
        Column("tier", "tier"),
    ),
}

#: Columns every loaded event table carries besides its own: where each row came from.
PROVENANCE = (Column("file_no", "int", True, "INTEGER"), Column("row_no", "int", True, "BIGINT"))

#: Sender words, compared case-insensitively after trimming; platform exports' role codes
#: included: Taobao open platform (buyer / customService), Pinduoduo (user / mall_cs),
#: JD (im.customer / im.waiter).
SENDERS = {
    "buyer": ("buyer", "customer", "user", "im.customer", "买家", "顾客", "客户", "用户"),
    "agent": (
        "agent", "seller", "staff", "human", "customservice", "mall_cs", "im.waiter",
        "waiter", "客服", "卖家", "商家", "人工", "人工客服",
    ),
    "bot": ("bot", "robot", "auto", "auto-reply", "autoreply", "机器人", "自动回复", "智能客服"),
    "system": ("system", "platform", "notice", "系统", "系统消息", "平台", "通知"),
}  # fmt: skip

#: Numeric sender codes, which mean something only in the column that holds them: WeChat
#: 微信客服 ``origin`` (3 customer, 4 system event, 5 agent) and JD ``waiter_send``
#: (0 the buyer, 1 the agent). Both headers are aliases of ``sender``.
SENDER_CODES: dict[str, dict[str, str]] = {
    "origin": {"3": "buyer", "4": "system", "5": "agent"},
    "waiter_send": {"0": "buyer", "1": "agent"},
}

#: Columns that hold an account name (shop, buyer, agent): a Wangwang long id's site prefix
#: is removed so ``cntaobao小米`` and ``小米`` are one shop.
ACCOUNT_COLUMNS = ("shop_id", "buyer_id", "agent_id", "account")
ACCOUNT_PREFIXES = ("cntaobao",)

SCORE_LABELS = {"很满意": 5, "满意": 4, "一般": 3, "不满意": 2, "很不满意": 1}

SOURCES = {
    "system_invite": ("system_invite", "system", "系统邀评", "系统邀请", "系统"),
    "buyer": ("buyer", "买家", "买家主动", "主动评价"),
    "merchant_invite": ("merchant_invite", "merchant", "商家邀评", "商家邀请", "客服邀评"),
}

TIERS = {
    "gold": ("gold", "金牌", "金"),
    "silver": ("silver", "银牌", "银"),
    "none": ("none", "", "普通", "无"),
}


def empty_table_sql(table: str) -> str:
    """A typed, empty relation of ``table`` (for inputs the user did not give)."""
    cols = [f"CAST(NULL AS {c.sql_type}) AS {c.name}" for c in TABLES[table]]
    cols += [f"CAST(NULL AS {c.sql_type}) AS {c.name}" for c in PROVENANCE]
    return f"SELECT {', '.join(cols)} WHERE FALSE"


_ARROW = {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32()}


def arrow_schema(
    table: str, *, tz: str | None = None, only: tuple[str, ...] | None = None
) -> pa.Schema:
    """The Arrow schema of a canonical table, for writers of canonical Parquet.

    Timestamps are whole seconds, naive local time, or instants in ``tz`` (``"UTC"``), which
    the loader converts to the profile's zone (T1). ``only`` keeps a subset of the columns.
    """
    return pa.schema(
        [
            (c.name, pa.timestamp("s", tz=tz) if c.sql_type == "TIMESTAMP" else _ARROW[c.sql_type])
            for c in TABLES[table]
            if only is None or c.name in only
        ]
    )
