"""The numbers a definition needs, taken from a profile and an assessment date.

Definitions are SQL text; the values below are rendered into it as literals. Every value
comes from a profile parameter (and so from a rule ID) or from the assessment date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kefu.rules.profile import Profile, ProfileError


def seconds_of_day(clock: str, param: str) -> int:
    """``"08:00"`` → 28800; ``"24:00"`` → 86400 (the end of the day)."""
    try:
        hours, minutes = (int(part) for part in clock.split(":"))
    except ValueError:
        raise ProfileError(f"{param}: {clock!r} is not a HH:MM clock time") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ProfileError(f"{param}: {clock!r} is not a clock time between 00:00 and 24:00")
    return hours * 3600 + minutes * 60


def sql_ts(value: dt.datetime) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


def sql_num(value: object) -> str:
    """A profile number as SQL: a DOUBLE for fractions (DuckDB reads ``0.9`` as a DECIMAL)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"expected a number, got {value!r}")
    return str(value) if isinstance(value, int) else f"CAST({value!r} AS DOUBLE)"


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Params:
    """Resolved parameters of one assessment (profile + ``as_of``)."""

    profile: Profile
    as_of: dt.date

    @property
    def window_end(self) -> dt.datetime:
        """T2: the window ends at 00:00 of the assessment date (later events are excluded)."""
        return dt.datetime.combine(self.as_of, dt.time())

    @property
    def window_start(self) -> dt.datetime:
        """T2: ``window_days`` days before the assessment date."""
        return self.window_end - dt.timedelta(days=int(self.profile["window_days"]))

    def clock_window(self, prefix: str) -> tuple[int, int]:
        p = self.profile
        start = seconds_of_day(p[f"{prefix}_start"], f"{prefix}_start")
        end = seconds_of_day(p[f"{prefix}_end"], f"{prefix}_end")
        return start, end

    def __getitem__(self, key: str) -> object:
        return self.profile[key]


def in_clock_window(ts: str, window: tuple[int, int]) -> str:
    """SQL: the local clock time of ``ts`` falls in ``[start, end)``; wraps past midnight."""
    start, end = window
    sod = f"(hour({ts}) * 3600 + minute({ts}) * 60 + second({ts}))"
    if start == 0 and end == 86400:
        return "TRUE"
    if start <= end:
        return f"({sod} >= {start} AND {sod} < {end})"
    return f"({sod} >= {start} OR {sod} < {end})"
