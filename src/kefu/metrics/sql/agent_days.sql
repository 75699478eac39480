-- One row per (shop, agent, day) with E1's three figures and their statuses.
-- A consultation (接待) is a stream's human activity under one consultation key (P3). An
-- agent handled it when they sent at least one message in it. Its handling time for that
-- agent runs from the consultation's first human message to the agent's last message in
-- it (assumed: the sources give the 5-minute line, not the clock points). It is a
-- proactive contact (主动联系) of the agent when the agent's message opened it. T2: a
-- consultation opened inside the window is the window's, whenever it ends.
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
), per_consultation AS (
  SELECT
    h.shop_id, h.agent_id,
    CAST(c.opened_ts AS DATE) AS day,
    ROUND(EXTRACT(EPOCH FROM h.last_ts) - EXTRACT(EPOCH FROM c.opened_ts), 3) AS handling_s,
    (c.opener = 'agent:' || h.agent_id) AS proactive
  FROM handled AS h
  JOIN consultations AS c
    ON c.shop_id = h.shop_id AND c.buyer_id = h.buyer_id
   AND c.consultation = h.consultation
  WHERE c.opened_ts >= :window_start AND c.opened_ts < :window_end
)
SELECT
  shop_id, agent_id, day,
  COUNT(*) AS consultations,
  AVG(handling_s) AS handling_s,
  COUNT(CASE WHEN proactive THEN 1 END) AS proactive_contacts,
  CASE WHEN COUNT(*) >= :agent_consultations_min THEN 'qualified'
       ELSE 'not_qualified' END AS consultations_status,
  CASE WHEN AVG(handling_s) <= :agent_handling_max_s THEN 'qualified'
       ELSE 'not_qualified' END AS handling_s_status,
  CASE WHEN COUNT(CASE WHEN proactive THEN 1 END) >= :agent_proactive_min THEN 'qualified'
       ELSE 'not_qualified' END AS proactive_contacts_status
FROM per_consultation
GROUP BY shop_id, agent_id, day
