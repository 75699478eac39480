-- S3, Taobao/Tmall (rating_dedupe = 'rolling_24h'): one counted rating per buyer per shop
-- every 24 hours, "每过24小时,就能评价一次". The first rating counts and opens a 24-hour
-- period; ratings inside it are not counted; the first rating at or after its end opens
-- the next. The periods chain from rating to rating, so whether a rating counts depends on
-- which earlier ratings counted: a recursive walk along each buyer's ratings, as deep as
-- the most ratings one buyer gave one shop (a handful in practice). Ratings before the
-- window take part, so a rating just before it can hold the 24 hours that reach into it.
WITH RECURSIVE ordered AS (
  SELECT
    r.*,
    (a.account IS NOT NULL) AS own_account,
    ROW_NUMBER() OVER (PARTITION BY r.shop_id, r.buyer_id ORDER BY r.ts, r.file_no, r.row_no)
      AS n
  FROM ratings AS r
  LEFT JOIN own_accounts AS a
    ON a.shop_id = r.shop_id AND a.account = r.buyer_id
  WHERE r.ts < :window_end
), chain AS (
  SELECT shop_id, buyer_id, n, ts AS period_start, TRUE AS opens
  FROM ordered
  WHERE n = 1
  UNION ALL
  SELECT
    o.shop_id, o.buyer_id, o.n,
    CASE WHEN o.ts >= c.period_start + INTERVAL 24 HOUR THEN o.ts ELSE c.period_start END,
    o.ts >= c.period_start + INTERVAL 24 HOUR
  FROM chain AS c
  JOIN ordered AS o
    ON o.shop_id = c.shop_id AND o.buyer_id = c.buyer_id AND o.n = c.n + 1
)
SELECT o.*, CASE WHEN c.opens THEN NULL ELSE 'duplicate_24h' END AS dedupe
FROM ordered AS o
JOIN chain AS c
  ON c.shop_id = o.shop_id AND c.buyer_id = o.buyer_id AND c.n = o.n
