"""Seeded data at scale: one Parquet file of messages, or a whole day-partitioned dataset.

* :func:`write_messages_at_scale` streams millions of message rows of many shops to one
  Parquet file in conversation order (shop, buyer, time), for benchmarks.
* :func:`write_dataset` writes a canonical, day-partitioned dataset as an export pipeline
  would: ``messages/day=YYYY-MM-DD/part-0.parquet`` (the local day of ``ts``), ``ratings/…``
  and ``refusals/…`` the same way, and ``shops.parquet``, ``agents.parquet``,
  ``accounts.parquet``. It generates and writes one day at a time, so memory is bounded by
  a day's volume whatever the total (``kefu demo --scale 100M --days 365``).

Both reuse the conversation simulator of :mod:`kefu.demo.generator`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kefu.demo.generator import (
    AGENT,
    DAY,
    GROUPS,
    HOUR,
    INDUSTRIES,
    MESSAGE_SCHEMA,
    NEVER,
    RATING_SOURCES,
    SENDERS,
    SYSTEM,
    WINDOW_DAYS,
    _Catalogue,
    _catalogue,
    _day_weights,
    _inside,
    _message_table,
    _Msgs,
    _nullable_take,
    _Outcome,
    _pick_agents,
    _Plan,
    _plan_consults,
    _scores,
    _seconds_of_day,
    _simulate,
    _sort_order,
    _Staff,
    _strings,
    _timestamps,
    _window,
)
from kefu.io.schema import arrow_schema

__all__ = ["parse_scale", "write_dataset", "write_messages_at_scale"]

# --------------------------------------------------------------------------------------------
# One file of messages in conversation order (benchmarks)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ScaleWorld:
    """Many random shops with their agents, ids and relative sizes."""

    staff: _Staff
    weight: np.ndarray  # relative consultation volume per shop
    shop_ids: pa.Array
    agent_ids: pa.Array


def _scale_world(rng: np.random.Generator, n_shops: int) -> _ScaleWorld:
    """Random shops: lognormal sizes, 2-16 agents, some slow/excellent agents, ~8 % understaffed."""
    weight = rng.lognormal(0.0, 0.8, n_shops)
    n_agents = np.clip(np.rint(2 + 3 * weight / weight.mean()), 2, 16).astype(np.int64)
    presale = np.clip(np.rint(0.65 * n_agents), 1, n_agents - 1).astype(np.int64)
    first = np.cumsum(n_agents) - n_agents
    offset = np.stack([first, first + presale], axis=1)
    count = np.stack([presale, n_agents - presale], axis=1)

    total = int(n_agents.sum())
    shop_of_agent = np.repeat(np.arange(n_shops), n_agents)
    median = rng.lognormal(np.log(20.0), 0.35, n_shops)[shop_of_agent]
    median = median * rng.lognormal(0.0, 0.3, total)
    kind = rng.random(total)
    median = np.where(kind < 0.04, median * 3.5, median)  # slow agents
    median = np.where(kind > 0.96, 5.0, median)  # excellent agents
    staff = _Staff(
        industry=rng.integers(0, len(INDUSTRIES), n_shops),
        understaffed=rng.random(n_shops) < 0.08,
        group_offset=offset,
        group_count=count,
        agent_median=median,
        agent_sigma=np.full(total, 0.45),
        agent_busy=np.full(total, 0.02),
    )
    width = max(5, len(str(n_shops - 1)))
    shop_ids = _strings("shop_", np.arange(n_shops), width)
    numbers = np.arange(total) - first[shop_of_agent] + 1
    agent_ids = pc.binary_join_element_wise(
        shop_ids.take(pa.array(shop_of_agent)), _strings("客服", numbers, 2), ":"
    )
    return _ScaleWorld(staff, weight, shop_ids, agent_ids)


class _BuyerAllocator:
    """Hands out (shop, local buyer number) pairs shop by shop, sizing shops adaptively.

    A shop's buyer count is fixed when the allocator reaches it, from the rows still missing and
    the shop's share of the remaining weight, so estimation errors spread over later shops instead
    of piling up in the last one. The last shop absorbs whatever is still missing at the end.
    """

    def __init__(self, weight: np.ndarray, target_rows: int, rows_per_buyer: float) -> None:
        self.weight = weight
        self.suffix = np.cumsum(weight[::-1])[::-1]  # weight of shops s..end
        self.target = target_rows
        self.rows_per_buyer = rows_per_buyer
        self.shop, self.local, self.quota = -1, 0, 0

    def take(self, n_buyers: int, rows_done: float) -> tuple[np.ndarray, np.ndarray]:
        """Next ``n_buyers`` buyers as (shop, local number) arrays in id order."""
        shops, starts, counts = [], [], []
        need = n_buyers
        last = len(self.weight) - 1
        while need > 0:
            if self.local >= self.quota:
                if self.shop == last:
                    self.quota += need  # only the last shop grows beyond its plan
                else:
                    self.shop += 1
                    self.local = 0
                    missing = max(self.target - rows_done, 0.0) / self.rows_per_buyer
                    share = self.weight[self.shop] / self.suffix[self.shop]
                    self.quota = max(1, round(missing * share))
                continue
            k = min(need, self.quota - self.local)
            shops.append(self.shop)
            starts.append(self.local)
            counts.append(k)
            self.local += k
            rows_done += k * self.rows_per_buyer
            need -= k
        counts_arr = np.array(counts, np.int64)
        shop = np.repeat(np.array(shops, np.int64), counts_arr)
        firsts = np.repeat(np.cumsum(counts_arr) - counts_arr, counts_arr)
        local = np.arange(len(shop)) - firsts + np.repeat(np.array(starts, np.int64), counts_arr)
        return shop, local


def _scale_chunk(
    rng: np.random.Generator,
    world: _ScaleWorld,
    cat: _Catalogue,
    shop: np.ndarray,
    local: np.ndarray,
    window: tuple[int, int],
    weights: np.ndarray,
    first_seq: int,
) -> pa.Table:
    """Messages of the given buyers, sorted in conversation order."""
    buyer = np.arange(len(shop))
    plan = _plan_consults(rng, shop, buyer, world.staff, window[0], weights)
    msgs, _ = _simulate(rng, plan, world.staff, cat)
    msgs = _inside(msgs, window)
    # Buyers are handed out in (shop, id) order, so their index already is their rank.
    msgs = msgs.take(_sort_order(msgs, np.arange(len(world.weight)), buyer))
    return _message_table(
        msgs,
        shop_ids=world.shop_ids,
        buyer_ids=_strings("tb", local, 9),
        agent_ids=world.agent_ids,
        cat=cat,
        first_seq=first_seq,
    )


def _cut_at_buyer(table: pa.Table, limit: int) -> pa.Table:
    """Longest prefix of at most ``limit`` rows that ends at a (shop, buyer) boundary."""
    if table.num_rows <= limit:
        return table
    head = table.slice(0, limit + 1)
    same = pc.and_(
        pc.equal(head["shop_id"].slice(1), head["shop_id"].slice(0, limit)),
        pc.equal(head["buyer_id"].slice(1), head["buyer_id"].slice(0, limit)),
    )
    breaks = np.flatnonzero(~same.to_numpy(zero_copy_only=False)) + 1  # row i starts a buyer
    # A single buyer longer than the limit is cut mid-conversation rather than dropped.
    return table.slice(0, int(breaks[-1]) if len(breaks) else limit)


def write_messages_at_scale(
    path: Path,
    n_messages: int,
    n_shops: int,
    as_of: date,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = 300_000,
) -> int:
    """Stream about ``n_messages`` realistic message rows of ``n_shops`` shops to one Parquet file.

    Rows are in conversation order (shop, buyer, ts, seq) with a file-wide running ``seq`` and
    unique ``msg_id``. Generation happens in chunks of roughly ``chunk_rows`` rows written with a
    :class:`pyarrow.parquet.ParquetWriter`, so memory stays bounded whatever ``n_messages``.
    The file stops at a buyer boundary at or just below ``n_messages``; the exact row count is
    returned. ``progress`` is called with the rows written so far after every chunk.

    As with :func:`write_demo`, Parquet stores ``ts`` in milliseconds (no second unit exists).
    """
    if n_messages < 0 or n_shops < 1:
        raise ValueError("n_messages must be >= 0 and n_shops >= 1")
    window = _window(as_of)
    world = _scale_world(np.random.default_rng([seed, 0]), n_shops)
    cat = _catalogue()
    weights = _day_weights(
        np.random.default_rng([seed, 1]), as_of - timedelta(WINDOW_DAYS), WINDOW_DAYS
    )
    rows_per_buyer = _pilot_rows_per_buyer(world, cat, window, weights, seed)
    allocator = _BuyerAllocator(world.weight, n_messages, rows_per_buyer)

    written, generated_rows, generated_buyers, chunk_no = 0, 0, 0, 0
    with pq.ParquetWriter(Path(path), MESSAGE_SCHEMA) as writer:
        while written < n_messages:
            n_buyers = max(1, min(round(chunk_rows / rows_per_buyer), n_messages - written))
            shop, local = allocator.take(n_buyers, written)
            rng = np.random.default_rng([seed, 2, chunk_no])
            table = _scale_chunk(rng, world, cat, shop, local, window, weights, written + 1)
            if table.num_rows == 0:
                break  # cannot happen with sane inputs; guards against an endless loop
            generated_rows += table.num_rows
            generated_buyers += n_buyers
            table = _cut_at_buyer(table, n_messages - written)
            writer.write_table(table)
            written += table.num_rows
            chunk_no += 1
            # Self-correcting estimate keeps later shops sized right.
            rows_per_buyer = max(generated_rows / generated_buyers, 1.0)
            allocator.rows_per_buyer = rows_per_buyer
            if progress is not None:
                progress(written)
    return written


def _pilot_rows_per_buyer(
    world: _ScaleWorld,
    cat: _Catalogue,
    window: tuple[int, int],
    weights: np.ndarray,
    seed: int,
) -> float:
    """Estimate rows per buyer with a small simulation over weight-sampled shops."""
    rng = np.random.default_rng([seed, 3])
    n = 4000
    shop = np.sort(rng.choice(len(world.weight), size=n, p=world.weight / world.weight.sum()))
    plan = _plan_consults(rng, shop, np.arange(n), world.staff, window[0], weights)
    msgs, _ = _simulate(rng, plan, world.staff, cat)
    return max(len(_inside(msgs, window)) / n, 1.0)


# --------------------------------------------------------------------------------------------
# A day-partitioned canonical dataset
# --------------------------------------------------------------------------------------------

#: Share of the generated message rows made invalid, split evenly over ``INVALID_KINDS``.
INVALID_SHARE = 0.01
#: Share of the generated message rows written twice (an exact copy right after the row).
DUPLICATE_SHARE = 0.001
#: What is wrong with an invalid row, in turn: ``ts`` empty, ``sender`` outside the
#: vocabulary (:data:`INVALID_SENDER`), ``buyer_id`` empty.
INVALID_KINDS = ("ts", "sender", "buyer_id")
INVALID_SENDER = "robot?"
#: Shops per message when ``--shops`` is not given: about 1,000 per 10 M messages.
MESSAGES_PER_SHOP = 10_000

RATING_P = 0.12  # share of answered consultations the buyer rates
REPEAT_P = 0.03  # share of ratings the buyer changes within 24 h (a second rating, S3)
OWN_ACCOUNT_P = 0.002  # consultations opened by one of the shop's own accounts (R3)
TEST_ACCOUNT = "测试"  # the own account's nick: ``<shop_id>:测试``
MARKETING_P = 0.002  # marketing runs per consultation
RECIPIENTS = 20  # mean recipients of one run (1 + Poisson)
REFUSAL_P = 0.03  # median share of recipients who refuse messages after a run (F1, F2)
TIERS = ("gold", "silver", "none")
TIER_P = (0.15, 0.25, 0.6)

_MSG = ("shop", "buyer", "ts", "sender", "agent", "text")
_RATING = ("shop", "buyer", "agent", "score", "ts", "source")
_REFUSAL = ("shop", "buyer", "ts")
_Rows = dict[str, np.ndarray]

_SCALE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGbB]?)\s*")
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}


def parse_scale(text: str) -> int:
    """A row count written ``10M``, ``1.5M``, ``500k`` or ``2000000``.

    >>> parse_scale("10M"), parse_scale("250k"), parse_scale("1200")
    (10000000, 250000, 1200)
    """
    match = _SCALE.fullmatch(text)
    if not match or float(match[1]) <= 0:
        raise ValueError(f"--scale {text!r}: not a row count; write e.g. 1M, 10M, 100M or 50000")
    return round(float(match[1]) * _UNITS[match[2].lower()])


def default_shops(messages: int) -> int:
    """Shops of a dataset of ``messages`` rows when none is given: ~1,000 per 10 M."""
    return max(1, round(messages / MESSAGES_PER_SHOP))


@dataclass(frozen=True)
class _Dataset:
    """The fixed parts of a dataset: shops, agents, buyer pools, phrases."""

    world: _ScaleWorld
    cat: _Catalogue
    p_shop: np.ndarray  # probability that a consultation is with each shop
    pool: np.ndarray  # buyers per shop (local numbers 0..pool-1)
    tier: np.ndarray  # per shop, index into TIERS
    refusal_p: np.ndarray  # per shop, share of marketing recipients who refuse


def _dataset(seed: int, n_shops: int, consults: float) -> _Dataset:
    world = _scale_world(np.random.default_rng([seed, 0]), n_shops)
    p_shop = world.weight / world.weight.sum()
    # A buyer comes back now and then: about 1.5 consultations per buyer over the dataset.
    pool = np.maximum(np.rint(consults * p_shop / 1.5), 10).astype(np.int64)
    rng = np.random.default_rng([seed, 4])
    tier = rng.choice(len(TIERS), n_shops, p=TIER_P)
    refusal_p = np.minimum(REFUSAL_P * rng.lognormal(0.0, 0.6, n_shops), 0.5)
    return _Dataset(world, _catalogue(), p_shop, pool, tier, refusal_p)


def _consultations(rng: np.random.Generator, ds: _Dataset, day_start: int, n: int) -> _Plan:
    """``n`` consultations starting on one day, at most one per (shop, buyer).

    Buyer ``-1`` is the shop's own test account (listed in ``accounts``, excluded by R3).
    """
    shop = rng.choice(len(ds.p_shop), size=n, p=ds.p_shop)
    buyer = (rng.random(n) * ds.pool[shop]).astype(np.int64)
    buyer = np.where(rng.random(n) < OWN_ACCOUNT_P, -1, buyer)
    _, first = np.unique(shop * (int(ds.pool.max()) + 1) + buyer + 1, return_index=True)
    shop, buyer = shop[first], buyer[first]
    m = len(shop)
    return _Plan(
        shop=shop,
        buyer=buyer,
        start=day_start + _seconds_of_day(rng, m),
        n_rounds=rng.choice(4, size=m, p=[0.25, 0.3, 0.25, 0.2]) + 1,
        agent=_pick_agents(rng, shop, ds.world.staff, 0.3),
        proactive=rng.random(m) < 0.04,
    )


def _ratings(rng: np.random.Generator, ds: _Dataset, plan: _Plan, outcome: _Outcome) -> _Rows:
    """Ratings after answered consultations; a few buyers rate again within 24 h (S3)."""
    rated = (rng.random(len(plan)) < RATING_P) & (outcome.max_wait < NEVER) & (plan.buyer >= 0)
    idx = np.flatnonzero(rated)
    k = len(idx)
    source = rng.choice(len(RATING_SOURCES), size=k, p=[0.5, 0.3, 0.2])
    delay = np.stack(
        [rng.integers(30, 600, k), rng.integers(60, 10 * HOUR, k), rng.integers(5, 120, k)]
    )[source, np.arange(k)]
    ts = outcome.end[idx] + delay
    slow = ds.world.staff.agent_median[plan.agent[idx]] > 60
    score = _scores(rng, outcome.max_wait[idx], slow)
    again = np.flatnonzero(rng.random(k) < REPEAT_P)
    both = np.r_[idx, idx[again]]
    return {
        "shop": plan.shop[both],
        "buyer": plan.buyer[both],
        "agent": plan.agent[both],
        "score": np.r_[score, rng.integers(1, 6, len(again))].astype(np.int64),
        "ts": np.r_[ts, ts[again] + rng.integers(HOUR, 20 * HOUR, len(again))],
        "source": np.r_[source, np.ones(len(again), np.int64)],
    }


def _marketing(
    rng: np.random.Generator, ds: _Dataset, day_start: int, n_consults: int
) -> tuple[_Msgs, _Rows]:
    """Marketing runs: 5-7 agent messages to each of ~20 buyers, so each recipient is asked
    whether to refuse messages (F1); a shop's share of them refuse (F2)."""
    staff = ds.world.staff
    runs = int(rng.poisson(MARKETING_P * n_consults))
    run_shop = rng.choice(len(ds.p_shop), size=runs, p=ds.p_shop)
    run_agent = staff.group_offset[run_shop, 0] + (
        rng.random(runs) * staff.group_count[run_shop, 0]
    ).astype(np.int64)
    run_start = day_start + rng.integers(10 * HOUR, 20 * HOUR, runs)
    per_run = 1 + rng.poisson(RECIPIENTS - 1, runs)
    run = np.repeat(np.arange(runs), per_run)
    shop = run_shop[run]
    buyer = (rng.random(len(run)) * ds.pool[shop]).astype(np.int64)
    first_ts = run_start[run] + rng.integers(0, 600, len(run))
    n_msg = rng.integers(5, 8, len(run))
    owner = np.repeat(np.arange(len(run)), n_msg)
    step = rng.integers(3, 30, len(owner))
    cum = np.cumsum(step)
    starts = np.cumsum(n_msg) - n_msg
    offset = cum - np.repeat(cum[starts] - step[starts], n_msg)
    msgs = _Msgs(
        shop=shop[owner],
        buyer=buyer[owner],
        ts=first_ts[owner] + offset,
        sender=np.full(len(owner), AGENT, np.int8),
        agent=run_agent[run][owner],
        text=ds.cat.pick(rng, "marketing", len(owner)),
    )
    refuse = np.flatnonzero(rng.random(len(run)) < ds.refusal_p[shop])
    last = first_ts + offset[np.cumsum(n_msg) - 1]
    refusals = {
        "shop": shop[refuse],
        "buyer": buyer[refuse],
        "ts": last[refuse] + rng.integers(30, 1800, len(refuse)),
    }
    return msgs, refusals


def _day_events(
    rng: np.random.Generator, ds: _Dataset, day_start: int, n_consults: int
) -> tuple[_Rows, _Rows, _Rows, int]:
    """Messages, ratings and refusals of the consultations starting on one day.

    Rows may land on the day before (an agent-opened chat) or after (a late answer, a
    rating); the caller files them by day. Returns them and the consultation count.
    """
    plan = _consultations(rng, ds, day_start, n_consults)
    msgs, outcome = _simulate(rng, plan, ds.world.staff, ds.cat)
    ratings = _ratings(rng, ds, plan, outcome)
    promo, refusals = _marketing(rng, ds, day_start, len(plan))
    both = _Msgs.concat([msgs, promo])
    return {f: getattr(both, f) for f in _MSG}, ratings, refusals, len(plan)


class _Pending:
    """Rows not yet written, filed by local day (0 = the dataset's first day)."""

    def __init__(self, origin: int, days: int) -> None:
        self.origin, self.days = origin, days
        self.parts: dict[int, list[_Rows]] = {}

    def add(self, rows: _Rows) -> None:
        """File rows by day; rows before the first or after the last day are dropped."""
        day = (rows["ts"] - self.origin) // DAY
        order = np.argsort(day, kind="stable")
        for part in np.split(order, np.flatnonzero(np.diff(day[order])) + 1):
            d = int(day[part[0]]) if len(part) else -1
            if 0 <= d < self.days:
                self.parts.setdefault(d, []).append({k: v[part] for k, v in rows.items()})

    def pop(self, day: int, columns: tuple[str, ...]) -> _Rows:
        """The rows of ``day`` in time order; equal times keep the order they were made in."""
        parts = self.parts.pop(day, [])
        rows = {
            c: np.concatenate([p[c] for p in parts]) if parts else np.zeros(0, np.int64)
            for c in columns
        }
        order = np.argsort(rows["ts"], kind="stable")
        return {c: v[order] for c, v in rows.items()}


@dataclass
class _Tally:
    """Running counts that make the invalid and duplicate shares exact over the dataset."""

    generated: int = 0  # message rows simulated (before copies)
    invalid: int = 0
    duplicates: int = 0
    written: int = 0  # message rows written (copies included)

    def due(self, share: float, done: int) -> int:
        return round(share * self.generated) - done


def _buyer_ids(ds: _Dataset, shop: np.ndarray, buyer: np.ndarray) -> pa.Array:
    """``tb`` + a 9-digit number; buyer ``-1`` is the shop's own test account."""
    regular = _strings("tb", np.maximum(buyer, 0), 9)
    own = pc.binary_join_element_wise(ds.world.shop_ids.take(pa.array(shop)), TEST_ACCOUNT, ":")
    return pc.if_else(pa.array(buyer < 0), own, regular)


def _message_slice(
    ds: _Dataset, rows: _Rows, idx: np.ndarray, bad: np.ndarray, first_id: int
) -> pa.Table:
    """Canonical message rows ``idx`` of a day; ``bad`` is each row's invalid kind or -1.

    ``msg_id`` and ``seq`` follow the row's place in the day (a copy repeats both); system
    messages carry no ``seq`` (a platform card has no place in the chat's numbering, T3).
    """
    shop, buyer, sender = rows["shop"][idx], rows["buyer"][idx], rows["sender"][idx]
    kind = bad[idx]
    senders = pa.array(SENDERS, pa.string()).take(pa.array(sender))
    columns = {
        "shop_id": ds.world.shop_ids.take(pa.array(shop)),
        "buyer_id": pc.if_else(
            pa.array(kind == 2), pa.scalar(None, pa.string()), _buyer_ids(ds, shop, buyer)
        ),
        "agent_id": _nullable_take(ds.world.agent_ids, rows["agent"][idx]),
        "sender": pc.if_else(pa.array(kind == 1), INVALID_SENDER, senders),
        "ts": pa.array(rows["ts"][idx], pa.int64(), mask=kind == 0).cast(pa.timestamp("s")),
        "text": ds.cat.phrases.take(pa.array(rows["text"][idx])),
        "msg_id": _strings("M", first_id + idx, 12),
        "seq": pa.array(idx + 1, pa.int64(), mask=sender == SYSTEM),
    }
    return pa.table(columns, schema=arrow_schema("messages"))


def _write_messages(
    rng: np.random.Generator,
    ds: _Dataset,
    rows: _Rows,
    path: Path,
    tally: _Tally,
    chunk_rows: int,
) -> None:
    """One day of messages: some rows made invalid, some written twice, in slices."""
    n = len(rows["ts"])
    first_id = tally.generated + 1
    tally.generated += n
    bad = np.full(n, -1, np.int64)
    k_bad = min(tally.due(INVALID_SHARE, tally.invalid), n)
    picked = rng.choice(n, size=k_bad, replace=False)
    bad[picked] = (tally.invalid + np.arange(k_bad)) % len(INVALID_KINDS)
    tally.invalid += k_bad
    valid = np.flatnonzero(bad < 0)
    k_dup = min(tally.due(DUPLICATE_SHARE, tally.duplicates), len(valid))
    copies = rng.choice(valid, size=k_dup, replace=False)
    tally.duplicates += k_dup
    order = np.sort(np.r_[np.arange(n), copies])  # a copy right after its row
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema("messages")
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, max(len(order), 1), chunk_rows):
            piece = order[start : start + chunk_rows]
            writer.write_table(_message_slice(ds, rows, piece, bad, first_id), chunk_rows)
    tally.written += len(order)


def _write_small(ds: _Dataset, table: str, rows: _Rows, path: Path) -> int:
    """One day of ratings or refusals."""
    shop = rows["shop"]
    columns = {
        "shop_id": ds.world.shop_ids.take(pa.array(shop)),
        "buyer_id": _buyer_ids(ds, shop, rows["buyer"]),
        "ts": _timestamps(rows["ts"]),
    }
    if table == "ratings":
        columns["agent_id"] = ds.world.agent_ids.take(pa.array(rows["agent"]))
        columns["score"] = pa.array(rows["score"], pa.int32())
        columns["source"] = pa.array(RATING_SOURCES, pa.string()).take(pa.array(rows["source"]))
    schema = arrow_schema(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({f.name: columns[f.name] for f in schema}, schema=schema), path)
    return len(shop)


def _write_single_files(ds: _Dataset, out: Path) -> dict[str, int]:
    """``shops``, ``agents`` and ``accounts`` (main account, agents, test account)."""
    world, staff = ds.world, ds.world.staff
    n_shops = len(ds.p_shop)
    n_agents = len(world.agent_ids)
    shop_of_agent = np.repeat(np.arange(n_shops), staff.group_count.sum(axis=1))
    group = (np.arange(n_agents) >= staff.group_offset[shop_of_agent, 1]).astype(np.int64)
    names = pc.utf8_slice_codeunits(world.agent_ids, len(world.shop_ids[0].as_py()) + 1)
    tables = {
        "shops": {
            "shop_id": world.shop_ids,
            "industry": pa.array(INDUSTRIES, pa.string()).take(pa.array(staff.industry)),
            "tier": pa.array(TIERS, pa.string()).take(pa.array(ds.tier)),
        },
        "agents": {
            "agent_id": world.agent_ids,
            "shop_id": world.shop_ids.take(pa.array(shop_of_agent)),
            "name": names,
            "agent_group": pa.array(GROUPS, pa.string()).take(pa.array(group)),
        },
        "accounts": {
            "shop_id": pa.concat_arrays(
                [world.shop_ids, world.shop_ids.take(pa.array(shop_of_agent)), world.shop_ids]
            ),
            "account": pa.concat_arrays(
                [
                    world.shop_ids,
                    world.agent_ids,
                    _buyer_ids(ds, np.arange(n_shops), np.full(n_shops, -1)),
                ]
            ),
        },
    }
    counts = {}
    for name, columns in tables.items():
        schema = arrow_schema(name)
        pq.write_table(pa.table(columns, schema=schema), out / f"{name}.parquet")
        counts[name] = len(columns["shop_id"])
    return counts


def write_dataset(
    out: Path,
    messages: int,
    shops: int,
    as_of: date,
    *,
    days: int = 30,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = 500_000,
) -> dict[str, int]:
    """Write about ``messages`` message rows of ``shops`` shops over the ``days`` days before
    ``as_of`` (exclusive) as a canonical day-partitioned dataset under ``out``.

    Layout: ``messages/day=YYYY-MM-DD/part-0.parquet``, ``ratings/day=…/part-0.parquet`` and
    ``refusals/day=…/part-0.parquet`` (one file per local day of ``ts``, every day written,
    rows in time order as an export is, not in stream order), plus ``shops.parquet``,
    ``agents.parquet`` and ``accounts.parquet``; canonical column names and Arrow types
    (``kefu.io.schema.arrow_schema``; naive local ``timestamp[s]``, stored as milliseconds).

    Content: the simulator of :mod:`kefu.demo.generator` (bot welcomes, system cards,
    agent-opened chats, late answers, equal timestamps), marketing runs followed by some
    refusal clicks, ratings (a few buyers rate again within 24 h), and chats opened by a
    shop's own test account ``<shop_id>:测试``, which ``accounts`` lists with the shop's main
    account (``shop_id``) and its agents. ``msg_id`` is ``M`` + 12 digits, unique but for the
    copies below; ``seq`` numbers the rows of a day file from 1 and is empty on system rows.

    Bad input, exactly (the numbers returned):

    * ``invalid`` = ``round(0.01 * g)`` rows, ``g`` the generated rows (``messages`` minus
      ``duplicates``), chosen at random; the ``i``-th of them (0-based, in dataset order of
      choice) has ``ts`` empty (``i % 3 == 0``), ``sender`` = ``"robot?"``, which is outside
      the sender vocabulary (``i % 3 == 1``), or ``buyer_id`` empty (``i % 3 == 2``); counts
      ``invalid_ts``, ``invalid_sender``, ``invalid_buyer_id``. Only that field is changed: such
      a row stays in its day's file at its place, its ``msg_id`` unique. Every other row is
      valid. A loader quarantines exactly these rows.
    * ``duplicates`` = ``round(0.001 * g)`` valid rows written twice, the copy right after the
      row in the same file and identical in every column (``msg_id`` and ``seq`` included).
      A loader keeps the first and counts the copy.

    So kefu's reconciliation over every partition reads ``messages`` rows = accepted
    ``messages - invalid - duplicates`` + quarantined ``invalid`` + duplicates
    ``duplicates``. Ratings, refusals, shops, agents and accounts have no bad rows.

    Memory: a day is generated, filed and written at a time (the rows that spill into the
    next day wait for it), and Arrow holds at most ``chunk_rows`` rows at once; so memory
    is bounded by a day's volume, not the total. ``progress`` gets the message rows written
    so far after each day. Deterministic for a ``seed``. Returns rows written per table
    plus the counts above.
    """
    if messages < 1 or shops < 1 or days < 1:
        raise ValueError("messages, shops and days must be at least 1")
    out = Path(out)
    origin = (as_of - date(1970, 1, 1)).days * DAY - days * DAY
    weights = _day_weights(np.random.default_rng([seed, 1]), as_of - timedelta(days), days)
    per_consult = _pilot_rows_per_consult(seed, shops)
    ds = _dataset(seed, shops, messages / per_consult)
    pending = {t: _Pending(origin, days) for t in ("messages", "ratings", "refusals")}
    tally, consults = _Tally(), 0
    counts = {"ratings": 0, "refusals": 0}
    made = 0  # message rows simulated so far, any day

    def flush(day: int) -> None:
        name = f"day={as_of - timedelta(days - day)}"
        rng = np.random.default_rng([seed, 6, day])
        rows = pending["messages"].pop(day, _MSG)
        _write_messages(
            rng, ds, rows, out / "messages" / name / "part-0.parquet", tally, chunk_rows
        )
        for table, cols in (("ratings", _RATING), ("refusals", _REFUSAL)):
            day_rows = pending[table].pop(day, cols)
            counts[table] += _write_small(
                ds, table, day_rows, out / table / name / "part-0.parquet"
            )
        if progress is not None:
            progress(tally.written)

    for day in range(days):
        share = weights[day] / weights[day:].sum()
        n = max(1, round(max(messages - made, 0) * share / per_consult))
        rng = np.random.default_rng([seed, 5, day])
        msgs, ratings, refusals, planned = _day_events(rng, ds, origin + day * DAY, n)
        consults += planned
        made += len(msgs["ts"])
        per_consult = max(made / consults, 1.0)  # self-correcting for the days left
        for table, rows in (("messages", msgs), ("ratings", ratings), ("refusals", refusals)):
            pending[table].add(rows)
        if day:
            flush(day - 1)
    flush(days - 1)
    counts.update(_write_single_files(ds, out))
    invalid = {f"invalid_{k}": (tally.invalid + 2 - i) // 3 for i, k in enumerate(INVALID_KINDS)}
    return {
        "messages": tally.written,
        **counts,
        "invalid": tally.invalid,
        "duplicates": tally.duplicates,
        **invalid,
    }


def _pilot_rows_per_consult(seed: int, shops: int) -> float:
    """Message rows per consultation, from a small simulation (corrected day by day)."""
    ds = _dataset(seed, shops, 10_000.0)
    msgs, _, _, planned = _day_events(np.random.default_rng([seed, 3]), ds, 0, 4000)
    return max(len(msgs["ts"]) / max(planned, 1), 1.0)
