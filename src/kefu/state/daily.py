"""Daily incremental runs: add the new days to a state folder, then read any window's figures.

``kefu assess DATA --state DIR`` assesses only the days the state does not hold yet, with
the few messages each stream carries from the days before (``kefu.state.carry``), and
keeps what became final as per-day cells (``kefu.metrics.cells``: sums and counts, and
exact value counts for the quantiles), the rows still open at the last day's end, and the
ratings (S4 judges a buyer over the whole window, so ratings stay rows). A window's figures
are then the sums of its days' cells, with the open rows judged as a recomputation would
judge them at the window's end — the answers and clicks that come after it included, as
T2 (decided) has them. The figures equal a full recomputation over the same days exactly
(tests/test_daily.py); the state reads each day once, so its history begins with its first
day (T2's ``history_days`` bounds what a one-off run reads; docs/scaling.md).

>>> result = assess_daily("data/day=2024-03-02/", "state/", "taobao")  # doctest: +SKIP
>>> result.figures["shop"].to_pylist()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import sqlglot
from sqlglot import exp

from kefu.api import Windowed, nothing_accepted
from kefu.engine.duckdb import DuckDBEngine
from kefu.io.discover import discover_inputs
from kefu.io.load import LoadReport, load_inputs
from kefu.io.partitions import partition_day, partitioned_as_of
from kefu.metrics.assessment import FIGURE_LEVELS, Assessment
from kefu.metrics.cells import (
    cells_name,
    cells_sql,
    counts_name,
    level_parts_from_cells,
    value_counts_sql,
)
from kefu.metrics.figures import LEVELS, level_query
from kefu.metrics.params import Params
from kefu.metrics.relations import INPUTS
from kefu.metrics.templates import DIALECT, parsed_tree, qualify, render
from kefu.rules.profile import Profile, load_profile
from kefu.state import carry
from kefu.state.store import Manifest, StateError, StateFolder, profile_digest

#: Before any day a shop has: the window of a run's own days starts here.
EARLIEST = dt.datetime(1900, 1, 1)
#: After any click a shop has: a window's open prompts take every later click (T2).
LATEST = dt.datetime(9999, 1, 1)
ROUNDS_WAITS = counts_name("rounds", "wait_s")


@dataclass(frozen=True)
class SliceParams(Params):
    """The parameters of one run over its own days: every row it reads is inside its window
    (the days' cells are judged by a report's window later); it reads the messages before
    ``read_until`` (a report reads the answers after its window's end, T2)."""

    end: dt.datetime = EARLIEST
    read_until: dt.datetime = EARLIEST

    @property
    def window_start(self) -> dt.datetime:
        return EARLIEST

    @property
    def window_end(self) -> dt.datetime:
        return self.end

    @property
    def history_start(self) -> dt.datetime:
        return EARLIEST

    @property
    def history_end(self) -> dt.datetime:
        return self.read_until


def _ts(value: dt.datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


@dataclass
class _Slice:
    """One run over new rows and the carried ones: its assessment and its selected rows."""

    namespace: str
    assessment: Assessment
    new_from: dt.datetime

    def table(self, name: str) -> str:
        return f"{self.namespace}.{name}"


class _Session:
    """The loaded inputs, the state folder and its manifest, in one DuckDB session."""

    def __init__(
        self,
        engine: DuckDBEngine,
        folder: StateFolder,
        manifest: Manifest,
        profile: Profile,
        given: set[str],
    ) -> None:
        self.engine = engine
        self.folder = folder
        self.manifest = manifest
        self.profile = profile
        self.given = given  # the input tables the run was given files for

    def stored(self, name: str, empty: str) -> str:
        """SQL of ``name``'s rows in the state (``empty``: a query of its columns, no rows)."""
        files = self.folder.files(self.manifest, name)
        if not files:
            return empty
        listed = ", ".join(f"'{f}'" for f in files)
        return f"SELECT * FROM read_parquet([{listed}], union_by_name = true)"

    def dimension(self, table: str) -> str:
        """The input's dimension table if the run was given one, else the state's latest."""
        name = "shops_table" if table == "shops" else table
        given = f"SELECT * FROM {table}"
        return given if table in self.given else self.stored(name, given)

    def slice(
        self,
        namespace: str,
        new_from: dt.datetime,
        end: dt.datetime,
        read_until: dt.datetime,
        clicks_until: dt.datetime,
    ) -> _Slice:
        """Assess the input's rows from ``new_from`` with the rows the state carries."""
        e = self.engine
        e.namespace(namespace)
        carried = self.stored("carry_messages", "")
        new = f"SELECT * FROM messages WHERE ts >= {_ts(new_from)} AND ts < {_ts(read_until)}"
        e.materialize(
            f"{namespace}.messages", new + (f" UNION ALL BY NAME {carried}" if carried else "")
        )
        carried = self.stored("carry_ratings", "")
        new = f"SELECT * FROM ratings WHERE ts >= {_ts(new_from)} AND ts < {_ts(end)}"
        e.materialize(
            f"{namespace}.ratings", new + (f" UNION ALL BY NAME {carried}" if carried else "")
        )
        e.materialize(
            f"{namespace}.refusals",
            f"SELECT * FROM refusals WHERE ts >= {_ts(new_from)} AND ts < {_ts(clicks_until)}",
        )
        for table in ("accounts", "agents", "shops"):
            e.materialize(f"{namespace}.{table}", self.dimension(table))
        keys = "SELECT CAST(NULL AS VARCHAR) AS shop_id, CAST(NULL AS VARCHAR) AS buyer_id"
        for name in ("open_rounds", "open_prompts"):
            e.materialize(f"{namespace}.{name}_before", self.stored(name, keys + " WHERE FALSE"))
        e.materialize(
            f"{namespace}.open_consultations_before",
            self.stored(
                "open_consultations", keys + ", CAST(NULL AS TIMESTAMP) AS opened_ts WHERE FALSE"
            ),
        )
        params = SliceParams(self.profile, end.date(), end=end, read_until=read_until)
        tables = {t: f"{namespace}.{t}" for t in INPUTS}
        assessment = Assessment(e, params, tables=tables)
        one = _Slice(namespace, assessment, new_from)
        names = {r: assessment.table(r) for r in ("stream_events", "refusal_prompts")}
        e.materialize(one.table("carried"), carry.carried_positions(names, params, end))
        e.materialize(
            one.table("round_rows"),
            carry.round_rows(assessment.table("rounds"), one.table("open_rounds_before"), new_from),
        )
        e.materialize(
            one.table("refusal_rows"),
            carry.refusal_rows(
                assessment.table("refusal_audit"), one.table("open_prompts_before"), new_from
            ),
        )
        e.materialize(
            one.table("open_consultations"),
            f"SELECT DISTINCT shop_id, buyer_id, opened_ts FROM {one.table('carried')} "
            "WHERE opened_ts IS NOT NULL",
        )
        e.materialize(
            one.table("consultation_rows"),
            carry.consultation_rows(
                assessment.table("agent_consultations"),
                one.table("open_consultations_before"),
                one.table("open_consultations"),
                new_from,
            ),
        )
        return one


def _consultation_days(rows: str) -> str:
    """Per-day sums of handled consultations: agent_days' input, summed ahead."""
    return f"""
      SELECT shop_id, agent_id, day, CAST(SUM(consultations) AS BIGINT) AS consultations,
             SUM(handling_total_s) AS handling_total_s,
             CAST(SUM(proactive_contacts) AS BIGINT) AS proactive_contacts
      FROM {rows} GROUP BY shop_id, agent_id, day
    """


def _final(rows: str) -> str:
    return f"(SELECT * EXCLUDE (still_open) FROM {rows} WHERE NOT still_open)"


def _all(rows: str) -> str:
    return f"(SELECT * EXCLUDE (still_open) FROM {rows})"


def _copy(engine: DuckDBEngine, sql: str, path: Path) -> None:
    engine.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")


def _commit(session: _Session, one: _Slice, staging: Path) -> None:
    """Write a run's files: the final rows' cells, the ratings, and what streams carry."""
    e, a = session.engine, one.assessment
    rounds, refusals = _final(one.table("round_rows")), _final(one.table("refusal_rows"))
    written = {
        cells_name("rounds"): cells_sql("rounds", rounds),
        ROUNDS_WAITS: value_counts_sql("rounds", "wait_s", rounds),
        cells_name("refusal_audit"): cells_sql("refusal_audit", refusals),
        "agent_consultations": _consultation_days(_final(one.table("consultation_rows"))),
    }
    ratings_columns = [c for c, _ in e.columns(one.table("ratings"))]
    kept = ", ".join(ratings_columns)
    new = _ts(one.new_from)
    written["ratings"] = (
        f"SELECT {kept}, own_account, dedupe FROM {a.table('rating_deduped')} WHERE ts >= {new}"
    )
    written["shops"] = (
        f"SELECT DISTINCT shop_id, CAST(ts AS DATE) AS day FROM {one.table('messages')} "
        f"WHERE ts >= {new} UNION SELECT DISTINCT shop_id, CAST(ts AS DATE) AS day "
        f"FROM {one.table('ratings')} WHERE ts >= {new}"
    )
    end = a.params.window_end
    written["carry_messages"] = carry.carried_messages(
        one.table("messages"), one.table("carried"), a.params
    )
    if str(session.profile["rating_dedupe"]) == "rolling_24h":
        written["carry_ratings"] = carry.carried_ratings(
            a.table("rating_deduped"), ratings_columns, end
        )
    for name, rows in (("open_rounds", "round_rows"), ("open_prompts", "refusal_rows")):
        written[name] = f"SELECT DISTINCT shop_id, buyer_id FROM {one.table(rows)} WHERE still_open"
    written["open_consultations"] = f"SELECT * FROM {one.table('open_consultations')}"
    for table, name in (("accounts", "accounts"), ("agents", "agents"), ("shops", "shops_table")):
        written[name] = f"SELECT * FROM {one.table(table)}"
    for name, sql in written.items():
        _copy(e, sql, staging / f"{name}.parquet")


def _accounts_digest(engine: DuckDBEngine) -> str:
    return str(
        engine.scalar(
            "SELECT md5(COALESCE(string_agg(shop_id || chr(31) || account, chr(30) "
            "ORDER BY shop_id, account), '')) FROM (SELECT DISTINCT shop_id, account "
            "FROM accounts)"
        )
    )


def _count_before(engine: DuckDBEngine, new_from: dt.datetime) -> dict[str, int]:
    return {
        t: int(engine.scalar(f"SELECT COUNT(*) FROM {t} WHERE ts < {_ts(new_from)}") or 0)
        for t in ("messages", "ratings", "refusals")
    }


def _first_day(engine: DuckDBEngine, end: dt.datetime) -> dt.date | None:
    value = engine.scalar(
        "SELECT MIN(ts) FROM (SELECT ts FROM messages UNION ALL SELECT ts FROM ratings) "
        f"WHERE ts < {_ts(end)}"
    )
    return value.date() if value is not None else None


class StateFigures(Mapping[str, pa.Table]):
    """A window's figures by level, read from a state (the ``Figures`` of a daily run)."""

    def __init__(self, tables: dict[str, pa.Table]) -> None:
        self._tables = tables

    def __getitem__(self, level: str) -> pa.Table:
        return self._tables[level]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def batches(self, level: str) -> pa.RecordBatchReader:
        return self._tables[level].to_reader()


def _window_figures(session: _Session, p: Params, look: _Slice) -> StateFigures:
    """Every level's figures of ``p``'s window: the state's cells and the open rows as the
    window's end judges them (``look``), through the registry's cell form of each figure."""
    e, ns = session.engine, "kefu_window"
    e.namespace(ns)
    first = f"DATE '{p.history_start.date().isoformat()}'"
    look_rounds, look_refusals = _all(look.table("round_rows")), _all(look.table("refusal_rows"))
    sources = {
        cells_name("rounds"): cells_sql("rounds", look_rounds),
        ROUNDS_WAITS: value_counts_sql("rounds", "wait_s", look_rounds),
        cells_name("refusal_audit"): cells_sql("refusal_audit", look_refusals),
    }
    for name, provisional in sources.items():
        # Rows before the history a one-off run reads would only add keys of zeros (T2).
        stored = session.stored(name, f"SELECT * FROM ({provisional}) WHERE FALSE")
        e.materialize(
            f"{ns}.{name}",
            f"SELECT * FROM ({stored} UNION ALL BY NAME {provisional}) WHERE day >= {first}",
        )
    consultations = _consultation_days(_all(look.table("consultation_rows")))
    stored = session.stored("agent_consultations", f"SELECT * FROM ({consultations}) WHERE FALSE")
    e.materialize(f"{ns}.agent_consultations", f"{stored} UNION ALL BY NAME {consultations}")
    slice_ratings = look.assessment.table("rating_deduped")
    empty = f"SELECT * EXCLUDE (n) FROM {slice_ratings} WHERE FALSE"
    if str(session.profile["rating_dedupe"]) != "rolling_24h":
        empty = f"SELECT * EXCLUDE (n_day, day_total) FROM {slice_ratings} WHERE FALSE"
    e.materialize(f"{ns}.ratings", session.stored("ratings", empty))
    e.materialize(
        f"{ns}.shops_seen",
        session.stored("shops", "SELECT CAST(NULL AS VARCHAR) AS shop_id WHERE FALSE")
        + f" UNION ALL BY NAME SELECT shop_id FROM {look.table('messages')}"
        f" WHERE ts >= {_ts(look.new_from)}",
    )
    values = p.values()
    names = {
        "rating_deduped": f"{ns}.ratings",
        "agents": look.table("agents"),
        "shops": look.table("shops"),
        "messages": f"{ns}.shops_seen",
        "ratings": f"{ns}.ratings",
        "agent_consultations": f"{ns}.agent_consultations",
    }
    e.materialize(f"{ns}.rating_audit", render("rating_audit", values, names).sql(DIALECT))
    names |= {n: f"{ns}.{n}" for n in (*sources, "rating_audit")}
    parts = sqlglot.parse_one(level_parts_from_cells(p, frozenset({"rating_audit"})), read=DIALECT)
    e.materialize(f"{ns}.level_parts", qualify(parsed_tree(parts), names).sql(DIALECT))
    names["level_parts"] = f"{ns}.level_parts"
    tables = {lv: e.query(level_query(lv, p, names).sql(DIALECT)) for lv in LEVELS}
    days = render("agent_days", values, names)
    assert isinstance(days, exp.Select)
    tables["agent_day"] = e.query(days.order_by("shop_id", "agent_id", "day").sql(DIALECT))
    assert tuple(tables) == FIGURE_LEVELS
    return StateFigures(tables)


@dataclass
class DailyResult(Windowed):
    """A daily run: the window's figures, the load reconciliation, and what the state holds."""

    params: Params
    figures: StateFigures
    load: LoadReport
    first_day: dt.date | None
    last_day: dt.date | None
    new_days: int
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What the run added and what the state holds, for the reconciliation."""
        held = f"days {self.first_day} – {self.last_day}" if self.first_day else "no days"
        added = f"{self.new_days} new day{'s' if self.new_days != 1 else ''}"
        return [*self.notes, f"state: {added} added; it holds {held}"]


def _new_from(manifest: Manifest) -> dt.datetime:
    last = manifest.last
    return dt.datetime.combine(last + dt.timedelta(days=1), dt.time()) if last else EARLIEST


def _prune(files: dict[str, list[Path]], after: dt.date | None) -> dict[str, list[Path]]:
    """Without the day partitions the state holds already (one day of margin: a partition
    by UTC day holds a few hours of the local day before it)."""
    if after is None:
        return files
    kept = {}
    for table, paths in files.items():
        days = [partition_day(p) for p in paths]
        kept[table] = [p for p, d in zip(paths, days, strict=True) if d is None or d >= after]
    return kept


def _note_skipped(before: dict[str, int], last: dt.date | None) -> list[str]:
    skipped = {t: n for t, n in before.items() if n}
    if not skipped or last is None:
        return []
    rows = ", ".join(f"{n} {t}" for t, n in skipped.items())
    return [f"state: skipped {rows} of days it holds already (through {last})"]


def assess_daily(
    inputs: str | Path | Iterable[str | Path] | dict[str, list[Path]],
    state: str | Path,
    profile: str | Path | Profile = "taobao",
    as_of: dt.date | None = None,
    *,
    header_map: dict[str, str] | None = None,
    sender_map: dict[str, str] | None = None,
    memory_limit: str | None = None,
    on_file: Callable[[str, str], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DailyResult:
    """Add the days of ``inputs`` before ``as_of`` that ``state`` does not hold, then read the
    figures of the window ending at ``as_of`` (default: the day after the latest input row).

    Rows of days the state holds are not read again (a day is added once, whole); rows on
    or after ``as_of`` only close what the window started (answers, clicks), as in a
    one-off run. The state follows one profile; another profile, or accounts other than
    those it was built with (R3 marks rows of every day), is an error naming the folder.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    folder = StateFolder(Path(state))
    folder.check_root()
    manifest = folder.manifest() or Manifest(prof.name, profile_digest(prof))
    if manifest.profile_digest != profile_digest(prof):
        raise StateError(
            f"--state {folder.root}: built with profile {manifest.profile!r} and its values; "
            f"assess it with that profile, or start another state for {prof.name!r}"
        )
    files = inputs if isinstance(inputs, dict) else discover_inputs(inputs)
    files = _prune(files, manifest.last)
    # Kept open by the result: its load report reads the quarantine from the session.
    engine = DuckDBEngine(memory_limit=memory_limit)
    try:
        with folder.locked():
            report = load_inputs(
                engine, files, str(prof["timezone"]), header_map, on_file, sender_map
            )
            return _run(engine, folder, manifest, prof, files, report, as_of, on_step)
    except BaseException:
        engine.close()
        raise


def _default_as_of(engine: DuckDBEngine, manifest: Manifest) -> dt.date:
    latest = engine.scalar(
        "SELECT MAX(ts) FROM (SELECT ts FROM messages UNION ALL SELECT ts FROM ratings)"
    )
    days = [d for d in (latest.date() if latest else None, manifest.last) if d is not None]
    return max(days) + dt.timedelta(days=1) if days else dt.date.today()


def _run(
    engine: DuckDBEngine,
    folder: StateFolder,
    manifest: Manifest,
    prof: Profile,
    files: dict[str, list[Path]],
    report: LoadReport,
    as_of: dt.date | None,
    on_step: Callable[[str], None] | None,
) -> DailyResult:
    day = as_of or partitioned_as_of(files) or _default_as_of(engine, manifest)
    last = manifest.last
    if last is not None and day <= last:
        raise StateError(
            f"--as-of {day}: the state {folder.root} holds days through {last}; assess a "
            "window ending after it, or an earlier one without --state"
        )
    given = {t for t, paths in files.items() if paths}
    session = _Session(engine, folder, manifest, prof, given)
    known = manifest.accounts_digest
    if "accounts" in given and known is not None and _accounts_digest(engine) != known:
        raise StateError(
            f"--state {folder.root}: the accounts differ from those it was built with; "
            "R3 marks rows of every day it holds — rebuild it from all days"
        )
    new_from = _new_from(manifest)
    end = dt.datetime.combine(day, dt.time())
    notes = _note_skipped(_count_before(engine, new_from), last)
    new_days = (day - (last + dt.timedelta(days=1))).days if last else None
    if manifest.first_day is None and (nothing := nothing_accepted(report)):
        raise nothing  # before any day is taken: a state holds nothing it cannot assess
    if new_days != 0:
        if on_step:
            on_step("the new days")
        one = session.slice("kefu_day", new_from, end, end, end)
        name, staging = folder.new_run(manifest)
        try:
            _commit(session, one, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if manifest.first_day is None:
            first = _first_day(engine, end)
            manifest.first_day = first.isoformat() if first else None
        manifest.last_day = (day - dt.timedelta(days=1)).isoformat()
        if "accounts" in given or manifest.accounts_digest is None:
            manifest.accounts_digest = _accounts_digest(engine)
        folder.commit(manifest, name, staging)
    if on_step:
        on_step("the window")
    params = Params(prof, day)
    cap = dt.timedelta(seconds=int(prof["response_time_cap_s"]))  # type: ignore[call-overload]
    look = session.slice("kefu_look", end, end, end + cap, LATEST)
    figures = _window_figures(session, params, look)
    added = (
        new_days if new_days is not None else ((day - manifest.first).days if manifest.first else 0)
    )
    return DailyResult(
        params, figures, report, manifest.first, manifest.last, added, notes
    )  # fmt: skip
