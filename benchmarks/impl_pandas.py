"""The rounds figures in vectorised pandas, at shop and agent level, for comparison with kefu.

The same rules as ``kefu.metrics.rounds`` (the reference) and the same input checks as
``kefu.io.load``, written the way a pandas user would: read the files, drop what kefu
quarantines or counts as a duplicate, sort each stream once (T3), then shifted comparisons
instead of any per-group Python.

- Input checks: a row without ``shop_id``, ``buyer_id`` or ``ts``, or whose sender is not in
  kefu's vocabulary, is dropped (kefu quarantines it); of valid rows sharing
  ``(shop_id, msg_id)`` only the first in file order is kept (kefu: a duplicate). Account ids
  are trimmed and lose a site prefix as the loader does (on the distinct values, so it is
  cheap); ``msg_id`` is compared as stored, blank meaning none.
- T2 (decided): only messages in ``[history_start, history_end)`` are read into streams.
- R2: bot and system messages are left out before rounds are formed (they never answer or
  split one). R3: streams whose buyer is one of the shop's accounts are left out.
- R4 with R6: a run of buyer messages, cut at each local midnight, gives a round per day;
  the first agent message after the run answers its last round.
- R5/R6/P2/P3 as in ``RoundRules``; P1: a round belongs to the agent who answered it, else to
  the agent its first buyer message was addressed to, else to none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.rules import AGENT, BUYER, COLUMNS, MS_PER_DAY, RoundRules, in_clock, message_files


def read_messages(files: list[Path]) -> pd.DataFrame:
    """Every file's message columns, one frame; the index is T3's file order."""
    frames = [pd.read_parquet(f, columns=COLUMNS) for f in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def account_codes(values: pd.Series, rules: RoundRules) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, -1 for none; the canonical id of each code) of an account column."""
    codes, uniques = pd.factorize(values)
    canonical = pd.Series([rules.account_id(u) for u in uniques], dtype=object)
    merged, names = pd.factorize(canonical)  # two raw spellings of one id share a code
    table = np.append(merged, -1)  # a missing raw value (code -1) stays -1
    return table[codes], np.asarray(names, dtype=object)


def sender_codes(values: pd.Series, rules: RoundRules) -> np.ndarray:
    """R2's vocabulary applied to the distinct sender values; -1 where kefu quarantines."""
    codes, uniques = pd.factorize(values)
    table = np.array([rules.sender(u) for u in uniques] + [-1], dtype=np.int8)
    return table[codes]


def own_streams(
    folder: Path, rules: RoundRules, shops: np.ndarray, buyers: np.ndarray
) -> set[tuple[int, int]]:
    """R3: (shop code, buyer code) pairs where the buyer is one of the shop's accounts."""
    path = folder / "accounts.parquet"
    if not path.exists():
        return set()
    accounts = pd.read_parquet(path, columns=["shop_id", "account"])
    shop_no = {name: i for i, name in enumerate(shops)}
    buyer_no = {name: i for i, name in enumerate(buyers)}
    pairs = set()
    for shop, account in zip(accounts["shop_id"], accounts["account"], strict=True):
        s, a = rules.account_id(shop), rules.account_id(account)
        if s in shop_no and a in buyer_no:
            pairs.add((shop_no[s], buyer_no[a]))
    return pairs


def stream_rows(folder: Path, rules: RoundRules) -> dict[str, Any]:
    """The buyer and agent messages of the assessed streams, sorted by T3 (arrays by name)."""
    df = read_messages(message_files(folder))
    shop, shop_names = account_codes(df["shop_id"], rules)
    buyer, buyer_names = account_codes(df["buyer_id"], rules)
    agent, agent_names = account_codes(df["agent_id"], rules)
    sender = sender_codes(df["sender"], rules)
    ts_ok = df["ts"].notna().to_numpy()
    ts = df["ts"].to_numpy("datetime64[ms]").view(np.int64)
    valid = (shop >= 0) & (buyer >= 0) & (sender >= 0) & ts_ok

    # Duplicates among valid rows: a later copy of (shop_id, msg_id) in file order.
    msg = df["msg_id"]
    keyed = valid & msg.notna().to_numpy() & (msg != "").to_numpy()
    keys = pd.DataFrame({"shop": shop[keyed], "msg": msg.to_numpy()[keyed]})
    duplicate = np.zeros(len(df), bool)
    duplicate[np.flatnonzero(keyed)[keys.duplicated().to_numpy()]] = True

    n_buyers = len(buyer_names)
    stream = shop.astype(np.int64) * n_buyers + buyer
    own = [s * n_buyers + b for s, b in own_streams(folder, rules, shop_names, buyer_names)]
    keep = (
        valid
        & ~duplicate
        & (ts >= rules.history_start_ms)
        & (ts < rules.history_end_ms)
        & ((sender == BUYER) | (sender == AGENT))
        & ~np.isin(stream, own)
    )
    rows = pd.DataFrame(
        {
            "stream": stream[keep],
            "ts": ts[keep],
            "seq": df["seq"].to_numpy()[keep],
            "row": np.flatnonzero(keep),
        }
    )
    del df
    # T3: ts, then seq with a row without one first, then file order.
    order = rows.sort_values(["stream", "ts", "seq", "row"], na_position="first").index.to_numpy()
    picked = rows["row"].to_numpy()[order]
    return {
        "stream": rows["stream"].to_numpy()[order],
        "ts": rows["ts"].to_numpy()[order],
        "sender": sender[picked],
        "agent": agent[picked],
        "shop": shop[picked],
        "shop_names": shop_names,
        "agent_names": agent_names,
    }


def rounds_table(s: dict[str, Any], rules: RoundRules) -> pd.DataFrame:
    """One row per round with the flags the figures read (``kefu.metrics.rounds.rounds``)."""
    stream, ts, sender, agent = s["stream"], s["ts"], s["sender"], s["agent"]
    n = len(ts)
    if n == 0:
        return pd.DataFrame(columns=["shop", "agent", "counted", "responded", "wait", "first"])
    day = ts // MS_PER_DAY
    split = rules.same_day
    new = np.r_[True, stream[1:] != stream[:-1]]
    buyer = sender == BUYER
    after_agent = np.r_[False, sender[:-1] == AGENT] & ~new
    day_changed = np.r_[True, day[1:] != day[:-1]]
    start = buyer & (new | after_agent | (split & day_changed))
    next_same = np.r_[~new[1:], False]
    next_agent = next_same & np.r_[sender[1:] == AGENT, False]
    next_day = np.r_[day[1:] != day[:-1], True]
    end = buyer & (~next_same | next_agent | (split & next_day))

    first_rows, last_rows = np.flatnonzero(start), np.flatnonzero(end)
    answered = next_agent[last_rows]
    answer_row = np.minimum(last_rows + 1, n - 1)
    start_ts = ts[first_rows]
    answer_ts = ts[answer_row]
    wait = np.where(answered, (answer_ts - start_ts) / 1000.0, np.nan)
    answer_agent = np.where(answered, agent[answer_row], -1)
    owner = np.where(answer_agent >= 0, answer_agent, agent[first_rows])  # P1

    part_stream, part_day = stream[first_rows], day[first_rows]
    first = np.r_[True, (part_stream[1:] != part_stream[:-1]) | (part_day[1:] != part_day[:-1])]
    sod = (start_ts % MS_PER_DAY) // 1000
    in_window = (start_ts >= rules.window_start_ms) & (start_ts < rules.window_end_ms)
    counted = in_window & in_clock(sod, rules.rate_hours)
    next_day_answer = answered & (answer_ts // MS_PER_DAY != part_day)
    with np.errstate(invalid="ignore"):
        on_time = answered & (wait <= rules.limit_s) & ~(rules.same_day & next_day_answer)
        averaged = in_window & in_clock(sod, rules.time_hours) & answered & (wait <= rules.cap_s)
    return pd.DataFrame(
        {
            "shop": s["shop"][first_rows],
            "agent": owner,
            "counted": counted,
            "responded": counted & on_time,
            "avg_wait": np.where(averaged, wait, np.nan),
            "first_wait": np.where(averaged & first, wait, np.nan),
        }
    )


def figures(rounds: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """R7's rate, P4's and P3's means per group of ``by``."""
    out = rounds.groupby(by, sort=False, dropna=False).agg(
        rounds=("counted", "sum"),
        rounds_responded=("responded", "sum"),
        response_s=("avg_wait", "mean"),
        first_response_s=("first_wait", "mean"),
    )
    out["response_rate"] = out["rounds_responded"] / out["rounds"].where(out["rounds"] > 0)
    return out.reset_index()


def assess(folder: Path, rules: RoundRules) -> dict[str, pd.DataFrame]:
    """Shop and agent figures of the dataset in ``folder``: ``{"shop": …, "agent": …}``."""
    s = stream_rows(folder, rules)
    rounds = rounds_table(s, rules)
    shops, agents = s["shop_names"], s["agent_names"]
    shop = figures(rounds, ["shop"])
    shop.insert(0, "shop_id", shops[shop.pop("shop").to_numpy()])
    agent = figures(rounds, ["shop", "agent"])
    codes = agent.pop("agent").to_numpy()
    agent.insert(0, "agent_id", np.where(codes >= 0, agents[np.maximum(codes, 0)], None))
    agent.insert(0, "shop_id", shops[agent.pop("shop").to_numpy()])
    return {"shop": shop, "agent": agent}
