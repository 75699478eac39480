"""Target planner: what the next N days must bring for a figure to reach its line.

The window is rolling (T2): N days from now, the assessment covers the last ``30 − N`` days
of today's window plus N new days. The planner takes, from the engine:

- ``kept`` — counted rounds and on-time ones (R7), or counted ratings and satisfied ones
  (S5), on the days of today's window that are still inside the window N days later;
- ``recent`` — the same counts over the last 7 days of the window: the traffic assumed for
  each coming day (the planner's one assumption, stated wherever a plan is shown).

Then, as the only arithmetic of the report layer besides advice shares:

- ``expected`` = N × recent.total / 7 new rounds (ratings), rounded half up;
- ``needed_total`` = ``expected``, or, for satisfaction, more when the window would still
  hold fewer than ``min_ratings`` (S6);
- ``needed_good`` = ⌈line × (kept.total + needed_total) − kept.good⌉ on-time rounds
  (satisfied ratings) among the new ones, at least 0;
- ``pace_good`` = needed_total × recent.good / recent.total: what the last 7 days' rate
  would give; ``more_good`` = needed_good − pace_good is the improvement to make.

The counts of a day are those the engine computed for today's window: a rating that S3/S4
would later drop, or a round whose answer is not yet in the data, is taken as it stands.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from kefu.api import Result
from kefu.report.aggregates import Counts, span_counts
from kefu.report.scorecard import pct

#: Days of recent traffic the projection assumes for every coming day.
RECENT_DAYS = 7

KINDS = {"response_rate": "rounds", "satisfaction_rate": "ratings"}


def _half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


@dataclass(frozen=True)
class Plan:
    """The projection of one figure of one shop over the next ``days`` days."""

    figure: str
    shop_id: str
    days: int
    as_of: dt.date
    line: float
    min_total: int
    now: Counts
    kept: Counts
    recent: Counts
    recent_days: int
    expected: int
    needed_total: int
    needed_good: int
    pace_good: int

    @property
    def kind(self) -> str:
        return KINDS[self.figure]

    @property
    def window_last_day(self) -> dt.date:
        """The last day of the window assessed ``days`` days from now (T2)."""
        return self.as_of + dt.timedelta(days=self.days - 1)

    @property
    def more_good(self) -> int:
        """On-time rounds (satisfied ratings) needed beyond the last 7 days' pace."""
        return max(0, self.needed_good - self.pace_good)

    @property
    def more_total(self) -> int:
        """Ratings needed beyond the expected traffic (S6's minimum); 0 for rounds."""
        return self.needed_total - self.expected

    @property
    def reachable(self) -> bool:
        return self.needed_good <= self.needed_total and self.kept.total + self.needed_total > 0

    @property
    def on_track(self) -> bool:
        return self.reachable and self.more_good == 0 and self.more_total == 0

    @property
    def per_day(self) -> int:
        """``more_good`` spread over the days, rounded up."""
        return math.ceil(Fraction(self.more_good, self.days)) if self.days else 0

    @property
    def invite_per_day(self) -> int:
        """``more_total`` (extra ratings to invite, S6) spread over the days, rounded up."""
        return math.ceil(Fraction(self.more_total, self.days)) if self.days else 0

    @property
    def recent_rate(self) -> float | None:
        return self.recent.good / self.recent.total if self.recent.total else None

    @property
    def projected_rate(self) -> float | None:
        """The figure in ``days`` days if the last 7 days' rate holds."""
        total = self.kept.total + self.needed_total
        return (self.kept.good + self.pace_good) / total if total else None

    @property
    def best_rate(self) -> float | None:
        """The figure in ``days`` days if every new round (rating) is good."""
        total = self.kept.total + self.needed_total
        return (self.kept.good + self.needed_total) / total if total else None

    def as_row(self) -> dict[str, Any]:
        """The plan's inputs and results as one flat row (for tables and the CLI)."""
        return {
            "shop_id": self.shop_id,
            "figure": self.figure,
            "days": self.days,
            "window_last_day": self.window_last_day,
            "line": self.line,
            "now_total": self.now.total,
            "now_good": self.now.good,
            "kept_total": self.kept.total,
            "kept_good": self.kept.good,
            "recent_total": self.recent.total,
            "recent_good": self.recent.good,
            "expected": self.expected,
            "needed_total": self.needed_total,
            "needed_good": self.needed_good,
            "pace_good": self.pace_good,
            "more_good": self.more_good,
            "more_total": self.more_total,
            "per_day": self.per_day,
            "reachable": self.reachable,
            "on_track": self.on_track,
        }


def make_plan(
    result: Result, shop: dict[str, Any], figure: str, days: int, recent_days: int = RECENT_DAYS
) -> Plan:
    """Plan ``figure`` (``response_rate`` or ``satisfaction_rate``) for ``shop`` (an engine
    shop row) over the next ``days`` days (R7 or S5, S6)."""
    if figure not in KINDS:
        raise ValueError(f"cannot plan {figure!r}; plannable: {', '.join(KINDS)}")
    if days < 1:
        raise ValueError(f"days: {days} is not a positive number of days")
    kind, sid = KINDS[figure], shop["shop_id"]
    p = result.params
    start, end = p.window_start.date(), p.window_end.date()
    window_days = (end - start).days
    line = Fraction(repr(float(shop[f"{figure}_line"])))
    min_total = int(result.profile["min_ratings"]) if kind == "ratings" else 0
    now = span_counts(result, sid, kind)
    kept = (
        span_counts(result, sid, kind, start + dt.timedelta(days=days))
        if days < window_days
        else Counts(0, 0)
    )
    recent = span_counts(result, sid, kind, end - dt.timedelta(days=recent_days))
    expected = _half_up(Fraction(days * recent.total, recent_days))
    needed_total = max(expected, min_total - kept.total)
    needed_good = max(0, math.ceil(line * (kept.total + needed_total) - kept.good))
    pace_good = _half_up(Fraction(needed_total * recent.good, recent.total)) if recent.total else 0
    return Plan(
        figure, sid, days, p.as_of, float(line), min_total, now, kept, recent, recent_days,
        expected, needed_total, needed_good, pace_good,
    )  # fmt: skip


def first_reachable(
    result: Result, shop: dict[str, Any], figure: str, horizons: tuple[int, ...] = (7, 14, 21, 30)
) -> Plan:
    """The plan for the shortest horizon in which the line can be reached (else the longest)."""
    plans = [make_plan(result, shop, figure, days) for days in horizons]
    return next((p for p in plans if p.reachable), plans[-1])


def plan_text(plan: Plan, lang: str) -> str:
    """One sentence stating the plan and every number it comes from, with its rule IDs."""
    zh = lang == "zh"
    end = plan.window_last_day.isoformat()
    rules = "R7" if plan.kind == "rounds" else "S5, S6"
    if plan.kind == "rounds":
        unit_en, unit_zh = "rounds", "轮"
        good_en, good_zh = "answered within 3 minutes", "在3分钟内回复"
    else:
        unit_en, unit_zh = "ratings", "条评价"
        good_en, good_zh = "satisfied (4–5)", "为满意(4–5分)"
    if plan.kept.total + plan.needed_total == 0:
        return (
            f"最近{plan.recent_days}天没有计入的{unit_zh}，无法测算 ({rules})"
            if zh
            else f"No counted {unit_en} in the last {plan.recent_days} days: nothing to "
            f"project ({rules})"
        )
    recent = f"{pct(plan.recent_rate)} ({plan.recent.good:,}/{plan.recent.total:,})"
    basis_en = (
        f"assuming the last {plan.recent_days} days' traffic: {plan.recent.total:,} {unit_en}, "
        f"{recent} {good_en}"
    )
    basis_zh = (
        f"按最近{plan.recent_days}天的量估算：{plan.recent.total:,}{unit_zh}，{recent}{good_zh}"
    )
    target = f"{plan.line:.0%}"
    if not plan.reachable:
        return (
            f"即使未来{plan.days}天约{plan.needed_total:,}{unit_zh}全部{good_zh}，截至{end}的30天"
            f"也只能达到{pct(plan.best_rate)}，低于{target}（需{plan.needed_good:,}）；"
            f"{basis_zh} ({rules})"
            if zh
            else f"Even if all ≈{plan.needed_total:,} {unit_en} of the next {plan.days} days are "
            f"{good_en}, the 30 days ending {end} reach only {pct(plan.best_rate)}, under "
            f"{target} ({plan.needed_good:,} would be needed); {basis_en} ({rules})"
        )
    if plan.on_track:
        return (
            f"保持当前水平：截至{end}的30天预计为{pct(plan.projected_rate)}（标准{target}）；"
            f"{basis_zh} ({rules})"
            if zh
            else f"On track: at the current rate the 30 days ending {end} come to "
            f"{pct(plan.projected_rate)} (line {target}); {basis_en} ({rules})"
        )
    if plan.more_total:
        return (
            f"考核需{plan.min_total}条评价(S6)：截至{end}的30天保留现有{plan.kept.total}条，"
            f"按最近{plan.recent_days}天的量（{plan.recent.total}条）"
            f"预计再增约{plan.expected}条 —— "
            f"需多邀评{plan.more_total}条（每天约{plan.invite_per_day}条）；"
            f"新增的{plan.needed_total}条中"
            f"至少{plan.needed_good}条{good_zh}才能达到{target} ({rules})"
            if zh
            else f"Satisfaction needs {plan.min_total} counted ratings (S6): the 30 days ending "
            f"{end} keep {plan.kept.total} of today's, and the last {plan.recent_days} days' pace "
            f"({plan.recent.total} ratings) brings ≈{plan.expected} more — invite "
            f"{plan.more_total} more ratings (≈{plan.invite_per_day} a day); at least "
            f"{plan.needed_good} of the {plan.needed_total} new ratings must be {good_en} to "
            f"reach {target} ({rules})"
        )
    return (
        f"要在截至{end}的30天达到{target}，未来{plan.days}天的约{plan.needed_total:,}{unit_zh}中"
        f"需有{plan.needed_good:,}{unit_zh}{good_zh}；按当前水平约为{plan.pace_good:,}，"
        f"还差{plan.more_good:,}（每天约{plan.per_day:,}）；{basis_zh} ({rules})"
        if zh
        else f"To reach {target} in the 30 days ending {end}, {plan.needed_good:,} of the "
        f"≈{plan.needed_total:,} {unit_en} of the next {plan.days} days must be {good_en}; at "
        f"the current rate that would be {plan.pace_good:,}: {plan.more_good:,} more "
        f"(≈{plan.per_day:,} a day); {basis_en} ({rules})"
    )
