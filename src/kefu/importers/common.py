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

import json
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
UNITS_ZH = {"tweets": "推文", "chats": "聊天", "lines": "行"}


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
            "value": p.value,
            "record": json.dumps(p.record, ensure_ascii=False, default=str),
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
