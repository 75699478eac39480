"""Explain a figure: the rounds, ratings or refusal prompts behind it, each with its reason.

The rows are the engine's own audit relations, filtered to a shop (and an agent or a day);
nothing is recomputed. Summing them reproduces the figure:

each figure's registry entry (``kefu.metrics.registry``) says how: ``rounds = Σ counted``,
``response_rate = Σ responded / Σ counted``, ``response_s = mean(wait_s | in_average)``,
``satisfaction_rate = Σ satisfied / Σ counted``, ``refusal_rate = Σ refused / Σ counted`` …
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from kefu.api import Result
from kefu.metrics import registry
from kefu.metrics.params import sql_str
from kefu.metrics.registry import Figure
from kefu.report.catalog import outcome_text

KINDS = {
    "rounds": (
        "rounds",
        "buyer_id, round_no, start_ts, answer_ts, wait_s, agent_id, buyer_messages, "
        "counted, responded, in_average, in_first_average, outcome, time_note",
        "start_ts, buyer_id, round_no",
    ),
    "ratings": (
        "rating_audit",
        "buyer_id, agent_id, ts, score, source, counted, satisfied, dissatisfied, status",
        "ts, buyer_id, file_no, row_no",
    ),
    "refusals": (
        "refusal_audit",
        "buyer_id, agent_id, ts, refusal_ts, counted, refused, status",
        "ts, buyer_id",
    ),
}

#: The audit relation of each explain kind.
RELATION_KIND = {relation: kind for kind, (relation, _, _) in KINDS.items()}

#: Each figure summed over an audit relation, by the explain kind that lists its rows.
FIGURE_KIND = {
    f.name: RELATION_KIND[f.relation]
    for f in registry.aggregated()
    if f.relation in RELATION_KIND and f.kind != "at_least"
}


@dataclass
class Explanation:
    kind: str
    rows: pa.Table

    def totals(self) -> dict[str, float | int | None]:
        """The figures as sums over the rows (they equal the engine's figures).

        From each figure's registry entry: a count is Σ flag, a ratio Σ of / Σ over, a mean
        or a quantile is taken over the rows with the flag.
        """
        relation = KINDS[self.kind][0]
        return {
            f.name: _total(f, self.rows)
            for f in registry.of_relation(relation)
            if f.name in FIGURE_KIND
        }


def _count(rows: pa.Table, flag: str) -> int:
    return int(pc.sum(pc.cast(rows[flag], pa.int64())).as_py() or 0) if rows.num_rows else 0


def _total(f: Figure, rows: pa.Table) -> float | int | None:
    if f.kind == "count":
        return _count(rows, str(f.of))
    if f.kind == "ratio":
        over = _count(rows, str(f.over))
        return _count(rows, str(f.of)) / over if over else None
    chosen = pc.filter(rows[str(f.value)], rows[str(f.of)].fill_null(False))
    if not len(chosen):
        return None
    if f.kind == "mean":
        return float(pc.mean(chosen).as_py())
    return float(pc.quantile(chosen, q=f.q, interpolation="linear")[0].as_py())


def _with_reasons(table: pa.Table, kind: str, result: Result, lang: str) -> pa.Table:
    code_col = "outcome" if kind == "rounds" else "status"
    texts = [outcome_text(c, lang, result.profile) for c in table[code_col].to_pylist()]
    if kind == "rounds":
        notes = [outcome_text(c, lang, result.profile) for c in table["time_note"].to_pylist()]
        texts = [f"{t}; {n}" if n else t for t, n in zip(texts, notes, strict=True)]
    return table.append_column("reason", pa.array(texts, pa.string()))


def check_figure(figure: str) -> str:
    """``figure`` if it can be explained, else a ``ValueError`` listing what can.

    >>> check_figure("response_rate")
    'response_rate'
    """
    if figure not in FIGURE_KIND and figure not in KINDS:
        known = ", ".join([*KINDS, *FIGURE_KIND])
        raise ValueError(f"cannot explain {figure!r}; explainable: {known}")
    return figure


def _listing(values: list[str], most: int = 10) -> str:
    return ", ".join(values[:most]) + (" …" if len(values) > most else "") or "none"


def _check_scope(result: Result, shop_id: str, agent_id: str | None, day: dt.date | None) -> None:
    """A shop, agent and day that are not in the assessment are an error, not an empty table."""
    shops = [str(s) for s in result.figures["shop"]["shop_id"].to_pylist()]
    if shop_id not in shops:
        raise ValueError(f"shop {shop_id!r} is not in the data (shops: {_listing(shops)})")
    if agent_id is not None:
        union = " UNION ".join(
            f"SELECT agent_id FROM {relation} WHERE shop_id = {sql_str(shop_id)}"
            for relation, _, _ in KINDS.values()
        )
        found = result.assessment.query(
            f"SELECT DISTINCT agent_id FROM ({union}) WHERE agent_id IS NOT NULL ORDER BY 1"
        )
        agents = [str(a) for a in found["agent_id"].to_pylist()]
        if agent_id not in agents:
            raise ValueError(
                f"agent {agent_id!r} is not in shop {shop_id!r} (agents: {_listing(agents)})"
            )
    p = result.params
    first, last = p.window_start.date(), (p.window_end - dt.timedelta(days=1)).date()
    if day is not None and not first <= day <= last:
        raise ValueError(f"day {day} is outside the window {first} – {last}")


def explain(
    result: Result,
    figure: str,
    shop_id: str,
    agent_id: str | None = None,
    day: dt.date | str | None = None,
    lang: str = "en",
) -> Explanation:
    """The audit rows behind ``figure`` for a shop (optionally one agent, one day).

    A shop, an agent or a day the assessment does not have raises ``ValueError`` naming
    the ones it has (an empty table would read as "nothing happened").
    """
    kind = FIGURE_KIND.get(check_figure(figure), figure)
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            raise ValueError(f"day {day!r}: not a date (YYYY-MM-DD)") from None
    _check_scope(result, shop_id, agent_id, day)
    relation, columns, order = KINDS[kind]
    where = [f"shop_id = {sql_str(shop_id)}"]
    if agent_id is not None:
        where.append(f"agent_id = {sql_str(agent_id)}")
    if day is not None:
        day_col = "start_ts" if kind == "rounds" else "ts"
        where.append(f"CAST({day_col} AS DATE) = DATE {sql_str(str(day))}")
    rows = result.assessment.query(
        f"SELECT {columns} FROM {relation} WHERE {' AND '.join(where)} ORDER BY {order}"
    )
    return Explanation(kind, _with_reasons(rows, kind, result, lang))
