"""The live desk: every stream's open rounds, followed event by event, and today's figures.

The desk follows the store commit by commit (``GroupCommit.on_commit``): each new message
goes to its stream's ``StreamRounds`` in T3's order (a message that sorts before one the
stream has seen — a late export, a client's retry of an old batch — makes the desk replay
that stream from the store, so the order is always T3's). What it knows:

- the buyers waiting now: each stream's open round, with its wait (R4, R6);
- the agents: the streams each holds open, their last reply, their rounds today (P1);
- today's figures per shop at every level, from today's rounds and refusal prompts as
  formed here and the ratings and refusal clicks in the store, by the batch engine's own
  level queries, lines and statuses (``Assessment(given=…)``): the registry's figures,
  declared once.

A stream with no open round and no refusal run under way leaves memory once its day is
over (``evict``): what it held cannot change a later round (R6 and P3 start afresh).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from kefu.engine.duckdb import DuckDBEngine
from kefu.io.schema import TABLES, empty_table_sql
from kefu.live.events import stored_columns
from kefu.live.rounds import Finished, StreamRounds
from kefu.live.store import EventStore, Written
from kefu.metrics.assessment import Assessment
from kefu.metrics.figures import LEVELS
from kefu.metrics.params import Params, sql_str
from kefu.metrics.relations import INPUTS
from kefu.rules.profile import Profile

Key = tuple[str, str]  # (shop_id, buyer_id): a stream (R1)
log = logging.getLogger("kefu.live")
#: The audit relations the desk forms itself and gives the batch engine's assessment.
GIVEN = ("rounds", "refusal_prompts")
_MESSAGE = stored_columns("messages")


def _order(ts: dt.datetime, seq: int | None, arrival: int) -> tuple:
    """T3's order of a stored message: time, seq with a row without one first, arrival."""
    return (ts, seq is not None, seq or 0, arrival)


@dataclass
class Waiting:
    """A buyer whose round nobody has answered yet."""

    shop_id: str
    buyer_id: str
    since: dt.datetime
    agent_id: str | None  # the agent the round's first message was addressed to (P1)

    def wait_s(self, now: dt.datetime) -> float:
        return (now - self.since).total_seconds()


class LiveDesk:
    """The live state of every shop the store serves, for one profile.

    ``clock`` gives the local time now (T1: the profile's zone); tests pass their own.
    """

    def __init__(self, profile: Profile, store: EventStore, clock: Callable[[], dt.datetime]):
        self.profile = profile
        # Today is the window: one day, read with the profile's one day of history (T2).
        self.day_profile = profile.override(window_days=1)
        self.store = store
        self.clock = clock
        self._lock = threading.RLock()
        self._engine_lock = threading.Lock()  # the figures' DuckDB session
        self._streams: dict[Key, StreamRounds] = {}
        self._last: dict[Key, tuple] = {}  # the T3 key of the stream's last message
        self._first: dict[Key, dt.datetime] = {}  # the first message the stream holds
        # Finished rounds since the history T2 reads (today's window and the day before).
        self._finished: dict[Key, list[Finished]] = {}
        self._last_reply: dict[tuple[str, str], dt.datetime] = {}  # (shop, agent) → ts
        self.day = clock().date()
        self.params = Params(self.day_profile, self.day + dt.timedelta(days=1))
        self.p: dict[str, Any] = dict(self.params.values())
        self.engine = DuckDBEngine(memory_limit="512MB", threads=1)
        self._schemas: dict[str, pa.Schema] | None = None  # of GIVEN, read once

    # -- following the store ---------------------------------------------------------
    def restore(self) -> int:
        """Rebuild the state from the store (at start): today's streams and the history
        before them T2 reads. Returns the messages replayed."""
        rows = self.store.messages_since(self.params.history_start)
        with self._lock:
            for m in sorted((_message(r) for r in rows), key=lambda m: m["order"]):
                self._add((m["shop_id"], m["buyer_id"]), m)
        return len(rows)

    def follow(self, results: list[Written]) -> None:
        """Take one commit's new events (the store's ``on_commit``)."""
        rows = [row for written in results for row in written.new.get("messages", [])]
        if rows:
            with self._lock:
                try:
                    self._apply(rows)
                except Exception:
                    # The events are on disk: the state is formed from the store again.
                    log.exception("the live desk could not follow a commit; rebuilding it")
                    self._forget()
                    self.restore()

    def _forget(self) -> None:
        for held in (self._streams, self._last, self._first, self._finished):
            held.clear()

    def _apply(self, rows: list[tuple]) -> None:
        self._roll()
        messages = sorted((_message(r) for r in rows), key=lambda m: m["order"])
        replay: set[Key] = set()
        for m in messages:
            key = (m["shop_id"], m["buyer_id"])
            if key in replay:
                continue
            if key not in self._streams or m["order"] < self._last[key]:
                # A stream not followed yet (new, or let go) may have history in the store,
                # and a message out of T3's order changes what came after it: either way
                # the stream is formed from the store, this commit's messages included.
                replay.add(key)
                continue
            self._add(key, m)
        for key in replay:
            self._replay(key)

    def _add(self, key: Key, m: dict[str, Any]) -> None:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = StreamRounds(key[0], key[1], self.p)
            self._first[key] = m["ts"]
        self._last[key] = m["order"]
        done = stream.add(m["sender"], m["ts"], m["agent_id"])
        if done:
            self._finished.setdefault(key, []).extend(done)
        if m["sender"] == "agent" and m["agent_id"] is not None:
            self._last_reply[(key[0], m["agent_id"])] = m["ts"]

    def _replay(self, key: Key) -> None:
        """Form ``key``'s stream again from the store, in T3's order."""
        for held in (self._streams, self._last, self._first, self._finished):
            held.pop(key, None)
        rows = self.store.stream_messages(key[0], key[1], self.params.history_start)
        for m in sorted((_message(r) for r in rows), key=lambda m: m["order"]):
            self._add(key, m)

    def _roll(self) -> None:
        """A new local day: today's window moves; finished rounds of yesterday go."""
        day = self.clock().date()
        if day == self.day:
            return
        self.day = day
        self.params = Params(self.day_profile, day + dt.timedelta(days=1))
        self.p = dict(self.params.values())
        since = self.params.history_start
        for key, finished in list(self._finished.items()):
            kept = [f for f in finished if f.start_ts >= since]
            if kept:
                self._finished[key] = kept
            else:
                del self._finished[key]
        for key, stream in list(self._streams.items()):
            stream.p = self.p
            if stream.last_ts is not None and stream.last_ts < since:
                for held in (self._streams, self._last, self._first):
                    held.pop(key, None)  # nothing the window reads (T2)
            elif self._first.get(key, since) < since:
                # It holds messages from before the history T2 reads: formed again from
                # the store's, as a one-off run over today would form it.
                self._replay(key)
        self.evict()

    def evict(self) -> int:
        """Let streams go that nothing can change any more; returns how many went."""
        start = dt.datetime.combine(self.day, dt.time())
        gone = [
            key
            for key, s in self._streams.items()
            if not s.group
            and s.last_ts is not None
            and s.last_ts < start
            and not (0 < s.run < self.p["refusal_run_length"])
            and (self.p["consultation_split"] == "day" or s.last_human_ts is None
                 or (start - s.last_human_ts).total_seconds() > self.p["consultation_gap_s"])
        ]  # fmt: skip
        for key in gone:
            for held in (self._streams, self._last, self._first):
                held.pop(key, None)
        return len(gone)

    # -- what the desk shows ---------------------------------------------------------
    @property
    def open_streams(self) -> int:
        return len(self._streams)

    def waiting(self, shop_id: str) -> list[Waiting]:
        """The shop's buyers waiting for an answer, longest first."""
        with self._lock:
            found = [
                Waiting(shop, buyer, s.group[-1].start_ts, s.group[-1].addressed_agent)
                for (shop, buyer), s in self._streams.items()
                if shop == shop_id and s.group
            ]
        return sorted(found, key=lambda w: (w.since, w.buyer_id))

    def agents(self, shop_id: str) -> list[dict[str, Any]]:
        """Each agent of the shop seen today: open streams, last reply, rounds today."""
        with self._lock:
            rounds: dict[str | None, int] = {}
            for (shop, _), finished in self._finished.items():
                if shop == shop_id:
                    for f in finished:
                        if f.start_ts.date() == self.day:
                            agent = f.row(self.p)["agent_id"]
                            rounds[agent] = rounds.get(agent, 0) + 1
            holding: dict[str | None, int] = {}
            for w in self.waiting(shop_id):
                holding[w.agent_id] = holding.get(w.agent_id, 0) + 1
            last = {a: ts for (s, a), ts in self._last_reply.items() if s == shop_id}
        names = sorted(a for a in {*rounds, *holding, *last} if a is not None)
        return [
            {"agent_id": a, "waiting": holding.get(a, 0), "last_reply": last.get(a),
             "rounds_today": rounds.get(a, 0)}
            for a in names
        ]  # fmt: skip

    def rows(self, shop_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The shop's rounds (finished, and open ones as they stand) and refusal prompts
        since the history T2 reads, as rows of ``rounds`` and ``refusal_prompts`` judged
        by today's window."""
        with self._lock:
            self._roll()
            p = self.p
            rounds: list[dict[str, Any]] = []
            prompts: list[dict[str, Any]] = []
            for key, stream in self._streams.items():
                if key[0] == shop_id:
                    rounds += stream.open_rows(p)  # still changing: judged under the lock
                    prompts += [dict(pr) for pr in stream.prompts]
            finished = [f for key, fs in self._finished.items() if key[0] == shop_id for f in fs]
        # A finished round no longer changes: judged without holding up the commits.
        return rounds + [f.row(p) for f in finished], prompts

    def figures(self, shop_id: str) -> dict[str, pa.Table]:
        """Today's figures of the shop at every level, by the batch engine's queries."""
        rounds, prompts = self.rows(shop_id)
        with self._engine_lock:
            if self._schemas is None:
                self._schemas = given_schemas(self.engine, self.params)
            return _figures(
                self.engine, self._schemas, self.params, self.store, shop_id, rounds, prompts
            )


def _message(row: tuple) -> dict[str, Any]:
    """A stored message row ``(arrival, *stored_columns)`` as the desk reads it."""
    m = dict(zip(_MESSAGE, row[1:], strict=True))
    m["ts"] = dt.datetime.fromisoformat(m["ts"])
    m["order"] = _order(m["ts"], m["seq"], row[0])
    return m


def _figures(
    engine: DuckDBEngine,
    schemas: dict[str, pa.Schema],
    p: Params,
    store: EventStore,
    shop_id: str,
    rounds: list[dict[str, Any]],
    prompts: list[dict[str, Any]],
) -> dict[str, pa.Table]:
    """Every level's figures from the live rows and the shop's stored ratings and clicks."""
    for table in INPUTS:
        if table != "messages":
            engine.materialize(f"live_{table}", empty_table_sql(table))
    # The shop level lists every shop with messages, rounds or not: the shop is one.
    shop = sql_str(shop_id)
    row = _canonical("messages", lambda c: shop if c == "shop_id" else "NULL", row_no="0")
    engine.materialize("live_messages", f"SELECT {row}")
    since = p.history_start - dt.timedelta(days=1)  # S3's 24 hours reach before the window
    for table in ("ratings", "refusals"):
        stored = store.rows(table, shop_id, since)
        if stored.num_rows:
            engine.register(f"live_{table}_rows", stored)
            columns = _canonical(table, lambda c: c, row_no="arrival")
            engine.materialize(f"live_{table}", f"SELECT {columns} FROM live_{table}_rows")
    for name, rows in (("rounds", rounds), ("refusal_prompts", prompts)):
        engine.register(f"live_{name}", pa.Table.from_pylist(rows, schema=schemas[name]))
    given = {name: f"live_{name}" for name in GIVEN}
    assessment = Assessment(engine, p, tables={t: f"live_{t}" for t in INPUTS}, given=given)
    try:
        return {level: assessment.figures(level) for level in LEVELS}
    finally:
        assessment.close()


def _canonical(table: str, value: Callable[[str], str], row_no: str) -> str:
    """SQL: a select list of ``table``'s canonical columns (``value`` of each name, cast to
    its type) and its provenance (``row_no``; one file)."""
    cols = [f"CAST({value(c.name)} AS {c.sql_type}) AS {c.name}" for c in TABLES[table]]
    return ", ".join(
        [*cols, "CAST(0 AS INTEGER) AS file_no", f"CAST({row_no} AS BIGINT) AS row_no"]
    )


def given_schemas(engine: DuckDBEngine, p: Params) -> dict[str, pa.Schema]:
    """The Arrow schemas of the relations the desk gives an assessment (``GIVEN``): the
    batch templates' own, read once from an assessment of empty inputs."""
    for table in INPUTS:
        engine.materialize(f"empty_{table}", empty_table_sql(table))
    shape = Assessment(engine, p, tables={t: f"empty_{t}" for t in INPUTS})
    try:
        return {name: shape.query(f"SELECT * FROM {name} WHERE FALSE").schema for name in GIVEN}
    finally:
        shape.close()
