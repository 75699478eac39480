"""Message refusal (rules F1, F2).

F1: when the shop sends ``refusal_run_length`` (5) consecutive messages with no buyer message
between them, the platform asks the buyer whether to refuse further messages — one prompt per
run, at the moment of the fifth message. System messages come from the platform, not the
shop, so they neither count nor break a run; auto-replies count when ``refusal_counts_bot``.

F2: a prompt is refused when the buyer clicked refusal (a row in ``refusals``) at or after
the prompt and before the stream's next prompt; rate = refused prompts / prompts. A refusal
row with no prompt before it is listed by explain as ``no_prompt`` and not counted, so the
rate stays a share of prompts.

T2 (decided): a prompt belongs to the window when it is shown inside it; the click that
refuses it may come after the window's end.
"""

from __future__ import annotations

from kefu.metrics.params import Params, sql_ts
from kefu.metrics.rounds import STREAM, shop_side


def refusal_prompts(p: Params) -> str:
    """One row per prompt (F1), from ``stream_events``; own-account streams excluded (R3).

    A run is the shop messages sharing a buyer count ``b``; their shop counts ``s`` are
    consecutive, so the prompting message is the one with ``s = first + length - 1``.
    """
    run = int(p["refusal_run_length"])  # type: ignore[call-overload]
    senders = shop_side(p)
    return f"""
    WITH runs AS (
      SELECT shop_id, buyer_id, b, MIN(s) AS first_s
      FROM stream_events
      WHERE sender IN {senders} AND NOT own_account
      GROUP BY shop_id, buyer_id, b
      HAVING COUNT(*) >= {run}
    ), prompts AS (
      SELECT e.shop_id, e.buyer_id, e.agent_id, e.ts, e.pos
      FROM stream_events AS e
      JOIN runs AS r
        ON e.shop_id = r.shop_id AND e.buyer_id = r.buyer_id AND e.b = r.b
       AND e.s = r.first_s + {run - 1}
      WHERE e.sender IN {senders}
    )
    SELECT shop_id, buyer_id, agent_id, ts,
           LEAD(ts) OVER ({STREAM} ORDER BY pos) AS next_prompt_ts
    FROM prompts
    """


def refusal_audit(p: Params) -> str:
    """Prompts and refusal rows side by side; ``status`` says what each row counts as."""
    start, end = sql_ts(p.window_start), sql_ts(p.window_end)
    inside = f"({{0}} >= {start} AND {{0}} < {end})"
    return f"""
    WITH matched AS (
      SELECT pr.shop_id, pr.buyer_id, pr.agent_id, pr.ts AS prompt_ts,
             MIN(c.ts) AS refusal_ts, COUNT(c.ts) AS clicks
      FROM refusal_prompts AS pr
      LEFT JOIN refusals AS c
        ON c.shop_id = pr.shop_id AND c.buyer_id = pr.buyer_id AND c.ts >= pr.ts
       AND (pr.next_prompt_ts IS NULL OR c.ts < pr.next_prompt_ts)
      GROUP BY pr.shop_id, pr.buyer_id, pr.agent_id, pr.ts
    )
    SELECT shop_id, buyer_id, agent_id, prompt_ts AS ts, refusal_ts,
           CAST(prompt_ts AS DATE) AS day, hour(prompt_ts) AS hour,
           CASE WHEN NOT {inside.format("prompt_ts")} THEN 'outside_window'
                WHEN refusal_ts IS NULL THEN 'prompt'
                ELSE 'refused' END AS status,
           {inside.format("prompt_ts")} AS in_window,
           {inside.format("prompt_ts")} AS counted,
           ({inside.format("prompt_ts")} AND refusal_ts IS NOT NULL) AS refused
    FROM matched
    UNION ALL
    SELECT c.shop_id, c.buyer_id, NULL, c.ts, c.ts, CAST(c.ts AS DATE), hour(c.ts),
           'no_prompt', {inside.format("c.ts")}, FALSE, FALSE
    FROM refusals AS c
    WHERE NOT EXISTS (
      SELECT 1 FROM refusal_prompts AS pr
      WHERE pr.shop_id = c.shop_id AND pr.buyer_id = c.buyer_id AND pr.ts <= c.ts)
    """


def refusal_figures() -> str:
    """SELECT list of the refusal figures over any grouping of ``refusal_audit`` (F2)."""
    return """
      COUNT(*) FILTER (WHERE counted) AS refusal_prompts,
      COUNT(*) FILTER (WHERE refused) AS refusals,
      CAST(COUNT(*) FILTER (WHERE refused) AS DOUBLE)
        / NULLIF(COUNT(*) FILTER (WHERE counted), 0) AS refusal_rate
    """
