"""The day-partitioned dataset writer (``kefu demo --scale``, ``kefu.demo.scale``).

Checked on the files written, with plain DuckDB SQL: the layout and canonical types, the
exact shares of invalid and duplicate rows the writer reports, time order within a day,
determinism, bounded memory, and that ``kefu assess`` reconciles what it reads with them.
"""

from __future__ import annotations

import re
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.demo.generator import write_messages_at_scale
from kefu.demo.scale import default_shops, parse_scale, write_dataset
from kefu.io.schema import arrow_schema

AS_OF = date(2024, 6, 1)
DAYS = 6


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("scale") / "ds"
    seen: list[int] = []
    counts = write_dataset(
        out, 15_000, 4, AS_OF, days=DAYS, seed=5, progress=seen.append, chunk_rows=1_000
    )
    assert seen == sorted(seen) and len(seen) == DAYS and seen[-1] == counts["messages"]
    return out, counts


def sql(query: str) -> list[tuple]:
    return duckdb.sql(query).fetchall()


def glob(out: Path, table: str) -> str:
    return f"read_parquet('{out}/{table}/*/*.parquet', hive_partitioning = false)"


def test_parse_scale() -> None:
    assert parse_scale("10M") == 10_000_000
    assert parse_scale("1.5m") == 1_500_000
    assert parse_scale("100M") == 100_000_000
    assert parse_scale("250k") == 250_000
    assert parse_scale("1234") == 1234
    for bad in ("", "0", "ten", "5x", "-1M"):
        with pytest.raises(ValueError, match="not a row count"):
            parse_scale(bad)
    assert default_shops(10_000_000) == 1000
    assert default_shops(5) == 1


def test_layout_and_canonical_types(dataset: tuple[Path, dict[str, int]]) -> None:
    out, counts = dataset
    days = [f"day={AS_OF - timedelta(days=DAYS - i)}" for i in range(DAYS)]
    for table in ("messages", "ratings", "refusals"):
        assert sorted(p.name for p in (out / table).iterdir()) == days
        for day in days:
            schema = pq.read_schema(out / table / day / "part-0.parquet")
            want = arrow_schema(table)
            assert schema.names == want.names
            for field in want:  # Parquet keeps seconds as milliseconds
                kind = "timestamp" if str(field.type).startswith("timestamp") else field.type
                assert str(schema.field(field.name).type).startswith(str(kind))
    for table in ("shops", "agents", "accounts"):
        assert pq.read_schema(out / f"{table}.parquet").names == arrow_schema(table).names
        assert pq.read_metadata(out / f"{table}.parquet").num_rows == counts[table]
    for table in ("messages", "ratings", "refusals"):
        assert sql(f"SELECT count(*) FROM {glob(out, table)}") == [(counts[table],)]
    # Every row lies in the partition of its local day.
    assert sql(
        f"SELECT count(*) FROM read_parquet('{out}/*/*/*.parquet', union_by_name = true) "
        "WHERE ts IS NOT NULL AND CAST(ts AS DATE) <> day"
    ) == [(0,)]


def test_invalid_and_duplicate_rows_are_exactly_as_reported(
    dataset: tuple[Path, dict[str, int]],
) -> None:
    out, c = dataset
    generated = c["messages"] - c["duplicates"]
    assert c["invalid"] == round(0.01 * generated) and c["duplicates"] == round(0.001 * generated)
    assert c["invalid"] == c["invalid_ts"] + c["invalid_sender"] + c["invalid_buyer_id"]
    assert (
        max(c["invalid_ts"], c["invalid_sender"], c["invalid_buyer_id"])
        - min(c["invalid_ts"], c["invalid_sender"], c["invalid_buyer_id"])
        <= 1
    )
    [(no_ts, odd_sender, no_buyer, senders)] = sql(
        f"SELECT count(*) FILTER (WHERE ts IS NULL), count(*) FILTER (WHERE sender = 'robot?'),"
        f" count(*) FILTER (WHERE buyer_id IS NULL),"
        f" list(DISTINCT sender ORDER BY sender) FROM {glob(out, 'messages')}"
    )
    assert (no_ts, odd_sender, no_buyer) == (c["invalid_ts"], c["invalid_sender"],
                                             c["invalid_buyer_id"])  # fmt: skip
    assert senders == ["agent", "bot", "buyer", "robot?", "system"]
    # A copy follows its row in the same file and repeats every column.
    rows = f"SELECT *, filename AS f, file_row_number AS r FROM read_parquet('{out}/messages/*/*.parquet', filename = true, file_row_number = true, hive_partitioning = false)"
    [(copies, adjacent, identical)] = sql(
        f"WITH m AS ({rows}) SELECT count(*), count(*) FILTER (WHERE b.r = a.r + 1),"
        " count(*) FILTER (WHERE a.text = b.text AND a.seq IS NOT DISTINCT FROM b.seq"
        " AND a.ts = b.ts AND a.buyer_id = b.buyer_id AND a.sender = b.sender)"
        " FROM m AS a JOIN m AS b ON a.msg_id = b.msg_id AND a.r < b.r"
    )
    assert copies == adjacent == identical == c["duplicates"]


def test_days_are_in_time_order_not_stream_order(dataset: tuple[Path, dict[str, int]]) -> None:
    out, _ = dataset
    for day_file in sorted((out / "messages").glob("*/part-0.parquet")):
        meta = pq.read_metadata(day_file)
        assert all(meta.row_group(i).num_rows <= 1_000 for i in range(meta.num_row_groups))
        [(backwards, stream_sorted)] = sql(
            "WITH m AS (SELECT *, file_row_number AS r FROM read_parquet("
            f"'{day_file}', file_row_number = true) WHERE ts IS NOT NULL) "
            "SELECT count(*) FILTER (WHERE ts < lag), bool_and(k >= klag) FROM ("
            "SELECT ts, lag(ts) OVER (ORDER BY r) AS lag, shop_id || buyer_id AS k,"
            " lag(shop_id || buyer_id) OVER (ORDER BY r) AS klag FROM m)"
        )
        assert backwards == 0 and not stream_sorted
    assert any(pq.read_metadata(f).num_row_groups > 1 for f in (out / "messages").glob("*/*"))


def test_ratings_refusals_and_own_accounts(dataset: tuple[Path, dict[str, int]]) -> None:
    out, c = dataset
    assert c["ratings"] > 100 and c["refusals"] > 0
    [(again,)] = sql(
        f"SELECT count(*) FROM {glob(out, 'ratings')} AS a JOIN {glob(out, 'ratings')} AS b"
        " ON a.shop_id = b.shop_id AND a.buyer_id = b.buyer_id"
        " AND b.ts > a.ts AND b.ts < a.ts + INTERVAL 24 HOUR"
    )
    assert again > 0
    # Every refusal follows a run of at least 5 agent messages to that buyer (F1).
    [(refusals, after_run)] = sql(
        f"SELECT count(*), count(*) FILTER (WHERE (SELECT count(*) FROM {glob(out, 'messages')}"
        " AS m WHERE m.shop_id = f.shop_id AND m.buyer_id = f.buyer_id AND m.sender = 'agent'"
        f" AND m.ts BETWEEN f.ts - INTERVAL 2 HOUR AND f.ts) >= 5) FROM {glob(out, 'refusals')} AS f"
    )
    assert after_run == refusals == c["refusals"]
    [(own_rows,)] = sql(
        f"SELECT count(*) FROM {glob(out, 'messages')} AS m"
        f" JOIN '{out}/accounts.parquet' AS a ON a.shop_id = m.shop_id AND a.account = m.buyer_id"
    )
    assert own_rows > 0
    assert sql(f"SELECT count(DISTINCT agent_group) FROM '{out}/agents.parquet'") == [(2,)]
    assert sql(f"SELECT count(*) FROM '{out}/shops.parquet' WHERE tier IS NULL") == [(0,)]


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    runs = [write_dataset(tmp_path / n, 5_000, 2, AS_OF, days=3, seed=s)
            for n, s in (("a", 1), ("b", 1), ("c", 2))]  # fmt: skip
    assert runs[0] == runs[1]
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert len(files) == 3 * 3 + 3
    for f in files:
        assert pq.read_table(tmp_path / "a" / f).equals(pq.read_table(tmp_path / "b" / f))
    messages = Path("messages") / f"day={AS_OF - timedelta(days=1)}" / "part-0.parquet"
    assert not pq.read_table(tmp_path / "a" / messages).equals(
        pq.read_table(tmp_path / "c" / messages)
    )


def test_memory_is_bounded_by_a_day_not_the_total(tmp_path: Path) -> None:
    """Four times the days at the same volume a day: the same peak of traced memory."""
    write_dataset(tmp_path / "warm", 4_000, 3, AS_OF, days=2)  # one-time allocations
    peaks = []
    for days in (6, 24):
        tracemalloc.start()
        write_dataset(tmp_path / f"d{days}", 1_500 * days, 3, AS_OF, days=days)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0]


def test_messages_at_scale_still_importable_from_the_generator(tmp_path: Path) -> None:
    n = write_messages_at_scale(tmp_path / "m.parquet", 5_000, 3, AS_OF, seed=2)
    assert pq.read_metadata(tmp_path / "m.parquet").num_rows == n > 0


def test_cli_writes_a_dataset_assess_reconciles(tmp_path: Path) -> None:
    runner = CliRunner(env={"KEFU_DEBUG": None})
    out = tmp_path / "ds"
    run = runner.invoke(app, ["demo", "--scale", "12k", "--shops", "3", "--days", "8",
                              "--as-of", "2024-06-01", "--out", str(out)])  # fmt: skip
    assert run.exit_code == 0, run.output
    wrote = re.search(r"messages ([\d,]+).* ([\d,]+) invalid and ([\d,]+) duplicate", run.output)
    assert wrote, run.output
    messages, invalid, duplicates = (int(g.replace(",", "")) for g in wrote.groups())
    assert len(list((out / "messages").iterdir())) == 8

    again = runner.invoke(app, ["demo", "--scale", "12k", "--out", str(out)])
    assert again.exit_code == 2 and "not an empty folder" in again.output
    assessed = runner.invoke(app, ["assess", str(out), "--out", str(tmp_path / "o")])
    assert assessed.exit_code == 0, assessed.output
    line = re.search(
        r"messages: read (\d+) = accepted (\d+) \+ quarantined (\d+) \+ duplicates (\d+)",
        assessed.output,
    )
    assert line, assessed.output
    read, accepted, quarantined, dups = map(int, line.groups())
    assert (read, quarantined, dups) == (messages, invalid, duplicates)
    assert read == accepted + quarantined + dups
    assert "messages: read 8 of 8 day partitions, 2024-05-24 … 2024-05-31" in assessed.output
