"""Figures per level, with their lines and qualified / not qualified / not assessed.

A level is a grouping of the audit relations (``rounds``, ``rating_audit``,
``refusal_audit``): shop, agent, agent group, day, hour of day. The figures themselves come
from ``round_figures``, ``rating_figures`` and ``refusal_figures``; this module only groups
them, sets them beside the profile's lines (R7, P5, S6, F2) and, for the shop, adds the
composite score (C1, C2) and gold-medal eligibility (C3).
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.metrics.params import Params, sql_num, sql_str
from kefu.metrics.refusal import refusal_figures
from kefu.metrics.rounds import round_figures
from kefu.metrics.satisfaction import rating_figures


@dataclass(frozen=True)
class Level:
    """A grouping: its name, key columns, and how each audit relation yields them."""

    name: str
    keys: tuple[str, ...]
    key_exprs: tuple[str, ...]
    joins_agents: bool = False
    #: Only rows inside the window make keys (days, hours); a shop or an agent with nothing
    #: in the window still gets its row of zeros, "not assessed".
    window_keys: bool = False


LEVELS: dict[str, Level] = {
    "shop": Level("shop", ("shop_id",), ("x.shop_id",)),
    "agent": Level("agent", ("shop_id", "agent_id"), ("x.shop_id", "x.agent_id")),
    "group": Level(
        "group", ("shop_id", "agent_group"), ("x.shop_id", "g.agent_group"), joins_agents=True
    ),
    "day": Level("day", ("shop_id", "day"), ("x.shop_id", "x.day"), window_keys=True),
    "hour": Level("hour", ("shop_id", "hour"), ("x.shop_id", "x.hour"), window_keys=True),
}

# A dimension listed twice must not double a figure: one row per key (the first value by
# sort order when two rows disagree).
ONE_AGENT = (
    "SELECT shop_id, agent_id, MIN(agent_group) AS agent_group "
    "FROM agents GROUP BY shop_id, agent_id"
)
ONE_SHOP = (
    "SELECT shop_id, MIN(industry) AS industry, MIN(tier) AS tier FROM shops GROUP BY shop_id"
)

ROUND_COLUMNS = (
    "rounds", "rounds_responded", "response_rate",
    "first_response_s", "first_response_median_s", "first_response_p90_s",
    "first_response_consultations",
    "response_s", "response_median_s", "response_p90_s", "response_time_rounds",
)  # fmt: skip
RATING_COLUMNS = (
    "ratings", "ratings_satisfied", "ratings_dissatisfied",
    "satisfaction_rate", "satisfaction_assessed",
)  # fmt: skip
REFUSAL_COLUMNS = ("refusal_prompts", "refusals", "refusal_rate")
COUNT_COLUMNS = {
    "rounds", "rounds_responded", "first_response_consultations", "response_time_rounds",
    "ratings", "ratings_satisfied", "ratings_dissatisfied", "refusal_prompts", "refusals",
}  # fmt: skip


def _part(level: Level, relation: str, figures: str) -> str:
    agents_join = (
        f"LEFT JOIN ({ONE_AGENT}) AS g ON g.shop_id = x.shop_id AND g.agent_id = x.agent_id"
        if level.joins_agents
        else ""
    )
    keys = ", ".join(f"{e} AS {k}" for e, k in zip(level.key_exprs, level.keys, strict=True))
    return f"""
      SELECT {keys}, {figures}
      FROM {relation} AS x {agents_join}
      WHERE {"x.in_window" if level.window_keys else "TRUE"}
      GROUP BY {", ".join(level.key_exprs)}
    """


def _padded(part: str, own: tuple[str, ...], keys: tuple[str, ...]) -> str:
    every = ROUND_COLUMNS + RATING_COLUMNS + REFUSAL_COLUMNS
    cols = [*keys] + [c if c in own else f"NULL AS {c}" for c in every]
    return f"SELECT {', '.join(cols)} FROM ({part}) AS part"


def _merged(level: Level, p: Params) -> str:
    parts = [
        _padded(_part(level, "rounds", round_figures()), ROUND_COLUMNS, level.keys),
        _padded(_part(level, "rating_audit", rating_figures(p)), RATING_COLUMNS, level.keys),
        _padded(_part(level, "refusal_audit", refusal_figures()), REFUSAL_COLUMNS, level.keys),
    ]
    if level.name == "shop":  # every shop in the inputs is assessed, even with no rounds
        shops = "SELECT shop_id FROM shops UNION SELECT shop_id FROM messages"
        parts.append(_padded(f"{shops} UNION SELECT shop_id FROM ratings", (), level.keys))
    keys = ", ".join(level.keys)
    cols = []
    for col in ROUND_COLUMNS + RATING_COLUMNS + REFUSAL_COLUMNS:
        agg = f"MAX({col})"
        if col in COUNT_COLUMNS:
            agg = f"COALESCE({agg}, 0)"
        elif col == "satisfaction_assessed":
            agg = f"COALESCE({agg}, FALSE)"
        cols.append(f"{agg} AS {col}")
    union = " UNION ALL ".join(parts)
    return f"SELECT {keys}, {', '.join(cols)} FROM ({union}) AS u GROUP BY {keys}"


def _first_response_line(p: Params) -> str:
    """P5: 20 s, or 10 s for a gold-tier shop and 15 s for silver."""
    return (
        f"CASE s.tier WHEN 'gold' THEN {p['first_response_max_s_gold']} "
        f"WHEN 'silver' THEN {p['first_response_max_s_silver']} "
        f"ELSE {p['first_response_max_s']} END"
    )


def _response_line(p: Params) -> str:
    """P5: 30 s in general; by industry (30 s apparel, 60 s the others) when it is known."""
    by_industry = p["industry_response_max_s"]
    assert isinstance(by_industry, dict)
    whens = " ".join(f"WHEN s.industry = {sql_str(k)} THEN {v}" for k, v in by_industry.items())
    return (
        f"CASE WHEN s.industry IS NULL OR s.industry = '' THEN {p['response_time_max_s']} "
        f"{whens} ELSE {p['industry_response_max_s_other']} END"
    )


def _status(value: str, ok: str, assessed: str) -> str:
    return (
        f"CASE WHEN NOT ({assessed}) THEN 'not_assessed' "
        f"WHEN {ok} THEN 'qualified' ELSE 'not_qualified' END"
    )


def _score(rate: str, p: Params) -> str:
    """C2: rate → score through the profile's table (assumed): the first row reached."""
    table = p["experience_score_table"]
    assert isinstance(table, list)
    whens = " ".join(f"WHEN {rate} >= {sql_num(lo)} THEN {sql_num(float(s))}" for lo, s in table)
    return f"CASE WHEN {rate} IS NULL THEN NULL {whens} ELSE CAST(0 AS DOUBLE) END"


def _composite(p: Params) -> str:
    """C1: weighted response and satisfaction scores; response alone when S6 fails. C3."""
    w = float(p["experience_weight_response"])  # type: ignore[arg-type]
    w_resp, w_sat = sql_num(w), sql_num(1 - w)
    return f"""
      SELECT *,
        CASE WHEN experience_response_score IS NULL THEN NULL
             WHEN satisfaction_assessed THEN {w_resp} * experience_response_score
                  + {w_sat} * experience_satisfaction_score
             ELSE experience_response_score END AS experience_score
      FROM (SELECT *, {_score("response_rate", p)} AS experience_response_score,
                      {_score("satisfaction_rate", p)} AS experience_satisfaction_score
            FROM lined) AS scored
    """


def _gold(p: Params) -> str:
    return f"""
      SELECT *,
        COALESCE(experience_score >= {sql_num(p["gold_score_min"])}, FALSE) AS gold_score_ok,
        (ratings >= {sql_num(p["gold_ratings_min"])}) AS gold_ratings_ok,
        COALESCE(satisfaction_rate >= {sql_num(p["gold_satisfaction_min"])}, FALSE)
          AS gold_satisfaction_ok
      FROM composite
    """


def level_figures(level_name: str, p: Params) -> str:
    """All figures of one level with their lines and statuses.

    >>> sql = level_figures("shop", params)  # doctest: +SKIP
    """
    level = LEVELS[level_name]
    rate_min, sat_min = sql_num(p["response_rate_min"]), sql_num(p["satisfaction_min"])
    refusal_max = sql_num(p["refusal_rate_max"])
    lined = f"""
      SELECT f.*,
        {rate_min} AS response_rate_line,
        {_status("response_rate", f"response_rate >= {rate_min}", "rounds > 0")}
          AS response_rate_status,
        {_first_response_line(p)} AS first_response_s_line,
        {
        _status(
            "first_response_s",
            f"first_response_s <= {_first_response_line(p)}",
            "first_response_s IS NOT NULL",
        )
    } AS first_response_s_status,
        {_response_line(p)} AS response_s_line,
        {_status("response_s", f"response_s <= {_response_line(p)}", "response_s IS NOT NULL")}
          AS response_s_status,
        {sat_min} AS satisfaction_rate_line,
        {_status("satisfaction_rate", f"satisfaction_rate >= {sat_min}", "satisfaction_assessed")}
          AS satisfaction_rate_status,
        {refusal_max} AS refusal_rate_line,
        {_status("refusal_rate", f"refusal_rate <= {refusal_max}", "refusal_prompts > 0")}
          AS refusal_rate_status
      FROM ({_merged(level, p)}) AS f
      LEFT JOIN ({ONE_SHOP}) AS s ON s.shop_id = f.shop_id
    """
    if level_name != "shop":
        return f"SELECT * FROM ({lined}) AS l ORDER BY {', '.join(level.keys)}"
    return f"""
      WITH lined AS ({lined}), composite AS ({_composite(p)}), gold AS ({_gold(p)})
      SELECT *,
        (gold_score_ok AND gold_ratings_ok AND gold_satisfaction_ok) AS gold_medal
      FROM gold ORDER BY shop_id
    """
