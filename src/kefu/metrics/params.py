"""The numbers a definition needs, taken from a profile and an assessment date.

The definitions are SQL templates with named placeholders (``kefu.metrics.templates``);
:meth:`Params.values` gives each placeholder its value. Every value comes from a profile
parameter (and so from a rule ID) or from the assessment date.
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

    @property
    def history_start(self) -> dt.datetime:
        """T2 (decided): the earliest message read, ``history_days`` before the window's start.

        Older messages are not read, so an assessment depends on a bounded stretch of
        history (memory does not grow with it) and on nothing an export happens to include
        or leave out before that. A day is enough for a profile whose rounds and
        consultations end at midnight (R6, P3); what it can change is a refusal run (F1) or
        a round (without R6's same-day rule) still open from before it.
        """
        return self.window_start - dt.timedelta(days=int(self.profile["history_days"]))

    @property
    def history_end(self) -> dt.datetime:
        """T2 (decided): messages are read until ``response_time_cap_s`` after the window's end.

        A later answer never changes a figure: its round, started inside the window, waited
        more than the cap, so it is neither responded (R6) nor averaged (P2); explain shows
        such a round as unanswered.
        """
        return self.window_end + dt.timedelta(seconds=int(self.profile["response_time_cap_s"]))

    def message_days(self) -> tuple[dt.date, dt.date]:
        """The local days whose messages an assessment reads, one day of margin each side.

        For a day-partitioned dataset: partitions outside ``[first, last]`` are not opened.
        The margin covers a dataset partitioned by UTC day rather than local day.
        """
        one = dt.timedelta(days=1)
        return (self.history_start - one).date(), (self.history_end + one).date()

    def clock_window(self, prefix: str) -> tuple[int, int]:
        p = self.profile
        start = seconds_of_day(p[f"{prefix}_start"], f"{prefix}_start")
        end = seconds_of_day(p[f"{prefix}_end"], f"{prefix}_end")
        return start, end

    def __getitem__(self, key: str) -> object:
        return self.profile[key]

    def values(self) -> dict[str, bool | int | float | str | dt.datetime]:
        """The value of every placeholder a template may use.

        Every scalar profile parameter under its own name, and what follows from them and
        the date: the window (T2) and the stretch of messages read (T2, decided), and the
        daily windows of R5 and P2 as seconds of the day.
        """
        values: dict[str, bool | int | float | str | dt.datetime] = {
            k: p.value
            for k, p in self.profile.params.items()
            if isinstance(p.value, bool | int | float | str)
        }
        rate_hours = self.clock_window("response_window")
        time_hours = self.clock_window("response_time_window")
        values.update(
            window_start=self.window_start,
            window_end=self.window_end,
            history_start=self.history_start,
            history_end=self.history_end,
            rate_hours_start=rate_hours[0],
            rate_hours_end=rate_hours[1],
            time_hours_start=time_hours[0],
            time_hours_end=time_hours[1],
        )
        return values
