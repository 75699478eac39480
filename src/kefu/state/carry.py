"""What a stream carries from one day to the next, and which rows of a day are final.

An incremental run assesses the new days from their own messages plus a few messages each
stream *carries* from the days before — exactly those the definitions still need to judge
what comes next, so the new days' rows are the rows a recomputation over all days gives:

- an open round (R4: no agent message after the stream's last buyer message) with the
  round before it, from the first buyer message of the group before it: the answer may
  still come (R6, P1, P2) and the round's first-of-consultation flag reads the round
  before it (P3);
- the consultation a message may still join (P3 split on an idle gap: the last human
  message is at most ``consultation_gap_s`` before the day's end), from its first message,
  so E1's handling time runs on;
- the shop messages of the current refusal run (F1: up to ``refusal_run_length`` of them,
  so the count goes on), and the run of the stream's last prompt with the buyer message
  that ended it, so a click on a later day still refuses that prompt (F2, T2) or is no
  click without a prompt.

Positions are taken in T3's total order (``kefu.metrics.relations.STREAM_ORDER``) and the
running counts (k, b, s, consultation) from the definitions' own ``stream_events``; the
carried rows keep their input order keys, so ties sort as they did.

Rows of the new days are final once nothing later can change them; the others are kept
*open* — by stream, and re-judged by the next run with its new messages:
a round is open while it is its stream's last and unanswered; a prompt while it is its
stream's last, unclicked; a consultation while a message may still join it.
"""

from __future__ import annotations

import datetime as dt

from kefu.metrics.params import Params, sql_str
from kefu.metrics.relations import STREAM_ORDER


def _ts(value: dt.datetime) -> str:
    return f"TIMESTAMP {sql_str(value.isoformat(sep=' '))}"


def _events(stream_events: str) -> str:
    """stream_events with whether each message is a shop message of F1 (its s rose) and
    the first s of its run (the shop messages sharing its b)."""
    return f"""
      SELECT shop_id, buyer_id, sender, ts, pos, k, b, s, consultation, shop_msg,
             MIN(CASE WHEN shop_msg THEN s END)
               OVER (PARTITION BY shop_id, buyer_id, b) AS run_first_s
      FROM (
        SELECT *, s > COALESCE(LAG(s) OVER (PARTITION BY shop_id, buyer_id ORDER BY pos), 0)
                  AS shop_msg
        FROM {stream_events}
      ) AS e
    """


def carried_positions(names: dict[str, str], p: Params, end: dt.datetime) -> str:
    """SQL of (shop_id, buyer_id, pos) of every message a stream carries past ``end``,
    and of the open consultation it carries (``opened_ts``; NULL when none).

    ``names`` maps ``stream_events`` and ``refusal_prompts`` to one assessment's tables.
    """
    run = int(p["refusal_run_length"])  # type: ignore[call-overload]
    gap_split = str(p["consultation_split"]) == "gap"
    gap = int(p["consultation_gap_s"])  # type: ignore[call-overload]
    return f"""
    WITH e AS ({_events(names["stream_events"])}),
    streams AS (
      SELECT shop_id, buyer_id, MAX(b) AS b_max,
             MAX(CASE WHEN sender = 'buyer' THEN pos END) AS last_buyer,
             MAX(CASE WHEN sender = 'agent' THEN pos END) AS last_agent,
             MAX(CASE WHEN sender IN ('buyer', 'agent') THEN pos END) AS last_human
      FROM e GROUP BY shop_id, buyer_id
    ), open_round AS (
      -- R4: no agent message after the last buyer message; k_last is that round's group.
      SELECT st.shop_id, st.buyer_id, e.k AS k_last
      FROM streams AS st
      JOIN e ON e.shop_id = st.shop_id AND e.buyer_id = st.buyer_id AND e.pos = st.last_buyer
      WHERE st.last_agent IS NULL OR st.last_agent < st.last_buyer
    ), groups AS (
      SELECT o.shop_id, o.buyer_id, o.k_last,
             MAX(CASE WHEN e.k < o.k_last THEN e.k END) AS k_prev
      FROM open_round AS o
      JOIN e ON e.shop_id = o.shop_id AND e.buyer_id = o.buyer_id AND e.sender = 'buyer'
      GROUP BY o.shop_id, o.buyer_id, o.k_last
    ), from_round AS (
      SELECT g.shop_id, g.buyer_id, MIN(e.pos) AS pos
      FROM groups AS g
      JOIN e ON e.shop_id = g.shop_id AND e.buyer_id = g.buyer_id AND e.sender = 'buyer'
       AND e.k = COALESCE(g.k_prev, g.k_last)
      GROUP BY g.shop_id, g.buyer_id
    ), last_human AS (
      SELECT st.shop_id, st.buyer_id, e.ts, e.consultation
      FROM streams AS st
      JOIN e ON e.shop_id = st.shop_id AND e.buyer_id = st.buyer_id AND e.pos = st.last_human
    ), from_consultation AS (
      -- P3 on an idle gap: a message at or after `end` may still join the last consultation.
      SELECT h.shop_id, h.buyer_id, MIN(e.pos) AS pos,
             MIN(CASE WHEN e.sender IN ('buyer', 'agent') THEN e.ts END) AS opened_ts
      FROM last_human AS h
      JOIN e ON e.shop_id = h.shop_id AND e.buyer_id = h.buyer_id
       AND e.consultation = h.consultation
      WHERE {str(gap_split).upper()}
        AND EXTRACT(EPOCH FROM {_ts(end)}) - EXTRACT(EPOCH FROM h.ts) <= {gap}
      GROUP BY h.shop_id, h.buyer_id
    ), starts AS (
      SELECT st.*, c.opened_ts,
             CASE WHEN r.pos IS NULL THEN c.pos WHEN c.pos IS NULL THEN r.pos
                  ELSE LEAST(r.pos, c.pos) END AS start_pos
      FROM streams AS st
      LEFT JOIN from_round AS r ON r.shop_id = st.shop_id AND r.buyer_id = st.buyer_id
      LEFT JOIN from_consultation AS c ON c.shop_id = st.shop_id AND c.buyer_id = st.buyer_id
    ), at_start AS (
      SELECT st.*, e.b AS start_b, e.sender = 'buyer' AS starts_with_buyer
      FROM starts AS st
      LEFT JOIN e ON e.shop_id = st.shop_id AND e.buyer_id = st.buyer_id AND e.pos = st.start_pos
    ), last_prompt AS (
      SELECT pr.shop_id, pr.buyer_id, pr.pos, e.b
      FROM (
        SELECT shop_id, buyer_id, MAX(pos) AS pos FROM {names["refusal_prompts"]}
        GROUP BY shop_id, buyer_id
      ) AS pr
      JOIN e ON e.shop_id = pr.shop_id AND e.buyer_id = pr.buyer_id AND e.pos = pr.pos
    ), runs_kept AS (
      -- The runs whose first shop messages are carried without the messages before them,
      -- by the b they share: the last prompt's run (a later click finds the prompt, F2);
      -- the run the carried messages start in, and the current run when nothing else is
      -- carried (F1 counts on).
      SELECT a.shop_id, a.buyer_id, lp.b, TRUE AS prompted
      FROM at_start AS a
      JOIN last_prompt AS lp ON lp.shop_id = a.shop_id AND lp.buyer_id = a.buyer_id
      WHERE a.start_pos IS NULL OR lp.pos < a.start_pos
      UNION ALL
      SELECT shop_id, buyer_id, start_b, FALSE FROM at_start
      WHERE start_pos IS NOT NULL AND NOT starts_with_buyer
      UNION ALL
      SELECT shop_id, buyer_id, b_max, FALSE FROM at_start WHERE start_pos IS NULL
    ), pieces AS (
      -- Each such run's first shop messages, the buyer message before it and, after the
      -- prompt's run, the one that ended it: buyer messages keep the pieces apart, so no
      -- run of one piece counts on into the next (F1).
      SELECT e.shop_id, e.buyer_id, e.pos, e.sender, e.k
      FROM e
      JOIN runs_kept AS r ON r.shop_id = e.shop_id AND r.buyer_id = e.buyer_id
      JOIN at_start AS a ON a.shop_id = e.shop_id AND a.buyer_id = e.buyer_id
      WHERE (a.start_pos IS NULL OR e.pos < a.start_pos)
        AND ((e.shop_msg AND e.b = r.b AND e.s < e.run_first_s + {run})
             OR (e.sender = 'buyer' AND (e.b = r.b OR (r.prompted AND e.b = r.b + 1))))
    ), kept AS (
      SELECT shop_id, buyer_id, pos FROM pieces
      UNION
      -- The agent message that answered each such buyer message: its round ends there, as
      -- it did, and does not run into the next piece's buyer messages (R4).
      SELECT e.shop_id, e.buyer_id, e.pos
      FROM e
      JOIN pieces AS q ON q.shop_id = e.shop_id AND q.buyer_id = e.buyer_id
       AND q.sender = 'buyer' AND e.sender = 'agent' AND e.k = q.k
    )
    SELECT e.shop_id, e.buyer_id, e.pos, a.opened_ts
    FROM e
    JOIN at_start AS a ON a.shop_id = e.shop_id AND a.buyer_id = e.buyer_id
    LEFT JOIN kept AS c ON c.shop_id = e.shop_id AND c.buyer_id = e.buyer_id AND c.pos = e.pos
    WHERE e.pos >= a.start_pos OR c.pos IS NOT NULL
    """


def carried_messages(messages: str, positions: str, p: Params) -> str:
    """SQL of the rows of ``messages`` at the ``positions`` carried (their own columns)."""
    order = ", ".join(STREAM_ORDER)
    return f"""
      SELECT m.* EXCLUDE (carried_pos)
      FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY shop_id, buyer_id ORDER BY {order})
                  AS carried_pos
        FROM {messages}
        WHERE ts >= {_ts(p.history_start)} AND ts < {_ts(p.history_end)}
      ) AS m
      JOIN (SELECT DISTINCT shop_id, buyer_id, pos FROM {positions}) AS c
        ON c.shop_id = m.shop_id AND c.buyer_id = m.buyer_id AND c.pos = m.carried_pos
    """


def carried_ratings(rating_deduped: str, ratings_columns: list[str], end: dt.datetime) -> str:
    """SQL of the ratings carried past ``end`` for S3's 24-hour periods: each buyer's last
    counted rating whose period reaches past ``end`` (the chain restarts from it)."""
    cols = ", ".join(ratings_columns)
    return f"""
      SELECT {cols}
      FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY shop_id, buyer_id ORDER BY n DESC) AS latest
        FROM {rating_deduped}
        WHERE dedupe IS NULL
      ) AS r
      WHERE latest = 1 AND ts + INTERVAL 24 HOUR > {_ts(end)}
    """


def round_rows(rounds: str, open_rounds: str, new_from: dt.datetime) -> str:
    """The rounds of the new days, and each round a stream left open re-judged, with
    ``still_open``: the stream's last round, unanswered (R4, R6)."""
    return f"""
      WITH r AS (
        SELECT *, round_no = MAX(round_no) OVER (PARTITION BY shop_id, buyer_id) AS last_round
        FROM {rounds}
      ), old AS (
        SELECT r.shop_id, r.buyer_id, MAX(r.round_no) AS round_no
        FROM r JOIN {open_rounds} AS o ON o.shop_id = r.shop_id AND o.buyer_id = r.buyer_id
        WHERE r.start_ts < {_ts(new_from)}
        GROUP BY r.shop_id, r.buyer_id
      )
      SELECT r.* EXCLUDE (last_round), (r.last_round AND r.answer_ts IS NULL) AS still_open
      FROM r
      LEFT JOIN old ON old.shop_id = r.shop_id AND old.buyer_id = r.buyer_id
       AND old.round_no = r.round_no
      WHERE r.start_ts >= {_ts(new_from)} OR old.round_no IS NOT NULL
    """


def refusal_rows(refusal_audit: str, open_prompts: str, new_from: dt.datetime) -> str:
    """The prompts and clicks of the new days, and each prompt a stream left open re-judged,
    with ``still_open``: neither clicked nor followed by a next prompt (F2)."""
    return f"""
      SELECT a.*,
             (a.status <> 'no_prompt' AND a.refusal_ts IS NULL AND a.next_prompt_ts IS NULL)
               AS still_open
      FROM {refusal_audit} AS a
      LEFT JOIN {open_prompts} AS o ON o.shop_id = a.shop_id AND o.buyer_id = a.buyer_id
      WHERE a.ts >= {_ts(new_from)}
         -- The stream's last prompt before: its next prompt, if any, is a new one (one in
         -- the same second before it has its next prompt before, too).
         OR (o.shop_id IS NOT NULL AND a.status <> 'no_prompt' AND a.ts < {_ts(new_from)}
             AND (a.next_prompt_ts IS NULL OR a.next_prompt_ts >= {_ts(new_from)}))
    """


def consultation_rows(
    consultations: str, open_before: str, open_after: str, new_from: dt.datetime
) -> str:
    """The handled consultations opened on the new days, and each one left open re-judged,
    with ``still_open``: a message may still join it (P3 on an idle gap)."""
    return f"""
      SELECT c.*, (n.shop_id IS NOT NULL) AS still_open
      FROM {consultations} AS c
      LEFT JOIN {open_before} AS o ON o.shop_id = c.shop_id AND o.buyer_id = c.buyer_id
       AND o.opened_ts = c.opened_ts
      LEFT JOIN {open_after} AS n ON n.shop_id = c.shop_id AND n.buyer_id = c.buyer_id
       AND n.opened_ts = c.opened_ts
      WHERE c.opened_ts >= {_ts(new_from)} OR o.shop_id IS NOT NULL
    """
