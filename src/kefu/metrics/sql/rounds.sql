-- One row per round (R4) with everything the rate, the averages and explain need.
--
-- A round is the buyer messages of a stream sharing k (stream_events), and with R6's
-- same-day rule (:reply_same_day) also sharing their local day; the first agent message
-- with that k answers it (首问首答). `outcome` says why a round is or is not counted and
-- responded; the first code that applies wins: own_account (R3), outside_window (T2),
-- outside_hours (R5), bot_only (R2: only auto-replies came), unanswered, after_midnight
-- (R6), over_limit (R6), responded. `time_note` says why an answered round is left out of
-- the averages: over_cap (P2), outside_time_window (P2), or NULL.
WITH parts AS (
  SELECT
    shop_id, buyer_id, k,
    CASE WHEN :reply_same_day THEN date_diff('day', DATE '2000-01-01', CAST(ts AS DATE))
         ELSE 0 END AS part,
    MIN(ts) AS start_ts,
    COUNT(*) AS buyer_messages,
    -- P1 (decided): the agent the round's first buyer message was addressed to.
    -- COALESCE because DuckDB's arg_min skips a NULL argument, Spark's min_by does not.
    NULLIF(arg_min(COALESCE(agent_id, ''), pos), '') AS addressed_agent,
    MIN(consultation) AS consultation,
    BOOL_OR(own_account) AS own_account
  FROM stream_events
  WHERE sender = 'buyer'
  GROUP BY shop_id, buyer_id, k, part
), answers AS (
  -- Each agent message has a k of its own (k counts the agent messages before it), so the
  -- agent message with a round's k is its answer: no aggregation needed.
  SELECT shop_id, buyer_id, k, ts AS answer_ts, agent_id AS answer_agent
  FROM stream_events
  WHERE sender = 'agent'
), bots AS (
  SELECT shop_id, buyer_id, k, MAX(ts) AS last_bot_ts
  FROM stream_events
  WHERE sender = 'bot'
  GROUP BY shop_id, buyer_id, k
), placed AS (
  SELECT
    x.*,
    a.answer_ts AS group_answer_ts,
    a.answer_agent AS group_answer_agent,
    o.last_bot_ts,
    CAST(ROW_NUMBER() OVER by_round AS BIGINT) AS round_no,  -- BIGINT on both engines
    LEAD(x.k) OVER by_round AS next_k,
    LAG(x.consultation) OVER by_round AS prev_consultation
  FROM parts AS x
  LEFT JOIN answers AS a
    ON a.shop_id = x.shop_id AND a.buyer_id = x.buyer_id AND a.k = x.k
  LEFT JOIN bots AS o
    ON o.shop_id = x.shop_id AND o.buyer_id = x.buyer_id AND o.k = x.k
  WINDOW by_round AS (PARTITION BY x.shop_id, x.buyer_id ORDER BY x.k, x.part)
), grouped AS (
  -- The answer closes the last part of its group: a question left open at midnight is
  -- missed (R6), and the buyer's next question on a later day is a round of its own.
  SELECT
    *,
    CASE WHEN next_k IS NULL OR next_k <> k THEN group_answer_ts END AS answer_ts,
    CASE WHEN next_k IS NULL OR next_k <> k THEN group_answer_agent END AS answer_agent,
    (prev_consultation IS NULL OR prev_consultation <> consultation) AS first_of_consultation,
    -- Seconds of the day, compared only with whole-second bounds (R5, P2), so it does not
    -- matter that EXTRACT(SECOND) keeps the fraction on some engines and not on others.
    EXTRACT(HOUR FROM start_ts) * 3600 + EXTRACT(MINUTE FROM start_ts) * 60
      + EXTRACT(SECOND FROM start_ts) AS start_sod
  FROM placed
), timed AS (
  SELECT
    *,
    COALESCE(answer_agent, addressed_agent) AS agent_id,
    -- Seconds, to the millisecond; spelled with EXTRACT(EPOCH) because Spark's DATEDIFF
    -- counts days whatever the unit sqlglot gives it.
    ROUND(EXTRACT(EPOCH FROM answer_ts) - EXTRACT(EPOCH FROM start_ts), 3) AS wait_s,
    CAST(start_ts AS DATE) AS day,
    CAST(EXTRACT(HOUR FROM start_ts) AS BIGINT) AS hour,  -- BIGINT on every engine (Spark: INT)
    (start_ts >= :window_start AND start_ts < :window_end) AS in_window,
    -- R5, P2: the daily windows [start, end) of local clock time; one that ends before it
    -- starts wraps past midnight.
    CASE WHEN :rate_hours_start <= :rate_hours_end
         THEN start_sod >= :rate_hours_start AND start_sod < :rate_hours_end
         ELSE start_sod >= :rate_hours_start OR start_sod < :rate_hours_end END AS in_hours,
    CASE WHEN :time_hours_start <= :time_hours_end
         THEN start_sod >= :time_hours_start AND start_sod < :time_hours_end
         ELSE start_sod >= :time_hours_start OR start_sod < :time_hours_end END
      AS in_time_hours,
    (last_bot_ts IS NOT NULL AND last_bot_ts >= start_ts) AS bot_replied,
    (answer_ts IS NOT NULL AND CAST(answer_ts AS DATE) <> CAST(start_ts AS DATE))
      AS answered_next_day
  FROM grouped
), judged AS (
  SELECT
    *,
    (in_window AND in_hours AND NOT own_account) AS counted,
    (answer_ts IS NOT NULL AND wait_s <= :response_limit_s
     AND NOT (:reply_same_day AND answered_next_day)) AS answered_in_time,
    (in_window AND in_time_hours AND NOT own_account
     AND answer_ts IS NOT NULL AND wait_s <= :response_time_cap_s) AS in_average
  FROM timed
)
SELECT
  shop_id, buyer_id, round_no, consultation, agent_id, answer_agent,
  start_ts, answer_ts, wait_s, buyer_messages, day, hour, in_window,
  counted,
  (counted AND answered_in_time) AS responded,
  in_average,
  (in_average AND first_of_consultation) AS in_first_average,
  first_of_consultation,
  CASE WHEN own_account THEN 'own_account'
       WHEN NOT in_window THEN 'outside_window'
       WHEN NOT in_hours THEN 'outside_hours'
       WHEN answer_ts IS NULL AND bot_replied THEN 'bot_only'
       WHEN answer_ts IS NULL THEN 'unanswered'
       WHEN :reply_same_day AND answered_next_day THEN 'after_midnight'
       WHEN wait_s > :response_limit_s THEN 'over_limit'
       ELSE 'responded' END AS outcome,
  CASE WHEN answer_ts IS NULL OR own_account OR NOT in_window THEN NULL
       WHEN wait_s > :response_time_cap_s THEN 'over_cap'
       WHEN NOT in_time_hours THEN 'outside_time_window'
       ELSE NULL END AS time_note
FROM judged
