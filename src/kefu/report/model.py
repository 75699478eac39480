"""Everything one shop's report shows, gathered once from the engine.

Rows are the engine's figure tables filtered to the shop (``Result.figures``) and the
aggregates of ``kefu.report.aggregates`` (SQL over the audit relations); the planner and
the advice are computed from them. The HTML report renders this object; the tests read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from kefu.api import Result
from kefu.report import aggregates as agg
from kefu.report.advice import Advice, advice_lines
from kefu.report.planner import Plan, first_reachable, make_plan

#: Default caps of the drill-down lists; a note says how many more there are.
CAPS = {"missed": 100, "dissatisfied": 30, "messages": 40, "agents": 200}
#: Days the report's planner table looks ahead; the advice uses the first.
PLAN_DAYS = (7, 14, 30)


@dataclass
class ShopReport:
    """One shop's report: engine rows, aggregates, plans and advice."""

    result: Result
    shop_id: str
    lang: str
    shop: dict[str, Any]
    previous: dict[str, Any] | None
    days: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    agent_info: dict[str, dict[str, Any]]
    weekday_hour: list[dict[str, Any]]
    slots: list[dict[str, Any]]
    outcomes: dict[str, int]
    wait_edges: list[float]
    wait_bins: list[dict[str, Any]]
    no_answer: int
    scores: dict[int, int]
    missed: agg.Drill
    dissatisfied: agg.Drill
    plans: list[Plan]
    advice: list[Advice] = field(default_factory=list)
    caps: dict[str, int] = field(default_factory=lambda: dict(CAPS))

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        """First and last day of the window (T2)."""
        p = self.result.params
        return p.window_start.date(), p.window_end.date() - dt.timedelta(days=1)

    def wait_marks(self) -> dict[str, float]:
        """The lines drawn on the response-time distribution (P5, R6, P2)."""
        prof = self.result.profile
        return {
            "mark_first": float(self.shop["first_response_s_line"]),
            "mark_average": float(self.shop["response_s_line"]),
            "mark_limit": float(prof["response_limit_s"]),
            "mark_cap": float(prof["response_time_cap_s"]),
        }


def previous_window(result: Result) -> dict[str, pa.Table] | None:
    """The figures of the 30 days before this window, or None when no data lies there.

    Costs two more assessments of the loaded data (``Result.window_figures``), so it is
    only run when there is something to compare with.
    """
    p = result.params
    span = p.window_end - p.window_start
    if not agg.has_history(result, p.window_start - span, p.window_start):
        return None
    return result.window_figures(p.as_of - span)


def gather(
    result: Result,
    shop_id: str,
    lang: str = "en",
    previous: dict[str, pa.Table] | None = None,
    plan_days: tuple[int, ...] = PLAN_DAYS,
    caps: dict[str, int] | None = None,
) -> ShopReport:
    """Collect one shop's report from ``result`` (and the previous window's figures)."""
    caps = {**CAPS, **(caps or {})}
    rows = agg.shop_rows(result.figures["shop"], shop_id)
    if not rows:
        known = ", ".join(agg.shop_ids(result)[:10])
        raise ValueError(f"shop {shop_id!r} is not in the data (shops: {known})")
    shop = rows[0]
    prev_rows = agg.shop_rows(previous["shop"], shop_id) if previous else []
    agents = agg.shop_rows(result.figures["agent"], shop_id)
    edges = agg.wait_edges(
        [float(shop["first_response_s_line"]), float(shop["response_s_line"]),
         float(result.profile["response_limit_s"]), float(result.profile["response_time_cap_s"])]
    )  # fmt: skip
    bins = agg.wait_bins(result, shop_id, edges)
    report = ShopReport(
        result=result,
        shop_id=shop_id,
        lang=lang,
        shop=shop,
        previous=prev_rows[0] if prev_rows else None,
        days=agg.shop_rows(result.figures["day"], shop_id),
        agents=agents,
        groups=agg.shop_rows(result.figures["group"], shop_id),
        agent_info=agg.agent_info(result, shop_id),
        weekday_hour=agg.weekday_hour(result, shop_id),
        slots=agg.slots(result, shop_id),
        outcomes=agg.outcomes(result, shop_id),
        wait_edges=edges,
        wait_bins=bins,
        no_answer=agg.unanswered(result, shop_id),
        scores=agg.scores(result, shop_id),
        missed=agg.missed_rounds(result, shop_id, caps["missed"]),
        dissatisfied=agg.dissatisfied(result, shop_id, caps["dissatisfied"], caps["messages"]),
        plans=[
            make_plan(result, shop, figure, days)
            for figure in ("response_rate", "satisfaction_rate")
            for days in plan_days
        ],
        caps=caps,
    )
    ctx = {
        "slots": report.slots,
        "outcomes": report.outcomes,
        "missed_total": report.missed.total,
        "agent_rows": agents,
        "agent_table": result.figures["agent"],
        "plan_response": first_reachable(result, shop, "response_rate"),
        "plan_satisfaction": first_reachable(result, shop, "satisfaction_rate"),
    }
    report.advice = advice_lines(result.profile, shop, ctx, lang)
    return report
