"""What to do: a short list of computed advice lines, each with its rule IDs and numbers.

Every number in a line is an engine figure (a level's row) or an engine aggregate
(``kefu.report.aggregates``); the only arithmetic here is a share (e.g. "94 % of misses")
and the planner's projection, and each line states the inputs it comes from. The lines:

- ``plan_response`` (R7): the 3-minute rate fails, or will at the current pace — the
  planner's sentence for the shortest horizon (7, 14, 21 or 30 days) that can reach the line;
- ``staff_hours`` (R5–R7): misses concentrated in slots of the day. A slot (half an hour) is
  weak when its rate is under the line with at least ``MIN_SLOT_ROUNDS`` rounds; adjacent
  weak slots merge into a span; spans holding at least ``MIN_SPAN_SHARE`` of the misses are
  named when together they hold at least ``MIN_TOTAL_SHARE``;
- ``after_midnight`` (R6): while the rate fails (or will), rounds answered only after 24:00
  are a notable share (≥ ``AFTER_MIDNIGHT_SHARE``) of the misses;
- ``first_response`` / ``slow_agent`` (P3, P5): the shop's first response and the agents
  over their line, slowest first; ``best_agent`` (O5) names the fastest agent on the line;
- ``response_time`` (P2, P4, P5): the average response fails its line;
- ``satisfaction_not_assessed`` (S6), ``plan_satisfaction`` (S5, S6),
  ``dissatisfied_agent`` (S1, O3, O5);
- ``refusal`` (F1, F2) and ``gold`` (C1–C3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kefu.report.notes import rule_list
from kefu.report.planner import Plan, plan_text
from kefu.report.scorecard import gold_reasons, pct
from kefu.report.standing import best_agent, slow_agents
from kefu.rules.profile import Profile

MIN_SLOT_ROUNDS = 10
MIN_SPAN_SHARE = 0.10
MIN_TOTAL_SHARE = 0.25
AFTER_MIDNIGHT_SHARE = 0.10
DISSATISFIED_SHARE = 0.30
DISSATISFIED_MIN = 5
TOP_AGENTS = 2


@dataclass(frozen=True)
class Advice:
    """One line of advice: its kind, rule IDs, text and the numbers it comes from."""

    key: str
    rules: tuple[str, ...]
    text: str
    numbers: dict[str, Any] = field(default_factory=dict)
    failing: bool = True


@dataclass(frozen=True)
class Span:
    """Adjacent weak slots of the day: ``[start_min, end_min)`` with their rounds."""

    start_min: int
    end_min: int
    rounds: int
    missed: int

    def label(self) -> str:
        return f"{self.start_min // 60:02d}:{self.start_min % 60:02d}–" + (
            f"{self.end_min // 60:02d}:{self.end_min % 60:02d}"
        )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def weak_spans(slots: list[dict[str, Any]], line: float, minutes: int = 30) -> list[Span]:
    """Merge adjacent slots whose 3-minute rate is under ``line`` into spans (R5–R7)."""
    spans: list[Span] = []
    for s in slots:
        weak = s["rounds"] >= MIN_SLOT_ROUNDS and s["response_rate"] < line
        if not weak:
            continue
        last = spans[-1] if spans else None
        if last is not None and last.end_min == s["start_min"]:
            spans[-1] = Span(
                last.start_min,
                s["start_min"] + minutes,
                last.rounds + s["rounds"],
                last.missed + s["missed"],
            )
        else:
            spans.append(Span(s["start_min"], s["start_min"] + minutes, s["rounds"], s["missed"]))
    return spans


def staffing_spans(
    slots: list[dict[str, Any]], line: float, total_missed: int, minutes: int = 30
) -> list[Span]:
    """The spans named by ``staff_hours``: most misses first, each ≥ ``MIN_SPAN_SHARE``."""
    if not total_missed:
        return []
    spans = [
        s for s in weak_spans(slots, line, minutes) if s.missed / total_missed >= MIN_SPAN_SHARE
    ]
    spans.sort(key=lambda s: (-s.missed, s.start_min))
    if sum(s.missed for s in spans) / total_missed < MIN_TOTAL_SHARE:
        return []
    return sorted(spans[:3], key=lambda s: s.start_min)


def _name(agent_id: str | None, lang: str) -> str:
    if agent_id is None:
        return "（未分配客服）" if lang == "zh" else "(no agent)"
    return agent_id


class _Writer:
    """Collects advice lines in one language, starring rules carried by assumed params."""

    def __init__(self, profile: Profile, lang: str) -> None:
        self.zh = lang == "zh"
        self.lang = lang
        self.profile = profile
        self.lines: list[Advice] = []

    def add(
        self,
        key: str,
        rules: tuple[str, ...],
        en: str,
        zh: str,
        numbers: dict[str, Any],
        failing: bool = True,
    ) -> None:
        text = f"{zh if self.zh else en} ({rule_list(rules, self.profile)})"
        self.lines.append(Advice(key, rules, text, numbers, failing))


def _response(w: _Writer, shop: dict[str, Any], ctx: dict[str, Any]) -> None:
    plan: Plan | None = ctx.get("plan_response")
    if plan is not None and (shop["response_rate_status"] == "not_qualified" or not plan.on_track):
        text = plan_text(plan, w.lang)
        w.lines.append(Advice("plan_response", ("R7",), text, plan.as_row(), not plan.on_track))
    missed = int(ctx["missed_total"])
    spans = staffing_spans(ctx["slots"], shop["response_rate_line"], missed)
    if spans:
        in_spans = sum(s.missed for s in spans)
        labels = [s.label() for s in spans]
        detail_en = "; ".join(
            f"{s.label()}: {s.missed:,} of {s.rounds:,} rounds missed" for s in spans
        )
        detail_zh = "；".join(f"{s.label()}：{s.rounds:,}轮中{s.missed:,}轮未及时" for s in spans)
        joined_en = " and ".join(
            [", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels
        )
        w.add(
            "staff_hours",
            ("R5", "R6", "R7"),
            f"{_share(in_spans, missed)} of the misses ({in_spans:,} of {missed:,}) fall "
            f"{joined_en} — staff those hours ({detail_en})",
            f"{_share(in_spans, missed)}的未及时轮次（{missed:,}轮中{in_spans:,}轮）集中在"
            f"{'、'.join(labels)} —— 请在这些时段增加人手（{detail_zh}）",
            {"spans": [s.label() for s in spans], "missed_in_spans": in_spans, "missed": missed},
            shop["response_rate_status"] == "not_qualified",
        )
    late = ctx["outcomes"].get("after_midnight", 0)
    failing = shop["response_rate_status"] == "not_qualified" or (plan and not plan.on_track)
    if failing and late >= 5 and late / missed >= AFTER_MIDNIGHT_SHARE:
        w.add(
            "after_midnight",
            ("R6",),
            f"{late:,} of the {missed:,} misses ({_share(late, missed)}) were answered only "
            "after midnight: a round not answered by 24:00 of its day is missed — cover the "
            "late evening or answer before 24:00",
            f"{missed:,}轮未及时中有{late:,}轮（{_share(late, missed)}）到次日才回复：当天24点前"
            "未回复即算未及时 —— 请安排晚间值班，24点前回复",
            {"after_midnight": late, "missed": missed},
        )


def _times(w: _Writer, shop: dict[str, Any], ctx: dict[str, Any]) -> None:
    if shop["first_response_s_status"] == "not_qualified":
        w.add(
            "first_response",
            ("P3", "P5"),
            f"The shop's first response is {shop['first_response_s']:.1f} s against a "
            f"{shop['first_response_s_line']} s line "
            f"(median {shop['first_response_median_s']:.1f} s "
            f"over {shop['first_response_consultations']:,} consultations)",
            f"店铺首次响应时间{shop['first_response_s']:.1f}秒，标准{shop['first_response_s_line']}秒"
            f"（{shop['first_response_consultations']:,}次接待的中位数{shop['first_response_median_s']:.1f}秒）",
            {k: shop[k] for k in ("first_response_s", "first_response_s_line")},
        )
    agents = ctx["agent_table"]
    slow = slow_agents(agents, shop["shop_id"], top=len(agents))
    for a in slow[:TOP_AGENTS]:
        name = _name(a["agent_id"], w.lang)
        w.add(
            "slow_agent",
            ("P3", "P5"),
            f"Agent {name}'s first response is {a['first_response_s']:.1f} s against a "
            f"{a['first_response_s_line']} s line (median {a['first_response_median_s']:.1f} s, "
            f"{a['first_response_consultations']:,} consultations)",
            f"客服 {name} 首次响应{a['first_response_s']:.1f}秒，标准{a['first_response_s_line']}秒"
            f"（中位数{a['first_response_median_s']:.1f}秒，{a['first_response_consultations']:,}次接待）",
            {"agent_id": a["agent_id"], "first_response_s": a["first_response_s"]},
        )
    if len(slow) > TOP_AGENTS:
        rest = len(slow) - TOP_AGENTS
        w.add(
            "slow_agent_more",
            ("P3", "P5"),
            f"{rest} more agent{'s' if rest > 1 else ''} over the first-response line: "
            "see the agent table",
            f"另有{rest}位客服首次响应超标，见客服表",
            {"more": rest},
        )
    best = best_agent(agents, shop["shop_id"])
    if slow and best is not None and best["first_response_s_status"] == "qualified":
        name = _name(best["agent_id"], w.lang)
        w.add(
            "best_agent",
            ("P3", "P5", "O5"),
            f"Agent {name} answers first in {best['first_response_s']:.1f} s and "
            f"{pct(best['response_rate'])} within 3 minutes: use their conversations as "
            "examples for the team",
            f"客服 {name} 首次响应{best['first_response_s']:.1f}秒，3分钟响应率"
            f"{pct(best['response_rate'])}：可作为团队的示范对话",
            {"agent_id": best["agent_id"], "first_response_s": best["first_response_s"]},
            failing=False,
        )
    if shop["response_s_status"] == "not_qualified":
        w.add(
            "response_time",
            ("P2", "P4", "P5"),
            f"The average response is {shop['response_s']:.1f} s against a "
            f"{shop['response_s_line']} s line; the median is {shop['response_median_s']:.1f} s, "
            "so the long waits in the distribution below pull it up",
            f"平均响应时间{shop['response_s']:.1f}秒，标准{shop['response_s_line']}秒；中位数"
            f"{shop['response_median_s']:.1f}秒，主要被下方分布中的长等待拉高",
            {k: shop[k] for k in ("response_s", "response_s_line", "response_median_s")},
        )


def _satisfaction(w: _Writer, shop: dict[str, Any], ctx: dict[str, Any]) -> None:
    plan: Plan | None = ctx.get("plan_satisfaction")
    need = int(w.profile["min_ratings"])
    if not shop["satisfaction_assessed"]:
        w.add(
            "satisfaction_not_assessed",
            ("S6",),
            f"Satisfaction is not assessed: {shop['ratings']} of the {need} ratings needed — "
            "invite a rating after each resolved chat (merchant invitations count, S2)",
            f"满意度不考核：仅{shop['ratings']}条评价，需{need}条 —— 每次解决问题后邀请买家评价"
            "（商家邀评同样计入，S2）",
            {"ratings": shop["ratings"], "min_ratings": need},
        )
    if plan is not None and not plan.on_track:
        w.lines.append(
            Advice("plan_satisfaction", ("S5", "S6"), plan_text(plan, w.lang), plan.as_row())
        )
    total = shop["ratings_dissatisfied"]
    agents = [a for a in ctx["agent_rows"] if a["agent_id"] is not None]
    top = max(agents, key=lambda a: a["ratings_dissatisfied"], default=None)
    if (
        top is not None
        and top["ratings_dissatisfied"] >= DISSATISFIED_MIN
        and top["ratings_dissatisfied"] / total >= DISSATISFIED_SHARE
    ):
        n, name = top["ratings_dissatisfied"], _name(top["agent_id"], w.lang)
        w.add(
            "dissatisfied_agent",
            ("S1", "O3", "O5"),
            f"Agent {name} has {n} of the shop's {total} dissatisfied ratings "
            f"({_share(n, total)}; satisfaction {pct(top['satisfaction_rate'])} over "
            f"{top['ratings']} ratings) — review their conversations below",
            f"客服 {name} 占店铺{total}条不满意评价中的{n}条（{_share(n, total)}；满意度"
            f"{pct(top['satisfaction_rate'])}，共{top['ratings']}条）—— 请复盘下方对话",
            {"agent_id": top["agent_id"], "dissatisfied": n, "shop_dissatisfied": total},
        )


def _refusal_and_gold(w: _Writer, shop: dict[str, Any]) -> None:
    if shop["refusal_rate_status"] == "not_qualified":
        run = w.profile["refusal_run_length"]
        w.add(
            "refusal",
            ("F1", "F2"),
            f"{shop['refusals']} of {shop['refusal_prompts']} refusal prompts were refused "
            f"({pct(shop['refusal_rate'])} against ≤ {shop['refusal_rate_line']:.0%}): a prompt "
            f"comes after {run} shop messages in a row without a buyer reply — send fewer "
            "messages in a row (marketing bursts, repeated auto-replies)",
            f"{shop['refusal_prompts']}次拒收提示中买家拒收{shop['refusals']}次"
            f"（{pct(shop['refusal_rate'])}，标准≤{shop['refusal_rate_line']:.0%}）：连续发送{run}条"
            "消息且买家未回复就会弹出提示 —— 减少连续群发和重复自动回复",
            {k: shop[k] for k in ("refusals", "refusal_prompts", "refusal_rate")},
        )
    if not shop["gold_medal"]:
        reasons = "; ".join(gold_reasons(shop, w.profile, w.lang))
        w.add(
            "gold",
            ("C1", "C2", "C3"),
            f"Not gold-medal eligible: {reasons}",
            f"不符合金牌客服：{reasons}",
            {"gold_medal": False},
            failing=False,
        )


def advice_lines(
    profile: Profile, shop: dict[str, Any], ctx: dict[str, Any], lang: str
) -> list[Advice]:
    """The advice for one shop (an engine shop row), in ``lang``.

    ``ctx`` holds the engine rows and aggregates the lines read: ``slots``, ``outcomes``,
    ``missed_total`` (counted rounds not responded),
    ``agent_rows`` (agent level of this shop), ``agent_table`` (the agent level, Arrow),
    and optionally ``plan_response`` / ``plan_satisfaction``.
    """
    w = _Writer(profile, lang)
    _response(w, shop, ctx)
    _times(w, shop, ctx)
    _satisfaction(w, shop, ctx)
    _refusal_and_gold(w, shop)
    return w.lines
