"""Recurrence date math (no database): anchors, month ends, leap days, intervals, ends."""

import datetime as dt
import itertools

import pytest

from budgets.recurrence import Frequency, Schedule, add_months

D = dt.date


def take(schedule: Schedule, count: int, *, after=None) -> list[dt.date]:
    return list(itertools.islice(schedule.occurrences(after=after), count))


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 1, 31), 3, D(2026, 4, 30)),
        (D(2026, 1, 31), 2, D(2026, 3, 31)),
        (D(2026, 11, 15), 2, D(2027, 1, 15)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(9999, 12, 1), 1, None),
        (D(1, 1, 1), -1, None),
    ],
)
def test_add_months_clamps_to_the_last_day(start, months, expected):
    assert add_months(start, months) == expected


def test_monthly_on_the_31st_goes_back_to_the_anchor_day():
    schedule = Schedule(start=D(2026, 1, 31), frequency=Frequency.MONTHLY)

    assert take(schedule, 6) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
        D(2026, 6, 30),
    ]


def test_monthly_with_an_interval_and_a_leap_february():
    schedule = Schedule(start=D(2027, 12, 30), frequency=Frequency.MONTHLY, interval=2)

    assert take(schedule, 4) == [D(2027, 12, 30), D(2028, 2, 29), D(2028, 4, 30), D(2028, 6, 30)]


def test_yearly_on_feb_29_is_feb_28_in_common_years_and_back_in_leap_years():
    schedule = Schedule(start=D(2024, 2, 29), frequency=Frequency.YEARLY)

    assert take(schedule, 5) == [
        D(2024, 2, 29),
        D(2025, 2, 28),
        D(2026, 2, 28),
        D(2027, 2, 28),
        D(2028, 2, 29),
    ]


def test_daily_and_weekly_intervals():
    daily = Schedule(start=D(2026, 2, 27), frequency=Frequency.DAILY, interval=2)
    weekly = Schedule(start=D(2026, 12, 24), frequency=Frequency.WEEKLY, interval=3)

    assert take(daily, 3) == [D(2026, 2, 27), D(2026, 3, 1), D(2026, 3, 3)]
    assert take(weekly, 3) == [D(2026, 12, 24), D(2027, 1, 14), D(2027, 2, 4)]


def test_the_end_date_is_inclusive():
    schedule = Schedule(
        start=D(2026, 1, 1), frequency=Frequency.WEEKLY, interval=1, end=D(2026, 1, 15)
    )

    assert take(schedule, 10) == [D(2026, 1, 1), D(2026, 1, 8), D(2026, 1, 15)]
    assert schedule.next_after(D(2026, 1, 15)) is None


def test_a_schedule_stops_at_the_last_representable_date():
    daily = Schedule(start=D(9999, 12, 30), frequency=Frequency.DAILY)
    monthly = Schedule(start=D(9999, 11, 30), frequency=Frequency.MONTHLY, interval=1)
    huge = Schedule(start=D(2026, 1, 1), frequency=Frequency.YEARLY, interval=10**6)

    assert take(daily, 5) == [D(9999, 12, 30), D(9999, 12, 31)]
    assert take(monthly, 5) == [D(9999, 11, 30), D(9999, 12, 30)]
    assert take(huge, 5) == [D(2026, 1, 1)]
    assert huge.next_after(D(2026, 1, 1)) is None


@pytest.mark.parametrize("frequency", Frequency.values)
@pytest.mark.parametrize("interval", [1, 2, 5])
@pytest.mark.parametrize("start", [D(2024, 1, 31), D(2024, 2, 29), D(2025, 8, 30), D(2026, 3, 1)])
def test_first_index_after_agrees_with_walking_the_schedule(frequency, interval, start):
    """Jumping straight to "the first occurrence after day X" gives the same answer as
    walking every occurrence from the start, for every day over several years."""
    schedule = Schedule(start=start, frequency=frequency, interval=interval)
    walked = take(schedule, 400)
    day = start - dt.timedelta(days=3)
    last = min(walked[-1], start + dt.timedelta(days=3 * 366))
    while day < last:
        expected = next(d for d in walked if d > day)
        assert schedule.next_after(day) == expected, day
        day += dt.timedelta(days=1)


def test_nth_is_computed_from_the_start_not_from_the_previous_occurrence():
    schedule = Schedule(start=D(2026, 1, 31), frequency=Frequency.MONTHLY)

    assert schedule.nth(0) == D(2026, 1, 31)
    assert schedule.nth(1) == D(2026, 2, 28)
    assert schedule.nth(2) == D(2026, 3, 31)
    assert schedule.nth(13) == D(2027, 2, 28)


def test_between_is_bounded_by_the_day_and_the_limit():
    schedule = Schedule(start=D(2026, 1, 1), frequency=Frequency.DAILY)

    assert schedule.between(after=None, through=D(2026, 1, 3), limit=10) == [
        D(2026, 1, 1),
        D(2026, 1, 2),
        D(2026, 1, 3),
    ]
    assert schedule.between(after=D(2026, 1, 1), through=D(2026, 12, 31), limit=2) == [
        D(2026, 1, 2),
        D(2026, 1, 3),
    ]
    assert schedule.between(after=None, through=D(2025, 12, 31), limit=10) == []


@pytest.mark.parametrize(("frequency", "interval"), [("hourly", 1), ("daily", 0), ("weekly", -1)])
def test_invalid_schedules_are_refused(frequency, interval):
    with pytest.raises(ValueError):
        Schedule(start=D(2026, 1, 1), frequency=frequency, interval=interval)
