"""Rounds, the 3-minute manual response rate and response times (rules R1–R8, P1–P4).

Every definition here is DuckDB-flavoured SQL over kefu's canonical tables, with no
engine-specific functions beyond what sqlglot transpiles, so the same text runs on DuckDB
and (transpiled) on Spark.

How a round is found (R1, R4) needs no lag and no forward fill: order each stream (one
buyer, one shop) totally (T3: ``ts``, then ``seq`` with a row without one first, then file
and row) and, for every message, count
the agent messages strictly before it. Buyer messages that share that count form one round;
the agent message with the same count is its answer (首问首答). Bot and system messages
(R2) get a count too but never raise it, so they neither answer nor split a round.
"""

from __future__ import annotations

from kefu.metrics.params import Params, in_clock_window, sql_ts

#: T3 — the total order of a stream; equal timestamps keep their input order. A row without
#: ``seq`` sorts before rows with one at the same time (T3, decided): spelled out, since
#: DuckDB puts NULLs last and Spark first by default.
STREAM = "PARTITION BY shop_id, buyer_id"
STREAM_ORDER = "ORDER BY ts, seq NULLS FIRST, file_no, row_no"


def own_account(relation: str, alias: str) -> str:
    """SQL: ``relation`` (rows with ``shop_id``, ``buyer_id``) with the flag ``own_account``.

    R3: the "buyer" is one of the shop's own accounts. The one definition, read by the
    streams (rounds, refusals, E1) and by the ratings (S4). A repeated accounts row must not
    double a row, hence DISTINCT.
    """
    return f"""
    SELECT {alias}.*, (a.account IS NOT NULL) AS own_account
    FROM {relation} AS {alias}
    LEFT JOIN (SELECT DISTINCT shop_id, account FROM accounts) AS a
      ON a.shop_id = {alias}.shop_id AND a.account = {alias}.buyer_id
    """


def shop_side(p: Params) -> str:
    """F1's shop messages: agents, and auto-replies when ``refusal_counts_bot`` (assumed)."""
    return "('agent', 'bot')" if p["refusal_counts_bot"] else "('agent')"


def stream_events(p: Params) -> str:
    """Every message, with its place in its stream.

    T2 (decided): a round, a response time or a refusal prompt belongs to the window when it
    *starts* inside it, but what closes it may come later — an answer after the window's end
    still answers the round (P2 gives it a response time, R6 still judges it). So messages
    after the window's end are read too, and a day's figures never depend on where the
    window ends. Messages before the window decide where a stream stands at its start.

    One sort of each stream (T3) yields every running count the definitions need:
    ``pos`` — the message's position in the stream; ``k`` — agent messages strictly before
    it (R4); ``b`` — buyer messages up to and including it, and ``s`` — shop messages up to
    and including it (F1); ``own_account`` — the buyer is one of the shop's own accounts
    (R3); ``consultation`` — the consultation key (P3): the local day as a day number, or a
    running count of idle gaps when the profile splits on gaps.
    """
    is_agent = "CASE WHEN sender = 'agent' THEN 1 ELSE 0 END"
    is_buyer = "CASE WHEN sender = 'buyer' THEN 1 ELSE 0 END"
    is_shop = f"CASE WHEN sender IN {shop_side(p)} THEN 1 ELSE 0 END"
    frame = f"({STREAM} {STREAM_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    events = f"""(
      SELECT shop_id, buyer_id, agent_id, sender, ts,
             CAST(ROW_NUMBER() OVER ({STREAM} {STREAM_ORDER}) AS INTEGER) AS pos,
             CAST(SUM({is_agent}) OVER {frame} - {is_agent} AS INTEGER) AS k,
             CAST(SUM({is_buyer}) OVER {frame} AS INTEGER) AS b,
             CAST(SUM({is_shop}) OVER {frame} AS INTEGER) AS s
      FROM messages
    )"""
    base = own_account(events, "e")
    if p["consultation_split"] == "day":
        day = "CAST(date_diff('day', DATE '2000-01-01', CAST(ts AS DATE)) AS INTEGER)"
        return f"SELECT *, {day} AS consultation FROM ({base}) AS e"
    gap = int(p["consultation_gap_s"])  # type: ignore[call-overload]
    human = "sender IN ('buyer', 'agent')"
    by_pos = f"{STREAM} ORDER BY pos ROWS BETWEEN UNBOUNDED PRECEDING AND"
    return f"""
    SELECT shop_id, buyer_id, agent_id, sender, ts, pos, k, b, s, own_account,
           CAST(SUM(opens) OVER ({by_pos} CURRENT ROW) AS INTEGER) AS consultation
    FROM (
      SELECT *, CASE WHEN {human} AND (prev_ts IS NULL
                     OR date_diff('second', prev_ts, ts) > {gap}) THEN 1 ELSE 0 END AS opens
      FROM (SELECT *, MAX(CASE WHEN {human} THEN ts END) OVER ({by_pos} 1 PRECEDING) AS prev_ts
            FROM ({base}) AS e0) AS e1) AS e2
    """


def rounds(p: Params) -> str:
    """One row per round (R4) with everything the rate, the averages and explain need.

    Reads the ``stream_events`` relation. ``outcome`` says why a round is or is not
    counted and responded; the first code that applies wins:
    ``own_account`` (R3), ``outside_window`` (T2), ``outside_hours`` (R5), ``bot_only``
    (R2: only auto-replies came), ``unanswered``, ``after_midnight`` (R6), ``over_limit``
    (R6), ``responded``. ``time_note`` says why an answered round is left out of the
    averages: ``over_cap`` (P2), ``outside_time_window`` (P2), or NULL.
    """
    limit = int(p["response_limit_s"])  # type: ignore[call-overload]
    cap = int(p["response_time_cap_s"])  # type: ignore[call-overload]
    same_day = "TRUE" if p["reply_same_day"] else "FALSE"
    rate_hours = in_clock_window("start_ts", p.clock_window("response_window"))
    time_hours = in_clock_window("start_ts", p.clock_window("response_time_window"))
    start, end = sql_ts(p.window_start), sql_ts(p.window_end)
    day = "date_diff('day', DATE '2000-01-01', CAST(ts AS DATE))"
    part, by_part = (day, f", {day}") if p["reply_same_day"] else ("0", "")
    stream_order = "PARTITION BY x.shop_id, x.buyer_id ORDER BY x.k, x.part"
    return f"""
    WITH parts AS (
      SELECT shop_id, buyer_id, k, {part} AS part,
             MIN(ts) AS start_ts, COUNT(*) AS buyer_messages,
             -- P1 (decided): the agent the round's first buyer message was addressed to.
             -- COALESCE because DuckDB's arg_min skips a NULL argument, Spark's min_by not.
             NULLIF(arg_min(COALESCE(agent_id, ''), pos), '') AS addressed_agent,
             MIN(consultation) AS consultation,
             BOOL_OR(own_account) AS own_account
      FROM stream_events WHERE sender = 'buyer'
      GROUP BY shop_id, buyer_id, k{by_part}
    ), replies AS (
      SELECT shop_id, buyer_id, k,
             MIN(ts) FILTER (WHERE sender = 'agent') AS answer_ts,
             MAX(agent_id) FILTER (WHERE sender = 'agent') AS answer_agent,
             MAX(ts) FILTER (WHERE sender = 'bot') AS last_bot_ts
      FROM stream_events WHERE sender IN ('agent', 'bot')
      GROUP BY shop_id, buyer_id, k
    ), placed AS (
      SELECT x.*, r.answer_ts AS group_answer_ts, r.answer_agent AS group_answer_agent,
             r.last_bot_ts,
             ROW_NUMBER() OVER ({stream_order}) AS round_no,
             LEAD(x.k) OVER ({stream_order}) AS next_k,
             LAG(x.consultation) OVER ({stream_order}) AS prev_consultation
      FROM parts AS x
      LEFT JOIN replies AS r
        ON r.shop_id = x.shop_id AND r.buyer_id = x.buyer_id AND r.k = x.k
    ), grouped AS (
      -- The answer closes the last part of its group: a question left open at midnight is
      -- missed (R6), and the buyer's next question on a later day is a round of its own.
      SELECT *,
             CASE WHEN next_k IS NULL OR next_k <> k THEN group_answer_ts END AS answer_ts,
             CASE WHEN next_k IS NULL OR next_k <> k THEN group_answer_agent END
               AS answer_agent,
             (prev_consultation IS NULL OR prev_consultation <> consultation)
               AS first_of_consultation
      FROM placed
    ), timed AS (
      SELECT *,
             COALESCE(answer_agent, addressed_agent) AS agent_id,
             date_diff('millisecond', start_ts, answer_ts) / 1000.0 AS wait_s,
             CAST(start_ts AS DATE) AS day,
             hour(start_ts) AS hour,
             (start_ts >= {start} AND start_ts < {end}) AS in_window,
             {rate_hours} AS in_hours,
             {time_hours} AS in_time_hours,
             (last_bot_ts IS NOT NULL AND last_bot_ts >= start_ts) AS bot_replied,
             (answer_ts IS NOT NULL
              AND CAST(answer_ts AS DATE) <> CAST(start_ts AS DATE)) AS answered_next_day
      FROM grouped
    ), judged AS (
      SELECT *,
             (in_window AND in_hours AND NOT own_account) AS counted,
             (answer_ts IS NOT NULL AND wait_s <= {limit}
              AND NOT ({same_day} AND answered_next_day)) AS responded,
             (in_window AND in_time_hours AND NOT own_account
              AND answer_ts IS NOT NULL AND wait_s <= {cap}) AS in_average
      FROM timed
    )
    SELECT shop_id, buyer_id, round_no, consultation, agent_id, answer_agent,
           start_ts, answer_ts, wait_s, buyer_messages, day, hour, in_window,
           counted, (counted AND responded) AS responded, in_average,
           (in_average AND first_of_consultation) AS in_first_average,
           first_of_consultation,
           CASE WHEN own_account THEN 'own_account'
                WHEN NOT in_window THEN 'outside_window'
                WHEN NOT in_hours THEN 'outside_hours'
                WHEN answer_ts IS NULL AND bot_replied THEN 'bot_only'
                WHEN answer_ts IS NULL THEN 'unanswered'
                WHEN {same_day} AND answered_next_day THEN 'after_midnight'
                WHEN wait_s > {limit} THEN 'over_limit'
                ELSE 'responded' END AS outcome,
           CASE WHEN answer_ts IS NULL OR own_account OR NOT in_window THEN NULL
                WHEN wait_s > {cap} THEN 'over_cap'
                WHEN NOT in_time_hours THEN 'outside_time_window'
                ELSE NULL END AS time_note
    FROM judged
    """


def round_figures() -> str:
    """SELECT list of the round figures over any grouping of the ``rounds`` relation.

    R7 rate = responded / counted rounds; P4 average over rounds ``in_average``; P3 first
    response over consultations whose first round is ``in_average``. Medians and p90 are
    reported beside the means (the platform judges the means).
    """
    return """
      COUNT(*) FILTER (WHERE counted) AS rounds,
      COUNT(*) FILTER (WHERE responded) AS rounds_responded,
      CAST(COUNT(*) FILTER (WHERE responded) AS DOUBLE)
        / NULLIF(COUNT(*) FILTER (WHERE counted), 0) AS response_rate,
      AVG(wait_s) FILTER (WHERE in_first_average) AS first_response_s,
      quantile_cont(wait_s, 0.5) FILTER (WHERE in_first_average) AS first_response_median_s,
      quantile_cont(wait_s, 0.9) FILTER (WHERE in_first_average) AS first_response_p90_s,
      COUNT(*) FILTER (WHERE in_first_average) AS first_response_consultations,
      AVG(wait_s) FILTER (WHERE in_average) AS response_s,
      quantile_cont(wait_s, 0.5) FILTER (WHERE in_average) AS response_median_s,
      quantile_cont(wait_s, 0.9) FILTER (WHERE in_average) AS response_p90_s,
      COUNT(*) FILTER (WHERE in_average) AS response_time_rounds
    """
