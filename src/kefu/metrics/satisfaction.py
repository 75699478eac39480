"""Satisfaction from buyer ratings (rules S1–S6).

``rating_audit`` gives every rating before the window end one ``status``; a rating counts
only when its status is ``counted``:

- ``outside_window`` — before the 30-day window (T2); it still takes part in the dedupe, so
  a rating just before the window can hold the 24 hours that reach into it;
- ``duplicate_24h`` — Taobao/Tmall (S3, ``rating_dedupe = rolling_24h``): one counted rating
  per buyer per shop every 24 hours, "每过24小时,就能评价一次"; the first rating counts and
  opens a 24-hour period, ratings inside it are not counted, the first rating at or after its
  end opens the next;
- ``replaced_same_day`` — 1688 (S3, ``same_day_change``): a buyer may change a rating until
  24:00 of the same day, ``max_rating_changes`` times; a change replaces the earlier score;
- ``change_limit`` — a change beyond ``max_rating_changes`` (S3, assumed 3);
- ``own_account_rating`` — the rater is one of the shop's own accounts (R3): abnormal and removed
  (S4, assumed). Being an own account is a property of the (shop, buyer) pair, so all of
  that rater's ratings are removed and no other buyer's dedupe or count is touched;
- ``abnormal`` — the buyer has more than ``max_ratings_per_buyer`` counted ratings in the
  shop in the window (S4, number assumed): all of them are removed.
"""

from __future__ import annotations

from kefu.metrics.params import Params, sql_ts
from kefu.metrics.rounds import own_account

RATING_ORDER = "ORDER BY ts, file_no, row_no"


def _rolling_24h(end: str) -> str:
    # The 24-hour periods chain from rating to rating, so whether a rating counts depends on
    # which earlier ratings counted: a recursive walk along each buyer's ratings. The depth
    # is the largest number of ratings one buyer gave one shop, a handful in practice.
    return f"""
    WITH RECURSIVE ordered AS (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY shop_id, buyer_id {RATING_ORDER}) AS n
      FROM own WHERE ts < {end}
    ), chain AS (
      SELECT shop_id, buyer_id, n, ts AS period_start, TRUE AS opens
      FROM ordered WHERE n = 1
      UNION ALL
      SELECT o.shop_id, o.buyer_id, o.n,
             CASE WHEN o.ts >= c.period_start + INTERVAL 24 HOUR THEN o.ts
                  ELSE c.period_start END,
             o.ts >= c.period_start + INTERVAL 24 HOUR
      FROM chain AS c
      JOIN ordered AS o
        ON o.shop_id = c.shop_id AND o.buyer_id = c.buyer_id AND o.n = c.n + 1
    )
    SELECT o.*, CASE WHEN c.opens THEN NULL ELSE 'duplicate_24h' END AS dedupe
    FROM ordered AS o
    JOIN chain AS c ON c.shop_id = o.shop_id AND c.buyer_id = o.buyer_id AND c.n = o.n
    """


def _same_day_change(end: str, max_changes: int) -> str:
    day = "PARTITION BY shop_id, buyer_id, CAST(ts AS DATE)"
    return f"""
    SELECT *, CASE WHEN n_day > {max_changes + 1} THEN 'change_limit'
                   WHEN n_day < LEAST(day_total, {max_changes + 1}) THEN 'replaced_same_day'
                   ELSE NULL END AS dedupe
    FROM (
      SELECT *, ROW_NUMBER() OVER ({day} {RATING_ORDER}) AS n_day,
                COUNT(*) OVER ({day}) AS day_total
      FROM own WHERE ts < {end}
    ) AS r
    """


def rating_audit(p: Params) -> str:
    """One row per rating before the window end with its ``status`` and ``counted`` flag."""
    end = sql_ts(p.window_end)
    start = sql_ts(p.window_start)
    if p["rating_dedupe"] == "rolling_24h":
        deduped = _rolling_24h(end)
    else:
        deduped = _same_day_change(end, int(p["max_rating_changes"]))  # type: ignore[call-overload]
    limit = int(p["max_ratings_per_buyer"])  # type: ignore[call-overload]
    satisfied = int(p["satisfied_min_score"])  # type: ignore[call-overload]
    counted = f"(in_window AND NOT own_account AND dedupe IS NULL AND buyer_counted <= {limit})"
    return f"""
    WITH own AS (
      -- S4 (assumed): a rating from one of the shop's own accounts (R3) is abnormal.
      {own_account("ratings", "r")}
    ),
    deduped AS ({deduped}),
    placed AS (
      SELECT *, (ts >= {start}) AS in_window FROM deduped
    ),
    per_buyer AS (
      SELECT *, SUM(CASE WHEN in_window AND dedupe IS NULL THEN 1 ELSE 0 END)
                  OVER (PARTITION BY shop_id, buyer_id) AS buyer_counted
      FROM placed
    )
    SELECT shop_id, buyer_id, agent_id, score, ts, source, file_no, row_no,
           CAST(ts AS DATE) AS day, hour(ts) AS hour, buyer_counted, in_window,
           CASE WHEN NOT in_window THEN 'outside_window'
                WHEN own_account THEN 'own_account_rating'
                WHEN dedupe IS NOT NULL THEN dedupe
                WHEN buyer_counted > {limit} THEN 'abnormal'
                ELSE 'counted' END AS status,
           {counted} AS counted,
           ({counted} AND score >= {satisfied}) AS satisfied
    FROM per_buyer
    """


def rating_figures(p: Params) -> str:
    """SELECT list of the satisfaction figures over any grouping of ``rating_audit``.

    S5 rate = satisfied / counted ratings; S6 assessed when counted ≥ ``min_ratings``.
    ``ratings_dissatisfied`` counts scores 1–2 (不满意, 很不满意).
    """
    min_ratings = int(p["min_ratings"])  # type: ignore[call-overload]
    counted = "COUNT(*) FILTER (WHERE counted)"
    return f"""
      {counted} AS ratings,
      COUNT(*) FILTER (WHERE satisfied) AS ratings_satisfied,
      COUNT(*) FILTER (WHERE counted AND score <= 2) AS ratings_dissatisfied,
      CAST(COUNT(*) FILTER (WHERE satisfied) AS DOUBLE)
        / NULLIF({counted}, 0) AS satisfaction_rate,
      ({counted} >= {min_ratings}) AS satisfaction_assessed
    """
