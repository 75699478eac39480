"""Every figure as sums over cells: the re-aggregatable form of the registry's figures.

A cell is the rows of one audit relation that share a shop, an agent, a local day and an
hour: how many rows there are, how many carry each flag a figure counts (``n_counted``),
and the sum and count of each value a figure averages over a flag (``sum_wait_s_in_average``,
``n_wait_s_in_average``). Sums and counts add up across days and across runs, so a window's
figures are the sums of its days' cells — never a mean of means. A quantile does not add
up; it is kept exact as the number of rows at each distinct value
(``counts_rounds_wait_s``: waits are to the millisecond, so a day has a few thousand
distinct values at most), and read back by the same interpolation ``quantile_cont`` uses.

Which columns a cell has, and how each figure is read back from the sums, come from the
registry's kinds (``kefu.metrics.registry``), exactly as the row form does
(``kefu.metrics.figures``): a figure declared once is computed both ways.

>>> cell_columns("refusal_audit")
['n_counted', 'n_refused']
"""

from __future__ import annotations

import datetime as dt

from kefu.metrics import registry
from kefu.metrics.figures import (
    AGENTS_JOIN,
    KEY_EXPRS,
    LEVELS,
    grouping_bits,
    key_column,
    null_column,
    padded_keys,
    quantile_columns,
    quantile_parts,
    relation_parts,
)
from kefu.metrics.params import Params
from kefu.metrics.registry import Figure
from kefu.metrics.templates import DIALECT, literal

#: The keys of a cell: the finest grain every level is a grouping of (the group comes
#: from the agent, joined when the levels are read, so a moved agent moves all their days).
CELL_KEYS = ("shop_id", "agent_id", "day", "hour")


def _counted_flags(relation: str) -> list[str]:
    """The flags whose rows a figure of ``relation`` counts (counts, ratios, thresholds)."""
    flags: list[str] = []
    for f in registry.of_relation(relation):
        if f.kind in ("count", "ratio", "at_least"):
            flags += [str(f.of)] + ([str(f.over)] if f.over else [])
    return list(dict.fromkeys(flags))


def _means(relation: str) -> list[Figure]:
    return [f for f in registry.of_relation(relation) if f.kind == "mean"]


def _quantiles(relation: str, value: str) -> list[Figure]:
    return [f for f in registry.of_relation(relation) if f.kind == "quantile" and f.value == value]


def quantile_values(relation: str) -> list[str]:
    """The values of ``relation`` some quantile is taken of (``wait_s`` for rounds)."""
    values = (str(f.value) for f in registry.of_relation(relation) if f.kind == "quantile")
    return list(dict.fromkeys(values))


def cell_columns(relation: str) -> list[str]:
    """The sums a cell of ``relation`` keeps, besides its keys and ``rows``."""
    cols = [f"n_{flag}" for flag in _counted_flags(relation)]
    for f in _means(relation):
        cols += [f"sum_{f.value}_{f.of}", f"n_{f.value}_{f.of}"]
    return list(dict.fromkeys(cols))


def cells_sql(relation: str, rows: str) -> str:
    """SQL of the cells of ``relation``'s rows in table or view ``rows``."""
    keys = ", ".join(CELL_KEYS)
    cols = [f"COUNT(CASE WHEN {flag} THEN 1 END) AS n_{flag}" for flag in _counted_flags(relation)]
    for f in _means(relation):
        cols += [
            f"SUM(CASE WHEN {f.of} THEN {f.value} END) AS sum_{f.value}_{f.of}",
            f"COUNT(CASE WHEN {f.of} AND {f.value} IS NOT NULL THEN 1 END) AS n_{f.value}_{f.of}",
        ]
    cols = list(dict.fromkeys(cols))
    return f"SELECT {keys}, COUNT(*) AS rows, {', '.join(cols)} FROM {rows} GROUP BY {keys}"


def counts_name(relation: str, value: str) -> str:
    """The name of the value counts of ``relation``'s quantiles of ``value``."""
    return f"counts_{relation}_{value}"


def value_counts_sql(relation: str, value: str, rows: str) -> str:
    """SQL of the rows of ``rows`` at each distinct ``value``, per cell and quantile flag."""
    flags = list(dict.fromkeys(str(f.of) for f in _quantiles(relation, value)))
    keys = ", ".join(CELL_KEYS)
    picked = " OR ".join(f"({flag})" for flag in flags)
    cols = ", ".join(f"COUNT(CASE WHEN {flag} THEN 1 END) AS n_{flag}" for flag in flags)
    return f"""
      SELECT {keys}, {value} AS v, COUNT(*) AS rows, {cols}
      FROM {rows}
      WHERE ({picked}) AND {value} IS NOT NULL
      GROUP BY {keys}, {value}
    """


def _days(p: Params) -> tuple[str, str]:
    """The window's first day and the day after its last, as SQL dates (T2: midnights)."""
    first: dt.date = p.window_start.date()
    end: dt.date = p.window_end.date()
    return f"DATE '{first.isoformat()}'", f"DATE '{end.isoformat()}'"


def _in_window(p: Params) -> str:
    first, end = _days(p)
    return f"(x.day >= {first} AND x.day < {end})"


def _windowed(column: str, p: Params) -> str:
    return f"SUM(CASE WHEN {_in_window(p)} THEN x.{column} END)"


def _count(flag: str, p: Params) -> str:
    return f"CAST(COALESCE({_windowed(f'n_{flag}', p)}, 0) AS BIGINT)"


def merged(figure: Figure, p: Params) -> str:
    """SQL of one figure over a group of cells: :func:`kefu.metrics.figures.aggregate`'s
    definition, read back from the sums of the window's cells."""
    match figure.kind:
        case "count":
            return _count(str(figure.of), p)
        case "ratio":
            of, over = _count(str(figure.of), p), _count(str(figure.over), p)
            return f"CAST({of} AS DOUBLE) / NULLIF({over}, 0)"
        case "mean":
            total = _windowed(f"sum_{figure.value}_{figure.of}", p)
            n = _windowed(f"n_{figure.value}_{figure.of}", p)
            return f"{total} / NULLIF({n}, 0)"
        case "at_least":
            threshold = literal(p[str(figure.threshold)]).sql(DIALECT)  # type: ignore[arg-type]
            return f"({_count(str(figure.of), p)} >= {threshold})"
    raise ValueError(f"{figure.name}: a {figure.kind} figure is not read from cells")


def _cell_parts(relation: str, cells: str, p: Params) -> str:
    """``relation``'s figures but its quantiles at every level from its cells (as
    ``kefu.metrics.figures.relation_parts`` does from its rows)."""
    keys = [f"{e} AS {key_column(e)}" for e in KEY_EXPRS]
    cols = [
        f"{merged(f, p)} AS {f.name}"
        if f.relation == relation and f.kind != "quantile"
        else null_column(f)
        for f in registry.aggregated()
    ]
    sets = ", ".join(f"({', '.join(lv.key_exprs)})" for lv in LEVELS.values())
    return f"""
      SELECT GROUPING({", ".join(KEY_EXPRS)}) AS grouping_bits, {", ".join(keys)},
             CAST(COALESCE({_windowed("rows", p)}, 0) AS BIGINT) AS window_rows,
             {", ".join(cols)}
      FROM {cells} AS x {AGENTS_JOIN}
      GROUP BY GROUPING SETS ({sets})
    """


def _value_at(flag: int, rank: str) -> str:
    """The smallest value whose running count of flag ``flag`` reaches ``rank`` (1-based)."""
    return f"MIN(CASE WHEN cum_{flag} >= {rank} THEN v END)"


def _interpolated(figure: Figure, flag: int) -> str:
    """``quantile_cont`` over value counts: h = (n − 1)·q, the value at 0-based position
    ⌊h⌋ plus (h − ⌊h⌋) times the step to the one at ⌈h⌉, as over the rows themselves."""
    h = f"((n_{flag} - 1) * {figure.q})"
    low, high = _value_at(flag, f"FLOOR({h}) + 1"), _value_at(flag, f"CEIL({h}) + 1")
    fraction = f"MAX({h} - FLOOR({h}))"
    return f"CASE WHEN MAX(n_{flag}) > 0 THEN {low} + {fraction} * ({high} - {low}) END"


def _counted_quantile_parts(relation: str, value: str, counts: str, p: Params) -> list[str]:
    """``relation``'s quantiles of ``value`` at every level, from the window's value counts."""
    figures = _quantiles(relation, value)
    flags = list(dict.fromkeys(str(f.of) for f in figures))
    parts = []
    for level in LEVELS.values():
        keys = [f"k_{key_column(e)}" for e in level.key_exprs]
        inner = [f"{e} AS k_{key_column(e)}" for e in level.key_exprs]
        summed = [f"SUM(x.n_{flag}) AS c_{i}" for i, flag in enumerate(flags)]
        group = f"PARTITION BY {', '.join(keys)}"
        running = [
            f"SUM(c_{i}) OVER ({group} ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND "
            f"CURRENT ROW) AS cum_{i}, SUM(c_{i}) OVER ({group}) AS n_{i}"
            for i in range(len(flags))
        ]
        out = padded_keys(level)
        cols = quantile_columns(figures, flags, _interpolated)
        parts.append(f"""
          SELECT {grouping_bits(level)} AS grouping_bits, {", ".join(out)},
                 CAST(SUM(window_rows) AS BIGINT) AS window_rows, {", ".join(cols)}
          FROM (
            SELECT *, {", ".join(running)}
            FROM (
              SELECT {", ".join(inner)}, x.v, SUM(x.rows) AS window_rows, {", ".join(summed)}
              FROM {counts} AS x {AGENTS_JOIN}
              WHERE {_in_window(p)}
              GROUP BY {", ".join(keys)}, x.v
            ) AS c
          ) AS r
          GROUP BY {", ".join(keys)}
        """)
    return parts


def cells_name(relation: str) -> str:
    """The name of ``relation``'s cells: ``cells_rounds``."""
    return f"cells_{relation}"


def level_parts_from_cells(p: Params, from_rows: frozenset[str] = frozenset()) -> str:
    """SQL of ``level_parts`` (as :func:`kefu.metrics.figures.level_parts` has it) with each
    audit relation read from its cells (:func:`cells_name`, and :func:`counts_name` for its
    quantiles), or from its rows when it is in ``from_rows``.

    Rows are judged by ``p``'s window as the row form judges them; cells by their days. The
    names are logical: bind them to tables with ``kefu.metrics.templates.qualify``.
    """
    parts: list[str] = []
    for relation in registry.AUDIT_RELATIONS:
        if relation in from_rows:
            parts += [relation_parts(relation, p), *quantile_parts(relation)]
            continue
        parts.append(_cell_parts(relation, cells_name(relation), p))
        for value in quantile_values(relation):
            parts += _counted_quantile_parts(relation, value, counts_name(relation, value), p)
    return " UNION ALL ".join(parts)
