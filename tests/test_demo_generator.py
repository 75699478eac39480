"""Tests for the synthetic data generator in :mod:`kefu.demo.generator`.

The checks recompute the planted features with plain SQL over the generated tables, so they do
not depend on the assessment engine. A "round" here is a buyer message whose previous buyer/agent
message in the stream is not a buyer message; its wait is the time to the next agent message.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kefu.demo.generator import (
    ACCOUNT_SCHEMA,
    AGENT_SCHEMA,
    MESSAGE_SCHEMA,
    RATING_SCHEMA,
    REFUSAL_SCHEMA,
    SCHEMAS,
    SHOP_SCHEMA,
    DemoData,
    generate_demo,
    write_demo,
    write_messages_at_scale,
)

AS_OF = date(2025, 6, 1)
WINDOW_START = datetime(2025, 5, 2)
WINDOW_END = datetime(2025, 6, 1)

UNDERSTAFFED, PASSING, FEW_RATINGS = "shop_digital", "shop_fashion", "shop_snacks"
SLOW_AGENT, EXCELLENT_AGENT = "华裳旗舰店:阿杰", "华裳旗舰店:晴天"

ROUNDS_SQL = """
CREATE TEMP TABLE rounds AS
WITH x AS (SELECT DISTINCT * FROM messages WHERE sender IN ('buyer', 'agent')),
o AS (
    SELECT *, lag(sender) OVER (PARTITION BY shop_id, buyer_id ORDER BY ts, seq) AS prev
    FROM x
),
s AS (
    SELECT shop_id, buyer_id, ts, epoch(ts) * 1e7 + seq AS k
    FROM o WHERE sender = 'buyer' AND (prev IS NULL OR prev = 'agent')
),
a AS (
    SELECT shop_id, buyer_id, ts AS answer_ts, agent_id, epoch(ts) * 1e7 + seq AS k
    FROM x WHERE sender = 'agent'
)
SELECT s.shop_id, s.buyer_id, s.ts, a.answer_ts, a.agent_id,
       epoch(a.answer_ts) - epoch(s.ts) AS wait,
       CASE WHEN hour(s.ts) * 60 + minute(s.ts) BETWEEN 720 AND 809 THEN 'lunch'
            WHEN hour(s.ts) >= 22 THEN 'late' ELSE 'other' END AS slot
FROM s ASOF LEFT JOIN a
  ON s.shop_id = a.shop_id AND s.buyer_id = a.buyer_id AND a.k >= s.k
"""


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo(AS_OF, seed=7)


@pytest.fixture(scope="module")
def con(demo: DemoData) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    for name, table in demo.tables().items():
        connection.register(name, table)
    connection.execute(ROUNDS_SQL)
    yield connection
    connection.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The first row of a query."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a query."""
    return con.execute(sql).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """First column of the first row."""
    return one(con, sql)[0]


def response_rate(con: duckdb.DuckDBPyConnection, shop: str) -> float:
    """Share of rounds answered within 180 s."""
    sql = f"SELECT avg(coalesce(wait <= 180, false)::INT) FROM rounds WHERE shop_id = '{shop}'"
    return float(scalar(con, sql))


# ------------------------------------------------------------------------------------------
# Shape, schema, determinism
# ------------------------------------------------------------------------------------------


def test_schemas_are_canonical(demo: DemoData) -> None:
    expected = {
        "messages": MESSAGE_SCHEMA,
        "ratings": RATING_SCHEMA,
        "refusals": REFUSAL_SCHEMA,
        "accounts": ACCOUNT_SCHEMA,
        "agents": AGENT_SCHEMA,
        "shops": SHOP_SCHEMA,
    }
    assert expected == SCHEMAS
    for name, table in demo.tables().items():
        assert table.schema.equals(expected[name]), name
    assert [(f.name, str(f.type)) for f in MESSAGE_SCHEMA] == [
        ("shop_id", "string"),
        ("buyer_id", "string"),
        ("agent_id", "string"),
        ("sender", "string"),
        ("ts", "timestamp[s]"),
        ("text", "string"),
        ("msg_id", "string"),
        ("seq", "int64"),
    ]
    assert str(RATING_SCHEMA.field("score").type) == "int8"


def test_size_and_small_tables(demo: DemoData) -> None:
    assert 150_000 <= demo.messages.num_rows <= 300_000
    assert demo.shops.num_rows == 3
    assert set(demo.shops["tier"].to_pylist()) == {"gold", "silver", "none"}
    assert set(demo.agents["group"].to_pylist()) == {"售前", "售后"}
    assert pc.all(pc.is_in(demo.agents["shop_id"], demo.shops["shop_id"])).as_py()


def test_deterministic_for_a_seed(demo: DemoData) -> None:
    again = generate_demo(AS_OF, seed=7)
    for name, table in demo.tables().items():
        assert table.equals(again.tables()[name]), name
    other = generate_demo(AS_OF, seed=8)
    assert not other.messages.equals(demo.messages)


def test_msg_ids_unique_except_planted_exact_duplicates(con: duckdb.DuckDBPyConnection) -> None:
    n_rows, ids, distinct_rows = one(
        con,
        "SELECT count(*), count(DISTINCT msg_id), (SELECT count(*) FROM (SELECT DISTINCT * "
        "FROM messages)) FROM messages",
    )
    assert 3 <= n_rows - ids <= 20
    assert distinct_rows == ids  # duplicates are exact copies of whole rows


def test_timestamps_within_window(demo: DemoData) -> None:
    for name in ("messages", "ratings", "refusals"):
        ts = demo.tables()[name]["ts"]
        assert pc.min(ts).as_py() >= WINDOW_START, name
        assert pc.max(ts).as_py() < WINDOW_END, name


def test_rows_in_conversation_order(demo: DemoData) -> None:
    keys = [("shop_id", "ascending"), ("buyer_id", "ascending"), ("ts", "ascending")]
    order = pc.sort_indices(demo.messages, sort_keys=[*keys, ("seq", "ascending")])
    assert order.to_pylist() == list(range(demo.messages.num_rows))
    seq = demo.messages["seq"].to_numpy()
    assert (seq[1:] >= seq[:-1]).all()


def test_agent_id_only_on_agent_messages(con: duckdb.DuckDBPyConnection) -> None:
    counts = dict(
        rows(
            con,
            "SELECT sender, count(*) FILTER (WHERE agent_id IS NOT NULL) FROM messages GROUP BY 1",
        )
    )
    assert set(counts) == {"buyer", "agent", "bot", "system"}
    assert counts["buyer"] == counts["bot"] == counts["system"] == 0
    unknown = scalar(
        con,
        "SELECT count(*) FROM messages WHERE sender = 'agent' "
        "AND agent_id NOT IN (SELECT agent_id FROM agents)",
    )
    assert unknown == 0


# ------------------------------------------------------------------------------------------
# Planted features
# ------------------------------------------------------------------------------------------


def test_hourly_profile_has_daytime_peaks(con: duckdb.DuckDBPyConnection) -> None:
    per_hour = dict(
        con.execute("SELECT hour(ts), count(*) FROM rounds GROUP BY 1 ORDER BY 1").fetchall()
    )
    top = sorted(per_hour, key=per_hour.__getitem__, reverse=True)[:6]
    assert set(top) <= {10, 11, 14, 15, 16, 20, 21}
    peak = max(per_hour.values())
    assert all(per_hour.get(h, 0) > 0 for h in range(8))
    assert all(per_hour[h] < 0.1 * peak for h in (2, 3, 4, 5))


def test_understaffed_shop_is_slow_at_lunch_and_late(con: duckdb.DuckDBPyConnection) -> None:
    slow_share = dict(
        con.execute(
            "SELECT slot, avg(coalesce(wait > 180, true)::INT) FROM rounds "
            f"WHERE shop_id = '{UNDERSTAFFED}' GROUP BY 1"
        ).fetchall()
    )
    assert slow_share["lunch"] > 0.6
    assert slow_share["late"] > 0.6
    assert slow_share["other"] < 0.05
    assert response_rate(con, UNDERSTAFFED) < 0.90
    over_30_min = scalar(
        con, f"SELECT count(*) FROM rounds WHERE shop_id = '{UNDERSTAFFED}' AND wait > 1800"
    )
    next_day = scalar(
        con,
        f"SELECT count(*) FROM rounds WHERE shop_id = '{UNDERSTAFFED}' "
        "AND CAST(answer_ts AS DATE) > CAST(ts AS DATE)",
    )
    assert over_30_min > 50
    assert next_day > 20
    for shop in (PASSING, FEW_RATINGS):
        lunch = scalar(
            con,
            "SELECT avg(coalesce(wait > 180, true)::INT) FROM rounds "
            f"WHERE shop_id = '{shop}' AND slot = 'lunch'",
        )
        assert lunch < 0.05, shop


def test_passing_shop_and_few_ratings_shop(con: duckdb.DuckDBPyConnection) -> None:
    assert response_rate(con, PASSING) >= 0.95
    assert response_rate(con, FEW_RATINGS) >= 0.95
    n, satisfaction = one(
        con, f"SELECT count(*), avg((score >= 4)::INT) FROM ratings WHERE shop_id = '{PASSING}'"
    )
    assert n >= 30
    assert satisfaction >= 0.8
    assert 0 < scalar(con, f"SELECT count(*) FROM ratings WHERE shop_id = '{FEW_RATINGS}'") < 30


def test_slow_and_excellent_agents(con: duckdb.DuckDBPyConnection) -> None:
    stats = {
        agent: (median, over)
        for agent, median, over in rows(
            con,
            "SELECT agent_id, median(wait), avg((wait > 180)::INT) FROM rounds "
            f"WHERE shop_id = '{PASSING}' AND wait IS NOT NULL GROUP BY 1",
        )
    }
    assert 40 <= stats[SLOW_AGENT][0] <= 120
    assert stats[SLOW_AGENT][1] > 0.03
    assert 3 <= stats[EXCELLENT_AGENT][0] <= 10
    others = [v for k, v in stats.items() if k not in (SLOW_AGENT, EXCELLENT_AGENT)]
    assert others
    assert all(10 <= median <= 40 for median, _ in others)


def test_bot_welcome_and_system_messages(con: duckdb.DuckDBPyConnection) -> None:
    welcome = one(
        con,
        """
        WITH o AS (
            SELECT *, lag(sender) OVER w AS prev_sender, lag(ts) OVER w AS prev_ts
            FROM messages WINDOW w AS (PARTITION BY shop_id, buyer_id ORDER BY ts, seq)
        )
        SELECT count(*), avg((prev_sender = 'buyer'
                              AND epoch(ts) - epoch(prev_ts) BETWEEN 1 AND 2)::INT)
        FROM o WHERE sender = 'bot' AND text LIKE '%自动回复%'
        """,
    )
    assert welcome[0] > 1000
    assert welcome[1] > 0.8
    system = scalar(
        con, "SELECT count(*) FROM messages WHERE sender = 'system' AND text LIKE '[%]%'"
    )
    assert system > 500


def test_round_shapes(con: duckdb.DuckDBPyConnection) -> None:
    double_question = scalar(
        con,
        """
        WITH o AS (
            SELECT sender, lag(sender) OVER (PARTITION BY shop_id, buyer_id ORDER BY ts, seq) p
            FROM messages WHERE sender IN ('buyer', 'agent')
        )
        SELECT count(*) FROM o WHERE sender = 'buyer' AND p = 'buyer'
        """,
    )
    same_second = scalar(
        con,
        "SELECT count(*) FROM (SELECT shop_id, buyer_id, ts FROM messages "
        "GROUP BY ALL HAVING count(DISTINCT sender) FILTER "
        "(WHERE sender IN ('buyer', 'agent')) = 2)",
    )
    multi_round = scalar(
        con,
        "SELECT count(*) FROM (SELECT shop_id, buyer_id, CAST(ts AS DATE) FROM rounds "
        "GROUP BY ALL HAVING count(*) >= 3)",
    )
    assert double_question > 1000
    assert same_second > 10
    assert multi_round > 1000
    greetings = scalar(
        con, "SELECT count(*) FROM messages WHERE sender = 'buyer' AND text IN ('在吗', '你好')"
    )
    assert greetings > 100


def test_proactive_contacts_and_marketing_bursts(con: duckdb.DuckDBPyConnection) -> None:
    proactive = scalar(
        con,
        """
        WITH f AS (
            SELECT shop_id, buyer_id, arg_min(sender, (ts, seq)) AS first_sender,
                   count(*) FILTER (WHERE sender = 'buyer') AS buyer_msgs
            FROM messages WHERE sender IN ('buyer', 'agent') GROUP BY 1, 2
        )
        SELECT count(*) FROM f WHERE first_sender = 'agent' AND buyer_msgs > 0
        """,
    )
    assert proactive > 100
    bursts = rows(
        con,
        """
        WITH o AS (
            SELECT shop_id, buyer_id, sender,
                   sum((sender = 'buyer')::INT) OVER w AS run
            FROM messages WHERE sender IN ('buyer', 'agent')
            WINDOW w AS (PARTITION BY shop_id, buyer_id ORDER BY ts, seq)
        )
        SELECT shop_id, count(*) FROM (
            SELECT shop_id, buyer_id, run FROM o WHERE sender = 'agent'
            GROUP BY ALL HAVING count(*) >= 5
        ) GROUP BY 1
        """,
    )
    assert len(bursts) == 3


def test_refusals_follow_five_consecutive_shop_messages(demo: DemoData) -> None:
    assert demo.refusals.num_rows >= 5
    con = duckdb.connect()
    con.register("messages", demo.messages)
    for shop, buyer, ts in zip(*demo.refusals.to_pydict().values(), strict=True):
        senders = [
            r[0]
            for r in con.execute(
                "SELECT sender FROM messages WHERE shop_id = ? AND buyer_id = ? AND ts <= ? "
                "ORDER BY ts DESC, seq DESC",
                [shop, buyer, ts],
            ).fetchall()
        ]
        trailing = next((i for i, s in enumerate(senders) if s == "buyer"), len(senders))
        assert trailing >= 5, (shop, buyer)


def test_internal_test_chat_per_shop(con: duckdb.DuckDBPyConnection) -> None:
    per_shop = rows(
        con,
        """
        SELECT m.shop_id, count(DISTINCT m.sender)
        FROM messages m JOIN accounts a ON m.shop_id = a.shop_id AND m.buyer_id = a.account
        WHERE m.sender IN ('buyer', 'agent') GROUP BY 1
        """,
    )
    assert sorted(per_shop) == [(UNDERSTAFFED, 2), (PASSING, 2), (FEW_RATINGS, 2)]


def test_ratings(con: duckdb.DuckDBPyConnection) -> None:
    sources = {r[0] for r in con.execute("SELECT DISTINCT source FROM ratings").fetchall()}
    assert sources == {"system_invite", "buyer", "merchant_invite"}
    assert scalar(con, "SELECT count(*) FROM ratings WHERE score NOT BETWEEN 1 AND 5") == 0
    strangers = scalar(
        con,
        "SELECT count(*) FROM ratings r ANTI JOIN messages m "
        "ON r.shop_id = m.shop_id AND r.buyer_id = m.buyer_id",
    )
    assert strangers == 0
    twice_within_day = scalar(
        con,
        """
        SELECT count(*) FROM (
            SELECT ts - lag(ts) OVER (PARTITION BY shop_id, buyer_id ORDER BY ts) AS gap
            FROM ratings
        ) WHERE gap < INTERVAL 24 HOUR
        """,
    )
    assert twice_within_day >= 3
    abnormal_days = scalar(
        con,
        "SELECT max(d) FROM (SELECT count(DISTINCT CAST(ts AS DATE)) AS d FROM ratings "
        "GROUP BY shop_id, buyer_id)",
    )
    assert abnormal_days >= 8


def test_bad_scores_follow_slow_service(con: duckdb.DuckDBPyConnection) -> None:
    slow, rest = one(
        con,
        f"""
        SELECT avg((score <= 2)::INT) FILTER (WHERE agent_id = '{SLOW_AGENT}'),
               avg((score <= 2)::INT) FILTER (WHERE agent_id <> '{SLOW_AGENT}')
        FROM ratings WHERE shop_id = '{PASSING}'
        """,
    )
    assert slow > 2 * rest
    understaffed, passing = (
        scalar(con, f"SELECT avg((score <= 2)::INT) FROM ratings WHERE shop_id = '{shop}'")
        for shop in (UNDERSTAFFED, PASSING)
    )
    assert understaffed > 0 and passing > 0


# ------------------------------------------------------------------------------------------
# Writers
# ------------------------------------------------------------------------------------------


def test_write_demo_parquet_and_csv(demo: DemoData, tmp_path: Path) -> None:
    paths = write_demo(demo, tmp_path / "pq")
    assert set(paths) == set(demo.tables())
    for name, path in paths.items():
        assert path.name == f"{name}.parquet"
        # Parquet has no second unit: ts comes back as ms unless the schema is given.
        assert pq.read_table(path, schema=SCHEMAS[name]).equals(demo.tables()[name])

    csv_paths = write_demo(demo, tmp_path / "csv", fmt="csv")
    with csv_paths["ratings"].open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == demo.ratings.num_rows
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["ts"]) for r in rows)
    first = demo.ratings.slice(0, 1).to_pylist()[0]
    assert rows[0]["ts"] == first["ts"].strftime("%Y-%m-%d %H:%M:%S")
    with pytest.raises(ValueError, match="unsupported format"):
        write_demo(demo, tmp_path / "x", fmt="xlsx")


def test_write_messages_at_scale(tmp_path: Path) -> None:
    path = tmp_path / "scale.parquet"
    seen: list[int] = []
    n = write_messages_at_scale(path, 200_000, 40, AS_OF, seed=3, progress=seen.append)
    table = pq.read_table(path, schema=MESSAGE_SCHEMA)
    assert pq.read_schema(path).names == MESSAGE_SCHEMA.names
    assert n == table.num_rows
    assert abs(n - 200_000) <= 2_000
    assert seen == sorted(seen) and seen[-1] == n
    assert len(seen) >= 2  # really written in chunks
    assert pc.count_distinct(table["msg_id"]).as_py() == n
    assert table["seq"].to_pylist() == list(range(1, n + 1))
    keys = [("shop_id", "ascending"), ("buyer_id", "ascending"), ("ts", "ascending")]
    order = pc.sort_indices(table, sort_keys=[*keys, ("seq", "ascending")])
    assert order.to_pylist() == list(range(n))
    assert pc.min(table["ts"]).as_py() >= WINDOW_START
    assert pc.max(table["ts"]).as_py() < WINDOW_END
    assert pc.count_distinct(table["shop_id"]).as_py() == 40
    senders = set(pc.unique(table["sender"]).to_pylist())
    assert senders == {"buyer", "agent", "bot", "system"}


def test_scale_writer_is_deterministic_and_realistic(tmp_path: Path) -> None:
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    counts = [
        write_messages_at_scale(p, 30_000, 5, AS_OF, seed=11, chunk_rows=8_000) for p in paths
    ]
    assert counts[0] == counts[1]
    first, second = (pq.read_table(p, schema=MESSAGE_SCHEMA) for p in paths)
    assert first.equals(second)

    con = duckdb.connect()
    con.register("messages", first)
    con.execute(ROUNDS_SQL)
    median_wait = scalar(con, "SELECT median(wait) FROM rounds")
    assert 3 <= median_wait <= 60
    by_hour = dict(con.execute("SELECT hour(ts), count(*) FROM rounds GROUP BY 1").fetchall())
    assert by_hour[10] > 3 * by_hour.get(4, 0)
    same_second = scalar(
        con,
        "SELECT count(*) FROM (SELECT shop_id, buyer_id, ts FROM messages GROUP BY ALL "
        "HAVING count(DISTINCT sender) FILTER (WHERE sender IN ('buyer', 'agent')) = 2)",
    )
    assert same_second > 0
