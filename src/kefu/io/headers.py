"""Header mapping: which input column feeds which canonical column.

Headers are matched after trimming and lower-casing. The built-in aliases below cover the
canonical names, common English names and the Chinese headers of marketplace exports
(买家, 客服, 时间, 内容, 评价 …); a user mapping ``{"发言人": "sender"}`` is tried first.
The table is documented in docs/schema.md.
"""

from __future__ import annotations

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "messages": {
        "shop_id": ("shop", "shop_id", "store", "店铺", "店铺id", "店铺名", "店铺名称", "商家"),
        "buyer_id": (
            "buyer", "buyer_id", "customer", "customer_id", "买家", "买家id", "买家昵称",
            "买家账号", "客户", "客户id", "顾客",
        ),
        "agent_id": (
            "agent", "agent_id", "staff", "客服", "客服id", "客服账号", "客服昵称", "接待客服",
        ),
        "sender": (
            "sender", "role", "from", "origin", "waiter_send", "发送方", "发送者", "发送人",
            "角色", "发言人",
        ),
        "ts": ("ts", "time", "timestamp", "created_at", "时间", "发送时间", "消息时间", "日期时间"),
        "text": ("text", "content", "message", "内容", "消息内容", "聊天内容", "消息"),
        "msg_id": ("msg_id", "message_id", "id", "消息id", "消息编号"),
        "seq": ("seq", "sequence", "序号", "顺序"),
    },
    "ratings": {
        "shop_id": ("shop", "shop_id", "store", "店铺", "店铺id", "店铺名称"),
        "buyer_id": ("buyer", "buyer_id", "customer", "买家", "买家id", "买家昵称", "客户"),
        "agent_id": ("agent", "agent_id", "客服", "客服id", "客服账号", "被评客服"),
        "score": (
            "score", "rating", "评价", "评分", "满意度", "评价结果", "评价等级", "分数",
        ),
        "ts": ("ts", "time", "timestamp", "时间", "评价时间"),
        "source": ("source", "来源", "评价来源", "邀评方式"),
    },
    "refusals": {
        "shop_id": ("shop", "shop_id", "店铺", "店铺id"),
        "buyer_id": ("buyer", "buyer_id", "买家", "买家id", "买家昵称"),
        "ts": ("ts", "time", "timestamp", "时间", "拒收时间", "点击时间"),
    },
    "accounts": {
        "shop_id": ("shop", "shop_id", "店铺", "店铺id"),
        "account": ("account", "account_id", "账号", "账号名", "子账号", "旺旺"),
    },
    "agents": {
        "agent_id": ("agent", "agent_id", "客服", "客服id", "客服账号"),
        "shop_id": ("shop", "shop_id", "店铺", "店铺id"),
        "name": ("name", "姓名", "客服昵称", "昵称"),
        "agent_group": ("group", "agent_group", "team", "分组", "客服分组", "组"),
    },
    "shops": {
        "shop_id": ("shop", "shop_id", "店铺", "店铺id"),
        "industry": ("industry", "category", "行业", "类目", "主营类目"),
        "tier": ("tier", "level", "等级", "店铺等级", "客服等级"),
    },
}  # fmt: skip


def normalise(header: str) -> str:
    return header.strip().lstrip("\ufeff").lower()


def map_headers(
    table: str, headers: list[str], user: dict[str, str] | None = None
) -> dict[str, str]:
    """Canonical column → input header, for the columns this input has.

    The user mapping wins; then an exact canonical name; then the first alias found.

    >>> map_headers("messages", ["买家", "客服", "时间", "内容", "店铺", "发送方"])["ts"]
    '时间'
    """
    found: dict[str, str] = {}
    by_norm = {normalise(h): h for h in headers}
    for source, canonical in (user or {}).items():
        if normalise(source) in by_norm and canonical in ALIASES[table]:
            found.setdefault(canonical, by_norm[normalise(source)])
    taken = set(found.values())
    for canonical, aliases in ALIASES[table].items():
        if canonical in found:
            continue
        for alias in (canonical, *aliases):
            header = by_norm.get(normalise(alias))
            if header is not None and header not in taken:
                found[canonical] = header
                taken.add(header)
                break
    return found
