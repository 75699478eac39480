-- One row per refusal prompt (F1), from stream_events; own-account streams excluded (R3).
-- When the shop sends :refusal_run_length consecutive messages with no buyer message
-- between them, the platform asks the buyer whether to refuse further messages: one prompt
-- per run, at the run's :refusal_run_length-th message. Shop messages are agents', and
-- auto-replies when :refusal_counts_bot (assumed); system messages come from the platform,
-- so they neither count nor break a run. A run is the shop messages sharing a buyer count
-- b; their shop counts s are consecutive, so the prompting message has
-- s = first s + length - 1. `pos` is the prompting message's place in its stream.
WITH shop_side AS (
  SELECT *
  FROM stream_events
  WHERE (sender = 'agent' OR (:refusal_counts_bot AND sender = 'bot')) AND NOT own_account
), runs AS (
  SELECT shop_id, buyer_id, b, MIN(s) AS first_s
  FROM shop_side
  GROUP BY shop_id, buyer_id, b
  HAVING COUNT(*) >= :refusal_run_length
), prompts AS (
  SELECT e.shop_id, e.buyer_id, e.agent_id, e.ts, e.pos
  FROM shop_side AS e
  JOIN runs AS r
    ON e.shop_id = r.shop_id AND e.buyer_id = r.buyer_id AND e.b = r.b
   AND e.s = r.first_s + :refusal_run_length - 1
)
SELECT
  shop_id, buyer_id, agent_id, ts, pos,
  LEAD(ts) OVER (PARTITION BY shop_id, buyer_id ORDER BY pos) AS next_prompt_ts
FROM prompts
