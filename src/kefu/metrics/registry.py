"""The figure registry: every figure kefu reports, declared once.

A figure is a ratio of two flags, a mean or a quantile of a value over a flag, a count of
a flag, or a threshold on a count — always over the rows of one audit relation, so a user
can read the rows behind it (``kefu explain``). A few shop figures are derived from the
others (C1–C3). The level queries, explain's totals, the scorecard, the report's labels and
"shaped by" notes and the workbook's headers are all read from :data:`FIGURES`; adding a
figure is one entry here and, if it needs new flags, a column in its relation's template.

>>> FIGURES["response_rate"].over
'counted'
>>> [f.name for f in FIGURES.values() if f.scorecard][:2]
['response_rate', 'first_response_s']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "ratio", "mean", "quantile", "at_least", "derived"]
Unit = Literal["count", "rate", "seconds", "flag", "score"]


@dataclass(frozen=True)
class Figure:
    """One figure: what it aggregates, the rules and parameters behind it, its line, labels.

    ``of`` is the flag of the rows counted (``count``), of the numerator (``ratio``) or of
    the rows a ``mean`` or ``quantile`` of ``value`` is taken over; ``over`` the flag of a
    ratio's denominator; ``threshold`` the profile parameter an ``at_least`` count must
    reach. ``line`` names the profile parameter of the line the figure is judged against
    (``better`` says in which direction); ``assessed`` the figure that must be positive
    for it to be judged at all.
    """

    name: str
    kind: Kind
    relation: str | None
    en: str
    zh: str
    unit: Unit = "count"
    of: str | None = None
    over: str | None = None
    value: str | None = None
    q: float | None = None
    threshold: str | None = None
    rules: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    line: str | None = None
    better: Literal["higher", "lower"] | None = None
    assessed: str | None = None
    scorecard: bool = False
    #: A short label for narrow tables (the scorecard's one line per shop): (en, zh).
    short: tuple[str, str] = ("", "")


_RATE = ("response_window_start", "response_window_end", "response_limit_s", "reply_same_day")
_TIMES = ("response_time_cap_s", "response_time_window_start", "response_time_window_end")
_FIRST = (*_TIMES, "consultation_split", "consultation_gap_s")
_RATINGS = ("rating_dedupe", "max_rating_changes", "max_ratings_per_buyer", "min_ratings")
_REFUSAL = ("refusal_run_length", "refusal_counts_bot")
_GOLD = ("gold_score_min", "gold_ratings_min", "gold_satisfaction_min")
_SCORE = ("experience_weight_response", "experience_score_table")


def _rounds(name: str, kind: Kind, en: str, zh: str, **kw: object) -> Figure:
    return Figure(name, kind, "rounds", en, zh, **kw)  # type: ignore[arg-type]


def _ratings(name: str, kind: Kind, en: str, zh: str, **kw: object) -> Figure:
    return Figure(name, kind, "rating_audit", en, zh, **kw)  # type: ignore[arg-type]


def _refusals(name: str, kind: Kind, en: str, zh: str, **kw: object) -> Figure:
    return Figure(name, kind, "refusal_audit", en, zh, **kw)  # type: ignore[arg-type]


def _shop(name: str, en: str, zh: str, **kw: object) -> Figure:
    return Figure(name, "derived", None, en, zh, **kw)  # type: ignore[arg-type]


_DECLARED: tuple[Figure, ...] = (
    # R4–R7: rounds and the 3-minute manual response rate.
    _rounds("rounds", "count", "counted rounds", "计入轮次", of="counted", rules=("R4", "R5")),
    _rounds("rounds_responded", "count", "rounds answered within the limit", "3分钟内回复轮次",
            of="responded", rules=("R6",)),
    _rounds("response_rate", "ratio", "3-minute manual response rate", "3分钟人工响应率",
            unit="rate", of="responded", over="counted", rules=("R4", "R5", "R6", "R7"),
            params=(*_RATE, "response_rate_min"), line="response_rate_min", better="higher",
            assessed="rounds", short=("3-min rate", "3分钟响应率"),
            scorecard=True),
    # P1–P5: response times; the platform judges the means, medians and p90 are beside them.
    _rounds("first_response_s", "mean", "First response time", "首次响应时间", unit="seconds",
            value="wait_s", of="in_first_average", rules=("P1", "P2", "P3", "P5"),
            params=_FIRST, line="first_response_max_s", better="lower",
            assessed="first_response_consultations", short=("1st resp.", "首响"),
            scorecard=True),
    _rounds("first_response_median_s", "quantile", "median first response", "首次响应中位数",
            unit="seconds", value="wait_s", of="in_first_average", q=0.5, rules=("P3",),
            params=_FIRST),
    _rounds("first_response_p90_s", "quantile", "p90 first response", "首次响应P90",
            unit="seconds", value="wait_s", of="in_first_average", q=0.9, rules=("P3",),
            params=_FIRST),
    _rounds("first_response_consultations", "count", "consultations with a first response",
            "首次响应接待数", of="in_first_average", rules=("P3",), params=_FIRST),
    _rounds("response_s", "mean", "Average response time", "平均响应时间", unit="seconds",
            value="wait_s", of="in_average", rules=("P1", "P2", "P4", "P5"), params=_TIMES,
            line="response_time_max_s", better="lower", assessed="response_time_rounds",
            short=("avg resp.", "均响"),
            scorecard=True),
    _rounds("response_median_s", "quantile", "median response", "响应中位数", unit="seconds",
            value="wait_s", of="in_average", q=0.5, rules=("P4",), params=_TIMES),
    _rounds("response_p90_s", "quantile", "p90 response", "响应P90", unit="seconds",
            value="wait_s", of="in_average", q=0.9, rules=("P4",), params=_TIMES),
    _rounds("response_time_rounds", "count", "rounds in the averages", "响应时间轮次",
            of="in_average", rules=("P2", "P4"), params=_TIMES),
    # S1–S6: satisfaction from buyer ratings.
    _ratings("ratings", "count", "counted ratings", "计入评价", of="counted",
             rules=("S3", "S4"), params=_RATINGS),
    _ratings("ratings_satisfied", "count", "satisfied ratings", "满意评价", of="satisfied",
             rules=("S1",)),
    _ratings("ratings_dissatisfied", "count", "dissatisfied ratings", "不满意评价",
             of="dissatisfied", rules=("S1",)),
    _ratings("satisfaction_rate", "ratio", "Satisfaction rate", "咨询满意度", unit="rate",
             of="satisfied", over="counted", rules=("S1", "S3", "S4", "S5", "S6"),
             params=(*_RATINGS, "satisfaction_min"), line="satisfaction_min", better="higher",
             assessed="satisfaction_assessed", short=("satisfied", "满意度"),
            scorecard=True),
    _ratings("satisfaction_assessed", "at_least", "satisfaction assessed", "满意度是否考核",
             unit="flag", of="counted", threshold="min_ratings", rules=("S6",),
             params=("min_ratings",)),
    # F1–F2: message refusal.
    _refusals("refusal_prompts", "count", "refusal prompts", "拒收提示", of="counted",
              rules=("F1",), params=_REFUSAL),
    _refusals("refusals", "count", "refused prompts", "拒收次数", of="refused", rules=("F2",)),
    _refusals("refusal_rate", "ratio", "Message refusal rate", "消息拒收点击率", unit="rate",
              of="refused", over="counted", rules=("F1", "F2"),
              params=(*_REFUSAL, "refusal_rate_max"), line="refusal_rate_max", better="lower",
              assessed="refusal_prompts", short=("refused", "拒收率"),
            scorecard=True),
    # C1–C3: the shop's composite score and gold-medal eligibility (derived; shop level).
    _shop("experience_response_score", "response score", "响应得分", unit="score",
          rules=("C2",), params=("experience_score_table",)),
    _shop("experience_satisfaction_score", "satisfaction score", "满意度得分", unit="score",
          rules=("C2",), params=("experience_score_table",)),
    _shop("experience_score", "Consultation experience score", "咨询体验分", unit="score",
          rules=("C1", "C2"), params=_SCORE, short=("score", "体验分"),
            scorecard=True),
    _shop("gold_score_ok", "gold medal: score", "金牌:体验分", unit="flag", rules=("C3",),
          params=("gold_score_min",)),
    _shop("gold_ratings_ok", "gold medal: ratings", "金牌:评价数", unit="flag", rules=("C3",),
          params=("gold_ratings_min",)),
    _shop("gold_satisfaction_ok", "gold medal: satisfaction", "金牌:满意度", unit="flag",
          rules=("C3",), params=("gold_satisfaction_min",)),
    _shop("gold_medal", "Gold-medal customer service", "金牌客服", unit="flag", rules=("C3",),
          params=(*_GOLD, "experience_score_table"), short=("gold", "金牌"),
            scorecard=True),
)  # fmt: skip

FIGURES: dict[str, Figure] = {f.name: f for f in _DECLARED}

#: The audit relations figures are sums over, in the order their columns are reported.
AUDIT_RELATIONS: tuple[str, ...] = ("rounds", "rating_audit", "refusal_audit")


def of_relation(relation: str) -> list[Figure]:
    """The figures over ``relation``, in declaration order."""
    return [f for f in FIGURES.values() if f.relation == relation]


def aggregated() -> list[Figure]:
    """The figures every level reports (all but the shop's derived ones), in column order."""
    return [f for r in AUDIT_RELATIONS for f in of_relation(r)]


def judged() -> list[Figure]:
    """The figures set beside a line, in the order their line and status columns come."""
    return [f for f in aggregated() if f.line]


def scorecard() -> list[Figure]:
    """The platform's figures of a shop, in the scorecard's order."""
    return [f for f in FIGURES.values() if f.scorecard]


def count_of(relation: str, flag: str) -> Figure:
    """The count figure of ``relation`` over rows with ``flag`` (a ratio's terms).

    >>> count_of("rounds", "responded").name
    'rounds_responded'
    """
    for f in of_relation(relation):
        if f.kind == "count" and f.of == flag:
            return f
    raise KeyError(f"no count of {flag!r} over {relation!r}")
