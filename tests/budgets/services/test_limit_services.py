"""Spending limit services: ownership, one limit per budget+category+month (also when
the database has to say so), and nothing changed by a rejected call."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError
from django.db import transaction as db_transaction

from budgets import messages, selectors
from budgets.models import SpendingLimit
from budgets.services import (
    budget_delete,
    category_delete,
    spending_limit_create,
    spending_limit_delete,
    spending_limit_update,
)
from project.errors import FieldError, NotFound
from tests.conftest import make_budget, make_category

D = dt.date
FEB, MAR = D(2026, 2, 1), D(2026, 3, 1)


def state() -> list[tuple]:
    return list(
        SpendingLimit.objects.order_by("pk").values_list(
            "pk", "budget_id", "category_id", "month", "amount", "updated_at"
        )
    )


def limit(user, budget, category, month=FEB, amount="300.00"):
    return spending_limit_create(
        user=user, budget_id=budget.pk, category=category.pk, month=month, amount=Decimal(amount)
    )


def test_create(user, budget, category):
    created = limit(user, budget, category, amount="300.50")

    stored = SpendingLimit.objects.get()
    assert stored.pk == created.pk
    assert (stored.budget_id, stored.category_id, stored.month, stored.amount) == (
        budget.pk,
        category.pk,
        FEB,
        Decimal("300.50"),
    )


def test_one_limit_per_budget_category_and_month(user, budget, category):
    limit(user, budget, category)
    # Another month, another category and another budget are all fine.
    limit(user, budget, category, month=MAR)
    limit(user, budget, make_category(user, "Rent"))
    limit(user, make_budget(user, title="Holidays"), category)
    before = state()

    with pytest.raises(FieldError) as exc:
        limit(user, budget, category, amount="1.00")

    assert exc.value.errors == {"month": [messages.LIMIT_EXISTS]}
    assert state() == before


@pytest.mark.parametrize("whose", ["foreign", "missing", "impossible"])
def test_create_in_a_budget_that_is_not_the_callers_is_not_found(user, other_user, category, whose):
    budget_id = {"foreign": make_budget(other_user).pk, "missing": 987654, "impossible": 0}[whose]
    with pytest.raises(NotFound):
        spending_limit_create(
            user=user, budget_id=budget_id, category=category.pk, month=FEB, amount=Decimal(1)
        )
    assert state() == []


@pytest.mark.parametrize("whose", ["foreign", "missing", "impossible"])
def test_create_with_a_category_that_is_not_the_callers_is_refused(user, other_user, budget, whose):
    category_id = {"foreign": make_category(other_user).pk, "missing": 987654, "impossible": -1}[
        whose
    ]
    with pytest.raises(FieldError) as exc:
        spending_limit_create(
            user=user, budget_id=budget.pk, category=category_id, month=FEB, amount=Decimal(1)
        )
    assert exc.value.errors == {"category": [messages.CATEGORY_NOT_FOUND]}
    assert state() == []


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": Decimal("12.34")},
        {"month": MAR},
        {"category": "rent"},
        {"category": "rent", "month": MAR, "amount": Decimal("0.01")},
    ],
)
def test_update(user, budget, category, changes):
    rent = make_category(user, "Rent")
    changes = {k: rent.pk if v == "rent" else v for k, v in changes.items()}
    created = limit(user, budget, category)

    updated = spending_limit_update(user=user, budget_id=budget.pk, limit_id=created.pk, **changes)

    stored = SpendingLimit.objects.get()
    expected = {"category": category.pk, "month": FEB, "amount": Decimal("300.00"), **changes}
    assert (stored.category_id, stored.month, stored.amount) == (
        expected["category"],
        expected["month"],
        expected["amount"],
    )
    assert updated.pk == stored.pk


@pytest.mark.parametrize("changes", [{"month": MAR}, {"category": "rent"}])
def test_update_into_an_existing_limit_is_refused(user, budget, category, changes):
    rent = make_category(user, "Rent")
    limit(user, budget, category, month=MAR)
    limit(user, budget, rent, month=FEB)
    moving = limit(user, budget, category, month=FEB)
    changes = {k: rent.pk if v == "rent" else v for k, v in changes.items()}
    before = state()

    with pytest.raises(FieldError) as exc:
        spending_limit_update(user=user, budget_id=budget.pk, limit_id=moving.pk, **changes)

    assert exc.value.errors == {"month": [messages.LIMIT_EXISTS]}
    assert state() == before


def test_update_to_another_users_category_is_refused(user, other_user, budget, category):
    created = limit(user, budget, category)
    before = state()
    with pytest.raises(FieldError) as exc:
        spending_limit_update(
            user=user,
            budget_id=budget.pk,
            limit_id=created.pk,
            category=make_category(other_user).pk,
        )
    assert exc.value.errors == {"category": [messages.CATEGORY_NOT_FOUND]}
    assert state() == before


@pytest.mark.parametrize("operation", ["get", "update", "delete"])
def test_a_limit_is_found_only_under_its_own_budget_of_the_caller(
    user, other_user, budget, category, operation
):
    mine = limit(user, budget, category)
    theirs_budget = make_budget(other_user)
    theirs = limit(other_user, theirs_budget, make_category(other_user))
    sibling = make_budget(user, title="Holidays")
    calls = {
        "get": lambda b, i: selectors.spending_limit_get(user=user, budget_id=b, limit_id=i),
        "update": lambda b, i: spending_limit_update(
            user=user, budget_id=b, limit_id=i, amount=Decimal(1)
        ),
        "delete": lambda b, i: spending_limit_delete(user=user, budget_id=b, limit_id=i),
    }
    before = state()

    for budget_id, limit_id in [
        (sibling.pk, mine.pk),  # my limit, under another of my budgets
        (theirs_budget.pk, theirs.pk),  # someone else's
        (budget.pk, theirs.pk),
        (budget.pk, 987654),
        (budget.pk, 2**63),
        (2**63, mine.pk),
    ]:
        with pytest.raises(NotFound):
            calls[operation](budget_id, limit_id)
    assert state() == before


def test_delete(user, budget, category):
    kept = limit(user, budget, category, month=MAR)
    spending_limit_delete(user=user, budget_id=budget.pk, limit_id=limit(user, budget, category).pk)
    assert list(SpendingLimit.objects.values_list("pk", flat=True)) == [kept.pk]


def test_limits_go_with_their_budget_or_category(user, budget, category):
    rent = make_category(user, "Rent")
    limit(user, budget, category)
    kept = limit(user, budget, rent)
    other = limit(user, make_budget(user, title="Holidays"), rent)

    category_delete(user=user, category_id=category.pk)
    assert set(SpendingLimit.objects.values_list("pk", flat=True)) == {kept.pk, other.pk}

    budget_delete(user=user, budget_id=budget.pk)
    assert list(SpendingLimit.objects.values_list("pk", flat=True)) == [other.pk]


# --- The database's own rules ---------------------------------------------------------


def test_database_refuses_a_duplicate(budget, category):
    SpendingLimit.objects.create(budget=budget, category=category, month=FEB, amount=1)
    with pytest.raises(IntegrityError), db_transaction.atomic():
        SpendingLimit.objects.create(budget=budget, category=category, month=FEB, amount=2)


@pytest.mark.parametrize("amount", ["0", "-0.01", "10000000000.00"])
def test_database_refuses_amounts_out_of_range(budget, category, amount):
    # PostgreSQL refuses 10^10 as a numeric overflow (DataError) before the CHECK.
    with pytest.raises(DatabaseError), db_transaction.atomic():
        SpendingLimit.objects.create(
            budget=budget, category=category, month=FEB, amount=Decimal(amount)
        )


def test_model_validation_wants_the_first_day_of_a_month(budget, category):
    row = SpendingLimit(budget=budget, category=category, month=D(2026, 2, 2), amount=1)
    with pytest.raises(ValidationError) as exc:
        row.full_clean()
    assert exc.value.message_dict == {"month": [messages.LIMIT_MONTH_NOT_FIRST_DAY]}
