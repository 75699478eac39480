-- S3, 1688 (rating_dedupe = 'same_day_change'): a buyer may change a rating until 24:00 of
-- the same day, :max_rating_changes times (assumed); a change replaces the earlier score
-- (replaced_same_day), and a change beyond the allowed ones does not count (change_limit).
WITH own AS (
  SELECT r.*, (a.account IS NOT NULL) AS own_account
  FROM ratings AS r
  LEFT JOIN own_accounts AS a
    ON a.shop_id = r.shop_id AND a.account = r.buyer_id
  WHERE r.ts < :window_end
), numbered AS (
  SELECT
    *,
    ROW_NUMBER() OVER same_day AS n_day,
    COUNT(*) OVER (PARTITION BY shop_id, buyer_id, CAST(ts AS DATE)) AS day_total
  FROM own
  WINDOW same_day AS (PARTITION BY shop_id, buyer_id, CAST(ts AS DATE)
                      ORDER BY ts, file_no, row_no)
)
SELECT
  *,
  CASE WHEN n_day > :max_rating_changes + 1 THEN 'change_limit'
       WHEN n_day < LEAST(day_total, :max_rating_changes + 1) THEN 'replaced_same_day'
       ELSE NULL END AS dedupe
FROM numbered
