-- Prompts and refusal clicks side by side (F2); `status` says what each row counts as:
--   prompt          a prompt shown inside the window, not refused (F1);
--   refused         the buyer clicked refusal at or after the prompt and before the
--                   stream's next prompt;
--   outside_window  a prompt shown outside the window (T2, decided: the click that refuses
--                   a prompt shown inside may come after the window's end);
--   no_prompt       a click with no prompt before it: listed, not counted, so the rate
--                   stays a share of prompts.
-- `next_prompt_ts` ends a prompt's time for a click: a prompt with neither a click nor a
-- next prompt is still open (an incremental run keeps it for the clicks of later days).
WITH matched AS (
  SELECT
    pr.shop_id, pr.buyer_id, pr.agent_id, pr.ts AS prompt_ts, pr.next_prompt_ts,
    MIN(c.ts) AS refusal_ts
  FROM refusal_prompts AS pr
  LEFT JOIN refusals AS c
    ON c.shop_id = pr.shop_id AND c.buyer_id = pr.buyer_id AND c.ts >= pr.ts
   AND (pr.next_prompt_ts IS NULL OR c.ts < pr.next_prompt_ts)
  GROUP BY pr.shop_id, pr.buyer_id, pr.agent_id, pr.ts, pr.next_prompt_ts
), prompted AS (
  SELECT *, (prompt_ts >= :window_start AND prompt_ts < :window_end) AS inside
  FROM matched
)
SELECT
  shop_id, buyer_id, agent_id, prompt_ts AS ts, refusal_ts, next_prompt_ts,
  CAST(prompt_ts AS DATE) AS day, CAST(EXTRACT(HOUR FROM prompt_ts) AS BIGINT) AS hour,
  CASE WHEN NOT inside THEN 'outside_window'
       WHEN refusal_ts IS NULL THEN 'prompt'
       ELSE 'refused' END AS status,
  inside AS in_window,
  inside AS counted,
  (inside AND refusal_ts IS NOT NULL) AS refused
FROM prompted
UNION ALL
SELECT
  c.shop_id, c.buyer_id, CAST(NULL AS VARCHAR), c.ts, c.ts, CAST(NULL AS TIMESTAMP),
  CAST(c.ts AS DATE), CAST(EXTRACT(HOUR FROM c.ts) AS BIGINT),
  'no_prompt',
  (c.ts >= :window_start AND c.ts < :window_end), FALSE, FALSE
FROM refusals AS c
WHERE NOT EXISTS (
  SELECT 1
  FROM refusal_prompts AS pr
  WHERE pr.shop_id = c.shop_id AND pr.buyer_id = c.buyer_id AND pr.ts <= c.ts
)
