import datetime as dt

import pytest

from budgets.months import MONTH_INVALID, month_end, month_key, month_start, parse_month

D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02", D(2026, 2, 1)),
        ("2026-12", D(2026, 12, 1)),
        ("0001-01", D(1, 1, 1)),
        ("9999-12", D(9999, 12, 1)),
        ("0999-07", D(999, 7, 1)),
    ],
)
def test_parse_month(text, expected):
    assert parse_month(text) == expected
    assert month_key(parse_month(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026",
        "2026-2",
        "2026-00",
        "2026-13",
        "0000-01",
        "2026-02-01",
        " 2026-02",
        "26-02",
        "2026/02",
        "\uff12\uff10\uff12\uff16-\uff10\uff12",  # full-width digits
        "2026-02\n",
        "+2026-02",
    ],
)
def test_parse_month_refuses(text):
    with pytest.raises(ValueError, match=MONTH_INVALID):
        parse_month(text)


def test_month_key_pads_short_years():
    assert month_key(D(999, 3, 31)) == "0999-03"


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (D(2026, 2, 15), D(2026, 2, 1), D(2026, 2, 28)),
        (D(2024, 2, 29), D(2024, 2, 1), D(2024, 2, 29)),
        (D(2026, 12, 1), D(2026, 12, 1), D(2026, 12, 31)),
        (D(9999, 12, 31), D(9999, 12, 1), D(9999, 12, 31)),
        (D(2026, 4, 30), D(2026, 4, 1), D(2026, 4, 30)),
    ],
)
def test_month_bounds(day, start, end):
    assert (month_start(day), month_end(day)) == (start, end)
