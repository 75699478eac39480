-- stream_counts with P3's consultation key when consultations split on an idle gap
-- (consultation_split = 'gap', assumed): a human message (buyer or agent) more than
-- :consultation_gap_s after the stream's previous human message opens a consultation, and
-- the key is the running count of openings.
WITH gaps AS (
  SELECT
    *,
    MAX(CASE WHEN sender IN ('buyer', 'agent') THEN ts END) OVER (
      PARTITION BY shop_id, buyer_id ORDER BY pos
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS prev_human_ts
  FROM stream_counts
), openings AS (
  SELECT
    *,
    CASE WHEN sender IN ('buyer', 'agent')
              AND (prev_human_ts IS NULL
                   OR EXTRACT(EPOCH FROM ts) - EXTRACT(EPOCH FROM prev_human_ts)
                      > :consultation_gap_s)
         THEN 1 ELSE 0 END AS opens
  FROM gaps
)
SELECT
  shop_id, buyer_id, agent_id, sender, ts, pos, k, b, s, own_account,
  CAST(SUM(opens) OVER (
    PARTITION BY shop_id, buyer_id ORDER BY pos
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS INTEGER) AS consultation
FROM openings
