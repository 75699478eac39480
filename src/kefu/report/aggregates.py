"""Figures the report needs that the levels do not carry, as SQL over the audit relations.

The engine's levels (shop, agent, group, day, hour) cover most of the report. The few
groupings they lack — weekday × hour, half-hour slots, response-time bins, rating scores,
the drill-down rows — are queried here from the same audit relations (``rounds``,
``rating_audit``, ``agent_days``, ``stream_events``) with the same flags the figures use
(``counted``, ``responded``, ``satisfied``; rules R5–R7, S1–S5), so every number sums to
the engine's figure. Everything is aggregated in the engine; Python only receives the
(small) results. Queries filter one shop, so a report over a big marketplace reads only
that shop's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from kefu.api import Result
from kefu.metrics import registry
from kefu.metrics.figures import aggregate
from kefu.metrics.params import sql_str
from kefu.metrics.relations import STREAM_ORDER

#: T3's order, qualified for a query that joins message texts (same columns, same order).
M_ORDER = "ORDER BY " + ", ".join(f"m.{key}" for key in STREAM_ORDER)

#: Response-time bin edges in seconds (bins are ``(lo, hi]``; the first is ``[0, 5]``).
#: The profile's own marks (P5 lines, R6 limit, P2 cap) are added to these edges.
BASE_EDGES = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800)


@dataclass(frozen=True)
class Drill:
    """A capped drill-down list: the rows shown and how many there are in all."""

    rows: list[dict[str, Any]]
    total: int

    @property
    def more(self) -> int:
        """Rows left out by the cap (shown as a note, never silently dropped)."""
        return self.total - len(self.rows)


def _query(result: Result, sql: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = result.assessment.query(sql).to_pylist()
    return rows


def _shop(shop_id: str) -> str:
    return f"shop_id = {sql_str(shop_id)}"


def _date(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _round_figures_by(result: Result, shop_id: str, keys: str) -> list[dict[str, Any]]:
    """The round figures from their one definition (the registry), grouped by ``keys``."""
    figures = ", ".join(
        f"{aggregate(f, result.params)} AS {f.name}" for f in registry.of_relation("rounds")
    )
    return _query(
        result,
        f"""
        SELECT *, rounds - rounds_responded AS missed FROM (
          SELECT {keys}, {figures}
          FROM rounds WHERE {_shop(shop_id)} GROUP BY ALL
        ) AS f WHERE rounds > 0 ORDER BY ALL
        """,
    )


def weekday_hour(result: Result, shop_id: str) -> list[dict[str, Any]]:
    """Counted and missed rounds per ISO weekday (1 = Monday) and hour of day (R5–R7, T1)."""
    keys = "CAST(isodow(day) AS INTEGER) AS weekday, CAST(hour AS INTEGER) AS hour"
    rows = _round_figures_by(result, shop_id, keys)
    return [{k: r[k] for k in ("weekday", "hour", "rounds", "missed")} for r in rows]


def slots(result: Result, shop_id: str, minutes: int = 30) -> list[dict[str, Any]]:
    """Counted and missed rounds and the 3-minute rate per slot of the day (R5–R7).

    ``slot`` numbers the ``minutes``-long slots from 00:00; ``start_min`` is its start in
    minutes after midnight.
    """
    slot = f"CAST(FLOOR((hour(start_ts) * 60 + minute(start_ts)) / {int(minutes)}) AS INTEGER)"
    rows = _round_figures_by(result, shop_id, f"{slot} AS slot")
    return [
        {
            "slot": r["slot"],
            "start_min": r["slot"] * minutes,
            "rounds": r["rounds"],
            "missed": r["missed"],
            "response_rate": r["response_rate"],
        }
        for r in rows
    ]


def outcomes(result: Result, shop_id: str) -> dict[str, int]:
    """Counted rounds by outcome (``responded``, ``over_limit``, ``after_midnight`` …; R6)."""
    rows = _query(
        result,
        f"SELECT outcome, COUNT(*) AS n FROM rounds WHERE {_shop(shop_id)} AND counted "
        "GROUP BY outcome ORDER BY outcome",
    )
    return {r["outcome"]: r["n"] for r in rows}


def wait_edges(marks: list[float]) -> list[float]:
    """Bin edges: the base edges plus every mark, so a mark always falls on an edge."""
    return sorted({float(e) for e in (*BASE_EDGES, *marks) if e > 0})


def wait_bins(result: Result, shop_id: str, edges: list[float]) -> list[dict[str, Any]]:
    """Counted rounds with a human answer per response-time bin ``(lo, hi]`` (P1, R6).

    One row per bin, ``bin`` 0 … len(edges) (the last is "over the last edge"), with
    ``rounds``; bins with no round are included with 0. A round answered after midnight is
    in its bin (it has a response time, P2) though R6 counts it as missed.
    """
    whens = " ".join(f"WHEN wait_s <= {e!r} THEN {i}" for i, e in enumerate(edges))
    bins = ", ".join(f"({i})" for i in range(len(edges) + 1))
    return _query(
        result,
        f"""
        SELECT b.bin, COALESCE(c.rounds, 0) AS rounds
        FROM (VALUES {bins}) AS b(bin)
        LEFT JOIN (
          SELECT CASE {whens} ELSE {len(edges)} END AS bin, COUNT(*) AS rounds
          FROM rounds
          WHERE {_shop(shop_id)} AND counted AND answer_ts IS NOT NULL
          GROUP BY 1
        ) AS c ON c.bin = b.bin
        ORDER BY b.bin
        """,
    )


def unanswered(result: Result, shop_id: str) -> int:
    """Counted rounds with no human answer at all (``unanswered``, ``bot_only``; R2, R6)."""
    rows = _query(
        result,
        f"SELECT COUNT(*) AS n FROM rounds WHERE {_shop(shop_id)} AND counted "
        "AND answer_ts IS NULL",
    )
    return int(rows[0]["n"])


def scores(result: Result, shop_id: str) -> dict[int, int]:
    """Counted ratings per score 1–5 (S1, S3–S5); scores with no rating are 0."""
    rows = _query(
        result,
        f"""
        SELECT s.score, COALESCE(c.n, 0) AS n
        FROM (VALUES (1), (2), (3), (4), (5)) AS s(score)
        LEFT JOIN (SELECT score, COUNT(*) AS n FROM rating_audit
                   WHERE {_shop(shop_id)} AND counted GROUP BY score) AS c
          ON c.score = s.score
        ORDER BY s.score
        """,
    )
    return {r["score"]: r["n"] for r in rows}


def agent_info(result: Result, shop_id: str) -> dict[str, dict[str, Any]]:
    """Per agent: display name, group, days worked and mean consultations per day (E1)."""
    rows = _query(
        result,
        f"""
        SELECT COALESCE(a.agent_id, d.agent_id) AS agent_id, a.name, a.agent_group,
               COALESCE(d.days, 0) AS days, d.consultations_per_day
        FROM (SELECT agent_id, MIN(name) AS name, MIN(agent_group) AS agent_group
              FROM agents WHERE {_shop(shop_id)} GROUP BY agent_id) AS a
        FULL JOIN (SELECT agent_id, COUNT(*) AS days,
                          AVG(consultations) AS consultations_per_day
                   FROM agent_days WHERE {_shop(shop_id)} GROUP BY agent_id) AS d
          ON d.agent_id = a.agent_id
        """,
    )
    return {r["agent_id"]: r for r in rows}


@dataclass(frozen=True)
class Counts:
    """Counted and good items (on-time rounds, satisfied ratings) of a span of days."""

    total: int
    good: int


def span_counts(result: Result, shop_id: str, kind: str, since: dt.date | None = None) -> Counts:
    """Counted rounds and on-time ones (``kind="rounds"``, R7), or counted ratings and
    satisfied ones (``kind="ratings"``, S5), in the window on days at or after ``since``.
    """
    relation, good = ("rounds", "responded") if kind == "rounds" else ("rating_audit", "satisfied")
    when = f" AND day >= {_date(since)}" if since else ""
    row = _query(
        result,
        f"SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE {good}) AS good FROM {relation} "
        f"WHERE {_shop(shop_id)} AND counted{when}",
    )[0]
    return Counts(row["total"], row["good"])


def missed_rounds(result: Result, shop_id: str, cap: int) -> Drill:
    """The counted rounds not answered within the limit, newest first, at most ``cap`` (R6)."""
    rows = _query(
        result,
        f"""
        SELECT start_ts, buyer_id, agent_id, answer_ts, wait_s, outcome, time_note,
               COUNT(*) OVER () AS total
        FROM rounds WHERE {_shop(shop_id)} AND counted AND NOT responded
        ORDER BY start_ts DESC, buyer_id LIMIT {int(cap)}
        """,
    )
    return Drill(rows, rows[0]["total"] if rows else 0)


def dissatisfied(result: Result, shop_id: str, cap: int, max_messages: int) -> Drill:
    """Counted ratings of 1–2 (S1), newest first, at most ``cap``, each with its transcript.

    The transcript is the consultation (P3) of the buyer's last human message at or before
    the rating: its messages in stream order (T3), at most ``max_messages``; the agent
    message that answers a round (the first at the round's ``answer_ts``) carries that
    round's wait (P1). ``messages_total`` gives
    the consultation's full length.
    """
    ratings = _query(
        result,
        f"""
        SELECT shop_id, buyer_id, agent_id, score, ts, source, file_no, row_no,
               COUNT(*) OVER () AS total
        FROM rating_audit WHERE {_shop(shop_id)} AND counted AND score <= 2
        ORDER BY ts DESC, buyer_id, file_no, row_no LIMIT {int(cap)}
        """,
    )
    if not ratings:
        return Drill([], 0)
    transcripts = _transcripts(result, shop_id, max_messages, cap)
    for r in ratings:
        key = (r["file_no"], r["row_no"])
        r["messages"] = transcripts.get(key, [])
        r["messages_total"] = r["messages"][0]["messages_total"] if r["messages"] else 0
    return Drill(ratings, ratings[0]["total"])


def _transcripts(
    result: Result, shop_id: str, max_messages: int, cap: int
) -> dict[tuple[int, int], list[dict[str, Any]]]:
    # A message's place in its stream (``pos`` of ``stream_events``) is its row number in
    # the T3 order among all the stream's messages; numbering the few picked streams the
    # same way joins each message (with its text) to its consultation.
    rows = _query(
        result,
        f"""
        WITH picked AS (
          SELECT shop_id, buyer_id, ts, file_no, row_no
          FROM rating_audit WHERE {_shop(shop_id)} AND counted AND score <= 2
          ORDER BY ts DESC, buyer_id, file_no, row_no LIMIT {int(cap)}
        ), anchor AS (
          SELECT p.file_no AS r_file, p.row_no AS r_row, p.shop_id, p.buyer_id,
                 arg_max(e.consultation, e.pos) AS consultation
          FROM picked AS p
          JOIN stream_events AS e
            ON e.shop_id = p.shop_id AND e.buyer_id = p.buyer_id AND e.ts <= p.ts
           AND e.sender IN ('buyer', 'agent')
          GROUP BY p.file_no, p.row_no, p.shop_id, p.buyer_id
        ), streams AS (
          SELECT DISTINCT shop_id, buyer_id FROM anchor
        ), placed AS (
          SELECT m.shop_id, m.buyer_id, t.text,
                 ROW_NUMBER() OVER (PARTITION BY m.shop_id, m.buyer_id {M_ORDER}) AS pos
          FROM messages AS m
          JOIN streams AS s ON s.shop_id = m.shop_id AND s.buyer_id = m.buyer_id
          LEFT JOIN message_texts AS t ON t.file_no = m.file_no AND t.row_no = m.row_no
        ), answers AS (
          SELECT r.shop_id, r.buyer_id, r.answer_ts, MIN(r.wait_s) AS wait_s
          FROM rounds AS r
          JOIN streams AS s ON s.shop_id = r.shop_id AND s.buyer_id = r.buyer_id
          WHERE r.answer_ts IS NOT NULL
          GROUP BY r.shop_id, r.buyer_id, r.answer_ts
        ), events AS (
          SELECT a.r_file, a.r_row, e.shop_id, e.buyer_id, e.ts, e.sender, e.agent_id, e.pos,
                 ROW_NUMBER() OVER (PARTITION BY a.r_file, a.r_row, e.sender, e.ts
                                    ORDER BY e.pos) AS nth_at_ts
          FROM anchor AS a
          JOIN stream_events AS e
            ON e.shop_id = a.shop_id AND e.buyer_id = a.buyer_id
           AND e.consultation = a.consultation
        ), lines AS (
          SELECT v.r_file, v.r_row, v.ts, v.sender, v.agent_id, pl.text, w.wait_s,
                 ROW_NUMBER() OVER (PARTITION BY v.r_file, v.r_row ORDER BY v.pos) AS n,
                 COUNT(*) OVER (PARTITION BY v.r_file, v.r_row) AS messages_total
          FROM events AS v
          JOIN placed AS pl
            ON pl.shop_id = v.shop_id AND pl.buyer_id = v.buyer_id AND pl.pos = v.pos
          LEFT JOIN answers AS w
            ON v.sender = 'agent' AND v.nth_at_ts = 1 AND w.shop_id = v.shop_id
           AND w.buyer_id = v.buyer_id AND w.answer_ts = v.ts
        )
        SELECT * FROM lines WHERE n <= {int(max_messages)} ORDER BY r_file, r_row, n
        """,
    )
    out: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault((row["r_file"], row["r_row"]), []).append(row)
    return out


def has_history(result: Result, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether any message or rating lies in ``[start, end)`` (a previous window to compare)."""
    ts = f"ts >= TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}' AND ts < TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'"
    found = result.assessment.query(
        f"SELECT 1 AS x FROM (SELECT ts FROM messages WHERE {ts} LIMIT 1) "
        f"UNION ALL SELECT 1 FROM (SELECT ts FROM ratings WHERE {ts} LIMIT 1)"
    )
    return found.num_rows > 0


def shop_rows(table: pa.Table, shop_id: str) -> list[dict[str, Any]]:
    """The rows of one shop in an engine figure table, in the engine's order."""
    mask = pc.equal(table["shop_id"], pa.scalar(shop_id, pa.string()))
    rows: list[dict[str, Any]] = table.filter(mask).to_pylist()
    return rows


def shop_ids(result: Result) -> list[str]:
    """Every shop assessed, in the engine's order."""
    return [str(s) for s in result.figures["shop"]["shop_id"].to_pylist()]
