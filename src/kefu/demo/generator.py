"""Seeded synthetic customer-service data in kefu's canonical schema.

Two entry points share one vectorised conversation simulator:

* :func:`generate_demo` builds a small, *story-telling* data set of three shops with planted
  problems (an understaffed shop, a slow and an excellent agent, too few ratings, test chats,
  marketing bursts followed by refusals, duplicate rows, ...) so that every assessment rule has
  something to find.
* :mod:`kefu.demo.scale` (``write_messages_at_scale``, still importable from here, and
  ``write_dataset``) streams millions of realistic rows for many shops in bounded memory.

All timestamps are naive local (Asia/Shanghai) wall-clock seconds. Internally they are handled as
int64 "seconds since 1970-01-01 local", which converts to ``timestamp[s]`` without any timezone
arithmetic.

The simulator works on *consultations* (one buyer contacting one shop on one day). It loops over
round positions (at most four) and within-round message positions (at most three), never over
messages, so its cost is a few dozen numpy operations per chunk whatever the row count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

__all__ = [
    "ACCOUNT_SCHEMA",
    "AGENT_SCHEMA",
    "DEMO_SHOPS",
    "MESSAGE_SCHEMA",
    "RATING_SCHEMA",
    "REFUSAL_SCHEMA",
    "SCHEMAS",
    "SHOP_SCHEMA",
    "WINDOW_DAYS",
    "DemoData",
    "ShopSpec",
    "generate_demo",
    "write_demo",
]

# --------------------------------------------------------------------------------------------
# Canonical schemas
# --------------------------------------------------------------------------------------------

TS = pa.timestamp("s")

MESSAGE_SCHEMA = pa.schema(
    [
        ("shop_id", pa.string()),
        ("buyer_id", pa.string()),
        ("agent_id", pa.string()),
        ("sender", pa.string()),
        ("ts", TS),
        ("text", pa.string()),
        ("msg_id", pa.string()),
        ("seq", pa.int64()),
    ]
)
RATING_SCHEMA = pa.schema(
    [
        ("shop_id", pa.string()),
        ("buyer_id", pa.string()),
        ("agent_id", pa.string()),
        ("score", pa.int8()),
        ("ts", TS),
        ("source", pa.string()),
    ]
)
REFUSAL_SCHEMA = pa.schema([("shop_id", pa.string()), ("buyer_id", pa.string()), ("ts", TS)])
ACCOUNT_SCHEMA = pa.schema([("shop_id", pa.string()), ("account", pa.string())])
AGENT_SCHEMA = pa.schema(
    [
        ("agent_id", pa.string()),
        ("shop_id", pa.string()),
        ("name", pa.string()),
        ("group", pa.string()),
    ]
)
SHOP_SCHEMA = pa.schema(
    [("shop_id", pa.string()), ("industry", pa.string()), ("tier", pa.string())]
)

#: Canonical schema of every table by name.
SCHEMAS: dict[str, pa.Schema] = {
    "messages": MESSAGE_SCHEMA,
    "ratings": RATING_SCHEMA,
    "refusals": REFUSAL_SCHEMA,
    "accounts": ACCOUNT_SCHEMA,
    "agents": AGENT_SCHEMA,
    "shops": SHOP_SCHEMA,
}

WINDOW_DAYS = 30
DAY = 86_400
HOUR = 3_600

SENDERS = ("buyer", "agent", "bot", "system")
BUYER, AGENT, BOT, SYSTEM = range(4)
GROUPS = ("售前", "售后")
INDUSTRIES = ("服饰鞋包", "电子产品", "食品饮料")
RATING_SOURCES = ("system_invite", "buyer", "merchant_invite")

#: "Never answered" sentinel for waits; larger than any real wait inside the window.
NEVER = 10 * DAY

# Relative consultation volume per hour of day: peaks 10-11h, 14-16h, 20-22h, quiet at night
# but never empty (night owls and shift workers still shop).
# fmt: off
HOURLY_PROFILE = np.array([
    2.0, 1.2, 0.7, 0.4, 0.3, 0.3, 0.6, 1.5, 3.0, 5.5, 9.0, 8.0,  # 00h-11h
    6.0, 6.0, 8.5, 8.5, 6.5, 4.5, 4.0, 5.0, 8.5, 9.0, 6.0, 4.0,  # 12h-23h
])
# fmt: on

# Understaffed windows (seconds of day) of a shop flagged ``understaffed``.
LUNCH = (12 * HOUR, 13 * HOUR + 30 * 60)
LATE = (22 * HOUR, DAY)

# --------------------------------------------------------------------------------------------
# Phrase catalogue
# --------------------------------------------------------------------------------------------

_GREETING_TOPICS = [
    ("在吗", "亲，在的，请问有什么可以帮您？"),
    ("你好", "您好亲，很高兴为您服务~"),
    ("有人吗", "亲，在的哦，您请说"),
]
_GENERAL_TOPICS = [
    ("这个有货吗", "亲，有货的，现在拍下48小时内发货"),
    ("什么时候发货", "亲，今天16点前付款当天发货哦"),
    ("发什么快递", "默认中通快递，需要顺丰可以补差价哦"),
    ("能便宜点吗", "亲，已经是活动价了，可以领一下店铺优惠券哦"),
    ("有优惠券吗", "亲，首页可以领满199减20的券哦"),
    ("包邮吗", "亲，全国包邮（偏远地区除外）"),
    ("可以开发票吗", "可以的亲，下单时备注抬头和税号就行"),
    ("我的快递到哪了", "亲，帮您查了一下，包裹已到您所在城市，今天派送"),
    ("怎么还没发货", "非常抱歉亲，仓库在加急处理，今天一定给您发出"),
    ("可以改地址吗", "可以的亲，麻烦把新地址发给我"),
    ("退货地址是什么", "亲，退货地址已发您，寄回后请把单号告诉我哦"),
    ("退款什么时候到账", "亲，仓库签收后24小时内为您处理退款"),
    ("收到的东西有破损", "非常抱歉亲，麻烦拍张照片，我们马上为您补发或退款"),
    ("支持七天无理由吗", "支持七天无理由退换的亲，不影响二次销售就可以"),
    ("两个订单能一起发吗", "可以的亲，拍下后备注合并发货就行"),
    ("有赠品吗", "亲，现在下单送小礼品一份哦"),
    ("好的，谢谢", "不客气亲，祝您生活愉快~"),
    ("拍了，尽快发货哈", "好的亲，已经给您备注加急了"),
]
_INDUSTRY_TOPICS = {
    "服饰鞋包": [
        ("身高165体重110穿什么码", "亲，建议您拍M码哦"),
        ("这个颜色显黑吗", "亲，是正常色差范围，实物比图片更好看哦"),
        ("会起球吗", "亲，面料做过抗起球处理，正常穿着不会起球"),
        ("鞋子偏大还是偏小", "亲，这款标准码，按平时的码拍就可以"),
        ("可以机洗吗", "建议手洗哦亲，机洗请放洗衣袋"),
    ],
    "电子产品": [
        ("支持全国联保吗", "支持的亲，全国联保一年"),
        ("和上一代有什么区别", "亲，新款续航提升了30%，还支持快充"),
        ("能连苹果手机吗", "可以的亲，安卓和苹果都支持"),
        ("带充电头吗", "亲，标配含充电线，不含充电头哦"),
        ("开机没反应怎么办", "亲，先充电半小时再长按电源键10秒试试"),
    ],
    "食品饮料": [
        ("保质期多久", "亲，保质期12个月，都是最近生产的"),
        ("生产日期是什么时候", "亲，现在发的是本月生产的新鲜批次"),
        ("孕妇能吃吗", "亲，配料天然，但建议咨询医生后食用哦"),
        ("夏天会不会化掉", "亲，夏季我们会加冰袋发货的"),
        ("甜不甜", "亲，微甜口感，不腻的"),
    ],
}
_POOLS: dict[str, list[str]] = {
    # Extra buyer messages inside a round, typically while still waiting.
    "chase": ["在吗？", "人呢", "？？", "有人吗？", "急用", "就是这款", "[图片]", "麻烦快点"],
    # Extra agent messages after the first answer of a round.
    "follow": [
        "还有什么可以帮您的吗？",
        "[商品链接]",
        "亲，可以放心拍哦",
        "[表情]",
        "感谢您的支持~",
        "亲，拍下后我们尽快安排",
    ],
    # First answer after a very long wait.
    "late": ["亲，不好意思久等了", "亲，抱歉刚看到消息，让您久等了"],
    # First answer the morning after an unanswered late-evening message.
    "morning": ["亲，早上好，昨晚客服已下班，现在为您处理", "亲，抱歉昨晚没能及时回复您"],
    "welcome": [
        "您好，欢迎光临本店！客服马上为您服务~【自动回复】",
        "亲，您好！欢迎咨询，请问有什么可以帮您？【自动回复】",
        "欢迎光临~ 热销爆款请看店铺首页哦【自动回复】",
    ],
    "night": ["亲，现在是非工作时间，客服上线后第一时间回复您【自动回复】"],
    "system": [
        "[订单卡片] 买家已下单，等待付款",
        "[订单卡片] 买家已付款，待发货",
        "[系统消息] 买家正在浏览商品",
        "[平台通知] 会话已转接",
        "[物流卡片] 包裹已发出",
        "[系统消息] 买家已确认收货",
    ],
    "proactive": [
        "亲，您拍下的宝贝还未付款，需要帮您改价吗？",
        "亲，您的包裹已发出，请注意查收哦",
        "亲，您购买的商品用得还满意吗？",
        "亲，您咨询的商品今天有活动哦",
    ],
    "marketing": [
        "【店铺周年庆】全场8折，今晚12点截止！",
        "亲，新品上市，老客户专享9折",
        "您有一张20元优惠券即将过期",
        "爆款返场，限量抢购中",
        "关注店铺领取专属红包",
        "直播间今晚8点开播，福利多多",
        "亲，满299减50活动进行中",
    ],
    "test_buyer": ["测试", "测试消息，请忽略", "测试一下自动回复"],
    "test_agent": ["收到，测试正常"],
}


@dataclass(frozen=True)
class _Catalogue:
    """All phrases in one string array plus integer index pools into it."""

    phrases: pa.Array
    pools: dict[str, np.ndarray]
    topic_q: np.ndarray  # phrase index of each topic's question
    topic_a: np.ndarray  # phrase index of each topic's answer
    greeting_topics: np.ndarray
    industry_topics: np.ndarray  # (n_industries, k): same k per industry so we can index 2-D

    def pick(self, rng: np.random.Generator, pool: str, n: int) -> np.ndarray:
        """Draw ``n`` random phrase indices from ``pool``."""
        ids = self.pools[pool]
        return ids[rng.integers(0, len(ids), n)]

    def topics(
        self, rng: np.random.Generator, industry: np.ndarray, greeting_p: float
    ) -> np.ndarray:
        """Draw one topic per consultation, industry-specific or (with ``greeting_p``) a hello."""
        n = len(industry)
        table = self.industry_topics
        topic = table[industry, rng.integers(0, table.shape[1], n)]
        greet = self.greeting_topics[rng.integers(0, len(self.greeting_topics), n)]
        return np.where(rng.random(n) < greeting_p, greet, topic)


def _catalogue() -> _Catalogue:
    """Build the phrase catalogue (cheap; a few hundred strings)."""
    phrases: list[str] = []

    def add(items: Sequence[str]) -> np.ndarray:
        start = len(phrases)
        phrases.extend(items)
        return np.arange(start, len(phrases), dtype=np.int64)

    pools = {name: add(items) for name, items in _POOLS.items()}
    topic_pairs = _GREETING_TOPICS + _GENERAL_TOPICS
    for industry in INDUSTRIES:
        topic_pairs = topic_pairs + _INDUSTRY_TOPICS[industry]
    topic_q = add([q for q, _ in topic_pairs])
    topic_a = add([a for _, a in topic_pairs])
    n_greet, n_general = len(_GREETING_TOPICS), len(_GENERAL_TOPICS)
    general = np.arange(n_greet, n_greet + n_general)
    rows, start = [], n_greet + n_general
    for industry in INDUSTRIES:
        specific = np.arange(start, start + len(_INDUSTRY_TOPICS[industry]))
        start += len(specific)
        # Industry questions are repeated so that they make up about a third of all questions.
        rows.append(np.concatenate([general, specific, specific]))
    return _Catalogue(
        phrases=pa.array(phrases, pa.string()),
        pools=pools,
        topic_q=topic_q,
        topic_a=topic_a,
        greeting_topics=np.arange(n_greet),
        industry_topics=np.stack(rows),
    )


# --------------------------------------------------------------------------------------------
# Simulation inputs and outputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Staff:
    """Response behaviour of the shops and agents of one simulation (integer-indexed)."""

    industry: np.ndarray  # per shop, index into INDUSTRIES
    understaffed: np.ndarray  # per shop, bool: slow at lunch and late evening
    group_offset: np.ndarray  # (n_shops, 2) first global agent index of each group
    group_count: np.ndarray  # (n_shops, 2) agents per group (>= 1)
    agent_median: np.ndarray  # per agent, median first-response seconds
    agent_sigma: np.ndarray  # per agent, lognormal sigma
    agent_busy: np.ndarray  # per agent, probability of a "busy" round (x3..x12 slower)


_Columns = TypeVar("_Columns")


def _concat_columns(cls: type[_Columns], parts: Sequence[_Columns]) -> _Columns:
    """Row-wise concatenation of dataclasses whose fields are equal-length numpy columns."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})


@dataclass(frozen=True)
class _Plan:
    """One row per consultation (a buyer contacting a shop on one day)."""

    shop: np.ndarray
    buyer: np.ndarray
    start: np.ndarray  # ts of the first buyer message (seconds, local)
    n_rounds: np.ndarray
    agent: np.ndarray
    proactive: np.ndarray  # bool: an agent message opens the conversation

    def __len__(self) -> int:
        return len(self.start)

    @staticmethod
    def concat(plans: Sequence[_Plan]) -> _Plan:
        """Row-wise concatenation."""
        return _concat_columns(_Plan, plans)


@dataclass(frozen=True)
class _Msgs:
    """Message rows as integer codes; strings are attached only when building Arrow tables."""

    shop: np.ndarray
    buyer: np.ndarray
    ts: np.ndarray
    sender: np.ndarray
    agent: np.ndarray  # -1 = null
    text: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, idx: np.ndarray) -> _Msgs:
        """Row subset / reordering."""
        return _Msgs(*(getattr(self, f.name)[idx] for f in fields(_Msgs)))

    @staticmethod
    def concat(parts: Sequence[_Msgs]) -> _Msgs:
        """Row-wise concatenation (part order is the tie-break order for equal seconds)."""
        return _concat_columns(_Msgs, parts)


@dataclass(frozen=True)
class _Outcome:
    """Per-consultation results needed to derive ratings."""

    end: np.ndarray  # ts of the last message
    max_wait: np.ndarray  # longest first-response wait of any round (NEVER if unanswered)


class _Collector:
    """Accumulates message blocks keyed by consultation index, in emission order."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        consult: np.ndarray,
        ts: np.ndarray,
        sender: int,
        agent: np.ndarray | int,
        text: np.ndarray,
    ) -> None:
        """Append one block; scalars are broadcast to the block length."""
        n = len(consult)
        self.blocks.append(
            (
                consult.astype(np.int64, copy=False),
                ts.astype(np.int64, copy=False),
                np.full(n, sender, np.int8),
                np.broadcast_to(np.asarray(agent, np.int64), (n,)),
                text.astype(np.int64, copy=False),
            )
        )

    def build(self, plan: _Plan) -> _Msgs:
        """Concatenate the blocks and resolve shop and buyer through the plan."""
        consult, ts, sender, agent, text = (
            np.concatenate(c) for c in zip(*self.blocks, strict=True)
        )
        return _Msgs(plan.shop[consult], plan.buyer[consult], ts, sender, agent, text)


# --------------------------------------------------------------------------------------------
# Planning consultations
# --------------------------------------------------------------------------------------------


def _day_weights(rng: np.random.Generator, first_day: date, days: int) -> np.ndarray:
    """Daily volume weights: weekends are busier, plus some day-to-day noise."""
    weekday = np.array([(first_day + timedelta(d)).weekday() for d in range(days)])
    w = np.where(weekday >= 5, 1.2, 1.0) * rng.uniform(0.85, 1.15, days)
    return w / w.sum()


def _seconds_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw start times of day following :data:`HOURLY_PROFILE`."""
    hour = rng.choice(24, size=n, p=HOURLY_PROFILE / HOURLY_PROFILE.sum())
    return hour * HOUR + rng.integers(0, HOUR, n)


def _pick_agents(
    rng: np.random.Generator, shop: np.ndarray, staff: _Staff, after_sale_p: float
) -> np.ndarray:
    """Route each consultation to a random agent of the pre-sale or after-sale group."""
    group = (rng.random(len(shop)) < after_sale_p).astype(np.int64)
    offset = staff.group_offset[shop, group]
    count = staff.group_count[shop, group]
    return offset + (rng.random(len(shop)) * count).astype(np.int64)


def _plan_consults(
    rng: np.random.Generator,
    buyer_shop: np.ndarray,
    buyer: np.ndarray,
    staff: _Staff,
    window_start: int,
    day_weights: np.ndarray,
    after_sale_p: float = 0.3,
    proactive_p: float = 0.04,
) -> _Plan:
    """Plan consultations for the given (shop, buyer) pairs.

    Each buyer comes back 1 + Poisson(0.35) times, on distinct days a few days apart, so a buyer
    never has two overlapping consultations with the same shop.
    """
    days = len(day_weights)
    visits = 1 + rng.poisson(0.35, len(buyer))
    owner = np.repeat(np.arange(len(buyer)), visits)
    firsts = np.cumsum(visits) - visits
    gaps = rng.integers(1, 9, len(owner))
    gaps[firsts] = 0
    cum = np.cumsum(gaps)
    day = (
        rng.choice(days, size=len(buyer), p=day_weights)[owner]
        + cum
        - np.repeat(cum[firsts], visits)
    )
    keep = day < days
    owner, day = owner[keep], day[keep]
    n = len(owner)
    shop = buyer_shop[owner]
    return _Plan(
        shop=shop,
        buyer=buyer[owner],
        start=window_start + day * DAY + _seconds_of_day(rng, n),
        n_rounds=rng.choice(4, size=n, p=[0.25, 0.3, 0.25, 0.2]) + 1,
        agent=_pick_agents(rng, shop, staff, after_sale_p),
        proactive=rng.random(n) < proactive_p,
    )


# --------------------------------------------------------------------------------------------
# The conversation simulator
# --------------------------------------------------------------------------------------------


def _in_windows(sod: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks (lunch, late evening) for seconds of day."""
    lunch = (sod >= LUNCH[0]) & (sod < LUNCH[1])
    late = sod >= LATE[0]
    return lunch, late


def _first_reply_delay(
    rng: np.random.Generator,
    t0: np.ndarray,
    agent: np.ndarray,
    shop: np.ndarray,
    staff: _Staff,
) -> np.ndarray:
    """Seconds from a round's first buyer message to the first agent answer (-1 = never).

    Lognormal per agent, slower at night, with an occasional "busy" multiplier. Understaffed
    shops are slow at lunch and late evening and push some late messages to the next morning.
    """
    n = len(t0)
    sod = t0 % DAY
    median = staff.agent_median[agent] * np.where(sod < 8 * HOUR, 1.6, 1.0)
    d = median * np.exp(staff.agent_sigma[agent] * rng.standard_normal(n))
    busy = rng.random(n) < staff.agent_busy[agent]
    d = np.where(busy, d * rng.uniform(3.0, 12.0, n), d)

    lunch, late = _in_windows(sod)
    under = staff.understaffed[shop] & (lunch | late)
    queued = 420.0 * np.exp(0.9 * rng.standard_normal(n))
    queued = np.where(rng.random(n) < 0.15, rng.uniform(1800, 5400, n), queued)
    next_morning = (t0 // DAY + 1) * DAY + 8 * HOUR + rng.integers(0, 5400, n) - t0
    d = np.where(under, queued, d)
    d = np.where(under & late & (rng.random(n) < 0.25), next_morning, d)
    d = np.maximum(np.rint(d), 1).astype(np.int64)

    # An agent typing while the buyer sends: both land in the same second.
    d = np.where(~under & (rng.random(n) < 0.01), 0, d)
    never = rng.random(n) < np.where(under, 0.04, 0.003)
    return np.where(never, -1, d)


def _simulate(
    rng: np.random.Generator, plan: _Plan, staff: _Staff, cat: _Catalogue
) -> tuple[_Msgs, _Outcome]:
    """Turn planned consultations into message rows (vectorised over consultations)."""
    n = len(plan)
    out = _Collector()
    industry = staff.industry[plan.shop]
    all_idx = np.arange(n)

    # Agent-initiated contact: the shop writes first, the buyer answers minutes later.
    pro = np.flatnonzero(plan.proactive)
    opener_ts = plan.start[pro] - rng.integers(60, 1800, len(pro))
    out.add(pro, opener_ts, AGENT, plan.agent[pro], cat.pick(rng, "proactive", len(pro)))

    t = plan.start.copy()
    end = plan.start.copy()
    max_wait = np.zeros(n, np.int64)
    alive = np.ones(n, bool)
    for k in range(int(plan.n_rounds.max(initial=0))):
        idx = np.flatnonzero(alive & (plan.n_rounds > k))
        m = len(idx)
        t0, agent = t[idx], plan.agent[idx]
        d = _first_reply_delay(rng, t0, agent, plan.shop[idx], staff)
        answered = d >= 0
        topic = cat.topics(rng, industry[idx], greeting_p=0.45 if k == 0 else 0.0)

        # Buyer side: the question plus sometimes 1-2 more messages while waiting.
        n_buyer = rng.choice(3, size=m, p=[0.68, 0.25, 0.07]) + 1
        n_buyer = np.where(answered & (d < 2 * n_buyer), 1, n_buyer)
        out.add(idx, t0, BUYER, -1, cat.topic_q[topic])
        step, chase = rng.integers(2, 26, m), rng.integers(20, 300, m)
        last_buyer = t0
        for j in (1, 2):
            off = np.where(answered, np.minimum(j * step, d - (n_buyer - j)), j * chase)
            sel = n_buyer > j
            out.add(idx[sel], (t0 + off)[sel], BUYER, -1, cat.pick(rng, "chase", int(sel.sum())))
            last_buyer = np.where(sel, t0 + off, last_buyer)

        if k == 0:
            # Emitted between the buyer and agent blocks: emission order breaks ties of equal
            # seconds, and the bot always answers before a human can.
            _add_welcome(rng, out, plan, cat)

        # Agent side: the answer plus sometimes 1-2 follow-ups.
        n_agent = np.where(answered, rng.choice(3, size=m, p=[0.55, 0.33, 0.12]) + 1, 0)
        late = np.where(
            (t0 + d) // DAY > t0 // DAY, cat.pick(rng, "morning", m), cat.pick(rng, "late", m)
        )
        first = np.where(d > 1800, late, cat.topic_a[topic])
        tt = t0 + d
        out.add(idx[answered], tt[answered], AGENT, agent[answered], first[answered])
        last_agent = tt.copy()
        for j in (1, 2):
            tt = tt + rng.integers(3, 46, m)
            sel = n_agent > j
            out.add(idx[sel], tt[sel], AGENT, agent[sel], cat.pick(rng, "follow", int(sel.sum())))
            last_agent = np.where(sel, tt, last_agent)

        end[idx] = np.where(answered, last_agent, last_buyer)
        max_wait[idx] = np.maximum(max_wait[idx], np.where(answered, d, NEVER))
        # Next round: the buyer reads and replies; sometimes within the same second.
        gap = np.clip(np.rint(40.0 * np.exp(1.1 * rng.standard_normal(m))), 1, 7200)
        gap = np.where(rng.random(m) < 0.01, 0, gap).astype(np.int64)
        t[idx] = last_agent + gap
        alive[idx] = answered

    # Order cards and platform notices at random moments of some consultations.
    sys_idx = all_idx[rng.random(n) < 0.3]
    span = end[sys_idx] - plan.start[sys_idx]
    sys_ts = plan.start[sys_idx] + (rng.random(len(sys_idx)) * (span + 1)).astype(np.int64)
    out.add(sys_idx, sys_ts, SYSTEM, -1, cat.pick(rng, "system", len(sys_idx)))
    return out.build(plan), _Outcome(end=end, max_wait=max_wait)


def _add_welcome(rng: np.random.Generator, out: _Collector, plan: _Plan, cat: _Catalogue) -> None:
    """Bot auto-reply 1-2 s after the buyer's first message of the day (buyer-opened only)."""
    n = len(plan)
    idx = np.flatnonzero(~plan.proactive & (rng.random(n) < 0.65))
    ts = plan.start[idx] + rng.integers(1, 3, len(idx))
    night = (plan.start[idx] % DAY) < 8 * HOUR
    text = np.where(night, cat.pick(rng, "night", len(idx)), cat.pick(rng, "welcome", len(idx)))
    out.add(idx, ts, BOT, -1, text)


# --------------------------------------------------------------------------------------------
# Arrow assembly
# --------------------------------------------------------------------------------------------


def _strings(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, built in Arrow (no Python loop per row)."""
    digits = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _nullable_take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    """``values.take(idx)`` with -1 meaning null."""
    return values.take(pa.array(idx, pa.int64(), mask=idx < 0))


def _timestamps(seconds: np.ndarray) -> pa.Array:
    """int64 local seconds -> naive ``timestamp[s]``."""
    return pa.array(seconds, pa.int64()).cast(TS)


def _sort_order(msgs: _Msgs, shop_rank: np.ndarray, buyer_rank: np.ndarray) -> np.ndarray:
    """Conversation order (shop, buyer, ts); emission order breaks ties within a second."""
    emission = np.arange(len(msgs))
    return np.lexsort((emission, msgs.ts, buyer_rank[msgs.buyer], shop_rank[msgs.shop]))


def _message_table(
    msgs: _Msgs,
    *,
    shop_ids: pa.Array,
    buyer_ids: pa.Array,
    agent_ids: pa.Array,
    cat: _Catalogue,
    first_seq: int,
) -> pa.Table:
    """Arrow table in :data:`MESSAGE_SCHEMA` for already sorted message rows."""
    seq = np.arange(first_seq, first_seq + len(msgs), dtype=np.int64)
    columns = [
        shop_ids.take(pa.array(msgs.shop)),
        buyer_ids.take(pa.array(msgs.buyer)),
        _nullable_take(agent_ids, msgs.agent),
        pa.array(SENDERS, pa.string()).take(pa.array(msgs.sender)),
        _timestamps(msgs.ts),
        cat.phrases.take(pa.array(msgs.text)),
        _strings("M", seq, 12),
        pa.array(seq, pa.int64()),
    ]
    return pa.Table.from_arrays(columns, schema=MESSAGE_SCHEMA)


def _window(as_of: date) -> tuple[int, int]:
    """[start, end) in local epoch seconds: the ``WINDOW_DAYS`` days before ``as_of``."""
    end = (as_of - date(1970, 1, 1)).days * DAY
    return end - WINDOW_DAYS * DAY, end


def _inside(msgs: _Msgs, window: tuple[int, int]) -> _Msgs:
    """Drop rows outside the window (e.g. replies that would land on ``as_of`` itself)."""
    return msgs.take(np.flatnonzero((msgs.ts >= window[0]) & (msgs.ts < window[1])))


# --------------------------------------------------------------------------------------------
# Demo data set
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopSpec:
    """Hand-written description of one demo shop (see :data:`DEMO_SHOPS`)."""

    shop_id: str
    name: str  # main account; sub-accounts are "<name>:<nick>"
    industry: str
    tier: str
    consultations: int
    after_sale_p: float
    rating_p: float
    understaffed: bool
    # (nick, group, median first response s, sigma, busy probability)
    agents: tuple[tuple[str, str, float, float, float], ...]
    bursts: int  # marketing bursts of 5-7 consecutive shop messages
    refusal_share: float  # share of bursts the buyer answers by refusing messages (F2)


_NORMAL = (12.0, 0.45, 0.02)

#: The three demo shops, sorted by shop_id (the row order of the messages table).
DEMO_SHOPS: tuple[ShopSpec, ...] = (
    # Understaffed at lunch and late evening -> 3-minute response rate below 90 %.
    ShopSpec(
        "shop_digital",
        "极客数码专营店",
        "电子产品",
        "silver",
        consultations=7000,
        after_sale_p=0.35,
        rating_p=0.08,
        understaffed=True,
        agents=(
            ("小智", "售前", *_NORMAL),
            ("阿强", "售前", 16.0, 0.45, 0.02),
            ("米粒", "售前", *_NORMAL),
            ("小雨", "售前", 11.0, 0.45, 0.02),
            ("老王", "售后", 17.0, 0.45, 0.02),
            ("小林", "售后", *_NORMAL),
        ),
        bursts=40,
        refusal_share=0.15,
    ),
    # Passes the rate and satisfaction; one slow agent (阿杰) drags its first response over
    # the line, one excellent agent (晴天) shows what is possible.
    ShopSpec(
        "shop_fashion",
        "华裳旗舰店",
        "服饰鞋包",
        "gold",
        consultations=8500,
        after_sale_p=0.3,
        rating_p=0.09,
        understaffed=False,
        agents=(
            ("小美", "售前", *_NORMAL),
            ("晴天", "售前", 5.5, 0.3, 0.0),
            ("阿杰", "售前", 75.0, 0.55, 0.03),
            ("可可", "售前", 10.0, 0.45, 0.02),
            ("小鱼", "售前", 14.0, 0.45, 0.02),
            ("大白", "售后", *_NORMAL),
            ("豆豆", "售后", 13.0, 0.45, 0.02),
        ),
        bursts=40,
        refusal_share=0.025,
    ),
    # Small shop, answers fine, but collects too few ratings for satisfaction to be assessed.
    ShopSpec(
        "shop_snacks",
        "山野零食铺",
        "食品饮料",
        "none",
        consultations=4000,
        after_sale_p=0.25,
        rating_p=0.0,
        understaffed=False,
        agents=(
            ("桃子", "售前", *_NORMAL),
            ("阿福", "售前", 10.0, 0.45, 0.02),
            ("小满", "售后", 13.0, 0.45, 0.02),
        ),
        bursts=30,
        refusal_share=0.0,
    ),
)

_SNACK_RATINGS = 18  # < 30: satisfaction of shop_snacks is not assessable
_ABNORMAL_RATINGS = 8  # one buyer rates shop_fashion on 8 different days
_DOUBLE_RATERS = 6  # buyers who rate the same shop twice within 24 h
_DUPLICATE_ROWS = 10  # exact duplicate message rows


def _demo_staff(specs: Sequence[ShopSpec]) -> tuple[_Staff, list[tuple[int, str, str, str]]]:
    """Staff arrays for the demo shops plus (shop index, agent_id, nick, group) rows."""
    rows: list[tuple[int, str, str, str]] = []
    params: list[tuple[float, float, float]] = []
    offset = np.zeros((len(specs), 2), np.int64)
    count = np.zeros((len(specs), 2), np.int64)
    for s, spec in enumerate(specs):
        for g, group in enumerate(GROUPS):
            members = [a for a in spec.agents if a[1] == group]
            offset[s, g], count[s, g] = len(rows), len(members)
            for nick, _, median, sigma, busy in members:
                rows.append((s, f"{spec.name}:{nick}", nick, group))
                params.append((median, sigma, busy))
    p = np.array(params)
    staff = _Staff(
        industry=np.array([INDUSTRIES.index(spec.industry) for spec in specs]),
        understaffed=np.array([spec.understaffed for spec in specs]),
        group_offset=offset,
        group_count=count,
        agent_median=p[:, 0],
        agent_sigma=p[:, 1],
        agent_busy=p[:, 2],
    )
    return staff, rows


class _BuyerNames:
    """Registry of demo buyer ids (Taobao-style nicks plus special accounts)."""

    def __init__(self, rng: np.random.Generator, n_regular: int) -> None:
        self.rng = rng
        numbers = rng.choice(9 * 10**9, size=n_regular, replace=False) + 10**9
        self.names: list[str] = [f"tb{x}" for x in numbers.tolist()]
        self.taken = set(self.names)

    def new(self, name: str | None = None) -> int:
        """Register one more buyer id (a fresh random nick if ``name`` is None); its index."""
        if name is None:
            name = self._fresh()
        elif name in self.taken:
            raise ValueError(f"buyer id {name!r} already exists")
        self.taken.add(name)
        self.names.append(name)
        return len(self.names) - 1

    def _fresh(self) -> str:
        """A random Taobao-style nick not used yet."""
        while True:
            name = f"tb{int(self.rng.integers(10**9, 10**10))}"
            if name not in self.taken:
                return name

    def arrays(self) -> tuple[pa.Array, np.ndarray]:
        """(Arrow string array, lexicographic rank of each index)."""
        order = np.argsort(np.array(self.names), kind="stable")
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        return pa.array(self.names, pa.string()), rank


def _demo_plan(
    rng: np.random.Generator,
    specs: Sequence[ShopSpec],
    staff: _Staff,
    names: _BuyerNames,
    window: tuple[int, int],
    first_day: date,
) -> tuple[_Plan, np.ndarray]:
    """Regular consultations of all shops plus the abnormal rater; returns (plan, is_abnormal)."""
    weights = _day_weights(rng, first_day, WINDOW_DAYS)
    plans = []
    for s, spec in enumerate(specs):
        n_buyers = round(spec.consultations / 1.3)
        buyers = rng.choice(len(names.names), size=n_buyers, replace=False)
        buyers.sort()  # overlapping pools: some buyers talk to several shops
        shop = np.full(n_buyers, s)
        plans.append(
            _plan_consults(rng, shop, buyers, staff, window[0], weights, spec.after_sale_p)
        )
    regular = _Plan.concat(plans)

    # One buyer contacts (and later rates) shop_fashion on 8 different days.
    fashion = [s.shop_id for s in specs].index("shop_fashion")
    abnormal = names.new("tb_8888差评师")
    days = np.sort(rng.choice(WINDOW_DAYS - 2, size=_ABNORMAL_RATINGS, replace=False))
    k = len(days)
    odd = _Plan(
        shop=np.full(k, fashion),
        buyer=np.full(k, abnormal),
        start=window[0] + days * DAY + rng.integers(10 * HOUR, 21 * HOUR, k),
        n_rounds=np.ones(k, np.int64),
        agent=_pick_agents(rng, np.full(k, fashion), staff, 1.0),
        proactive=np.zeros(k, bool),
    )
    is_abnormal = np.r_[np.zeros(len(regular), bool), np.ones(k, bool)]
    return _Plan.concat([regular, odd]), is_abnormal


def _manual(shop: int, buyer: int, rows: Sequence[tuple[int, int, int, int]]) -> _Msgs:
    """Small hand-written conversation: rows of (ts, sender, agent, text index)."""
    arr = np.array(rows, np.int64).reshape(-1, 4)
    n = len(arr)
    return _Msgs(
        shop=np.full(n, shop, np.int64),
        buyer=np.full(n, buyer, np.int64),
        ts=arr[:, 0],
        sender=arr[:, 1].astype(np.int8),
        agent=arr[:, 2],
        text=arr[:, 3],
    )


def _test_chat(
    rng: np.random.Generator,
    shop: int,
    buyer: int,
    agent: int,
    cat: _Catalogue,
    window: tuple[int, int],
) -> _Msgs:
    """An internal test chat from one of the shop's own accounts (slow on purpose)."""
    t = (
        window[0]
        + int(rng.integers(3, WINDOW_DAYS - 3)) * DAY
        + 9 * HOUR
        + int(rng.integers(0, HOUR))
    )
    tb, ta = cat.pools["test_buyer"], cat.pools["test_agent"][0]
    return _manual(
        shop,
        buyer,
        [
            (t, BUYER, -1, tb[0]),
            (t + 420, AGENT, agent, ta),  # would count as a > 3 min round if not excluded
            (t + 450, BUYER, -1, tb[2]),
            (t + 451, BOT, -1, cat.pools["welcome"][0]),
            (t + 470, AGENT, agent, ta),
        ],
    )


def _bursts(
    rng: np.random.Generator,
    shop: int,
    n_bursts: int,
    share: float,
    names: _BuyerNames,
    agents: np.ndarray,
    cat: _Catalogue,
    window: tuple[int, int],
) -> tuple[list[_Msgs], list[tuple[int, int, int]]]:
    """Marketing bursts of 5-7 consecutive agent messages; ``share`` of them end in a refusal.

    Returns the message blocks and refusal rows (shop, buyer, ts).
    """
    blocks, refusals = [], []
    for b in range(n_bursts):
        buyer = names.new()
        agent = int(rng.choice(agents))
        day = int(rng.integers(0, WINDOW_DAYS - 1))
        t = window[0] + day * DAY + int(rng.integers(10 * HOUR, 20 * HOUR))
        k = int(rng.integers(5, 8))
        ts = t + np.cumsum(rng.integers(3, 30, k))
        text = rng.permutation(cat.pools["marketing"])[:k]
        rows = [(x, AGENT, agent, y) for x, y in zip(ts, text, strict=True)]
        blocks.append(_manual(shop, buyer, rows))
        if b < round(n_bursts * share):
            refusals.append((shop, buyer, int(ts[-1] + rng.integers(30, 1800))))
    return blocks, refusals


_GOOD_SCORES = [0.02, 0.02, 0.04, 0.14, 0.78]
_SLOW_AGENT_SCORES = [0.15, 0.15, 0.10, 0.20, 0.40]
_LONG_WAIT_SCORES = [0.20, 0.15, 0.15, 0.20, 0.30]


def _scores(rng: np.random.Generator, max_wait: np.ndarray, slow_agent: np.ndarray) -> np.ndarray:
    """Scores 1..5: worse after a wait > 3 min, worse for slow agents."""
    n = len(max_wait)
    draws = [rng.choice(5, size=n, p=p) + 1 for p in (_GOOD_SCORES, _SLOW_AGENT_SCORES)]
    score = np.where(slow_agent, draws[1], draws[0])
    long_wait = rng.choice(5, size=n, p=_LONG_WAIT_SCORES) + 1
    return np.where(max_wait > 180, long_wait, score).astype(np.int8)


def _demo_ratings(
    rng: np.random.Generator,
    specs: Sequence[ShopSpec],
    plan: _Plan,
    outcome: _Outcome,
    staff: _Staff,
    is_abnormal: np.ndarray,
    window: tuple[int, int],
) -> dict[str, np.ndarray]:
    """Rating rows as integer columns (shop, buyer, agent, score, ts, source)."""
    n = len(plan)
    rate_p = np.array([s.rating_p for s in specs])[plan.shop]
    rated = (rng.random(n) < rate_p) & (outcome.max_wait < NEVER) & ~is_abnormal
    snacks = [s.shop_id for s in specs].index("shop_snacks")
    candidates = np.flatnonzero(
        (plan.shop == snacks) & (outcome.end < window[1] - DAY) & (outcome.max_wait < NEVER)
    )
    rated[rng.choice(candidates, size=_SNACK_RATINGS, replace=False)] = True
    idx = np.flatnonzero(rated)

    source = rng.choice(3, size=len(idx), p=[0.5, 0.3, 0.2])
    delay_by_source = np.stack(
        [
            rng.integers(30, 600, len(idx)),  # system invite right after the chat
            rng.integers(60, 10 * HOUR, len(idx)),  # buyer rates on their own, later
            rng.integers(5, 120, len(idx)),  # agent sends an invitation
        ]
    )
    ts = outcome.end[idx] + delay_by_source[source, np.arange(len(idx))]
    slow = staff.agent_median[plan.agent[idx]] > 60
    score = _scores(rng, outcome.max_wait[idx], slow)

    # A few buyers of the two big shops rate again within 24 h (changed their mind).
    big = np.flatnonzero((plan.shop[idx] != snacks) & (ts < window[1] - DAY))
    again = rng.choice(big, size=_DOUBLE_RATERS, replace=False)
    ab = np.flatnonzero(is_abnormal)
    cols = {
        "shop": np.r_[plan.shop[idx], plan.shop[idx][again], plan.shop[ab]],
        "buyer": np.r_[plan.buyer[idx], plan.buyer[idx][again], plan.buyer[ab]],
        "agent": np.r_[plan.agent[idx], plan.agent[idx][again], plan.agent[ab]],
        "score": np.r_[score, rng.integers(1, 6, len(again)), np.ones(len(ab))].astype(np.int8),
        "ts": np.r_[
            ts, ts[again] + rng.integers(HOUR, 20 * HOUR, len(again)), outcome.end[ab] + 600
        ],
        "source": np.r_[source, np.full(len(again), 1), np.full(len(ab), 1)],
    }
    keep = (cols["ts"] >= window[0]) & (cols["ts"] < window[1])
    order = np.lexsort((cols["ts"], cols["shop"]))
    order = order[keep[order]]
    return {k: v[order] for k, v in cols.items()}


@dataclass(frozen=True)
class DemoData:
    """The six canonical tables of a demo data set."""

    messages: pa.Table
    ratings: pa.Table
    refusals: pa.Table
    accounts: pa.Table
    agents: pa.Table
    shops: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        """Tables by name (``messages``, ``ratings``, ...)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _duplicate_some(
    rng: np.random.Generator, table: pa.Table, n: int, senders: pa.Array
) -> pa.Table:
    """Repeat ``n`` random buyer/agent rows right after themselves (exact duplicates)."""
    eligible = np.flatnonzero(pc.is_in(table["sender"], senders).to_numpy(zero_copy_only=False))
    dup = rng.choice(eligible, size=n, replace=False)
    idx = np.sort(np.r_[np.arange(table.num_rows), dup], kind="stable")
    return table.take(pa.array(idx))


def generate_demo(as_of: date, seed: int = 7) -> DemoData:
    """Generate the three-shop demo data set for the 30 days before ``as_of`` (exclusive).

    About 150k messages, 1.3k ratings; takes well under a second. Planted features:

    * ``shop_fashion`` (gold) passes everything: 3-minute response rate >= 95 %, hundreds of
      ratings, satisfaction >= 80 %. Its agent ``华裳旗舰店:阿杰`` is slow (40-120 s, sometimes
      > 180 s, more 1-2 scores), ``华裳旗舰店:晴天`` is excellent (3-10 s).
    * ``shop_digital`` (silver) is understaffed 12:00-13:30 and 22:00-24:00: long waits, some over
      30 min, some only answered the next morning; its 3-minute rate is below 90 %.
    * ``shop_snacks`` (no tier) answers fine but has fewer than 30 ratings.
    * Every shop: bot welcome replies, system cards, agent-opened chats, marketing bursts (some
      followed by refusals) and one internal test chat from an account listed in ``accounts``.
    * Ratings: a few buyers rate twice within 24 h; buyer ``tb_8888差评师`` rates shop_fashion 8
      times on 8 different days. Messages contain a handful of exact duplicate rows.
    """
    rng = np.random.default_rng(seed)
    cat = _catalogue()
    window = _window(as_of)
    specs = DEMO_SHOPS
    staff, agent_rows = _demo_staff(specs)
    names = _BuyerNames(rng, n_regular=14_000)

    plan, is_abnormal = _demo_plan(rng, specs, staff, names, window, as_of - timedelta(WINDOW_DAYS))
    msgs, outcome = _simulate(rng, plan, staff, cat)
    special, refusal_rows = _special_chats(rng, specs, staff, names, cat, window)
    all_msgs = _inside(_Msgs.concat([msgs, *special]), window)
    ratings = _demo_ratings(rng, specs, plan, outcome, staff, is_abnormal, window)

    shop_ids = pa.array([s.shop_id for s in specs], pa.string())
    shop_rank = np.argsort(np.argsort([s.shop_id for s in specs]))
    buyer_ids, buyer_rank = names.arrays()
    agent_ids = pa.array([r[1] for r in agent_rows], pa.string())
    ordered = all_msgs.take(_sort_order(all_msgs, shop_rank, buyer_rank))
    messages = _message_table(
        ordered, shop_ids=shop_ids, buyer_ids=buyer_ids, agent_ids=agent_ids, cat=cat, first_seq=1
    )
    messages = _duplicate_some(rng, messages, _DUPLICATE_ROWS, pa.array(["buyer", "agent"]))

    return DemoData(
        messages=messages,
        ratings=_rating_table(ratings, shop_ids, buyer_ids, agent_ids),
        refusals=_refusal_table(refusal_rows, shop_ids, buyer_ids, window),
        accounts=_account_table(specs, agent_rows),
        agents=_agent_table(agent_rows, shop_ids),
        shops=pa.Table.from_pylist(
            [{"shop_id": s.shop_id, "industry": s.industry, "tier": s.tier} for s in specs],
            schema=SHOP_SCHEMA,
        ),
    )


def _special_chats(
    rng: np.random.Generator,
    specs: Sequence[ShopSpec],
    staff: _Staff,
    names: _BuyerNames,
    cat: _Catalogue,
    window: tuple[int, int],
) -> tuple[list[_Msgs], list[tuple[int, int, int]]]:
    """Per shop: one internal test chat and the marketing bursts; returns (blocks, refusals)."""
    blocks: list[_Msgs] = []
    refusal_rows: list[tuple[int, int, int]] = []
    for s, spec in enumerate(specs):
        test_buyer = names.new(f"{spec.name}:测试")
        blocks.append(_test_chat(rng, s, test_buyer, int(staff.group_offset[s, 0]), cat, window))
        presale = staff.group_offset[s, 0] + np.arange(staff.group_count[s, 0])
        bursts, refusals = _bursts(
            rng, s, spec.bursts, spec.refusal_share, names, presale, cat, window
        )
        blocks += bursts
        refusal_rows += refusals
    return blocks, refusal_rows


def _agent_table(agent_rows: Sequence[tuple[int, str, str, str]], shop_ids: pa.Array) -> pa.Table:
    """Arrow agents table from (shop index, agent_id, nick, group) rows."""
    return pa.Table.from_arrays(
        [
            pa.array([r[1] for r in agent_rows], pa.string()),
            shop_ids.take(pa.array([r[0] for r in agent_rows])),
            pa.array([r[2] for r in agent_rows], pa.string()),
            pa.array([r[3] for r in agent_rows], pa.string()),
        ],
        schema=AGENT_SCHEMA,
    )


def _rating_table(
    cols: dict[str, np.ndarray], shop_ids: pa.Array, buyer_ids: pa.Array, agent_ids: pa.Array
) -> pa.Table:
    """Arrow ratings table from integer columns."""
    return pa.Table.from_arrays(
        [
            shop_ids.take(pa.array(cols["shop"])),
            buyer_ids.take(pa.array(cols["buyer"])),
            agent_ids.take(pa.array(cols["agent"])),
            pa.array(cols["score"], pa.int8()),
            _timestamps(cols["ts"]),
            pa.array(RATING_SOURCES, pa.string()).take(pa.array(cols["source"])),
        ],
        schema=RATING_SCHEMA,
    )


def _refusal_table(
    rows: Sequence[tuple[int, int, int]],
    shop_ids: pa.Array,
    buyer_ids: pa.Array,
    window: tuple[int, int],
) -> pa.Table:
    """Arrow refusals table (rows after the window are dropped)."""
    arr = np.array([r for r in rows if window[0] <= r[2] < window[1]], np.int64).reshape(-1, 3)
    arr = arr[np.lexsort((arr[:, 2], arr[:, 0]))]
    return pa.Table.from_arrays(
        [
            shop_ids.take(pa.array(arr[:, 0])),
            buyer_ids.take(pa.array(arr[:, 1])),
            _timestamps(arr[:, 2]),
        ],
        schema=REFUSAL_SCHEMA,
    )


def _account_table(
    specs: Sequence[ShopSpec], agent_rows: Sequence[tuple[int, str, str, str]]
) -> pa.Table:
    """Main account, every agent sub-account and the test sub-account of each shop."""
    rows = []
    for s, spec in enumerate(specs):
        rows.append((spec.shop_id, spec.name))
        rows += [(spec.shop_id, agent_id) for shop, agent_id, _, _ in agent_rows if shop == s]
        rows.append((spec.shop_id, f"{spec.name}:测试"))
    return pa.Table.from_pylist(
        [{"shop_id": shop, "account": acc} for shop, acc in rows], schema=ACCOUNT_SCHEMA
    )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS`` strings, independent of the Arrow CSV writer."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            text = pc.strftime(table.column(i), format="%Y-%m-%d %H:%M:%S")
            table = table.set_column(i, field.name, text)
    return table


def write_demo(data: DemoData, directory: Path, fmt: str = "parquet") -> dict[str, Path]:
    """Write every table of ``data`` as ``<name>.parquet`` (or ``.csv``) into ``directory``.

    CSV files carry a header row and ISO timestamps ``YYYY-MM-DD HH:MM:SS``. Returns the written
    paths by table name.

    Parquet has no second time unit, so ``ts`` columns are stored as milliseconds; read them back
    with ``pq.read_table(path, schema=SCHEMAS[name])`` (or cast) to get ``timestamp[s]`` again.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unsupported format {fmt!r}; use 'parquet' or 'csv'")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, table in data.tables().items():
        path = directory / f"{name}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)
        else:
            pcsv.write_csv(_csv_ready(table), path)
        paths[name] = path
    return paths


def __getattr__(name: str) -> object:
    """``write_messages_at_scale`` lives in :mod:`kefu.demo.scale`; importable from here too."""
    if name == "write_messages_at_scale":
        from kefu.demo.scale import write_messages_at_scale

        return write_messages_at_scale
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
