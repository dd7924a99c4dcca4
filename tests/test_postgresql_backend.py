"""project.postgresql: timestamps are read by psycopg's own loader on a UTC session and come
back exactly as Django's loader gives them."""

import datetime as dt

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from budgets.models import Budget
from tests.conftest import make_budget

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's loaders"),
]

EDGES = [
    dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    dt.datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 1, 30, 0, 5, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
]


def read_back(values: list[dt.datetime]) -> list[dt.datetime]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v FROM unnest(%s::timestamptz[]) WITH ORDINALITY AS t(v, i) ORDER BY i",
            [values],
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_connection_reads_timestamps_with_the_fast_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text
    assert loader.__name__ == "_UtcTimestamptzLoader"
    assert loader.timezone == connection.timezone == dt.UTC


def test_values_are_djangos_to_the_microsecond():
    fast = read_back(EDGES)
    with connection.cursor() as cursor:  # Django's own loader, on this cursor only
        register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute(
            "SELECT v FROM unnest(%s::timestamptz[]) WITH ORDINALITY AS t(v, i) ORDER BY i",
            [EDGES],
        )
        django_values = [row[0] for row in cursor.fetchall()]

    assert fast == django_values == EDGES
    assert all(value.tzinfo is dt.UTC for value in fast)


def test_model_timestamps_round_trip(user):
    budget = make_budget(user)

    again = Budget.objects.get(pk=budget.pk)

    assert again.created_at == budget.created_at
    assert again.created_at.tzinfo is dt.UTC
