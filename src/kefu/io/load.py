"""Load, check and reconcile inputs into kefu's canonical tables.

Every row read ends in exactly one place: the canonical table (accepted), the quarantine
(a row that cannot be used, with its file, row, field and reason), or — for messages — the
duplicates (a repeated ``msg_id`` within a shop; the first occurrence is kept). So for every
table ``read = accepted + quarantined + duplicates``, and the numbers are reported.

Time (T1): a timestamp with an explicit offset is converted to the profile's time zone; a
naive one is taken as local. The result is a naive local TIMESTAMP, converted once, here.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from kefu.engine.duckdb import DuckDBEngine
from kefu.io.headers import map_headers, normalise
from kefu.io.partitions import FILE_NO, read_parquet_files, same_schema_runs
from kefu.io.readers import ROW_PROBLEM, InputError, read_raw
from kefu.io.schema import (
    ACCOUNT_COLUMNS,
    ACCOUNT_PREFIXES,
    PROVENANCE,
    SCORE_LABELS,
    SENDER_CODES,
    SENDERS,
    SOURCES,
    TABLES,
    TIERS,
    Column,
    empty_table_sql,
)
from kefu.metrics.params import sql_str

#: Formats tried, after ISO 8601, for text timestamps of workbench exports. DuckDB's
#: strptime takes unpadded numbers too (``2024/3/1 9:05``). A date alone is midnight.
TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
)

#: An explicit UTC offset after a clock time (``10:00:05Z``, ``10:00+08:00``, ``10:00 +0800``).
#: The clock time is required, so the day of a date alone (``2024-03-01``) is not an offset.
OFFSET_PATTERN = r"[0-9]:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
#: Epoch time: seconds (9–11 digits) or milliseconds (12–13 digits), maybe with a fraction.
EPOCH_PATTERN = r"[0-9]{9,13}([.][0-9]+)?"
#: Below this an epoch number is seconds, from it milliseconds (year 5138 in seconds).
EPOCH_MS_FROM = 10**11

#: Characters trimmed, besides spaces, from both ends of the ids that make streams and of
#: text times (``_invisible``): tabs, line breaks, NUL bytes, the ideographic space, the
#: byte-order mark and the no-break space, which would otherwise split one buyer in two.
TRIMMED = "\t\n\r\x00\u3000\ufeff\xa0"

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson")

QUARANTINE_SCHEMA = pa.schema(
    [
        ("table", pa.string()),
        ("kind", pa.string()),
        ("file", pa.string()),
        ("row", pa.int64()),
        ("field", pa.string()),
        ("reason", pa.string()),
        ("value", pa.string()),
        ("record", pa.string()),
    ]
)


class LoadSession(Protocol):
    """A session other than DuckDB that the loader checks rows on (Spark, reading Parquet
    where it lies): it takes the loader's SQL in DuckDB's dialect and runs it in its own."""

    def view(self, name: str, sql: str) -> None: ...

    def materialize(self, name: str, sql: str) -> None: ...

    def query(self, sql: str) -> pa.Table: ...

    def batches(self, sql: str) -> pa.RecordBatchReader: ...

    def scalar(self, sql: str) -> Any: ...

    def columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, DuckDB type name) of each column of ``relation``."""
        ...

    def read_parquet_files(self, paths: list[Path], name: str, first_no: int) -> list[str]:
        """As ``partitions.read_parquet_files``: a raw view with ``row_no`` (and, for several
        files, ``__file_no``); returns its headers."""
        ...

    def record(self, raw: str, alias: str, columns: list[str]) -> str:
        """SQL: a row of raw view ``raw``, named ``alias``, as JSON text (these columns)."""
        ...


#: Where the loader runs: kefu's DuckDB session, or another engine's (``LoadSession``).
Loader = DuckDBEngine | LoadSession


@dataclass
class TableCount:
    """Reconciliation of one canonical table: read = accepted + quarantined + duplicates."""

    table: str
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.accepted + self.quarantined + self.duplicates


#: The session table holding every quarantined row of a load (read through LoadReport).
QUARANTINE_TABLE = "quarantine_rows"


@dataclass
class LoadReport:
    """What a load read, accepted and left out: one :class:`TableCount` per table.

    The rows left out stay in the engine (``QUARANTINE_TABLE``, spilled to disk past its
    memory limit, like the data) until ``quarantine`` or ``quarantine_batches`` reads them:
    a year with a million bad rows does not hold them all in memory.
    """

    counts: dict[str, TableCount]
    #: The session that holds the quarantined rows (None: there are none).
    engine: Loader | None = None
    #: What was left out of readable files, one line each (an Excel sheet of other headers).
    notes: list[str] = field(default_factory=list)

    @property
    def quarantined_rows(self) -> int:
        """Rows left out: quarantined and duplicates, every table (``quarantine``'s rows)."""
        return sum(c.quarantined + c.duplicates for c in self.counts.values())

    @functools.cached_property
    def quarantine(self) -> pa.Table:
        """Every row not used: table, kind, file, row, field, reason, raw value and record."""
        return self.quarantine_batches().read_all()

    def quarantine_batches(self) -> pa.RecordBatchReader:
        """The quarantine as a stream of batches (read it before the next query)."""
        if self.engine is None or not self.quarantined_rows:
            return pa.RecordBatchReader.from_batches(QUARANTINE_SCHEMA, [])
        columns = ", ".join(f'"{c}"' for c in QUARANTINE_SCHEMA.names)
        sql = f"SELECT {columns} FROM {QUARANTINE_TABLE} ORDER BY table_no, file_no, row"
        return self.engine.batches(sql).cast(QUARANTINE_SCHEMA)

    def lines(self, lang: str = "en") -> list[str]:
        """One reconciliation line per table that was given, then the notes."""
        words = RECONCILE_ZH if lang == "zh" else RECONCILE_EN
        return [
            words[0].format(c.table, c.read, c.accepted, c.quarantined)
            + (words[1].format(c.duplicates) if c.table == "messages" else "")
            for c in self.counts.values()
            if c.files
        ] + self.notes


RECONCILE_EN = ("{}: read {} = accepted {} + quarantined {}", " + duplicates {}")
RECONCILE_ZH = ("{}: 读取 {} = 接受 {} + 隔离 {}", " + 重复 {}")


def _trim(raw: str) -> str:
    """SQL: ``raw`` as text without the blanks of ``TRIMMED`` (and spaces) at either end."""
    chars = " || ".join(["' '", *(f"chr({ord(c)})" for c in TRIMMED)])
    return f"trim(CAST({raw} AS VARCHAR), {chars})"


def _lookup(text: str, mapping: dict[str, str], out: str = "{}") -> str:
    """SQL: a CASE mapping the lower-cased ``text`` through ``mapping`` (alias → key)."""
    whens = " ".join(
        f"WHEN {sql_str(alias.lower())} THEN {out.format(sql_str(key))}"
        for alias, key in mapping.items()
    )
    return f"CASE lower({text}) {whens} ELSE NULL END"


def _aliases(words: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {alias: key for key, aliases in words.items() for alias in aliases}


def _ts_expr(raw: str, raw_type: str, tz: str, text: str) -> str:
    """SQL: a local naive TIMESTAMP from the raw value (T1), NULL when it is none.

    ``text`` is the raw value's ``_trimmed`` text, read when the input is text. Instants —
    an offset, ``Z``, epoch seconds or milliseconds — are converted to the profile's zone;
    a naive time is local already.
    """
    if raw_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone({sql_str(tz)}, {raw})"
    if raw_type.startswith("TIMESTAMP") or raw_type == "DATE":
        return f"CAST({raw} AS TIMESTAMP)"
    formats = ", ".join(sql_str(f) for f in TIME_FORMATS)
    number = f"TRY_CAST({text} AS DOUBLE)"
    # DuckDB reads ``10:00+08:00`` but not ``10:00 +08:00``: the blank before it goes.
    glued = f"regexp_replace({text}, '\\s+(Z|z|[+-][0-9:]+)$', '\\1')"
    epoch = (
        f"to_timestamp(CASE WHEN {number} >= {EPOCH_MS_FROM} THEN {number} / 1000.0 "
        f"ELSE {number} END)"
    )
    return (
        f"CASE WHEN regexp_full_match({text}, {sql_str(EPOCH_PATTERN)}) "
        f"THEN timezone({sql_str(tz)}, {epoch}) "
        f"WHEN regexp_matches({text}, {sql_str(OFFSET_PATTERN)}) "
        f"THEN timezone({sql_str(tz)}, TRY_CAST({glued} AS TIMESTAMPTZ)) "
        f"ELSE COALESCE(TRY_CAST({text} AS TIMESTAMP), TRY_STRPTIME({text}, [{formats}])) END"
    )


def _as_text(raw: str, raw_type: str) -> str:
    """The raw value as text; a JSON value loses its quotes (mixed-type JSON columns)."""
    if raw_type == "JSON":
        return f"({raw} ->> '$')"
    return f"CAST({raw} AS VARCHAR)"


def _account(text: str) -> str:
    """SQL: an account name without a site prefix (``cntaobao小米`` → ``小米``)."""
    # lower() of the prefix's length only: lowering every whole id costs far more.
    cases = " ".join(
        f"WHEN lower(left({text}, {len(prefix)})) = {sql_str(prefix.lower())} "
        f"AND length({text}) > {len(prefix)} THEN substr({text}, {len(prefix) + 1})"
        for prefix in ACCOUNT_PREFIXES
    )
    return f"CASE {cases} ELSE {text} END"


def sender_words(header: str, user: dict[str, str] | None = None) -> dict[str, str]:
    """Sender value → canonical sender for a column headed ``header``.

    The user's ``--sender-map`` comes first, then the codes of that column (``origin`` 3 /
    4 / 5, ``waiter_send`` 0 / 1), then the words of ``SENDERS``.

    >>> sender_words("origin")["5"], sender_words("role")["mall_cs"]
    ('agent', 'agent')
    """
    words = _aliases(SENDERS)
    words.update(SENDER_CODES.get(normalise(header), {}))
    words.update({k.strip().lower(): v for k, v in (user or {}).items()})
    return words


def _invisible(col: Column) -> bool:
    """Whether invisible characters are trimmed from ``col``: ids that make streams, times."""
    return col.name in ACCOUNT_COLUMNS or col.kind == "ts"


def _trimmed(raw: str, raw_type: str, invisible: bool = False) -> str:
    """SQL: the raw value as trimmed text, NULL when blank (what ids and codes compare).

    ``invisible`` trims ``TRIMMED`` too; DuckDB's trim of chosen characters is several times
    slower than its trim of spaces, so it is kept for the account ids that make streams and
    for text times (a message id or a text is trimmed of spaces only).
    """
    text = _as_text(raw, raw_type)
    return f"NULLIF({_trim(text) if invisible else f'trim({text})'}, '')"


def _value_expr(
    col: Column,
    raw: str,
    raw_type: str,
    tz: str,
    header: str = "",
    senders: dict | None = None,
    text: str | None = None,
) -> str:
    """SQL turning the raw input column into the canonical value (NULL when unusable).

    ``text`` names the value's ``_trimmed`` text when the caller computed it once already:
    an expression below refers to it several times, and DuckDB would trim each time.
    """
    text = text or _trimmed(raw, raw_type, _invisible(col))
    raw = _as_text(raw, raw_type) if raw_type == "JSON" else raw
    match col.kind:
        case "id" if col.name in ACCOUNT_COLUMNS:
            return _account(text)
        case "id" | "text":
            return text
        case "sender":
            # Canonical values, by far the most common, skip the lookup.
            canonical = ", ".join(sql_str(k) for k in SENDERS)
            lookup = _lookup(text, sender_words(header, senders))
            return f"CASE WHEN {text} IN ({canonical}) THEN {text} ELSE {lookup} END"
        case "source":
            known = _lookup(text, _aliases(SOURCES))
            return f"COALESCE({known}, lower({text}))"
        case "tier":
            known = _lookup(text, _aliases(TIERS))
            return f"COALESCE({known}, lower({text}))"
        case "ts":
            return _ts_expr(raw, raw_type, tz, text)
        case "int":
            return f"TRY_CAST({text} AS BIGINT)"
        case "score":
            labels = " ".join(f"WHEN {sql_str(k)} THEN {v}" for k, v in SCORE_LABELS.items())
            number = f"TRY_CAST({text} AS DOUBLE)"
            return (
                f"CASE {text} {labels} ELSE CASE WHEN {number} = floor({number}) "
                f"AND {number} BETWEEN 1 AND 5 THEN CAST({number} AS INTEGER) END END"
            )
    raise AssertionError(col.kind)


def id_value_sql(raw: str) -> str:
    """SQL: the canonical value of a text id (``msg_id``: trimmed, NULL when blank), for a
    reader that needs one outside a staged table (the live checks' ids of every kind)."""
    return _value_expr(Column("msg_id", "id"), raw, "VARCHAR", "UTC")


#: Integer types a canonical integer column takes as they are (UBIGINT may not fit).
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


def _typed(col: Column, raw_type: str) -> bool:
    """Whether the input column already has the canonical type (typed Parquet, mostly)."""
    if col.kind == "ts":
        return raw_type.startswith("TIMESTAMP") or raw_type == "DATE"
    return col.kind == "int" and raw_type in INTEGER_TYPES


def _typed_value(col: Column, raw: str, raw_type: str, tz: str) -> str:
    """SQL: the canonical value of a typed column; no text is made or parsed."""
    if col.kind == "ts":
        return _ts_expr(raw, raw_type, tz, text="NULL")
    return f"CAST({raw} AS BIGINT)"


def _problem(col: Column) -> tuple[str, str] | None:
    """(condition, reason SQL) for a row this column makes unusable.

    The condition reads the staged value ``v_<col>`` and, for parsed kinds, the flag
    ``g_<col>`` (a non-blank raw value was given), computed once per row by the inner query
    of ``_stage_file``.
    """
    reasons = {
        "sender": "'unknown sender (buyer, agent, bot or system)'",
        "ts": "'unparseable time'",
        "score": "'score is not 1-5 or a label 很满意…很不满意'",
        "int": "'not an integer'",
    }
    value = f"v_{col.name}"
    given = f"({value} IS NOT NULL)" if col.kind in ("id", "text") else f"g_{col.name}"
    checks = []
    if col.required:
        checks.append((f"NOT {given}", "'missing'"))
    if col.kind in reasons:
        checks.append((f"{given} AND {value} IS NULL", reasons[col.kind]))
    if not checks:
        return None
    cond = " OR ".join(f"({c})" for c, _ in checks)
    reason = "CASE " + " ".join(f"WHEN {c} THEN {r}" for c, r in checks) + " END"
    return cond, reason


def _blank_text(path: Path) -> bool:
    try:
        small = path.is_file() and path.stat().st_size < 4096
        return small and path.suffix.lower() in TEXT_SUFFIXES and not path.read_bytes().strip()
    except OSError as exc:  # unreadable: the API's callers get the same one line as the CLI's
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


#: Columns left out of the checked copy: read from the input only when shown (transcripts).
HEAVY = {"messages": ("text",)}


@dataclass(frozen=True)
class _Staged:
    """One input file, staged: a view of canonical values with each row's problem."""

    view: str  # canonical columns, file_no, row_no, _field, _reason
    raw: str  # the raw relation it reads (kept for the quarantine's records)
    raw_value: str  # SQL over raw alias ``r``: the raw value of the field named in _field
    file_no: int
    heavy: dict[str, str]  # heavy column → SQL over the raw relation (no checks)
    files: int = 1  # files read as one source: file_no, file_no + 1, … (``FILE_NO``)
    #: Another engine's spelling of a raw row as JSON (``LoadSession.record``); None: DuckDB's.
    spelled_record: Callable[[str], str] | None = None

    def file_of(self, alias: str) -> str:
        """SQL: the file number of a row of the raw relation ``alias``."""
        return f"{alias}.{FILE_NO}" if self.files > 1 else str(self.file_no)

    def record(self, alias: str) -> str:
        """SQL: a raw row as JSON text (the quarantine's record), without ``FILE_NO``."""
        if self.spelled_record is not None:
            return self.spelled_record(alias)
        record = f"to_json({alias})"
        if self.files > 1:
            record = f"""json_merge_patch({record}, '{{"{FILE_NO}": null}}')"""
        return f"CAST({record} AS VARCHAR)"


def _stage_file(
    engine: Loader,
    table: str,
    paths: list[Path],
    file_no: int,
    tz: str,
    user_map: dict[str, str] | None,
    sender_map: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> _Staged | None:
    """Stage one file, or Parquet files of one schema read as one source (numbered from
    ``file_no``), as a view (no copy): values are parsed where the rows are read."""
    raw_name, path = f"raw_{table}_{file_no}", paths[0]
    if len(paths) == 1 and _blank_text(path):
        return None  # an empty text file holds no rows (and no header to check)
    spelled = None
    if not isinstance(engine, DuckDBEngine):  # another engine reads the (Parquet) files
        headers = engine.read_parquet_files(paths, raw_name, file_no)
        spelled = functools.partial(engine.record, raw_name, columns=headers)
    elif len(paths) == 1:
        headers = read_raw(engine, path, raw_name, notes)
    else:
        headers = read_parquet_files(engine, paths, raw_name, file_no)
    staged = stage_relation(
        engine, table, raw_name, headers, file_no, len(paths), tz, user_map, sender_map, str(path)
    )
    return dataclasses.replace(staged, spelled_record=spelled)


def stage_relation(
    engine: Loader,
    table: str,
    raw_name: str,
    headers: list[str],
    file_no: int,
    files: int,
    tz: str,
    user_map: dict[str, str] | None = None,
    sender_map: dict[str, str] | None = None,
    source: str = "",
) -> _Staged:
    """Stage raw relation ``raw_name`` (``headers``, a ``row_no``, and ``FILE_NO`` when it
    reads several ``files``) as a view of ``table``'s canonical values, each row with the
    first field that makes it unusable and why (``_field``, ``_reason``).

    The checks every input gets, whatever read it: files here, a live batch of events in
    ``kefu.live.events``. ``source`` names the input in an error (a missing column).
    """
    found = map_headers(table, headers, user_map)
    missing = [c.name for c in TABLES[table] if c.required and c.name not in found]
    if missing:
        raise InputError(
            f"{source}: no column for {', '.join(missing)} in {table} "
            f"(headers: {', '.join(headers)}; see docs/schema.md or pass --map)"
        )
    types = dict(engine.columns(raw_name))
    multi = files > 1
    inner, outer, problems, raw_values = ["row_no", *([FILE_NO] if multi else [])], [], [], []
    trims: list[str] = []  # each column's trimmed text, computed once per row
    heavy: dict[str, str] = {}
    for col in TABLES[table]:
        if col.name not in found:
            outer.append(f"CAST(NULL AS {col.sql_type}) AS {col.name}")
            continue
        raw = '"' + found[col.name].replace('"', '""') + '"'
        text = _as_text(raw, types[found[col.name]])
        raw_type = types[found[col.name]]
        if col.name in HEAVY.get(table, ()):  # read unchecked, straight from the input
            heavy[col.name] = _value_expr(col, raw, raw_type, tz)
        if _typed(col, raw_type):  # Parquet with the canonical type: nothing to parse
            value = _typed_value(col, raw, raw_type, tz)
            inner += [f"{value} AS v_{col.name}", f"({raw} IS NOT NULL) AS g_{col.name}"]
        else:
            trims.append(f"{_trimmed(raw, raw_type, _invisible(col))} AS __t_{col.name}")
            value = _value_expr(
                col, raw, raw_type, tz, found[col.name], sender_map, text=f"__t_{col.name}"
            )
            inner.append(f"{value} AS v_{col.name}")
            if col.kind not in ("id", "text"):  # an id's value is its trimmed text
                inner.append(f"({text} IS NOT NULL AND trim({text}) <> '') AS g_{col.name}")
        outer.append(f"CAST(v_{col.name} AS {col.sql_type}) AS {col.name}")
        problem = _problem(col)
        if problem:
            problems.append((*problem, sql_str(col.name)))
            raw_values.append(f"WHEN {sql_str(col.name)} THEN {text.replace(raw, 'r.' + raw)}")
    if ROW_PROBLEM[1] in types:  # a record unusable as a whole (e.g. extra fields): first
        inner += list(ROW_PROBLEM)
        problems.insert(0, (f"{ROW_PROBLEM[1]} IS NOT NULL", ROW_PROBLEM[1], ROW_PROBLEM[0]))
    field_sql = " ".join(f"WHEN {c} THEN {f}" for c, _, f in problems)
    reason_sql = " ".join(f"WHEN {c} THEN {r}" for c, r, _ in problems)
    view = f"stage_{table}_{file_no}"
    engine.view(
        view,
        f"""SELECT {", ".join(outer)}, {FILE_NO if multi else file_no} AS file_no, row_no,
               {f"CASE {field_sql} END" if problems else "CAST(NULL AS VARCHAR)"} AS _field,
               {f"CASE {reason_sql} END" if problems else "CAST(NULL AS VARCHAR)"} AS _reason
            FROM (SELECT {", ".join(inner)}
                  FROM (SELECT {", ".join(["*", *trims])} FROM {raw_name}) AS t) AS v""",
    )
    raw_value = f"CASE s._field {' '.join(raw_values)} END" if raw_values else "NULL"
    return _Staged(view, raw_name, raw_value, file_no, heavy, files)


#: Canonical columns two copies of one ``msg_id`` are compared on (the text included); not
#: ``seq``, which is where a copy stands in its export (T3), so it differs between copies.
COMPARED = ("buyer_id", "agent_id", "sender", "ts", "text")


def _duplicates(engine: Loader) -> tuple[int, int]:
    """Table ``dups_messages``: later copies of a ``msg_id`` within a shop; the first is kept.

    A copy whose content differs from the first (``differs`` names the columns) is not a
    plain duplicate: it is quarantined, so a clash of ids is seen. Only the repeated keys are
    ranked and their texts read: the common case costs one hash aggregate. Returns (plain
    duplicates, copies that differ).
    """
    differs = ", ".join(
        f"CASE WHEN r.{c} IS DISTINCT FROM f.{c} THEN {sql_str(c)} END" for c in COMPARED
    )
    engine.materialize(
        "dups_messages",
        f"""WITH keys AS (
              SELECT shop_id, msg_id FROM checked_messages
              WHERE msg_id IS NOT NULL AND _field IS NULL
              GROUP BY shop_id, msg_id HAVING COUNT(*) > 1
            ), ranked AS (
              SELECT c.*, t.text, ROW_NUMBER() OVER (
                       PARTITION BY c.shop_id, c.msg_id ORDER BY c.file_no, c.row_no) AS copy
              FROM checked_messages AS c
              JOIN keys AS k ON c.shop_id = k.shop_id AND c.msg_id = k.msg_id
              LEFT JOIN message_texts AS t ON t.file_no = c.file_no AND t.row_no = c.row_no
              WHERE c._field IS NULL
            )
            SELECT r.file_no, r.row_no, r.msg_id, f.file_no AS first_file, f.row_no AS first_row,
                   NULLIF(concat_ws(', ', {differs}), '') AS differs
            FROM ranked AS r
            JOIN ranked AS f ON f.shop_id = r.shop_id AND f.msg_id = r.msg_id AND f.copy = 1
            WHERE r.copy > 1""",
    )
    plain, differing = (
        engine.query(
            "SELECT COUNT(*) FILTER (WHERE differs IS NULL) AS plain, "
            "COUNT(*) FILTER (WHERE differs IS NOT NULL) AS differing FROM dups_messages"
        )
        .to_pylist()[0]
        .values()
    )
    return int(plain), int(differing)


def _finish(engine: Loader, table: str, staged: list[_Staged], count: TableCount) -> None:
    """Check every row once, keep the result, and name the canonical relation over it.

    The checked copy holds the canonical columns but the heavy one: message text stays in
    the input and ``message_texts`` joins it back when a transcript is shown.
    """
    stage = f"stage_{table}"
    empty = (
        "SELECT *, CAST(NULL AS VARCHAR) AS _field, CAST(NULL AS VARCHAR) AS _reason "
        f"FROM ({empty_table_sql(table)}) AS e"
    )
    engine.view(stage, " UNION ALL ".join(f"SELECT * FROM {s.view}" for s in staged) or empty)
    light = [c.name for c in (*TABLES[table], *PROVENANCE) if c.name not in HEAVY.get(table, ())]
    checked = f"checked_{table}"
    engine.materialize(checked, f"SELECT {', '.join(light)}, _field, _reason FROM {stage}")
    read, quarantined = (
        engine.query(f"SELECT COUNT(*), COUNT(*) FILTER (WHERE _field IS NOT NULL) FROM {checked}")
        .to_pylist()[0]
        .values()
    )
    count.read, count.quarantined = int(read), int(quarantined)
    if table == "messages":
        # Read straight from the inputs, unchecked: joined to accepted rows by file and row.
        texts = [
            f"SELECT {st.file_of(st.raw)} AS file_no, row_no, "
            f"CAST({st.heavy.get('text', 'NULL')} AS VARCHAR) AS text FROM {st.raw}"
            for st in staged
        ]
        none = "SELECT 0 AS file_no, CAST(0 AS BIGINT) AS row_no, '' AS text WHERE FALSE"
        engine.view("message_texts", " UNION ALL ".join(texts) or none)
    repeated = 0
    if table == "messages" and read:
        count.duplicates, differing = _duplicates(engine)
        count.quarantined += differing
        repeated = count.duplicates + differing
    count.accepted = count.read - count.quarantined - count.duplicates
    accepted = f"SELECT {', '.join('c.' + c for c in light)} FROM {checked} AS c"
    if repeated:
        accepted += f" ANTI JOIN dups_{table} AS d ON d.file_no = c.file_no AND d.row_no = c.row_no"
    engine.view(table, f"{accepted} WHERE c._field IS NULL")


def _quarantine_rows(table: str, staged: list[_Staged], files: list[str]) -> str:
    """SQL: every row of ``table`` not used, with its file, row, field, reason, raw value
    and raw record (and ``table_no``, ``file_no`` to keep the order the files were given).
    """

    def name_of(file_no: str) -> str:
        whens = " ".join(f"WHEN {i} THEN {sql_str(f)}" for i, f in enumerate(files))
        return f"CASE {file_no} {whens} END"

    # The unusable rows are found in the checked copy (checking them again from the staged
    # view would parse every row twice); only their raw records are read back.
    invalid = [
        f"""SELECT s.file_no, s.row_no, 'invalid' AS kind, s._field AS field, s._reason AS reason,
                   {st.raw_value} AS value, {st.record("r")} AS record
            FROM (SELECT * FROM checked_{table} WHERE _field IS NOT NULL
                    AND file_no BETWEEN {st.file_no} AND {st.file_no + st.files - 1}) AS s
            JOIN {st.raw} AS r ON r.row_no = s.row_no AND {st.file_of("r")} = s.file_no"""
        for st in staged
    ]
    if table == "messages":
        invalid += [
            f"""SELECT d.file_no, d.row_no,
                       CASE WHEN d.differs IS NULL THEN 'duplicate' ELSE 'invalid' END, 'msg_id',
                       CASE WHEN d.differs IS NULL THEN 'duplicate msg_id: the first copy is kept'
                            ELSE 'msg_id repeats row ' || d.first_row || ' of '
                                 || {name_of("d.first_file")}
                                 || ' with different ' || d.differs || ': the first copy is kept'
                       END,
                       d.msg_id, {st.record("r")}
                FROM dups_{table} AS d JOIN {st.raw} AS r
                  ON r.row_no = d.row_no AND {st.file_of("r")} = d.file_no
                WHERE d.file_no BETWEEN {st.file_no} AND {st.file_no + st.files - 1}"""
            for st in staged
        ]
    return f"""
        SELECT {list(TABLES).index(table)} AS table_no, file_no, {sql_str(table)} AS "table", kind,
               {name_of("file_no")} AS file, CAST(row_no AS BIGINT) AS "row",
               field, reason, value, record
        FROM ({" UNION ALL ".join(invalid)}) AS q
    """


def load_inputs(
    engine: Loader,
    inputs: dict[str, list[Path]],
    timezone: str,
    user_map: dict[str, str] | None = None,
    on_file: Callable[[str, str], None] | None = None,
    sender_map: dict[str, str] | None = None,
) -> LoadReport:
    """Name every canonical table over its files (a table with no file is empty).

    Nothing is copied: each table is a view that parses and checks rows as they are read,
    so a Parquet column a figure does not need is never read. ``engine`` is kefu's DuckDB
    session, or another engine's ``LoadSession`` for Parquet inputs it reads itself (Spark):
    the same SQL, rendered for it. ``on_file(table, path)`` is
    told each file as it is staged, for progress display. ``user_map`` maps headers
    (``{"发言人": "sender"}``), ``sender_map`` sender values (``{"2": "bot"}``).
    """
    counts: dict[str, TableCount] = {}
    notes: list[str] = []
    quarantines = []
    for table in TABLES:
        files = [str(f) for f in inputs.get(table, [])]
        count = TableCount(table, files=files)
        counts[table] = count
        staged, file_no = [], 0
        for run in same_schema_runs([Path(f) for f in files]):  # a year of days: one source
            if on_file:
                on_file(table, str(run[0]) + (f" (+{len(run) - 1} files)" if len(run) > 1 else ""))
            one = _stage_file(engine, table, run, file_no, timezone, user_map, sender_map, notes)
            file_no += len(run)
            if one is not None:
                staged.append(one)
        _finish(engine, table, staged, count)
        if count.quarantined or count.duplicates:
            quarantines.append(_quarantine_rows(table, staged, files))
    if quarantines:
        # Kept now: the raw relations it reads are the files as they were at load.
        engine.materialize(QUARANTINE_TABLE, " UNION ALL ".join(quarantines))
    return LoadReport(counts, engine if quarantines else None, notes)
