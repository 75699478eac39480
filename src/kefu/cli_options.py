"""The options several kefu commands share, declared once (``kefu.cli``, ``kefu.report.commands``).

Only the command line uses this module; the library never imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kefu.io.schema import SENDERS

PathsArg = Annotated[
    list[Path],
    # kefu reports unreadable paths itself, in its one-line form (click would box them).
    typer.Argument(help="Input files or folders.", readable=False),
]
Lang = Annotated[str, typer.Option("--lang", help="Output language: en or zh.")]
MemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="Cap the engine's memory, e.g. 2GB or 50%; beyond it work spills to disk "
        "(default: KEFU_MEMORY_LIMIT, else 1536MB).",
    ),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Engine that runs the definitions: duckdb (embedded) or spark (pyspark, Java 17).",
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="With --engine spark: the master URL, e.g. spark://host:7077 (default local[*]).",
    ),
]
ProfileOpt = Annotated[
    str, typer.Option("--profile", "-p", help="taobao, tmall, 1688, or a profile .toml file.")
]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Assessment date; the window is the 30 days before it."),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="Map an input header to a canonical column: 发言人=sender."),
]
SenderMapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--sender-map",
        help="Map a sender value to buyer, agent, bot or system: 7=bot (repeatable).",
    ),
]


def parse_header_map(pairs: list[str] | None) -> dict[str, str]:
    """``--map HEADER=column`` pairs as a mapping."""
    return _pairs(pairs, "--map", "HEADER=column")


def parse_sender_map(pairs: list[str] | None) -> dict[str, str]:
    """``--sender-map VALUE=sender`` pairs as a mapping; the sender must be a canonical one.

    >>> parse_sender_map(["7=bot", " mall_cs = agent"])
    {'7': 'bot', 'mall_cs': 'agent'}
    """
    mapping = _pairs(pairs, "--sender-map", "VALUE=sender")
    for value, sender in mapping.items():
        if sender not in SENDERS:
            raise ValueError(
                f"--sender-map {value}={sender}: the sender must be one of {', '.join(SENDERS)}"
            )
    return mapping


def parse_table_map(pairs: list[str] | None, option: str) -> dict[str, str]:
    """``--table INPUT=NAME`` or ``--input-order INPUT=COLUMN`` pairs as a mapping.

    >>> parse_table_map(["messages=db.chat_messages"], "--table")
    {'messages': 'db.chat_messages'}
    """
    return _pairs(pairs, option, "INPUT=NAME, e.g. messages=db.chat_messages")


def _pairs(pairs: list[str] | None, option: str, form: str) -> dict[str, str]:
    mapping = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{option} {pair!r}: write it as {form}")
        mapping[key.strip()] = value.strip()
    return mapping
