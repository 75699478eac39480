-- One row per rating before the window's end with its `status`; a rating counts only when
-- its status is `counted` (S1–S6):
--   outside_window      before the window (T2); it still took part in the dedupe (S3);
--   own_account_rating  the rater is one of the shop's own accounts (R3): abnormal and
--                       removed (S4, assumed). Being an own account is a property of the
--                       (shop, buyer) pair, so all that rater's ratings are removed and
--                       no other buyer's dedupe or count is touched;
--   duplicate_24h, replaced_same_day, change_limit   the dedupe of S3 (rating_deduped);
--   abnormal            the buyer has more than :max_ratings_per_buyer counted ratings in
--                       the shop in the window (S4, number assumed): all are removed.
-- `satisfied`: counted with a score of at least :satisfied_min_score (S1, S5);
-- `dissatisfied`: counted with a score of 1 or 2 (不满意, 很不满意).
WITH placed AS (
  SELECT *, (ts >= :window_start) AS in_window
  FROM rating_deduped
), per_buyer AS (
  SELECT
    *,
    -- BIGINT on both engines (DuckDB's SUM of integers is a HUGEINT, Spark's a BIGINT).
    CAST(SUM(CASE WHEN in_window AND dedupe IS NULL THEN 1 ELSE 0 END)
      OVER (PARTITION BY shop_id, buyer_id) AS BIGINT) AS buyer_counted
  FROM placed
), judged AS (
  SELECT
    *,
    (in_window AND NOT own_account AND dedupe IS NULL
     AND buyer_counted <= :max_ratings_per_buyer) AS counted
  FROM per_buyer
)
SELECT
  shop_id, buyer_id, agent_id, score, ts, source, file_no, row_no,
  CAST(ts AS DATE) AS day, CAST(EXTRACT(HOUR FROM ts) AS BIGINT) AS hour, buyer_counted, in_window,
  CASE WHEN NOT in_window THEN 'outside_window'
       WHEN own_account THEN 'own_account_rating'
       WHEN dedupe IS NOT NULL THEN dedupe
       WHEN buyer_counted > :max_ratings_per_buyer THEN 'abnormal'
       ELSE 'counted' END AS status,
  counted,
  (counted AND score >= :satisfied_min_score) AS satisfied,
  (counted AND score <= 2) AS dissatisfied
FROM judged
