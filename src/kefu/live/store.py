"""The live service's durable store: SQLite in WAL mode, one writer, group commits.

An event is acknowledged only once it is on disk: every commit is ``synchronous = FULL``
(the WAL is fsynced), and requests that arrive while a commit is in flight share the next
one — batching the fsyncs, never skipping them (docs/live.md has the measurements that
chose SQLite). A re-sent event, matched on ``(shop_id, msg_id)``, is stored once; one that
reuses an id with other content is refused and named, as the loader quarantines such a
copy (``kefu.io.load.COMPARED``).

>>> import tempfile, pathlib
>>> from kefu.live.events import EventChecker
>>> store = EventStore(pathlib.Path(tempfile.mkdtemp()) / "live.db")
>>> event = {"shop_id": "s1", "buyer_id": "b1", "sender": "buyer", "ts": "2024-03-01 10:00",
...          "msg_id": "m1"}
>>> batch = EventChecker("Asia/Shanghai").check([event, event])
>>> written = store.write([batch])[0]
>>> written.stored, written.duplicates, written.new["messages"][0][:3]
(1, 1, (1, 's1', 'b1'))
>>> store.count("messages", "s1")
1
>>> store.close()
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from kefu.io.load import COMPARED
from kefu.io.schema import TABLES
from kefu.live.events import KINDS, CheckedBatch, Rejected, stored_columns
from kefu.live.grouping import Grouped

log = logging.getLogger("kefu.live")

#: Columns two copies of one event are compared on, per table: what the event says.
SAME = {
    "messages": COMPARED,
    "ratings": ("buyer_id", "agent_id", "score", "ts", "source"),
    "refusals": ("buyer_id", "ts"),
}

_SQL_TYPES = {"VARCHAR": "TEXT", "TIMESTAMP": "TEXT", "BIGINT": "INTEGER", "INTEGER": "INTEGER"}


@dataclass
class Written:
    """What one request's events became: new rows, re-sends, and ids reused otherwise.

    ``new[table]`` holds the stored rows, each ``(arrival, *stored_columns(table))``.
    """

    stored: int = 0
    duplicates: int = 0
    conflicts: list[Rejected] = field(default_factory=list)
    new: dict[str, list[tuple]] = field(default_factory=dict)


def _schema(table: str) -> str:
    types = {c.name: _SQL_TYPES[c.sql_type] for c in TABLES[table]}
    columns = ", ".join(f"{c} {types.get(c, 'TEXT')}" for c in stored_columns(table))
    # ``arrival`` is the store's order: the order events were acknowledged in.
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (arrival INTEGER PRIMARY KEY, {columns}, "
        "received TEXT NOT NULL, UNIQUE (shop_id, msg_id))"
    )


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the store at ``path`` (made if new): WAL, every commit fsynced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.execute("PRAGMA busy_timeout = 10000")
    for table in KINDS.values():
        con.execute(_schema(table))
        # A stream's events in time order: the desk forms a stream again from them.
        con.execute(f"CREATE INDEX IF NOT EXISTS {table}_stream ON {table} (shop_id, buyer_id, ts)")
    return con


def _value(value: Any) -> Any:
    """A canonical value as SQLite keeps it: a time as ISO text (naive local, T1)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return value


class EventStore:
    """The events the service acknowledged. ``write`` is called by one thread at a time
    (the ``GroupCommit`` writer); reads may come from any thread, each on its own
    connection, and see committed events only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = connect(path)
        self._readers = threading.local()

    def reader(self) -> sqlite3.Connection:
        """This thread's connection for reads (made on first use)."""
        con = getattr(self._readers, "con", None)
        if con is None:
            con = self._readers.con = connect(self.path)
        return con

    def write(self, batches: list[CheckedBatch]) -> list[Written]:
        """Store every usable event of ``batches`` in one transaction, one fsync."""
        results = [Written() for _ in batches]
        now = dt.datetime.now(dt.UTC).isoformat(sep=" ", timespec="milliseconds")
        con = self._writer
        con.execute("BEGIN IMMEDIATE")
        try:
            for table in KINDS.values():
                self._write_table(con, table, batches, results, now)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return results

    def _write_table(
        self,
        con: sqlite3.Connection,
        table: str,
        batches: list[CheckedBatch],
        results: list[Written],
        now: str,
    ) -> None:
        columns = stored_columns(table)
        same = [columns.index(c) for c in SAME[table]]
        known = {}  # (shop, msg_id) → the stored event's compared values
        rows = []
        # The single writer numbers the rows itself, so each new event's arrival is known.
        arrival = con.execute(f"SELECT COALESCE(MAX(arrival), 0) FROM {table}").fetchone()[0]
        for b, batch in enumerate(batches):
            if table not in batch.tables:
                continue
            events = batch.tables[table]
            values = [[_value(v) for v in row.values()] for row in events.to_pylist()]
            keys = [(v[columns.index("shop_id")], v[columns.index("msg_id")]) for v in values]
            known.update(self._stored(con, table, [k for k in keys if k not in known]))
            for row, key in zip(values, keys, strict=True):
                index, event = row[-1], row[:-1]
                compared = tuple(event[i] for i in same)
                if key not in known:
                    known[key] = compared
                    arrival += 1
                    rows.append((arrival, *event, now))
                    results[b].new.setdefault(table, []).append((arrival, *event))
                    results[b].stored += 1
                elif known[key] == compared:
                    results[b].duplicates += 1
                else:
                    pairs = zip(SAME[table], known[key], compared, strict=True)
                    differ = [c for c, x, y in pairs if x != y]
                    results[b].conflicts.append(_conflict(index, key[1], differ))
        if rows:
            marks = ", ".join("?" * (len(columns) + 2))
            con.executemany(
                f"INSERT INTO {table} (arrival, {', '.join(columns)}, received) VALUES ({marks})",
                rows,
            )

    @staticmethod
    def _stored(con: sqlite3.Connection, table: str, keys: list[tuple[str, str]]) -> dict:
        """The compared values of the events already stored under ``keys``.

        One shop and a list of ids per query: SQLite seeks the unique index for each id
        (a row-value ``IN`` would scan the whole index, and ingest would slow with history).
        """
        found: dict[tuple[str, str], tuple] = {}
        compared = ", ".join(SAME[table])
        by_shop: dict[str, list[str]] = {}
        for shop, msg_id in keys:
            by_shop.setdefault(shop, []).append(msg_id)
        for shop, ids in by_shop.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for msg_id, *values in con.execute(
                    f"SELECT msg_id, {compared} FROM {table} "
                    f"WHERE shop_id = ? AND msg_id IN ({marks})",
                    [shop, *chunk],
                ):
                    found[(shop, msg_id)] = tuple(values)
        return found

    def count(self, table: str, shop_id: str) -> int:
        """How many events of ``table`` the store holds for ``shop_id``."""
        sql = f"SELECT COUNT(*) FROM {table} WHERE shop_id = ?"
        return int(self.reader().execute(sql, [shop_id]).fetchone()[0])

    def events(self, table: str, shop_id: str, after: int = 0, limit: int = 1000) -> pa.Table:
        """``shop_id``'s stored events of ``table`` in arrival order, from ``after`` on."""
        columns = ["arrival", *stored_columns(table), "received"]
        cursor = self.reader().execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE shop_id = ? AND arrival > ? "
            "ORDER BY arrival LIMIT ?",
            [shop_id, after, limit],
        )
        return _table(cursor, columns)

    def messages_since(self, since: dt.datetime) -> list[tuple]:
        """Every stored message from ``since`` on, as ``(arrival, *stored_columns)``."""
        columns = ", ".join(stored_columns("messages"))
        sql = f"SELECT arrival, {columns} FROM messages WHERE ts >= ?"
        return self.reader().execute(sql, [_value(since)]).fetchall()

    def stream_messages(self, shop_id: str, buyer_id: str, since: dt.datetime) -> list[tuple]:
        """One stream's stored messages from ``since`` on (R1), as ``messages_since``."""
        columns = ", ".join(stored_columns("messages"))
        sql = (
            f"SELECT arrival, {columns} FROM messages "
            "WHERE shop_id = ? AND buyer_id = ? AND ts >= ?"
        )
        return self.reader().execute(sql, [shop_id, buyer_id, _value(since)]).fetchall()

    def rows(self, table: str, shop_id: str, since: dt.datetime) -> pa.Table:
        """``shop_id``'s stored rows of ``table`` from ``since`` on, with ``arrival``."""
        columns = ["arrival", *stored_columns(table)]
        cursor = self.reader().execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE shop_id = ? AND ts >= ?",
            [shop_id, _value(since)],
        )
        return _table(cursor, columns)

    def close(self) -> None:
        self._writer.close()


def _table(cursor: sqlite3.Cursor, columns: list[str]) -> pa.Table:
    """A query's rows as an Arrow table of ``columns``."""
    rows = cursor.fetchall()
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})


def _conflict(index: int, msg_id: str, differ: list[str]) -> Rejected:
    """A reused id: the first event stays, this one is refused (as the loader does)."""
    reason = f"already stored with different {', '.join(differ)}: the first copy is kept"
    return Rejected(index, msg_id, "msg_id", reason)


class GroupCommit:
    """One writer thread in front of an ``EventStore``: each request's batch waits for the
    commit that holds it, and batches that queue up meanwhile share one commit.

    ``submit`` returns a future that resolves to the batch's ``Written`` once it is on
    disk, or raises what the store raised (the request is then not acknowledged).
    """

    def __init__(
        self,
        store: EventStore,
        max_events: int = 20_000,
        on_commit: Callable[[list[Written]], None] | None = None,
    ) -> None:
        self.store = store
        # Told each commit's results in commit order, before the requests are answered
        # (the live desk follows the store event by event); what it raises is logged, the
        # events stay acknowledged: they are on disk.
        self.on_commit = on_commit
        self._grouped: Grouped[CheckedBatch, Written] = Grouped(
            self._commit, name="group-commit", max_weight=max_events, weight=lambda b: b.usable
        )

    def submit(self, batch: CheckedBatch) -> concurrent.futures.Future[Written]:
        return self._grouped.submit(batch)

    def _commit(self, batches: list[CheckedBatch]) -> list[Written]:
        results = self.store.write(batches)
        if self.on_commit is not None:
            try:
                self.on_commit(results)
            except Exception:
                log.exception("the live state could not follow a commit")
        return results

    def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        self._grouped.close()
