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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from kefu.engine.duckdb import DuckDBEngine
from kefu.io.discover import discover_inputs
from kefu.io.load import LoadReport, load_inputs
from kefu.metrics.assessment import Assessment
from kefu.metrics.params import Params
from kefu.rules.profile import Profile, load_profile


@dataclass
class Result:
    """An assessment: the figures per level, the load reconciliation, and the audit."""

    params: Params
    figures: dict[str, pa.Table]
    load: LoadReport
    assessment: Assessment

    @property
    def profile(self) -> Profile:
        return self.params.profile

    @property
    def as_of(self) -> dt.date:
        return self.params.as_of

    def window_figures(self, as_of: dt.date) -> dict[str, pa.Table]:
        """The figures of another window (e.g. the previous 30 days) from the same loaded data.

        The audit relations are rebuilt for that window and then rebuilt for this one, so
        ``self.assessment`` stays valid; it costs two assessments on the loaded tables.
        """
        engine = self.assessment.engine
        other = Assessment(engine, Params(self.profile, as_of)).all_figures()
        self.assessment = Assessment(engine, self.params)
        return other


def _as_date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as_of: {value!r} is not a date (YYYY-MM-DD)") from None


def default_as_of(engine: DuckDBEngine) -> dt.date:
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
    engine: DuckDBEngine | None = None,
    on_file: Callable[[str, str], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Result:
    """Assess the shops in ``inputs`` by ``profile``'s rules over the 30 days before ``as_of``.

    ``inputs`` is a folder (files named ``messages.*``, ``ratings.*``, … see
    docs/schema.md), a list of such files or folders, or a mapping table → files.
    ``header_map`` maps unusual headers to canonical columns (``{"发言人": "sender"}``),
    ``sender_map`` unusual sender values to buyer, agent, bot or system (``{"2": "bot"}``).
    ``on_file(table, path)`` and ``on_step(relation)`` report progress.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    files = inputs if isinstance(inputs, dict) else discover_inputs(inputs)
    eng = engine or DuckDBEngine()
    report = load_inputs(eng, files, str(prof["timezone"]), header_map, on_file, sender_map)
    day = _as_date(as_of) or default_as_of(eng)
    params = Params(prof, day)
    assessment = Assessment(eng, params, on_step)
    return Result(params, assessment.all_figures(), report, assessment)
