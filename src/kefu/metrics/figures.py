"""Figures per level, with their lines and qualified / not qualified / not assessed.

A level is a grouping of the audit relations (``rounds``, ``rating_audit``,
``refusal_audit``): shop, agent, agent group, day, hour of day. What each figure
aggregates, its line and when it is assessed all come from the registry
(``kefu.metrics.registry``); this module turns them into one query per level, sets the
figures beside the profile's lines (R7, P5, S6, F2) and, for the shop, adds the composite
score (C1, C2) and gold-medal eligibility (C3) from ``sql/shop_experience.sql``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from kefu.metrics import lines, registry
from kefu.metrics.params import Params
from kefu.metrics.registry import Figure
from kefu.metrics.templates import DIALECT, literal, parsed_tree, qualify, render


@dataclass(frozen=True)
class Level:
    """A grouping: its name, key columns, and how each audit relation yields them."""

    name: str
    keys: tuple[str, ...]
    key_exprs: tuple[str, ...]
    #: Only rows inside the window make keys (days, hours); a shop or an agent with nothing
    #: in the window still gets its row of zeros, "not assessed".
    window_keys: bool = False


LEVELS: dict[str, Level] = {
    "shop": Level("shop", ("shop_id",), ("x.shop_id",)),
    "agent": Level("agent", ("shop_id", "agent_id"), ("x.shop_id", "x.agent_id")),
    "group": Level("group", ("shop_id", "agent_group"), ("x.shop_id", "g.agent_group")),
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


def _flagged(flag: str) -> str:
    return f"COUNT(CASE WHEN {flag} THEN 1 END)"


def aggregate(figure: Figure, p: Params) -> str:
    """SQL of one figure over a group of its relation's rows, from its registry entry.

    >>> aggregate(registry.FIGURES["response_rate"], params)  # doctest: +SKIP
    'CAST(COUNT(CASE WHEN responded THEN 1 END) AS DOUBLE) / NULLIF(COUNT(...), 0)'
    """
    match figure.kind:
        case "count":
            return _flagged(str(figure.of))
        case "ratio":
            of, over = _flagged(str(figure.of)), _flagged(str(figure.over))
            return f"CAST({of} AS DOUBLE) / NULLIF({over}, 0)"
        case "mean":
            return f"AVG(CASE WHEN {figure.of} THEN {figure.value} END)"
        case "quantile":
            return f"quantile_cont(CASE WHEN {figure.of} THEN {figure.value} END, {figure.q})"
        case "at_least":
            threshold = literal(p[str(figure.threshold)]).sql(DIALECT)  # type: ignore[arg-type]
            return f"({_flagged(str(figure.of))} >= {threshold})"
    raise ValueError(f"{figure.name}: a {figure.kind} figure is not aggregated per level")


#: The SQL type of each kind of figure, and of each key: a NULL that pads a part of a UNION
#: is cast to it, since an engine that types a bare NULL as text (PostgreSQL) cannot then
#: unite it with a number.
KIND_TYPES = {"count": "BIGINT", "ratio": "DOUBLE", "mean": "DOUBLE", "quantile": "DOUBLE"}
KIND_TYPES |= {"at_least": "BOOLEAN"}
KEY_TYPES = {"shop_id": "VARCHAR", "agent_id": "VARCHAR", "agent_group": "VARCHAR"}
KEY_TYPES |= {"day": "DATE", "hour": "BIGINT"}


def null_column(figure: Figure) -> str:
    return f"CAST(NULL AS {KIND_TYPES[figure.kind]}) AS {figure.name}"


def _merged_value(figure: Figure) -> str:
    """A figure's value once its relation's part is merged with the others (zero if absent)."""
    value = f"MAX({figure.name})"
    if figure.kind == "count":
        return f"COALESCE({value}, 0)"
    if figure.kind == "at_least":  # one part has it: BOOL_OR, since MAX(boolean) is not SQL
        return f"COALESCE(BOOL_OR({figure.name}), FALSE)"
    return value


#: Every key expression of the levels, in the order of ``grouping_bits``.
KEY_EXPRS: tuple[str, ...] = tuple(dict.fromkeys(e for lv in LEVELS.values() for e in lv.key_exprs))


def grouping_bits(level: Level) -> int:
    """``GROUPING(...)`` of the level's grouping set over :data:`KEY_EXPRS` (SQL's bitmask:
    a bit is set for a key the set does not group by, the first key the highest bit)."""
    bits = [0 if e in level.key_exprs else 1 for e in KEY_EXPRS]
    return int("".join(map(str, bits)), 2)


AGENTS_JOIN = f"LEFT JOIN ({ONE_AGENT}) AS g ON g.shop_id = x.shop_id AND g.agent_id = x.agent_id"


def key_column(e: str) -> str:
    return e.split(".")[1]


def quantile_columns(
    figures: list[Figure], flags: list[str], interpolated: Callable[[Figure, int], str]
) -> list[str]:
    """Every figure column of a quantile part: ``figures`` by ``interpolated(figure, i)``
    (``i`` the index of its flag in ``flags``), the others NULL of their type."""
    return [
        f"{interpolated(f, flags.index(str(f.of)))} AS {f.name}" if f in figures else null_column(f)
        for f in registry.aggregated()
    ]


def padded_keys(level: Level) -> list[str]:
    """Every level key column of a part of ``level_parts``: the level's own (``k_*`` of the
    part's groups), the others NULL of their type."""
    return [
        f"k_{key_column(e)} AS {key_column(e)}"
        if e in level.key_exprs
        else f"CAST(NULL AS {KEY_TYPES[key_column(e)]}) AS {key_column(e)}"
        for e in KEY_EXPRS
    ]


def relation_parts(relation: str, p: Params) -> str:
    """One relation's figures but its quantiles, for every level in one scan (GROUPING
    SETS), NULL-padded."""
    keys = [f"{e} AS {key_column(e)}" for e in KEY_EXPRS]
    cols = [
        f"{aggregate(f, p)} AS {f.name}"
        if f.relation == relation and f.kind != "quantile"
        else null_column(f)
        for f in registry.aggregated()
    ]
    sets = ", ".join(f"({', '.join(lv.key_exprs)})" for lv in LEVELS.values())
    return f"""
      SELECT GROUPING({", ".join(KEY_EXPRS)}) AS grouping_bits, {", ".join(keys)},
             COUNT(CASE WHEN x.in_window THEN 1 END) AS window_rows, {", ".join(cols)}
      FROM {relation} AS x {AGENTS_JOIN}
      GROUP BY GROUPING SETS ({sets})
    """


def _interpolated(figure: Figure, flag: int) -> str:
    """``quantile_cont``'s definition over ranked rows: with ``n`` rows of the flag sorted
    by value, h = (n − 1)·q, the value at 0-based position ⌊h⌋ plus (h − ⌊h⌋) times the
    step to the one at ⌈h⌉ (rank ``r_i`` is 1-based; ``n_i`` is on every row)."""
    h = f"((n_{flag} - 1) * {figure.q})"
    at = f"MAX(CASE WHEN f_{flag} AND r_{flag} = {{}}({h}) + 1 THEN v END)"
    low, high = at.format("FLOOR"), at.format("CEIL")
    fraction = f"MAX({h} - FLOOR({h}))"
    return f"{low} + {fraction} * ({high} - {low})"


def quantile_parts(relation: str) -> list[str]:
    """The relation's quantiles at every level, by one sort per level and value.

    A holistic aggregate keeps every value of every group in memory, which no memory cap
    can spill (a year of 100 M messages ran out of memory at 4 GB); a window sorts, and a
    sort spills. So the rows of each quantile's flag are ranked by value within the level's
    groups, and the two ranks around the quantile's position are interpolated exactly as
    ``quantile_cont`` does (linear, h = (n − 1)·q).
    """
    quantiles = [f for f in registry.of_relation(relation) if f.kind == "quantile"]
    parts = []
    for value in dict.fromkeys(str(f.value) for f in quantiles):
        figures = [f for f in quantiles if f.value == value]
        flags = list(dict.fromkeys(str(f.of) for f in figures))
        picked = " OR ".join(f"({flag})" for flag in flags)
        for level in LEVELS.values():
            keys = [f"k_{key_column(e)}" for e in level.key_exprs]
            inner = [f"{e} AS k_{key_column(e)}" for e in level.key_exprs]
            inner += [f"({flag}) AS f_{i}" for i, flag in enumerate(flags)]
            group = f"PARTITION BY {', '.join(keys)}"
            ranks = [
                f"SUM(CASE WHEN f_{i} THEN 1 ELSE 0 END) OVER ({group} ORDER BY v "
                f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS r_{i}, "
                f"COUNT(CASE WHEN f_{i} THEN 1 END) OVER ({group}) AS n_{i}"
                for i in range(len(flags))
            ]
            out = padded_keys(level)
            cols = quantile_columns(figures, flags, _interpolated)
            parts.append(f"""
              SELECT {grouping_bits(level)} AS grouping_bits, {", ".join(out)},
                     COUNT(CASE WHEN in_window THEN 1 END) AS window_rows, {", ".join(cols)}
              FROM (
                SELECT *, {", ".join(ranks)}
                FROM (
                  SELECT {", ".join(inner)}, x.in_window, {value} AS v
                  FROM {relation} AS x {AGENTS_JOIN}
                  WHERE ({picked}) AND {value} IS NOT NULL
                ) AS q
              ) AS r
              GROUP BY {", ".join(keys)}
            """)
    return parts


def level_parts(p: Params) -> str:
    """SQL of ``level_parts``: every audit relation's figures at every level, one scan each
    (and one sort per level for the quantiles).

    A level's rows are those with its ``grouping_bits``; the levels whose keys only rows
    inside the window make (days, hours) keep the keys with ``window_rows`` > 0.
    """
    parts = [relation_parts(r, p) for r in registry.AUDIT_RELATIONS]
    parts += [q for r in registry.AUDIT_RELATIONS for q in quantile_parts(r)]
    return " UNION ALL ".join(parts)


def _merged(level: Level) -> str:
    keys = ", ".join(level.keys)
    where = f"grouping_bits = {grouping_bits(level)}"
    if level.window_keys:
        where += " AND window_rows > 0"
    figures = ", ".join(f.name for f in registry.aggregated())
    parts = f"SELECT {keys}, {figures} FROM level_parts WHERE {where}"
    if level.name == "shop":  # every shop in the inputs is assessed, even with no rounds
        nulls = ", ".join(null_column(f) for f in registry.aggregated())
        shops = "SELECT shop_id FROM shops UNION SELECT shop_id FROM messages UNION "
        parts += (
            f" UNION ALL SELECT shop_id, {nulls} FROM ({shops} SELECT shop_id FROM ratings) AS k"
        )
    cols = ", ".join(f"{_merged_value(f)} AS {f.name}" for f in registry.aggregated())
    return f"SELECT {keys}, {cols} FROM ({parts}) AS u GROUP BY {keys}"


def _assessed(figure: Figure) -> str:
    """When ``figure`` is judged at all: its ``assessed`` figure is positive (or true)."""
    basis = registry.FIGURES[str(figure.assessed)]
    return basis.name if basis.kind == "at_least" else f"{basis.name} > 0"


def _judged(figure: Figure, p: Params) -> str:
    """The figure's line and status columns (R7, P5, S6, F2)."""
    line = lines.line(str(figure.line), p).sql(DIALECT)
    meets = ">=" if figure.better == "higher" else "<="
    status = (
        f"CASE WHEN NOT ({_assessed(figure)}) THEN 'not_assessed' "
        f"WHEN {figure.name} {meets} {line} THEN 'qualified' ELSE 'not_qualified' END"
    )
    return f"{line} AS {figure.name}_line, {status} AS {figure.name}_status"


def _lined(level: Level, p: Params) -> str:
    judged = ", ".join(_judged(f, p) for f in registry.judged())
    return f"""
      SELECT f.*, {judged}
      FROM ({_merged(level)}) AS f
      LEFT JOIN ({ONE_SHOP}) AS s ON s.shop_id = f.shop_id
    """


def level_query(level_name: str, p: Params, names: Mapping[str, str]) -> exp.Expression:
    """All figures of one level with their lines and statuses, as a bound sqlglot tree.

    ``names`` maps the relations and input tables read to one assessment's names.
    """
    level = LEVELS[level_name]
    lined = parsed_tree(sqlglot.parse_one(_lined(level, p), read=DIALECT))
    if level_name != "shop":
        subquery = exp.Subquery(this=lined, alias=exp.TableAlias(this=exp.to_identifier("l")))
        tree = exp.select("*").from_(subquery).order_by(*level.keys)
        return qualify(tree, names)
    scores = {
        "response_score": lines.score("response_rate", p),
        "satisfaction_score": lines.score("satisfaction_rate", p),
    }
    shop = render("shop_experience", {**p.values(), **scores}, {})
    assert isinstance(shop, exp.Select)
    # shop_lines comes first: the template's own CTEs read it.
    cte = exp.CTE(this=lined, alias=exp.TableAlias(this=exp.to_identifier("shop_lines")))
    shop.args["with_"].expressions.insert(0, cte)
    return qualify(shop.order_by("shop_id"), names)
