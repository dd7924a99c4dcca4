"""project.prepared: a queryset compiled once answers what the queryset answers, with the
same SQL, on SQLite and PostgreSQL alike."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.db.transaction import TransactionManagementError

from budgets.models import Budget, Transaction
from project.prepared import PreparedQuery
from tests.conftest import make_budget, make_transaction, make_user

pytestmark = pytest.mark.django_db

ONE_BUDGET = PreparedQuery(lambda user, budget: Budget.objects.filter(user=user, pk=budget)[:1])
PAGE = PreparedQuery(
    lambda budget: Transaction.objects.filter(budget=budget).order_by("-date", "-id"), paged=True
)
TITLES = PreparedQuery(
    lambda user: (
        Budget.objects.filter(user=user)
        .annotate(title_key=Lower("title"))
        .order_by("title_key", "id")
    ),
    paged=True,
)
COUNT = PreparedQuery(
    lambda user: (
        Budget.objects.filter(user=user)
        .order_by()
        .values("user")
        .annotate(rows=Count("*"))
        .values_list("rows", flat=True)
    )
)


def compiled_sql(queryset) -> str:
    sql, _ = queryset.query.get_compiler(connection=connection).as_sql()
    return sql


def test_the_sql_is_the_querysets_own(user):
    # The probes stand where the values go: the statement is the one Django compiles.
    assert ONE_BUDGET.sql() == compiled_sql(Budget.objects.filter(user=user, pk=1)[:1])
    assert (
        PAGE.sql()
        == compiled_sql(Transaction.objects.filter(budget=1).order_by("-date", "-id"))
        + " LIMIT %s OFFSET %s"
    )


def test_rows_are_the_models_with_every_field_converted(user):
    budget = make_budget(user, title="Rent", initial_amount="10.50", date=dt.date(2026, 3, 1))
    other = make_user("other")

    found = ONE_BUDGET.first(user=user.pk, budget=budget.pk)
    expected = Budget.objects.get(pk=budget.pk)

    assert isinstance(found, Budget)
    assert {f.attname: getattr(found, f.attname) for f in Budget._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in Budget._meta.concrete_fields
    }
    assert found.initial_amount == Decimal("10.50")
    assert found.date == dt.date(2026, 3, 1)
    assert found.created_at.tzinfo is not None
    assert found._state.adding is False
    assert found._state.db == "default"
    # The values are the caller's, every time: another user or id finds nothing.
    assert ONE_BUDGET.first(user=other.pk, budget=budget.pk) is None
    assert ONE_BUDGET.first(user=user.pk, budget=budget.pk + 1) is None


def test_pages_take_their_limit_and_offset(user):
    budget = make_budget(user)
    made = [make_transaction(budget, date=dt.date(2026, 1, day)) for day in range(1, 8)]
    newest_first = [tx.pk for tx in reversed(made)]

    assert [tx.pk for tx in PAGE.rows(limit=3, offset=0, budget=budget.pk)] == newest_first[:3]
    assert [tx.pk for tx in PAGE.rows(limit=3, offset=6, budget=budget.pk)] == newest_first[6:]
    assert PAGE.rows(limit=3, offset=7, budget=budget.pk) == []
    with pytest.raises(TypeError):
        PAGE.rows(budget=budget.pk)


def test_annotations_are_set_on_the_objects(user):
    make_budget(user, title="beta")
    make_budget(user, title="Alpha")

    rows = TITLES.rows(limit=10, offset=0, user=user.pk)

    assert [(b.title, b.title_key) for b in rows] == [("Alpha", "alpha"), ("beta", "beta")]


def test_values_queries_give_their_values(user):
    assert COUNT.first(user=user.pk) is None  # no budget: no group, no row
    make_budget(user)
    make_budget(user)
    assert COUNT.first(user=user.pk) == 2


def test_each_statement_runs_once(user, django_assert_num_queries):
    budget = make_budget(user)
    ONE_BUDGET.first(user=user.pk, budget=budget.pk)  # compiled by now

    with django_assert_num_queries(1):
        assert ONE_BUDGET.first(user=user.pk, budget=budget.pk) == budget


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor == 'sqlite'", reason="SQLite has no row locks")
def test_a_lock_outside_a_transaction_is_refused_like_the_querysets(user):
    budget = make_budget(user)
    locking = PreparedQuery(
        lambda budget: Budget.objects.filter(pk=budget).select_for_update().values_list("pk")
    )
    with db_transaction.atomic():
        assert locking.rows(budget=budget.pk) == [(budget.pk,)]
    with pytest.raises(TransactionManagementError):
        locking.rows(budget=budget.pk)


def test_a_parameter_that_is_not_bound_as_itself_is_refused(user):
    # A text lookup wraps its value ("%...%"): the probe is not found, so nothing is
    # prepared that would run with the wrong value.
    searching = PreparedQuery(lambda text: Budget.objects.filter(title__icontains=text))
    with pytest.raises(TypeError, match="text"):
        searching.rows(text=1)
    related = PreparedQuery(
        lambda budget: Transaction.objects.select_related("budget").filter(budget=budget)
    )
    with pytest.raises(TypeError, match="select_related"):
        related.rows(budget=1)


def test_values_dicts_have_the_querysets_keys_and_converted_values(user):
    budget = make_budget(user, initial_amount="12.30", date=dt.date(2026, 5, 1))
    columns = PreparedQuery(
        lambda user: Budget.objects.filter(user=user).values("id", "initial_amount", "date")
    )

    assert columns.rows(user=user.pk) == list(
        Budget.objects.filter(user=user).values("id", "initial_amount", "date")
    )
    assert columns.rows(user=user.pk) == [
        {"id": budget.pk, "initial_amount": Decimal("12.30"), "date": dt.date(2026, 5, 1)}
    ]


def _every_prepared_query() -> list[PreparedQuery]:
    import importlib

    found = []
    for name in (
        "users.auth",
        "budgets.selectors.budgets",
        "budgets.selectors.transactions",
        "budgets.services.locking",
        "budgets.reports",
    ):
        for value in vars(importlib.import_module(name)).values():
            candidates = value.values() if isinstance(value, dict) else [value]
            found += [item for item in candidates if isinstance(item, PreparedQuery)]
    return found


def test_every_prepared_query_of_the_app_compiles_with_only_its_parameters():
    prepared = _every_prepared_query()

    assert len(prepared) >= 29
    with db_transaction.atomic():
        for query in prepared:
            assert query.sql().count("%s") == len(query.compiled().slots) + 2 * query.paged


def test_what_would_be_frozen_or_broken_is_refused(user):
    today = dt.date(2026, 1, 1)
    constant = PreparedQuery(lambda user: Budget.objects.filter(user=user, date__lte=today))
    with pytest.raises(TypeError, match="constant"):
        constant.rows(user=user.pk)
    sliced = PreparedQuery(lambda user: Budget.objects.filter(user=user)[:5], paged=True)
    with pytest.raises(TypeError, match="LIMIT"):
        sliced.rows(limit=1, user=user.pk)
    with pytest.raises(TypeError, match="plain argument"):
        PreparedQuery(lambda *, user: Budget.objects.filter(user=user))
