-- Every message read (T2, decided: from :history_start to :history_end), with its place
-- in its stream (one buyer, one shop).
--
-- One sort of each stream in T3's total order (ts, then seq with a row without one first,
-- then file and row; NULLS FIRST spelled out since DuckDB and Spark default differently)
-- yields every running count the definitions need:
--   pos   the message's position in the stream;
--   k     agent messages strictly before it (R4: buyer messages sharing k form a round,
--         the agent message with the same k answers it; bots and system messages (R2)
--         get a k too but never raise it, so they neither answer nor split a round);
--   b, s  buyer messages, and shop messages (F1: agents, and bots when
--         :refusal_counts_bot), up to and including it;
--   own_account  the buyer is one of the shop's own accounts (R3).
-- stream_events adds P3's consultation key to these rows.
WITH counted AS (
  SELECT
    shop_id, buyer_id, agent_id, sender, ts,
    CAST(ROW_NUMBER() OVER by_stream AS INTEGER) AS pos,
    -- Parenthesised: Spark reads `OVER w - x` as the window name `w-x`.
    CAST((SUM(CASE WHEN sender = 'agent' THEN 1 ELSE 0 END) OVER by_stream)
         - CASE WHEN sender = 'agent' THEN 1 ELSE 0 END AS INTEGER) AS k,
    CAST(SUM(CASE WHEN sender = 'buyer' THEN 1 ELSE 0 END) OVER by_stream AS INTEGER) AS b,
    CAST(SUM(CASE WHEN sender = 'agent' OR (:refusal_counts_bot AND sender = 'bot')
                  THEN 1 ELSE 0 END) OVER by_stream AS INTEGER) AS s
  FROM messages
  WHERE ts >= :history_start AND ts < :history_end
  WINDOW by_stream AS (
    PARTITION BY shop_id, buyer_id
    ORDER BY ts, seq NULLS FIRST, file_no, row_no
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  )
)
SELECT
  e.*,
  (a.account IS NOT NULL) AS own_account
FROM counted AS e
LEFT JOIN own_accounts AS a
  ON a.shop_id = e.shop_id AND a.account = e.buyer_id
