"""kefu's Python API: load inputs, assess a shop, explain a figure.

>>> import kefu
>>> result = kefu.assess("shop-data/", profile="taobao", as_of="2024-01-08")  # doctest: +SKIP
>>> result.figures["shop"].to_pandas()  # doctest: +SKIP
>>> kefu.explain(result, "rounds", shop_id="s1").to_pylist()  # doctest: +SKIP

Every function returns Arrow tables: ``.to_pandas()`` or ``polars.from_arrow(...)`` turn
them into data frames.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pyarrow as pa

from kefu.engine.duckdb import DuckDBEngine
from kefu.io.discover import discover_inputs
from kefu.io.load import Loader, LoadReport, load_inputs
from kefu.io.partitions import partitioned_as_of, prune_messages
from kefu.io.readers import InputError
from kefu.metrics.assessment import Assessment, Engine, Figures
from kefu.metrics.params import Params
from kefu.metrics.relations import INPUTS
from kefu.rules.profile import Profile, load_profile


class Windowed:
    """What every assessment result says about its window: its profile and date."""

    params: Params

    @property
    def profile(self) -> Profile:
        return self.params.profile

    @property
    def as_of(self) -> dt.date:
        return self.params.as_of


@dataclass
class Result(Windowed):
    """An assessment: the figures per level, the load reconciliation, and the audit.

    ``figures`` maps a level to its Arrow table, read from the engine when first asked for
    (``kefu.metrics.assessment.Figures``); the assessment stays open for that.
    """

    params: Params
    figures: Figures
    load: LoadReport
    assessment: Assessment

    def window_figures(self, as_of: dt.date) -> dict[str, pa.Table]:
        """The figures of another window (e.g. the previous 30 days) from the same loaded data.

        The other window's audit relations are built beside this one's (each assessment has
        its own namespace) and dropped once its figures are read.
        """
        other = Assessment(self.assessment.engine, Params(self.profile, as_of))
        try:
            return other.all_figures()
        finally:
            other.close()


#: Output languages of every text kefu writes.
LANGS = ("en", "zh")
#: The memory sizes the engine accepts: a number and a unit (1000- or 1024-based), or a
#: share of the machine's memory.
MEMORY_UNITS = ("KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB")
_MEMORY_SIZE = re.compile(
    r"\s*(\d+(?:\.\d+)?)\s*(" + "|".join(MEMORY_UNITS) + r"|%)\s*", re.IGNORECASE
)


class NothingAccepted(InputError):
    """The inputs were read but no message and no rating row was usable: nothing to assess."""


def check_lang(lang: str, option: str = "lang") -> str:
    """``lang`` if kefu writes that language, else a ``ValueError`` naming ``option``.

    >>> check_lang("zh")
    'zh'
    """
    if lang not in LANGS:
        raise ValueError(f"{option} {lang!r}: use {' or '.join(LANGS)}")
    return lang


def check_memory_limit(value: str, option: str = "memory_limit") -> str:
    """``value`` if it is a memory size the engine accepts, else a one-line ``ValueError``.

    Checked before any work: DuckDB would only refuse it when the engine starts.

    >>> check_memory_limit("2GB")
    '2GB'
    >>> check_memory_limit("lots", "--memory-limit")
    Traceback (most recent call last):
    ...
    ValueError: --memory-limit 'lots': not a memory size; write a number and a unit, \
e.g. 500MB, 2GB, 1.5GiB or 50% (units: KB, MB, GB, TB, KiB, MiB, GiB, TiB, %)
    """
    match = _MEMORY_SIZE.fullmatch(value)
    if match and float(match[1]) > 0 and (match[2] != "%" or float(match[1]) <= 100):
        return value.strip()
    raise ValueError(
        f"{option} {value!r}: not a memory size; write a number and a unit, e.g. 500MB, "
        f"2GB, 1.5GiB or 50% (units: {', '.join(MEMORY_UNITS)}, %)"
    )


def resolve_memory_limit(value: str | None = None, option: str = "memory_limit") -> str | None:
    """The engine's memory cap: ``value``, else ``KEFU_MEMORY_LIMIT``; each one checked.

    ``None`` leaves the engine's default (``kefu.engine.duckdb.DEFAULT_MEMORY_LIMIT``).
    """
    if value:
        return check_memory_limit(value, option)
    env = os.environ.get("KEFU_MEMORY_LIMIT")
    return check_memory_limit(env, "KEFU_MEMORY_LIMIT") if env else None


def as_date(value: str | dt.date | None, option: str = "as_of") -> dt.date | None:
    """``value`` as a date (``YYYY-MM-DD``), ``None`` kept; else a ``ValueError``.

    >>> as_date("2024-03-01")
    datetime.date(2024, 3, 1)
    """
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{option} {value!r}: not a date (YYYY-MM-DD)") from None


def nothing_accepted(load: LoadReport) -> NothingAccepted | None:
    """The error to raise when no message and no rating row was accepted, else None.

    Figures of nothing would be empty tables that look like a shop without customers; the
    reconciliation (read = accepted + quarantined + duplicates) says why instead.
    """
    counts = [load.counts[t] for t in ("messages", "ratings") if t in load.counts]
    if any(c.accepted for c in counts):
        return None
    given = [line for line in load.lines() if line.split(":")[0] in ("messages", "ratings")]
    return NothingAccepted(
        "no message or rating row was accepted, nothing to assess ("
        + ("; ".join(given) or "no messages or ratings file")
        + ")"
    )


def check_accepted(load: LoadReport) -> None:
    """Raise ``NothingAccepted`` when no message and no rating row was accepted."""
    if nothing := nothing_accepted(load):
        raise nothing


def default_as_of(engine: Loader) -> dt.date:
    """The day after the latest message or rating: the window then ends with the data."""
    latest = engine.scalar(
        "SELECT MAX(ts) FROM (SELECT ts FROM messages UNION ALL SELECT ts FROM ratings)"
    )
    if latest is None:
        return dt.date.today()
    return latest.date() + dt.timedelta(days=1)


def assess(
    inputs: str | Path | Iterable[str | Path] | dict[str, list[Path]],
    profile: str | Path | Profile = "taobao",
    as_of: str | dt.date | None = None,
    *,
    header_map: dict[str, str] | None = None,
    sender_map: dict[str, str] | None = None,
    engine: Engine | None = None,
    memory_limit: str | None = None,
    on_file: Callable[[str, str], None] | None = None,
    on_step: Callable[[str], None] | None = None,
    windows: int = 1,
) -> Result:
    """Assess the shops in ``inputs`` by ``profile``'s rules over the 30 days before ``as_of``.

    ``inputs`` is a folder (files named ``messages.*``, ``ratings.*``, … see
    docs/schema.md), a list of such files or folders, or a mapping table → files.
    ``header_map`` maps unusual headers to canonical columns (``{"发言人": "sender"}``),
    ``sender_map`` unusual sender values to buyer, agent, bot or system (``{"2": "bot"}``).
    ``memory_limit`` (e.g. ``"2GB"``; default ``KEFU_MEMORY_LIMIT``) caps the engine.
    ``engine`` runs the definitions: DuckDB embedded (the default), or
    ``kefu.engine.spark.SparkEngine`` on a cluster. Inputs are always checked by the one
    loader: on Spark itself for Parquet inputs, else on DuckDB, whose checked tables Spark
    takes (``SparkEngine(read_parquet=False)``: Parquet too).
    ``on_file(table, path)`` and ``on_step(relation)`` report progress. Every option is
    checked before any file is read. An input without one usable message or rating row
    gives empty figures: ``check_accepted(result.load)`` turns that into an error.

    A day-partitioned dataset (``messages/day=2024-03-01/…``) is read only for the days the
    assessment needs (``Params.message_days``; ``windows=2`` keeps the window before it too,
    for ``Result.window_figures``); without ``as_of`` its date comes from the partition
    names (``kefu.io.partitions.partitioned_as_of``). The load notes say what was read.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    day = as_date(as_of)
    files = inputs if isinstance(inputs, dict) else discover_inputs(inputs)
    day = day or partitioned_as_of(files)
    files, pruned = prune_messages(files, prof, day, windows) if day else (files, [])
    # The caller's DuckDB session loads with itself (its own memory limit); Spark, when
    # asked to, checks Parquet where it lies; else the input is loaded on DuckDB.
    loader: Loader | None = engine.load_session(files) if engine is not None else None
    if loader is None:
        loader = DuckDBEngine(memory_limit=resolve_memory_limit(memory_limit))
    report = load_inputs(loader, files, str(prof["timezone"]), header_map, on_file, sender_map)
    report.notes[:0] = pruned
    day = day or default_as_of(loader)
    params = Params(prof, day)
    runner: Engine = engine if engine is not None else cast(DuckDBEngine, loader)
    # The texts too: a transcript (the report's, explain's) joins them to the messages.
    runner.receive(loader, (*INPUTS, "message_texts"))
    assessment = Assessment(runner, params, on_step)
    return Result(params, Figures(assessment), report, assessment)
