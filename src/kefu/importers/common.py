"""What every importer shares: canonical Parquet out, the quarantine, the reconciliation.

An importer turns a workbench export into kefu's canonical ``messages`` table
(docs/schema.md) and writes it where ``kefu assess <out>`` finds it with no options:
``messages.parquet`` plus, when the export tells them, ``accounts.parquet`` (the shop's own
accounts, rule R3), ``agents.parquet`` and ``shops.parquet``.

Every source record ends in exactly one place: a row of ``messages.parquet`` (accepted) or
a row of ``quarantine.csv`` (with its file, line and reason), so the importer's count
``read N = accepted A + quarantined Q`` always reconciles. The quarantine has the loader's
columns (``QUARANTINE_SCHEMA``); its ``row`` is where to look in the source: the line of a
text file, or the row of a spreadsheet as Excel numbers it.

Times (rule T1): a naive local time is written as a naive ``TIMESTAMP`` (taken as local by
the loader); a time with an offset is written as ``TIMESTAMP WITH TIME ZONE`` in UTC, which
the loader converts to the profile's zone.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kefu.io.discover import table_of
from kefu.io.load import QUARANTINE_SCHEMA
from kefu.io.readers import InputError
from kefu.io.schema import arrow_schema

#: Files an import writes; a new import into the same folder replaces all of them.
OUTPUTS = ("messages.parquet", "accounts.parquet", "agents.parquet", "shops.parquet")
QUARANTINE_FILE = "quarantine.csv"

#: Kinds of quarantined record: a value that cannot be read, a repeated record, and a
#: readable record that cannot be placed in a stream (no shop, no buyer, a cut thread).
INVALID, DUPLICATE, EXCLUDED = "invalid", "duplicate", "excluded"

#: What an import counts, in Chinese (``--lang zh``).
UNITS_ZH = {"tweets": "推文", "chats": "聊天", "lines": "行", "messages": "消息", "records": "记录"}


def message_schema(tz: str | None = None) -> pa.Schema:
    """The canonical messages columns (docs/schema.md); ``tz="UTC"`` for offset-aware times."""
    return arrow_schema("messages", tz=tz)


ACCOUNTS_SCHEMA = arrow_schema("accounts")
AGENTS_SCHEMA = arrow_schema("agents")
SHOPS_SCHEMA = arrow_schema("shops", only=("shop_id",))


@dataclass
class Problem:
    """One quarantined source record: where it is, which field, why, and the raw record."""

    file: str
    row: int
    field: str
    reason: str
    value: str | None
    record: dict[str, Any]
    kind: str = INVALID


def utf8(value: str | None) -> str | None:
    """Text that can be written: a lone surrogate (``"\\ud83d"`` in JSON, half an emoji cut
    off) becomes ``?`` instead of failing the whole write."""
    return value if value is None or value.isascii() else value.encode("utf-8", "replace").decode()


def quarantine_table(problems: Iterable[Problem]) -> pa.Table:
    """Problems as a table with the loader's quarantine columns (``table`` is messages)."""
    rows = [
        {
            "table": "messages",
            "kind": p.kind,
            "file": p.file,
            "row": p.row,
            "field": p.field,
            "reason": p.reason,
            "value": utf8(p.value),
            "record": utf8(json.dumps(p.record, ensure_ascii=False, default=str)),
        }
        for p in problems
    ]
    return pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)


@dataclass
class ImportReport:
    """What an import read, accepted and quarantined, and the files it wrote.

    ``unit`` names what was counted (tweets, chats, lines). ``messages`` is the number of
    canonical messages written: equal to ``accepted``, except in the Qianniu Excel form
    where a multi-line message is one message made of several accepted lines.
    """

    fmt: str
    unit: str
    read: int
    accepted: int
    quarantined: int
    messages: int
    written: list[Path] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.accepted + self.quarantined

    def line(self, lang: str = "en") -> str:
        """The reconciliation line, e.g. ``tweets: read 5000 = accepted 4800 + quarantined 200``."""
        if lang == "zh":
            unit = UNITS_ZH.get(self.unit, self.unit)
            text = f"{unit}: 读取 {self.read} = 接受 {self.accepted} + 隔离 {self.quarantined}"
            extra = f" → {self.messages} 条消息"
        else:
            text = (
                f"{self.unit}: read {self.read} = accepted {self.accepted} "
                f"+ quarantined {self.quarantined}"
            )
            extra = f" → {self.messages} messages"
        return text + (extra if self.messages != self.accepted else "")


def prepare_out(out: Path) -> None:
    """Make ``out`` ready: replace an earlier import's files, refuse other table files.

    ``kefu assess <out>`` reads every file named like a table; a stray ``messages.csv``
    beside the import would be read with it, so it is an error rather than a surprise.
    """
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --out must be a folder")
    out.mkdir(parents=True, exist_ok=True)
    stray = sorted(
        p.name for p in out.iterdir() if p.name not in OUTPUTS and table_of(p) is not None
    )
    if stray:
        raise InputError(
            f"{out}: already holds {', '.join(stray)}, which kefu assess would read with the "
            "import; choose an empty folder"
        )
    for name in (*OUTPUTS, QUARANTINE_FILE):
        (out / name).unlink(missing_ok=True)


def write_parquet(path: Path, data: pa.Table | Iterator[pa.RecordBatch], schema: pa.Schema) -> int:
    """Write a table, or a stream of record batches, cast to ``schema``; return the row count."""
    batches = data.to_batches() if isinstance(data, pa.Table) else data
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches:
            table = pa.Table.from_batches([batch]).select(schema.names).cast(schema)
            writer.write_table(table)
            rows += table.num_rows
    return rows


def write_quarantine(out: Path, quarantine: pa.Table) -> Path:
    """``quarantine.csv``, written even when empty so every import shows where rows went."""
    path = out / QUARANTINE_FILE
    pacsv.write_csv(quarantine.cast(QUARANTINE_SCHEMA), path)
    return path


def reason_counts(quarantine: pa.Table) -> dict[str, int]:
    """Quarantined records per reason, most frequent first."""
    counts: dict[str, int] = {}
    for reason in quarantine.column("reason").to_pylist():
        counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def read_text(path: Path) -> str:
    """A text export, UTF-8 (with or without BOM) or GB18030/GBK (Chinese Windows tools)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: text is neither UTF-8 nor GB18030/GBK")


_EPOCH = re.compile(r"\d+(?:\.\d+)?")


def epoch_instant(value: object) -> dt.datetime | None:
    """Epoch seconds, a number or digits as text, as a UTC instant (T1); ``None`` if not one.

    A value of 10¹¹ or more is taken as milliseconds (10¹¹ seconds is the year 5138).
    ``1709600000`` and ``"1709600000"`` → 2024-03-05 00:53:20+00:00; fractions are dropped.
    """
    if isinstance(value, str) and _EPOCH.fullmatch(value.strip()):
        number = float(value.strip())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    seconds = number / 1000 if number >= 1e11 else number
    try:
        return dt.datetime.fromtimestamp(int(seconds), dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


#: Key of a message row that hands its stream to an agent (a transfer; ``None``: to nobody).
HANDOVER = "_handover"


def address_buyer_messages(rows: list[dict[str, Any]]) -> None:
    """Give each buyer message without ``agent_id`` the agent its stream is with (P1).

    The stream is with the agent a transfer handed it to (a row carrying ``HANDOVER``),
    else the agent who wrote in it last; a round nobody answers then belongs to that agent.
    Rows are taken in time order, equal times in ``seq`` order (T3).
    """
    current: dict[tuple[str, str], str | None] = {}
    for row in sorted(rows, key=lambda r: (r["ts"], r["seq"])):
        stream = (row["shop_id"], row["buyer_id"])
        if HANDOVER in row:
            current[stream] = row.pop(HANDOVER)
        elif row["sender"] == "agent" and row["agent_id"]:
            current[stream] = row["agent_id"]
        elif row["sender"] == "buyer" and not row["agent_id"]:
            row["agent_id"] = current.get(stream)


def write_import(
    out: Path,
    fmt: str,
    unit: str,
    read: int,
    rows: list[dict[str, Any]],
    problems: list[Problem],
    *,
    tz: str | None = None,
    agents: dict[tuple[str, str], str | None] | None = None,
    accounts: set[tuple[str, str]] | None = None,
) -> ImportReport:
    """Write one import into ``out``: messages, agents, shops (and accounts), quarantine.

    ``rows`` are canonical message rows in input order, ``read`` the records read, so that
    ``read = len(rows) + len(problems)``; ``agents`` maps (shop, agent id) to a display
    name; ``accounts`` holds (shop, account) pairs of the shop's own accounts (R3).
    ``tz="UTC"`` when the times are instants (T1).
    """
    prepare_out(out)
    schema = message_schema(tz)
    rows = [{k: utf8(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
    written = [out / "messages.parquet", out / "agents.parquet", out / "shops.parquet"]
    write_parquet(written[0], pa.Table.from_pylist(rows, schema=schema), schema)
    agent_rows = [
        {"agent_id": utf8(a), "shop_id": utf8(s), "name": utf8(n)}
        for (s, a), n in sorted((agents or {}).items())
    ]
    write_parquet(written[1], pa.Table.from_pylist(agent_rows, schema=AGENTS_SCHEMA), AGENTS_SCHEMA)
    shops = [{"shop_id": s} for s in sorted({r["shop_id"] for r in rows})]
    write_parquet(written[2], pa.Table.from_pylist(shops, schema=SHOPS_SCHEMA), SHOPS_SCHEMA)
    if accounts is not None:
        own = [{"shop_id": s, "account": a} for s, a in sorted(accounts)]
        written.append(out / "accounts.parquet")
        table = pa.Table.from_pylist(own, schema=ACCOUNTS_SCHEMA)
        write_parquet(written[-1], table, ACCOUNTS_SCHEMA)
    quarantine = quarantine_table(sorted(problems, key=lambda p: (p.file, p.row)))
    written.append(write_quarantine(out, quarantine))
    return ImportReport(
        fmt=fmt,
        unit=unit,
        read=read,
        accepted=len(rows),
        quarantined=quarantine.num_rows,
        messages=len(rows),
        written=written,
        reasons=reason_counts(quarantine),
    )
