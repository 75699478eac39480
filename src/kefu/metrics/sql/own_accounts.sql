-- R3: the shop's own accounts, one row per (shop, account). A repeated accounts row must
-- not double a message or a rating that joins it, hence DISTINCT. Read by stream_events
-- (rounds, refusals, E1) and rating_audit (S4): the one definition of an own account.
SELECT DISTINCT shop_id, account
FROM accounts
