"""Agent efficiency per day (rule E1).

A consultation (接待) is a stream's human activity in one consultation key (P3: the local
day by default). An agent handled it when they sent at least one message in it. Its
handling time for that agent runs from the consultation's first human message to the
agent's last message in it (assumed: the sources give the 5-minute line, not the clock
points). It is a proactive contact (主动联系) of the agent when the agent's message opened
it. Lines: ≥ 50 consultations, mean handling ≤ 5 minutes, ≥ 20 proactive contacts a day.
"""

from __future__ import annotations

from kefu.metrics.params import Params, sql_ts


def agent_days(p: Params) -> str:
    """One row per (shop, agent, day) with E1's three figures and their statuses."""
    start, end = sql_ts(p.window_start), sql_ts(p.window_end)
    cons_min = int(p["agent_consultations_min"])  # type: ignore[call-overload]
    handling_max = int(p["agent_handling_max_s"])  # type: ignore[call-overload]
    proactive_min = int(p["agent_proactive_min"])  # type: ignore[call-overload]
    return f"""
    WITH human AS (
      SELECT * FROM stream_events
      WHERE sender IN ('buyer', 'agent') AND NOT own_account
    ), consultations AS (
      SELECT shop_id, buyer_id, consultation, MIN(ts) AS opened_ts,
             MIN_BY(sender || ':' || COALESCE(agent_id, ''), pos) AS opener
      FROM human GROUP BY shop_id, buyer_id, consultation
    ), handled AS (
      SELECT h.shop_id, h.agent_id, h.buyer_id, h.consultation,
             MAX(h.ts) AS last_ts
      FROM human AS h WHERE h.sender = 'agent' AND h.agent_id IS NOT NULL
      GROUP BY h.shop_id, h.agent_id, h.buyer_id, h.consultation
    ), per_consultation AS (
      SELECT h.shop_id, h.agent_id, CAST(c.opened_ts AS DATE) AS day,
             date_diff('millisecond', c.opened_ts, h.last_ts) / 1000.0 AS handling_s,
             (c.opener = 'agent:' || h.agent_id) AS proactive
      FROM handled AS h
      JOIN consultations AS c
        ON c.shop_id = h.shop_id AND c.buyer_id = h.buyer_id
       AND c.consultation = h.consultation
      -- T2: a consultation opened inside the window is the window's, whenever it ends.
      WHERE c.opened_ts >= {start} AND c.opened_ts < {end}
    )
    SELECT shop_id, agent_id, day,
           COUNT(*) AS consultations,
           AVG(handling_s) AS handling_s,
           COUNT(*) FILTER (WHERE proactive) AS proactive_contacts,
           CASE WHEN COUNT(*) >= {cons_min} THEN 'qualified' ELSE 'not_qualified' END
             AS consultations_status,
           CASE WHEN AVG(handling_s) <= {handling_max} THEN 'qualified' ELSE 'not_qualified'
             END AS handling_s_status,
           CASE WHEN COUNT(*) FILTER (WHERE proactive) >= {proactive_min}
             THEN 'qualified' ELSE 'not_qualified' END AS proactive_contacts_status
    FROM per_consultation
    GROUP BY shop_id, agent_id, day
    """
