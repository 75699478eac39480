-- One row per consultation an agent handled (E1), the rows agent_days adds up per day.
-- A consultation (接待) is a stream's human activity under one consultation key (P3). An
-- agent handled it when they sent at least one message in it. Its handling time for that
-- agent runs from the consultation's first human message to the agent's last message in
-- it (assumed: the sources give the 5-minute line, not the clock points). It is a
-- proactive contact (主动联系) of the agent when the agent's message opened it.
-- `consultations`, `handling_total_s` and `proactive_contacts` are the row's shares of
-- agent_days' sums (1, its handling time, 1 or 0), so a day's rows can be summed ahead
-- (an incremental run keeps them per day) and summed again.
WITH human AS (
  SELECT *
  FROM stream_events
  WHERE sender IN ('buyer', 'agent') AND NOT own_account
), consultations AS (
  SELECT
    shop_id, buyer_id, consultation,
    MIN(ts) AS opened_ts,
    MIN_BY(sender || ':' || COALESCE(agent_id, ''), pos) AS opener
  FROM human
  GROUP BY shop_id, buyer_id, consultation
), handled AS (
  SELECT shop_id, agent_id, buyer_id, consultation, MAX(ts) AS last_ts
  FROM human
  WHERE sender = 'agent' AND agent_id IS NOT NULL
  GROUP BY shop_id, agent_id, buyer_id, consultation
)
SELECT
  h.shop_id, h.agent_id, h.buyer_id, c.opened_ts,
  CAST(c.opened_ts AS DATE) AS day,
  CAST(1 AS BIGINT) AS consultations,
  ROUND(EXTRACT(EPOCH FROM h.last_ts) - EXTRACT(EPOCH FROM c.opened_ts), 3)
    AS handling_total_s,
  CAST(CASE WHEN c.opener = 'agent:' || h.agent_id THEN 1 ELSE 0 END AS BIGINT)
    AS proactive_contacts
FROM handled AS h
JOIN consultations AS c
  ON c.shop_id = h.shop_id AND c.buyer_id = h.buyer_id
 AND c.consultation = h.consultation
