"""Load, check and reconcile inputs into kefu's canonical tables.

Every row read ends in exactly one place: the canonical table (accepted), the quarantine
(a row that cannot be used, with its file, row, field and reason), or — for messages — the
duplicates (a repeated ``msg_id`` within a shop; the first occurrence is kept). So for every
table ``read = accepted + quarantined + duplicates``, and the numbers are reported.

Time (T1): a timestamp with an explicit offset is converted to the profile's time zone; a
naive one is taken as local. The result is a naive local TIMESTAMP, converted once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from kefu.engine.duckdb import DuckDBEngine
from kefu.io.headers import map_headers
from kefu.io.readers import InputError, read_raw
from kefu.io.schema import (
    PROVENANCE,
    SCORE_LABELS,
    SENDERS,
    SOURCES,
    TABLES,
    TIERS,
    Column,
    empty_table_sql,
)
from kefu.metrics.params import sql_str

#: Formats tried, after ISO 8601, for text timestamps of workbench exports.
TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y%m%d %H:%M:%S",
)

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


@dataclass
class LoadReport:
    counts: dict[str, TableCount]
    quarantine: pa.Table

    def lines(self, lang: str = "en") -> list[str]:
        """One reconciliation line per table that was given."""
        words = RECONCILE_ZH if lang == "zh" else RECONCILE_EN
        return [
            words[0].format(c.table, c.read, c.accepted, c.quarantined)
            + (words[1].format(c.duplicates) if c.table == "messages" else "")
            for c in self.counts.values()
            if c.files
        ]


RECONCILE_EN = ("{}: read {} = accepted {} + quarantined {}", " + duplicates {}")
RECONCILE_ZH = ("{}: 读取 {} = 接受 {} + 隔离 {}", " + 重复 {}")


def _lookup(raw: str, mapping: dict[str, tuple[str, ...]], out: str) -> str:
    whens = " ".join(
        f"WHEN {sql_str(alias.lower())} THEN {out.format(sql_str(key))}"
        for key, aliases in mapping.items()
        for alias in aliases
    )
    return f"CASE lower(trim({raw})) {whens} ELSE NULL END"


def _ts_expr(raw: str, raw_type: str, tz: str) -> str:
    if raw_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone({sql_str(tz)}, {raw})"
    if raw_type.startswith("TIMESTAMP") or raw_type == "DATE":
        return f"CAST({raw} AS TIMESTAMP)"
    text = f"trim(CAST({raw} AS VARCHAR))"
    formats = ", ".join(sql_str(f) for f in TIME_FORMATS)
    return (
        f"CASE WHEN regexp_matches({text}, '(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$') "
        f"THEN timezone({sql_str(tz)}, TRY_CAST({text} AS TIMESTAMPTZ)) "
        f"ELSE COALESCE(TRY_CAST({text} AS TIMESTAMP), TRY_STRPTIME({text}, [{formats}])) END"
    )


def _as_text(raw: str, raw_type: str) -> str:
    """The raw value as text; a JSON value loses its quotes (mixed-type JSON columns)."""
    if raw_type == "JSON":
        return f"({raw} ->> '$')"
    return f"CAST({raw} AS VARCHAR)"


def _value_expr(col: Column, raw: str, raw_type: str, tz: str) -> str:
    """SQL turning the raw input column into the canonical value (NULL when unusable)."""
    raw = _as_text(raw, raw_type) if raw_type == "JSON" else raw
    text = f"NULLIF(trim(CAST({raw} AS VARCHAR)), '')"
    match col.kind:
        case "id" | "text":
            return text
        case "sender":
            # Canonical values, by far the most common, skip the alias lookup.
            canonical = ", ".join(sql_str(k) for k in SENDERS)
            lookup = _lookup(raw, SENDERS, "{}")
            return f"CASE WHEN {raw} IN ({canonical}) THEN {raw} ELSE {lookup} END"
        case "source":
            known = _lookup(raw, SOURCES, "{}")
            return f"COALESCE({known}, lower({text}))"
        case "tier":
            known = _lookup(raw, TIERS, "{}")
            return f"COALESCE({known}, lower({text}))"
        case "ts":
            return _ts_expr(raw, raw_type, tz)
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


def _problem(col: Column) -> tuple[str, str] | None:
    """(condition, reason SQL) for a row this column makes unusable.

    The condition reads the staged value ``v_<col>`` and the flag ``g_<col>`` (a non-blank
    raw value was given), computed once per row by the inner query of ``_stage_file``.
    """
    reasons = {
        "sender": "'unknown sender (buyer, agent, bot or system)'",
        "ts": "'unparseable time'",
        "score": "'score is not 1-5 or a label 很满意…很不满意'",
        "int": "'not an integer'",
    }
    given, value = f"g_{col.name}", f"v_{col.name}"
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
    small = path.is_file() and path.stat().st_size < 4096
    return small and path.suffix.lower() in TEXT_SUFFIXES and not path.read_bytes().strip()


def _stage_file(
    engine: DuckDBEngine,
    table: str,
    path: Path,
    file_no: int,
    tz: str,
    user_map: dict[str, str] | None,
) -> None:
    raw_name = f"raw_{table}_{file_no}"
    if _blank_text(path):
        return  # an empty text file holds no rows (and no header to check)
    headers = read_raw(engine, path, raw_name)
    found = map_headers(table, headers, user_map)
    missing = [c.name for c in TABLES[table] if c.required and c.name not in found]
    if missing:
        raise InputError(
            f"{path}: no column for {', '.join(missing)} in {table} "
            f"(headers: {', '.join(headers)}; see docs/schema.md or pass --map)"
        )
    types = dict(engine.columns(raw_name))
    inner, outer, problems, raw_values = ["row_no"], [], [], []
    for col in TABLES[table]:
        if col.name not in found:
            outer.append(f"CAST(NULL AS {col.sql_type}) AS {col.name}")
            continue
        raw = '"' + found[col.name].replace('"', '""') + '"'
        text = _as_text(raw, types[found[col.name]])
        inner.append(f"{_value_expr(col, raw, types[found[col.name]], tz)} AS v_{col.name}")
        inner.append(f"(NULLIF(trim({text}), '') IS NOT NULL) AS g_{col.name}")
        outer.append(f"CAST(v_{col.name} AS {col.sql_type}) AS {col.name}")
        problem = _problem(col)
        if problem:
            problems.append((*problem, sql_str(col.name)))
            raw_values.append(f"WHEN {sql_str(col.name)} THEN {text.replace(raw, 'r.' + raw)}")
    field_sql = " ".join(f"WHEN {c} THEN {f}" for c, _, f in problems)
    reason_sql = " ".join(f"WHEN {c} THEN {r}" for c, r, _ in problems)
    engine.execute(f"""
        INSERT INTO stage_{table}
        SELECT {", ".join(outer)}, {file_no} AS file_no, row_no,
               {f"CASE {field_sql} END" if problems else "NULL"} AS _field,
               {f"CASE {reason_sql} END" if problems else "NULL"} AS _reason,
               NULL AS _value, NULL AS _record, FALSE AS _dup
        FROM (SELECT {", ".join(inner)} FROM {raw_name}) AS v
    """)
    # The raw value and the whole raw row go with each quarantined row; only they pay for it.
    if problems:
        engine.execute(f"""
            UPDATE stage_{table} AS s
            SET _record = CAST(to_json(r) AS VARCHAR),
                _value = CASE s._field {" ".join(raw_values)} END
            FROM {raw_name} AS r
            WHERE s.file_no = {file_no} AND s._field IS NOT NULL AND s.row_no = r.row_no
        """)
    engine.drop(raw_name)
    engine.drop(f"{raw_name}_in")


def _create_stage(engine: DuckDBEngine, table: str) -> None:
    engine.materialize(
        f"stage_{table}",
        f"SELECT *, CAST(NULL AS VARCHAR) AS _field, CAST(NULL AS VARCHAR) AS _reason, "
        f"CAST(NULL AS VARCHAR) AS _value, CAST(NULL AS VARCHAR) AS _record, "
        f"FALSE AS _dup "
        f"FROM ({empty_table_sql(table)}) AS e",
    )


def _finish(engine: DuckDBEngine, table: str, count: TableCount) -> None:
    """Split the stage into the canonical table, quarantine and duplicates."""
    cols = ", ".join(c.name for c in (*TABLES[table], *PROVENANCE))
    stage = f"stage_{table}"
    if table == "messages":
        # A repeated msg_id within a shop is the same message exported twice: keep the
        # first. Only the repeated keys are ranked, so the common case costs one hash pass.
        engine.execute(f"""
            UPDATE {stage} AS s SET _dup = TRUE
            FROM (
              SELECT file_no, row_no, ROW_NUMBER() OVER (
                       PARTITION BY shop_id, msg_id ORDER BY file_no, row_no) AS copy
              FROM {stage}
              WHERE _field IS NULL AND (shop_id, msg_id) IN (
                SELECT (shop_id, msg_id) FROM {stage}
                WHERE msg_id IS NOT NULL AND _field IS NULL
                GROUP BY shop_id, msg_id HAVING COUNT(*) > 1)
            ) AS d
            WHERE d.copy > 1 AND s.file_no = d.file_no AND s.row_no = d.row_no
        """)
    engine.view(table, f"SELECT {cols} FROM {stage} WHERE _field IS NULL AND NOT _dup")
    count.read = int(engine.scalar(f"SELECT COUNT(*) FROM {stage}"))
    count.accepted = int(engine.scalar(f"SELECT COUNT(*) FROM {table}"))
    count.quarantined = int(engine.scalar(f"SELECT COUNT(*) FROM {stage} WHERE _field IS NOT NULL"))
    count.duplicates = count.read - count.accepted - count.quarantined


def _quarantine_rows(engine: DuckDBEngine, table: str, files: list[str]) -> pa.Table:
    names = "CASE file_no " + " ".join(f"WHEN {i} THEN {sql_str(f)}" for i, f in enumerate(files))
    dup = "_dup"
    dup_value = "msg_id" if table == "messages" else "NULL"
    return engine.query(f"""
        SELECT {sql_str(table)} AS "table",
               CASE WHEN _field IS NOT NULL THEN 'invalid' ELSE 'duplicate' END AS kind,
               {names} END AS file, row_no AS "row",
               COALESCE(_field, 'msg_id') AS field,
               COALESCE(_reason, 'duplicate msg_id: the first copy is kept') AS reason,
               COALESCE(_value, {dup_value}) AS value, _record AS record
        FROM stage_{table} WHERE _field IS NOT NULL OR {dup}
        ORDER BY file_no, row_no
    """).cast(QUARANTINE_SCHEMA)


def load_inputs(
    engine: DuckDBEngine,
    inputs: dict[str, list[Path]],
    timezone: str,
    user_map: dict[str, str] | None = None,
    on_file: Callable[[str, str], None] | None = None,
) -> LoadReport:
    """Load every canonical table from its files (missing tables are created empty).

    ``on_file(table, path)`` is told each file as it is read, for progress display.
    """
    counts: dict[str, TableCount] = {}
    quarantines = []
    for table in TABLES:
        files = [str(f) for f in inputs.get(table, [])]
        count = TableCount(table, files=files)
        counts[table] = count
        _create_stage(engine, table)
        for file_no, path in enumerate(files):
            if on_file:
                on_file(table, path)
            _stage_file(engine, table, Path(path), file_no, timezone, user_map)
        _finish(engine, table, count)
        if count.quarantined or count.duplicates:
            quarantines.append(_quarantine_rows(engine, table, files))
    quarantine = pa.concat_tables(quarantines) if quarantines else QUARANTINE_SCHEMA.empty_table()
    return LoadReport(counts, quarantine)
