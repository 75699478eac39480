-- stream_counts with P3's consultation key when consultations split by local day
-- (consultation_split = 'day', assumed): the day as a day number.
SELECT
  *,
  CAST(date_diff('day', DATE '2000-01-01', CAST(ts AS DATE)) AS INTEGER) AS consultation
FROM stream_counts
