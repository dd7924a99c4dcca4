"""When a recurring rule falls due: pure date arithmetic, no database.

A schedule is ``start`` + ``frequency`` + ``interval`` (+ an optional ``end``). Occurrence
``n`` (0-based) is always computed from ``start``, never from the previous occurrence, so a
monthly rule anchored on the 31st falls on the last day of shorter months and goes back to
the 31st afterwards (Jan 31, Feb 28, Mar 31, Apr 30, ...), and a yearly rule anchored on
Feb 29 falls on Feb 28 in common years and on Feb 29 again in leap years.

Dates beyond ``datetime.date.max`` do not exist: a schedule simply ends there.
"""

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import models


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    YEARLY = "yearly", "Yearly"


_DAYS_PER_STEP = {Frequency.DAILY: 1, Frequency.WEEKLY: 7}
_MONTHS_PER_STEP = {Frequency.MONTHLY: 1, Frequency.YEARLY: 12}


def add_months(start: dt.date, months: int) -> dt.date | None:
    """``start`` moved by ``months`` calendar months, its day clamped to the month's last
    day (Jan 31 + 1 month = Feb 28 or 29); ``None`` past year 9999."""
    year, month_index = divmod(start.month - 1 + months, 12)
    year += start.year
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None
    month = month_index + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Schedule:
    start: dt.date
    frequency: str
    interval: int = 1
    end: dt.date | None = None

    def __post_init__(self):
        if self.frequency not in Frequency.values:
            raise ValueError(f"Unknown frequency {self.frequency!r}.")
        if self.interval < 1:
            raise ValueError("The interval must be at least 1.")

    def nth(self, n: int) -> dt.date | None:
        """Occurrence ``n`` (0 is ``start``), ignoring ``end``; ``None`` past date.max."""
        if n < 0:
            raise ValueError("Occurrences are counted from 0.")
        if self.frequency in _DAYS_PER_STEP:
            days = n * self.interval * _DAYS_PER_STEP[self.frequency]
            if days > (dt.date.max - self.start).days:
                return None
            return self.start + dt.timedelta(days=days)
        months = n * self.interval * _MONTHS_PER_STEP[self.frequency]
        if months > (dt.MAXYEAR - self.start.year + 1) * 12:
            return None
        return add_months(self.start, months)

    def first_index_after(self, day: dt.date | None) -> int:
        """The smallest ``n`` whose occurrence is after ``day`` (0 when ``day`` is None or
        before ``start``). The occurrence itself may not exist (past date.max)."""
        if day is None or day < self.start:
            return 0
        if self.frequency in _DAYS_PER_STEP:
            step = self.interval * _DAYS_PER_STEP[self.frequency]
            return (day - self.start).days // step + 1
        step = self.interval * _MONTHS_PER_STEP[self.frequency]
        months = (day.year - self.start.year) * 12 + day.month - self.start.month
        n = months // step
        # Occurrence n lies in a month no later than ``day``'s, n - 1 in an earlier one.
        while (occurrence := self.nth(n)) is not None and occurrence <= day:
            n += 1
        return n

    def occurrences(self, *, after: dt.date | None = None) -> Iterator[dt.date]:
        """Every occurrence after ``after`` (all of them when None), up to ``end``."""
        n = self.first_index_after(after)
        while (occurrence := self.nth(n)) is not None:
            if self.end is not None and occurrence > self.end:
                return
            yield occurrence
            n += 1

    def next_after(self, day: dt.date | None) -> dt.date | None:
        """The first occurrence after ``day`` (the first of all when None), or None."""
        return next(self.occurrences(after=day), None)

    def between(self, *, after: dt.date | None, through: dt.date, limit: int) -> list[dt.date]:
        """At most ``limit`` occurrences after ``after`` and on or before ``through``."""
        dates: list[dt.date] = []
        for occurrence in self.occurrences(after=after):
            if occurrence > through or len(dates) >= limit:
                break
            dates.append(occurrence)
        return dates
