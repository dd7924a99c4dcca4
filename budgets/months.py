"""Calendar months as the API speaks them: ``"YYYY-MM"`` strings, stored as the month's
first day (a ``date``), so they sort, compare and filter like dates."""

import calendar
import datetime as dt
import re

MONTH_INVALID = "Month must be in the format YYYY-MM."
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")


def month_key(day: dt.date) -> str:
    """``date(2026, 2, 15)`` → ``"2026-02"``.

    Not ``strftime("%Y")``: it drops the zero padding of years before 1000.
    """
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(text: str) -> dt.date:
    """``"2026-02"`` → ``date(2026, 2, 1)``; anything else raises ``ValueError``."""
    match = _MONTH_RE.fullmatch(text)
    if match is None:
        raise ValueError(MONTH_INVALID)
    year, month = int(match[1]), int(match[2])
    if not (year >= dt.MINYEAR and 1 <= month <= 12):
        raise ValueError(MONTH_INVALID)
    return dt.date(year, month, 1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
