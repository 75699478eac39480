"""Rounds as they happen: ``sql/rounds.sql`` (R4–R6, P1–P3) one message at a time.

The batch definition forms rounds from a sorted stream with running counts
(``stream_counts.sql``): buyer messages sharing ``k`` (the agent messages before them) are
a round, the agent message with that ``k`` answers it; bots and system messages (R2) never
raise ``k``; with R6's same-day rule a round also ends at midnight. Here each stream keeps
only what a next message can still change: the current ``k`` group's rounds, the latest
bot message, the consultation (P3). A round leaves memory when the agent message that
closes its group arrives, as a finished row (:meth:`StreamRounds.add` returns it), so
memory grows with open streams, not with history.

Rows have the columns and meaning of the ``rounds`` relation; they are judged
(:func:`judge`) with the same parameters (``Params.values``), and
``tests/test_live_rounds.py`` checks them against ``kefu.assess`` on random streams.

>>> import datetime as dt
>>> from kefu.metrics.params import Params
>>> from kefu.rules.profile import load_profile
>>> p = Params(load_profile("taobao"), dt.date(2024, 3, 2)).values()
>>> stream = StreamRounds("s1", "b1", p)
>>> at = lambda clock: dt.datetime.fromisoformat(f"2024-03-01 {clock}")
>>> stream.add("buyer", at("10:10:15"), None), stream.add("buyer", at("10:15:20"), None)
([], [])
>>> [(f.row(p)["outcome"], f.row(p)["wait_s"]) for f in stream.add("agent", at("10:18:10"), "a1")]
[('over_limit', 475.0)]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

_EPOCH = dt.datetime(1970, 1, 1)
_DAY0 = dt.date(2000, 1, 1)


def _epoch(ts: dt.datetime) -> float:
    """Seconds since 1970 as a DOUBLE, as ``EXTRACT(EPOCH FROM ts)`` gives them."""
    return (ts - _EPOCH) / dt.timedelta(seconds=1)


def day_number(ts: dt.datetime) -> int:
    """``date_diff('day', DATE '2000-01-01', CAST(ts AS DATE))``: P3's consultation key."""
    return (ts.date() - _DAY0).days


@dataclass(slots=True)
class _Round:
    """A round still open to change: its buyer messages so far, and its answer if any."""

    round_no: int
    part: int
    start_ts: dt.datetime
    addressed_agent: str | None
    consultation: int
    prev_consultation: int | None
    own_account: bool
    buyer_messages: int = 1
    answer_ts: dt.datetime | None = None
    answer_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    """A round no later message can change: judged by whichever window asks
    (``row``), since a window moves on while its rounds stay (T2)."""

    shop_id: str
    buyer_id: str
    round: _Round
    last_bot_ts: dt.datetime | None

    @property
    def start_ts(self) -> dt.datetime:
        return self.round.start_ts

    def row(self, p: dict[str, Any]) -> dict[str, Any]:
        return judge(self.shop_id, self.buyer_id, self.round, self.last_bot_ts, p)


@dataclass(slots=True)
class StreamRounds:
    """One stream's (one shop, one buyer) rounds, fed its messages in T3's order."""

    shop_id: str
    buyer_id: str
    p: dict[str, Any]
    own_account: bool = False
    rounds: int = 0  # rounds formed so far (round_no of the last)
    group: list[_Round] = field(default_factory=list)  # the current k's rounds (parts)
    last_bot_ts: dt.datetime | None = None  # the latest bot message with the current k
    last_consultation: int | None = None  # the consultation of the stream's last round
    consultation: int = 0  # P3: the current message's consultation key
    last_human_ts: dt.datetime | None = None  # the gap split's previous human message
    last_ts: dt.datetime | None = None
    pos: int = 0  # the message's place in the stream
    run: int = 0  # F1: shop messages since the buyer's last message
    prompts: list[dict[str, Any]] = field(default_factory=list)  # F1's refusal prompts

    def add(self, sender: str, ts: dt.datetime, agent_id: str | None) -> list[Finished]:
        """Take the stream's next message; returns the rounds it finished."""
        self.last_ts = ts
        self.pos += 1
        self._consult(sender, ts)
        self._refusal_run(sender, ts, agent_id)
        if sender == "buyer":
            self._buyer(ts, agent_id)
        elif sender == "bot":
            self.last_bot_ts = ts
        elif sender == "agent":
            if self.group:
                self.group[-1].answer_ts, self.group[-1].answer_agent = ts, agent_id
            done = [Finished(self.shop_id, self.buyer_id, r, self.last_bot_ts) for r in self.group]
            self.group, self.last_bot_ts = [], None  # k goes up: a new group
            return done
        return []

    def _refusal_run(self, sender: str, ts: dt.datetime, agent_id: str | None) -> None:
        """F1 (``refusal_prompts.sql``): the shop's ``refusal_run_length``-th message in a
        row with no buyer message between prompts the buyer, once per run; agents count,
        bots when ``refusal_counts_bot``, system messages neither count nor break a run."""
        if sender == "buyer":
            self.run = 0
            return
        if not (sender == "agent" or (sender == "bot" and self.p["refusal_counts_bot"])):
            return
        self.run += 1
        if self.run == self.p["refusal_run_length"] and not self.own_account:
            if self.prompts:
                self.prompts[-1]["next_prompt_ts"] = ts
            self.prompts.append({
                "shop_id": self.shop_id, "buyer_id": self.buyer_id, "agent_id": agent_id,
                "ts": ts, "pos": self.pos, "next_prompt_ts": None,
            })  # fmt: skip

    def shop_messages_in_a_row(self) -> int:
        """The shop's messages since the buyer last wrote (F1's run so far)."""
        return self.run

    def _consult(self, sender: str, ts: dt.datetime) -> None:
        """P3's consultation key of this message (``stream_events_day`` / ``_gap``)."""
        if self.p["consultation_split"] == "day":
            self.consultation = day_number(ts)
        elif sender in ("buyer", "agent"):
            gap = self.p["consultation_gap_s"]
            if self.last_human_ts is None or _epoch(ts) - _epoch(self.last_human_ts) > gap:
                self.consultation += 1
            self.last_human_ts = ts

    def _buyer(self, ts: dt.datetime, agent_id: str | None) -> None:
        part = day_number(ts) if self.p["reply_same_day"] else 0
        if self.group and self.group[-1].part == part:
            self.group[-1].buyer_messages += 1
            return
        self.rounds += 1
        self.group.append(
            _Round(
                self.rounds, part, ts, agent_id, self.consultation, self.last_consultation,
                self.own_account,
            )
        )  # fmt: skip
        self.last_consultation = self.consultation

    def open_rows(self, p: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rounds not finished yet, judged (by ``p``, default the stream's) as the
        stored events judge them now."""
        return [
            judge(self.shop_id, self.buyer_id, r, self.last_bot_ts, p or self.p) for r in self.group
        ]

    def waiting_since(self) -> dt.datetime | None:
        """When the buyer's unanswered round started, if one is open (R4)."""
        return self.group[-1].start_ts if self.group else None


def _in_clock(sod: float, start: int, end: int) -> bool:
    """R5, P2: a daily window [start, end) of local clock time; one ending before it
    starts wraps past midnight."""
    return start <= sod < end if start <= end else (sod >= start or sod < end)


def judge(
    shop_id: str, buyer_id: str, r: _Round, last_bot_ts: dt.datetime | None, p: dict[str, Any]
) -> dict[str, Any]:
    """A round as a row of ``rounds`` (``rounds.sql``'s ``timed``, ``judged`` and outcome)."""
    start, answer = r.start_ts, r.answer_ts
    # Whole seconds of the day: the bounds are whole seconds (rounds.sql, start_sod).
    sod = start.hour * 3600 + start.minute * 60 + start.second
    wait = round(_epoch(answer) - _epoch(start), 3) if answer is not None else None
    in_window = p["window_start"] <= start < p["window_end"]
    in_hours = _in_clock(sod, p["rate_hours_start"], p["rate_hours_end"])
    in_time_hours = _in_clock(sod, p["time_hours_start"], p["time_hours_end"])
    bot_replied = last_bot_ts is not None and last_bot_ts >= start
    next_day = answer is not None and answer.date() != start.date()
    counted = in_window and in_hours and not r.own_account
    in_time = (
        wait is not None
        and wait <= p["response_limit_s"]
        and not (p["reply_same_day"] and next_day)
    )
    in_average = (
        in_window and in_time_hours and not r.own_account
        and wait is not None and wait <= p["response_time_cap_s"]
    )  # fmt: skip
    first = r.prev_consultation is None or r.prev_consultation != r.consultation
    return {
        "shop_id": shop_id,
        "buyer_id": buyer_id,
        "round_no": r.round_no,
        "consultation": r.consultation,
        # P1: the answering agent, else (unanswered, or answered without an id) the one
        # the round's first buyer message was addressed to.
        "agent_id": r.answer_agent if r.answer_agent is not None else r.addressed_agent,
        "answer_agent": r.answer_agent,
        "start_ts": start,
        "answer_ts": answer,
        "wait_s": wait,
        "buyer_messages": r.buyer_messages,
        "day": start.date(),
        "hour": start.hour,
        "in_window": in_window,
        "counted": counted,
        "responded": counted and in_time,
        "in_average": in_average,
        "in_first_average": in_average and first,
        "first_of_consultation": first,
        "outcome": _outcome(r, in_window, in_hours, bot_replied, next_day, wait, p),
        "time_note": _time_note(r, in_window, in_time_hours, wait, p),
    }


def _outcome(
    r: _Round,
    in_window: bool,
    in_hours: bool,
    bot_replied: bool,
    next_day: bool,
    wait: float | None,
    p: dict[str, Any],
) -> str:
    """Why the round is or is not counted and responded: the first code that applies."""
    if r.own_account:
        return "own_account"
    if not in_window:
        return "outside_window"
    if not in_hours:
        return "outside_hours"
    if wait is None:
        return "bot_only" if bot_replied else "unanswered"
    if p["reply_same_day"] and next_day:
        return "after_midnight"
    return "over_limit" if wait > p["response_limit_s"] else "responded"


def _time_note(
    r: _Round, in_window: bool, in_time_hours: bool, wait: float | None, p: dict[str, Any]
) -> str | None:
    """Why an answered round is left out of the averages (P2), if it is."""
    if wait is None or r.own_account or not in_window:
        return None
    if wait > p["response_time_cap_s"]:
        return "over_cap"
    return None if in_time_hours else "outside_time_window"
