"""The rounds figures as one Polars lazy query, at shop and agent level, for comparison with kefu.

The same rules and input checks as ``impl_pandas`` (see there, and ``kefu.metrics.rounds``
for the reference): ``pl.scan_parquet`` over the dataset's files, the checks kefu's loader
applies, one sort of every stream (T3), shifted comparisons that find each round's first
and last buyer message and its answer, and two group-bys collected together
(``pl.collect_all``), so the plan up to the rounds is shared.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from benchmarks.rules import AGENT, BUYER, COLUMNS, MS_PER_DAY, RoundRules, message_files


def account_id(name: str, rules: RoundRules) -> pl.Expr:
    """An account id as kefu's loader makes it: trimmed, blank -> null, site prefix removed."""
    text = pl.col(name).str.strip_chars(rules.trimmed)
    for prefix in rules.prefixes:
        pattern = "(?is)^" + prefix + "."
        text = pl.when(text.str.contains(pattern)).then(text.str.slice(len(prefix))).otherwise(text)
    return pl.when(text == "").then(None).otherwise(text).alias(name)


def in_clock(sod: pl.Expr, window: tuple[int, int]) -> pl.Expr:
    """R5 / P2: seconds of day in ``[start, end)``; wraps past midnight."""
    start, end = window
    if start == 0 and end == 86_400:
        return pl.lit(True)
    if start <= end:
        return (sod >= start) & (sod < end)
    return (sod >= start) | (sod < end)


def streams(folder: Path, rules: RoundRules) -> pl.LazyFrame:
    """The checked, deduplicated buyer and agent messages of assessed streams, in T3 order."""
    files = [str(f) for f in message_files(folder)]
    lf = pl.scan_parquet(files, hive_partitioning=False).select(COLUMNS).with_row_index("row")
    sender = (
        pl.col("sender")
        .str.strip_chars(" ")
        .str.to_lowercase()
        .replace_strict(rules.senders, default=None, return_dtype=pl.Int8)
    )
    ms = pl.col("ts").dt.epoch("ms")
    lf = lf.with_columns(
        account_id("shop_id", rules),
        account_id("buyer_id", rules),
        account_id("agent_id", rules),
        sender.alias("sender"),
        ms.alias("ms"),
    ).filter(
        pl.col("shop_id").is_not_null()
        & pl.col("buyer_id").is_not_null()
        & pl.col("sender").is_not_null()
        & pl.col("ts").is_not_null()
    )
    # kefu's duplicates: a later copy (file order) of a valid row's (shop_id, msg_id).
    unkeyed = pl.col("msg_id").is_null() | (pl.col("msg_id") == "")
    lf = lf.filter(unkeyed | pl.struct("shop_id", "msg_id").is_first_distinct())
    lf = lf.filter(
        (pl.col("ms") >= rules.history_start_ms)
        & (pl.col("ms") < rules.history_end_ms)
        & pl.col("sender").is_in([BUYER, AGENT])
    )
    accounts = folder / "accounts.parquet"
    if accounts.exists():
        own = (
            pl.scan_parquet(accounts)
            .select(account_id("shop_id", rules), account_id("account", rules))
            .drop_nulls()
            .unique()
        )
        keys = {"left_on": ["shop_id", "buyer_id"], "right_on": ["shop_id", "account"]}
        lf = lf.join(own, how="anti", **keys)
    return lf.sort(["shop_id", "buyer_id", "ms", "seq", "row"], nulls_last=False)


def rounds(lf: pl.LazyFrame, rules: RoundRules) -> pl.LazyFrame:
    """One row per round (R4 with R6), with the flags the figures read."""
    split = pl.lit(rules.same_day)
    shop, buyer, snd = pl.col("shop_id"), pl.col("buyer_id"), pl.col("sender")
    day = pl.col("ms") // MS_PER_DAY
    new = ((shop != shop.shift(1)) | (buyer != buyer.shift(1))).fill_null(True)
    lf = lf.with_columns(new=new, day=day)
    is_buyer = snd == BUYER
    next_same = ~pl.col("new").shift(-1).fill_null(True)
    lf = lf.with_columns(
        start=is_buyer
        & (
            pl.col("new")
            | (snd.shift(1) == AGENT).fill_null(False)
            | (split & (pl.col("day") != pl.col("day").shift(1)).fill_null(True))
        ),
        next_agent=next_same & (snd.shift(-1) == AGENT).fill_null(False),
        next_day=(pl.col("day").shift(-1) != pl.col("day")).fill_null(True),
        next_same=next_same,
    )
    lf = lf.with_columns(
        end=is_buyer & (~pl.col("next_same") | pl.col("next_agent") | (split & pl.col("next_day"))),
        answer_ms=pl.when(pl.col("next_agent")).then(pl.col("ms").shift(-1)),
        answer_agent=pl.when(pl.col("next_agent")).then(pl.col("agent_id").shift(-1)),
    )
    # Keep each round's first and last buyer message: a first one that is not also the last
    # is followed by its last one, which holds the answer.
    lf = lf.filter(pl.col("start") | pl.col("end")).with_columns(
        answer_ms=pl.when(pl.col("end"))
        .then(pl.col("answer_ms"))
        .otherwise(pl.col("answer_ms").shift(-1)),
        answer_agent=pl.when(pl.col("end"))
        .then(pl.col("answer_agent"))
        .otherwise(pl.col("answer_agent").shift(-1)),
    )
    # One row per round now. P3: the first round of a stream on a local day.
    lf = lf.filter(pl.col("start"))
    first = new | (pl.col("day") != pl.col("day").shift(1)).fill_null(True)
    lf = lf.with_columns(first=first)
    wait = (pl.col("answer_ms") - pl.col("ms")) / 1000.0
    sod = (pl.col("ms") % MS_PER_DAY) // 1000
    in_window = (pl.col("ms") >= rules.window_start_ms) & (pl.col("ms") < rules.window_end_ms)
    answered = pl.col("answer_ms").is_not_null()
    next_day_answer = (pl.col("answer_ms") // MS_PER_DAY) != pl.col("day")
    counted = in_window & in_clock(sod, rules.rate_hours)
    on_time = answered & (wait <= rules.limit_s) & ~(split & next_day_answer)
    averaged = in_window & in_clock(sod, rules.time_hours) & answered & (wait <= rules.cap_s)
    return lf.select(
        "shop_id",
        pl.coalesce("answer_agent", "agent_id").alias("agent_id"),  # P1
        counted.alias("counted"),
        (counted & on_time.fill_null(False)).alias("responded"),
        pl.when(averaged).then(wait).alias("avg_wait"),
        pl.when(averaged & pl.col("first")).then(wait).alias("first_wait"),
    )


def figures(lf: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """R7's rate, P4's and P3's means per group of ``by``."""
    rounds_n = pl.col("counted").sum()
    responded = pl.col("responded").sum()
    return lf.group_by(by).agg(
        rounds=rounds_n,
        rounds_responded=responded,
        response_rate=pl.when(rounds_n > 0).then(responded / rounds_n),
        response_s=pl.col("avg_wait").mean(),
        first_response_s=pl.col("first_wait").mean(),
    )


def assess(folder: Path, rules: RoundRules) -> dict[str, pl.DataFrame]:
    """Shop and agent figures of the dataset in ``folder``: ``{"shop": …, "agent": …}``."""
    r = rounds(streams(folder, rules), rules)
    shop, agent = pl.collect_all([figures(r, ["shop_id"]), figures(r, ["shop_id", "agent_id"])])
    return {"shop": shop, "agent": agent}
