"""The live store: durable commits of event batches on SQLite (WAL) and on DuckDB.

Both stores keep the same rows (the checked events of ``kefu.live.events``) with a unique
``(shop_id, msg_id)``, and every commit is durable — SQLite in WAL mode with
``synchronous = FULL`` (the WAL is fsynced at each commit), DuckDB with its default
(its WAL is fsynced at each commit). For each batch size the script commits the same
events one batch per transaction, every event new, then the same batches again (all
re-sends, which must not add a row), and reports events per second; the SQLite store is
kefu's own (``EventStore.write``: it looks up each id, compares a re-send's content and
numbers the rows); the DuckDB one only inserts, its primary key skipping the re-sends. A
third row is SQLite behind the group commit (``GroupCommit``) with eight client threads,
where batches that queue up during an fsync share the next one.

    uv run python benchmarks/live_store.py --events 100000

writes the table into docs/live.md between ``<!-- store-results:start -->`` and
``<!-- store-results:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
from markers import write_results  # this folder, beside the script

from kefu.live.events import CheckedBatch, EventChecker
from kefu.live.store import EventStore, GroupCommit

ROOT = Path(__file__).resolve().parent.parent

DOC = ROOT / "docs" / "live.md"


def events(n: int, start: int = 0) -> list[dict]:
    """``n`` messages of 500 buyers of one shop, a second apart."""
    first = dt.datetime(2026, 11, 2, 9)
    return [
        {
            "shop_id": "s1",
            "buyer_id": f"b{i % 500}",
            "sender": "buyer" if i % 2 else "agent",
            "agent_id": None if i % 2 else f"a{i % 7}",
            "ts": (first + dt.timedelta(seconds=i)).isoformat(sep=" "),
            "text": f"您好,订单 {i} 什么时候发货?",
            "msg_id": f"m{i}",
            "seq": i,
        }
        for i in range(start, start + n)
    ]


def checked(n: int, size: int) -> list[CheckedBatch]:
    checker = EventChecker("Asia/Shanghai")
    return [checker.check(events(size, start)) for start in range(0, n, size)]


def sqlite_rate(batches: list[CheckedBatch], folder: Path) -> tuple[float, float]:
    store = EventStore(folder / "live.db")
    rates = []
    for _ in range(2):  # new events, then the same again: re-sends
        start = time.perf_counter()
        for batch in batches:
            store.write([batch])
        rates.append(sum(b.usable for b in batches) / (time.perf_counter() - start))
    store.close()
    return rates[0], rates[1]


def duckdb_rate(batches: list[CheckedBatch], folder: Path) -> tuple[float, float]:
    con = duckdb.connect(str(folder / "live.duckdb"))
    columns = batches[0].tables["messages"].drop_columns(["index"]).schema
    con.register("__schema", pa.Table.from_batches([], schema=columns))
    con.execute("CREATE TABLE messages AS SELECT * FROM __schema")
    con.execute("ALTER TABLE messages ADD PRIMARY KEY (shop_id, msg_id)")
    rates = []
    for _ in range(2):
        start = time.perf_counter()
        for batch in batches:
            rows = batch.tables["messages"].drop_columns(["index"])
            con.register("batch", rows)
            con.execute("BEGIN")
            # Its primary-key index skips the re-sends (kefu's store also tells which
            # they were, and compares their content; DuckDB is spared that here).
            con.execute("INSERT OR IGNORE INTO messages SELECT * FROM batch")
            con.execute("COMMIT")
            con.unregister("batch")
        rates.append(sum(b.usable for b in batches) / (time.perf_counter() - start))
    con.close()
    return rates[0], rates[1]


def group_commit_rate(batches: list[CheckedBatch], folder: Path, clients: int = 8) -> float:
    store = EventStore(folder / "group.db")
    commit = GroupCommit(store)
    shares = [batches[i::clients] for i in range(clients)]

    def client(mine: list[CheckedBatch]) -> None:
        for batch in mine:
            commit.submit(batch).result()  # acknowledged: on disk

    threads = [threading.Thread(target=client, args=(s,)) for s in shares]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = sum(b.usable for b in batches) / (time.perf_counter() - start)
    commit.close()
    store.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell; the median")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        batches = checked(args.events, size)
        runs: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            for name, measure in (("sqlite", sqlite_rate), ("duckdb", duckdb_rate)):
                with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
                    new, again = measure(batches, Path(tmp))
                runs.setdefault(f"{name} new", []).append(new)
                runs.setdefault(f"{name} again", []).append(again)
            with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
                runs.setdefault("group", []).append(group_commit_rate(batches, Path(tmp)))
        medians = {k: statistics.median(v) for k, v in runs.items()}
        print(size, {k: round(v) for k, v in medians.items()}, flush=True)
        rows.append((size, medians))
    table = markdown(rows, args)
    print(table)
    if not args.no_doc:
        write_results(DOC, "store", table)


def markdown(rows: list, args: argparse.Namespace) -> str:
    lines = [
        f"Reproduce: `uv run python benchmarks/live_store.py --events {args.events}` "
        f"({platform.machine()}, {os.cpu_count()} cores; the median of {args.repeats} runs; "
        "events per second, one batch per durable commit; the store's folder on the "
        "checkout's disk).",
        "",
        "| batch | SQLite WAL, new | SQLite, re-sent | DuckDB, new | DuckDB, re-sent | "
        "SQLite ÷ DuckDB (new) | SQLite, group commit, 8 clients |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, m in rows:
        lines.append(
            f"| {size:,} | {m['sqlite new']:,.0f} | {m['sqlite again']:,.0f} | "
            f"{m['duckdb new']:,.0f} | {m['duckdb again']:,.0f} | "
            f"{m['sqlite new'] / m['duckdb new']:.1f}× | {m['group']:,.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
