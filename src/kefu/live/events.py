"""Live events: a batch posted to the service, checked as the loader checks a file.

An event is one row of a canonical table (docs/schema.md) as a JSON object: a message, a
rating or a refusal, named by ``kind`` or known by its fields (a ``score`` is a rating, a
``sender`` a message). Every live event carries a ``msg_id``: a re-sent event is matched
on ``(shop_id, msg_id)`` and stored once.

The values are checked by the loader's own staging (``kefu.io.load.stage_relation``) on
an in-memory DuckDB session, so a live event is read exactly as the same row in an export
would be — the sender words, the id trimming, T1's conversion of an instant to the
profile's zone, the score labels — and a bad one is rejected with the field and the
loader's reason.

>>> checker = EventChecker("Asia/Shanghai")
>>> batch = checker.check([
...     {"kind": "message", "shop_id": "s1", "buyer_id": "b1", "sender": "买家",
...      "ts": "2024-03-01T02:00:05Z", "msg_id": "m1"},
...     {"shop_id": "s1", "buyer_id": "b1", "score": "很满意", "ts": "2024-03-01 10:09"},
... ])
>>> batch.tables["messages"].column("ts")[0].as_py(), batch.tables["messages"]["sender"][0]
(datetime.datetime(2024, 3, 1, 10, 0, 5), <pyarrow.StringScalar: 'buyer'>)
>>> [(r.index, r.field, r.reason) for r in batch.rejected]
[(1, 'msg_id', 'missing: a live event needs one, re-sends are matched on it')]
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from kefu.engine.duckdb import DuckDBEngine
from kefu.io.load import id_value_sql, stage_relation
from kefu.io.schema import TABLES
from kefu.live.grouping import Grouped

#: An event's kind → the canonical table it is a row of.
KINDS = {"message": "messages", "rating": "ratings", "refusal": "refusals"}


def stored_columns(table: str) -> list[str]:
    """The columns of a stored live event of ``table``: canonical ones, ``msg_id`` once.

    >>> stored_columns("refusals")
    ['shop_id', 'buyer_id', 'ts', 'msg_id']
    """
    names = [c.name for c in TABLES[table]]
    return names if "msg_id" in names else [*names, "msg_id"]


@dataclass(frozen=True)
class Rejected:
    """An event not taken: its place in the request, its id, the field and why."""

    index: int
    msg_id: str | None
    field: str
    reason: str
    value: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None or k == "msg_id"}


@dataclass
class CheckedBatch:
    """A request's events: the usable ones as canonical rows per table, the rest rejected.

    ``tables[t]`` has ``stored_columns(t)`` and ``index``, each row's place in the request.
    """

    received: int
    tables: dict[str, pa.Table] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def usable(self) -> int:
        return sum(t.num_rows for t in self.tables.values())

    def shops(self) -> set[str]:
        """Every shop the usable events name."""
        return {s for t in self.tables.values() for s in t.column("shop_id").to_pylist()}

    def reject_after(self, limit: dt.datetime, reason: str) -> None:
        """Move the usable events timed after ``limit`` to the rejected ones (``ts``)."""
        for table, rows in list(self.tables.items()):
            late = pc.fill_null(
                pc.greater(rows.column("ts"), pa.scalar(limit, pa.timestamp("us"))), False
            )
            if not pc.any(late).as_py():
                continue
            gone = rows.filter(late)
            for index, msg_id in zip(
                gone["index"].to_pylist(), gone["msg_id"].to_pylist(), strict=True
            ):
                self.rejected.append(Rejected(index, msg_id, "ts", reason))
            self.tables[table] = rows.filter(pc.invert(late))
        self.rejected.sort(key=lambda r: r.index)

    def split(self, sizes: list[int]) -> list[CheckedBatch]:
        """The batches of requests of ``sizes`` events checked here together, each with
        its own indexes again."""
        parts, start = [], 0
        for size in sizes:
            end = start + size
            part = CheckedBatch(received=size)
            for table, rows in self.tables.items():
                index = rows.column("index")
                mine = rows.filter(pc.and_(pc.greater_equal(index, start), pc.less(index, end)))
                if mine.num_rows:
                    at = mine.schema.get_field_index("index")
                    part.tables[table] = mine.set_column(
                        at, "index", pc.subtract(mine.column("index"), start)
                    )
            part.rejected = [
                dataclasses.replace(r, index=r.index - start)
                for r in self.rejected
                if start <= r.index < end
            ]
            parts.append(part)
            start = end
        return parts


def _kind(event: dict[str, Any]) -> str | None:
    """The event's kind: given, or known by a field only that kind has."""
    if "kind" in event:
        return str(event["kind"]).strip().lower()
    if "score" in event:
        return "rating"
    if "sender" in event:
        return "message"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def canonical_shop(shop_id: str) -> str | None:
    """``shop_id`` as the loader reads it (trimmed, without a site prefix: R1's stream
    key), or None if it is blank: what a token names, so it matches the events.

    >>> canonical_shop(" cntaobao小米\u3000")
    '小米'
    """
    probe = {"kind": "refusal", "shop_id": shop_id, "buyer_id": "-", "ts": "2000-01-01",
             "msg_id": "-"}  # fmt: skip
    batch = EventChecker("UTC").check([probe])
    rows = batch.tables.get("refusals")
    return rows.column("shop_id")[0].as_py() if rows is not None and rows.num_rows else None


def _raw(value: Any) -> str | None:
    """A JSON value as the text an export would hold (a number as written)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value, ensure_ascii=False)


class EventChecker:
    """Checks batches of events for one profile's time zone (T1); safe across threads
    (each thread checks on its own in-memory DuckDB session)."""

    def __init__(self, timezone: str, sender_map: dict[str, str] | None = None) -> None:
        self.timezone = timezone
        self.sender_map = sender_map
        self._local = threading.local()

    def _engine(self) -> DuckDBEngine:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = DuckDBEngine(memory_limit="256MB", threads=1)
        return engine

    def check(self, events: list[Any]) -> CheckedBatch:
        """Split ``events`` by kind and check each kind's rows as the loader does."""
        batch = CheckedBatch(received=len(events))
        rows: dict[str, list[tuple[int, dict[str, Any]]]] = {t: [] for t in KINDS.values()}
        for index, event in enumerate(events):
            problem = self._shape(index, event)
            if problem:
                batch.rejected.append(problem)
            else:
                rows[KINDS[str(_kind(event))]].append((index, event))
        for table, found in rows.items():
            if found:
                accepted, rejected = self._check_table(table, found)
                batch.tables[table] = accepted
                batch.rejected += rejected
        batch.rejected.sort(key=lambda r: r.index)
        return batch

    @staticmethod
    def _shape(index: int, event: Any) -> Rejected | None:
        """Why ``event`` cannot be read as a row at all, if it cannot."""
        if not isinstance(event, dict):
            return Rejected(index, None, "event", "not a JSON object")
        msg_id = _raw(event.get("msg_id"))
        kind = _kind(event)
        if kind is None:
            return Rejected(index, msg_id, "kind", "missing: message, rating or refusal")
        if kind not in KINDS:
            return Rejected(index, msg_id, "kind", "not message, rating or refusal", kind)
        for name, value in event.items():
            if isinstance(value, dict | list):
                return Rejected(index, msg_id, name, "not a single value")
            if isinstance(value, str) and not _encodable(value):
                return Rejected(index, None, name, "not valid Unicode (a lone surrogate)")
        return None

    def _check_table(
        self, table: str, found: list[tuple[int, dict[str, Any]]]
    ) -> tuple[pa.Table, list[Rejected]]:
        columns = stored_columns(table)
        raw: dict[str, list[Any]] = {c: [_raw(e.get(c)) for _, e in found] for c in columns}
        rows = {**raw, "row_no": list(range(1, len(found) + 1))}
        engine, name = self._engine(), f"raw_{table}_0"
        # Each batch replaces the rows the staged view reads; the view is made once.
        engine.con.register(name, pa.table(rows, schema=_raw_schema(columns)))
        result = engine.query(self._checked_sql(engine, table, name))
        engine.con.unregister(name)
        return _split(result, found, columns, raw)

    def _checked_sql(self, engine: DuckDBEngine, table: str, name: str) -> str:
        """SQL of a batch's checked rows: the loader's staging, made on first use."""
        made = getattr(self._local, "sql", None)
        if made is None:
            made = self._local.sql = {}
        if table not in made:
            columns = stored_columns(table)
            staged = stage_relation(
                engine, table, name, columns, 0, 1, self.timezone, None, self.sender_map, "event"
            )
            # The loader's id rule for msg_id too (a rating's or refusal's is not canonical).
            msg_id = id_value_sql("r.msg_id")
            canonical = ", ".join(f"s.{c}" for c in columns if c != "msg_id")
            made[table] = f"""
                SELECT {canonical}, {msg_id} AS msg_id, s.row_no, s._field, s._reason
                FROM {staged.view} AS s JOIN {name} AS r ON r.row_no = s.row_no
                ORDER BY s.row_no"""
        return str(made[table])


def _raw_schema(columns: list[str]) -> pa.Schema:
    return pa.schema([*((c, pa.string()) for c in columns), ("row_no", pa.int64())])


def _split(
    result: pa.Table,
    found: list[tuple[int, dict[str, Any]]],
    columns: list[str],
    raw: dict[str, list[Any]],
) -> tuple[pa.Table, list[Rejected]]:
    """The checked rows → (usable rows with their request index, rejected events)."""
    fields, reasons = result.column("_field").to_pylist(), result.column("_reason").to_pylist()
    ids = result.column("msg_id").to_pylist()
    keep, rejected = [], []
    for i, (f, reason, msg_id) in enumerate(zip(fields, reasons, ids, strict=True)):
        index = found[i][0]
        if f is not None:
            rejected.append(Rejected(index, msg_id, f, reason, raw.get(f, [None] * len(found))[i]))
        elif msg_id is None:
            reason = "missing: a live event needs one, re-sends are matched on it"
            rejected.append(Rejected(index, None, "msg_id", reason))
        else:
            keep.append(i)
    usable = result.select(columns).take(pa.array(keep, pa.int64()))
    indexes = pa.array([found[i][0] for i in keep], pa.int64())
    return usable.append_column("index", indexes), rejected


class GroupCheck:
    """Requests' events checked together: what queues up while a check runs is checked
    next in one staging query (its fixed cost, ~9 ms, is the cost of a small request), on
    ``workers`` threads; each request gets its own ``CheckedBatch``."""

    def __init__(self, checker: EventChecker, workers: int = 2, max_events: int = 20_000):
        self.checker = checker
        self._grouped: Grouped[list[Any], CheckedBatch] = Grouped(
            self._check, name="group-check", workers=workers, max_weight=max_events, weight=len
        )

    def submit(self, events: list[Any]) -> concurrent.futures.Future[CheckedBatch]:
        return self._grouped.submit(events)

    def _check(self, requests: list[list[Any]]) -> list[CheckedBatch]:
        joined = [event for events in requests for event in events]
        return self.checker.check(joined).split([len(events) for events in requests])

    def close(self) -> None:
        self._grouped.close()
