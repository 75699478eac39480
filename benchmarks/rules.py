"""The numbers and vocabularies the pandas and Polars implementations apply, from kefu's profile.

The reference semantics are kefu's SQL (``kefu.metrics.rounds``) and loader
(``kefu.io.load``); this module only resolves the same parameters, so the implementations
cannot drift from the profile: the window and the read horizon (T2), the clock windows (R5,
P2), the limit and the cap (R6, P2), and the sender words (R2) and id clean-up the loader uses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Sender codes the implementations use: buyer and agent messages are the ones rounds read.
BUYER, AGENT, BOT, SYSTEM = 0, 1, 2, 3
SENDER_CODE = {"buyer": BUYER, "agent": AGENT, "bot": BOT, "system": SYSTEM}
MS_PER_DAY = 86_400_000
#: The message columns the implementations read.
COLUMNS = ["shop_id", "buyer_id", "agent_id", "sender", "ts", "seq", "msg_id"]


@dataclass(frozen=True)
class RoundRules:
    """The rounds rules of one profile and assessment date, as plain numbers.

    Times are naive local milliseconds since 1970-01-01 (T1: the benchmark's Parquet holds
    naive local timestamps, which kefu reads as they are).
    """

    window_start_ms: int  # T2
    window_end_ms: int  # T2
    history_start_ms: int  # T2 (decided): earlier messages are not read
    history_end_ms: int  # T2 (decided): messages at or after it are not read
    rate_hours: tuple[int, int]  # R5, seconds of day [start, end)
    time_hours: tuple[int, int]  # P2's response_time_window
    limit_s: int  # R6
    cap_s: int  # P2
    same_day: bool  # R6 reply_same_day; also splits a round at midnight (R4 with R6)
    senders: dict[str, int]  # lower-cased sender word -> code (R2's vocabulary)
    trimmed: str  # characters trimmed from account ids (the loader's TRIMMED plus space)
    prefixes: tuple[str, ...]  # site prefixes removed from account ids (cntaobao…)

    @classmethod
    def of(cls, as_of: dt.date, profile: str = "taobao") -> RoundRules:
        """The rules kefu applies for ``profile`` over the 30 days before ``as_of``."""
        from kefu.io.load import TRIMMED, sender_words
        from kefu.io.schema import ACCOUNT_PREFIXES
        from kefu.metrics.params import Params
        from kefu.rules.profile import load_profile

        p = Params(load_profile(profile), as_of)
        if p["consultation_split"] != "day":
            raise ValueError("the benchmark implements P3's consultation as one local day only")

        def ms(value: dt.datetime) -> int:
            return int((value - dt.datetime(1970, 1, 1)).total_seconds() * 1000)

        return cls(
            window_start_ms=ms(p.window_start),
            window_end_ms=ms(p.window_end),
            history_start_ms=ms(p.history_start),
            history_end_ms=ms(p.history_end),
            rate_hours=p.clock_window("response_window"),
            time_hours=p.clock_window("response_time_window"),
            limit_s=int(p["response_limit_s"]),  # type: ignore[call-overload]
            cap_s=int(p["response_time_cap_s"]),  # type: ignore[call-overload]
            same_day=bool(p["reply_same_day"]),
            senders={k: SENDER_CODE[v] for k, v in sender_words("sender").items()},
            trimmed=" " + TRIMMED,
            prefixes=tuple(ACCOUNT_PREFIXES),
        )

    def to_json(self) -> str:
        """The rules as JSON, so a worker needs no kefu import (its start-up is measured)."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> RoundRules:
        values = json.loads(text)
        for key in ("rate_hours", "time_hours", "prefixes"):
            values[key] = tuple(values[key])
        return cls(**values)

    def account_id(self, value: object) -> str | None:
        """An account id as the loader makes it: trimmed, blank -> None, site prefix removed."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        text = str(value).strip(self.trimmed)
        if not text:
            return None
        for prefix in self.prefixes:
            if len(text) > len(prefix) and text.lower().startswith(prefix.lower()):
                return text[len(prefix) :]
        return text

    def sender(self, value: object) -> int:
        """R2's vocabulary: the code of a sender word, -1 for one kefu quarantines."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return -1
        return self.senders.get(str(value).strip(" ").lower(), -1)


def in_clock(sod: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    """R5 / P2: the seconds of day ``sod`` fall in ``[start, end)``; wraps past midnight."""
    start, end = window
    if start == 0 and end == 86_400:
        return np.ones(len(sod), bool)
    if start <= end:
        return (sod >= start) & (sod < end)
    return (sod >= start) | (sod < end)


def message_files(folder: Path) -> list[Path]:
    """The messages files of a dataset folder in the order kefu numbers them (T3's file order).

    ``messages.parquet`` or the Parquet files under ``messages/`` (day partitions included),
    sorted by path, as kefu's discovery lists them.
    """
    single = folder / "messages.parquet"
    if single.exists():
        return [single]
    return sorted((folder / "messages").rglob("*.parquet"))
