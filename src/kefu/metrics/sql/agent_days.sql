-- One row per (shop, agent, day) with E1's three figures and their statuses, summed from
-- agent_consultations (one row per handled consultation, or a day's sums of such rows).
-- T2: a consultation opened inside the window is the window's, whenever it ends; the
-- window's bounds are midnights, so its days are the days of the window.
WITH per_day AS (
  SELECT
    shop_id, agent_id, day,
    CAST(SUM(consultations) AS BIGINT) AS consultations,
    SUM(handling_total_s) / SUM(consultations) AS handling_s,
    CAST(SUM(proactive_contacts) AS BIGINT) AS proactive_contacts
  FROM agent_consultations
  WHERE day >= CAST(:window_start AS DATE) AND day < CAST(:window_end AS DATE)
  GROUP BY shop_id, agent_id, day
)
SELECT
  shop_id, agent_id, day, consultations, handling_s, proactive_contacts,
  CASE WHEN consultations >= :agent_consultations_min THEN 'qualified'
       ELSE 'not_qualified' END AS consultations_status,
  CASE WHEN handling_s <= :agent_handling_max_s THEN 'qualified'
       ELSE 'not_qualified' END AS handling_s_status,
  CASE WHEN proactive_contacts >= :agent_proactive_min THEN 'qualified'
       ELSE 'not_qualified' END AS proactive_contacts_status
FROM per_day
