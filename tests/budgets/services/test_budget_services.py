"""budgets.services.budgets, called directly: each rule of each write."""

import datetime as dt
from decimal import Decimal

import pytest

from budgets import services
from budgets.models import Budget, Transaction
from project.errors import NotFound
from tests.conftest import make_budget, make_transaction

IMPOSSIBLE_IDS = [0, -1, 2**63, 10**30]


def rows() -> list[tuple]:
    return list(
        Budget.objects.order_by("id").values_list(
            "id", "user_id", "title", "description", "date", "initial_amount", "updated_at"
        )
    )


def test_create_belongs_to_the_caller_and_has_its_balance(user):
    budget = services.budget_create(
        user=user, title="Trip", date=dt.date(2026, 3, 1), initial_amount=Decimal("100.00")
    )

    assert (budget.user, budget.title, budget.description) == (user, "Trip", "")
    assert budget.balance == Decimal("100.00")
    assert Budget.objects.get() == budget


def test_create_takes_named_fields_only(user, other_user):
    with pytest.raises(TypeError):
        services.budget_create(
            user=user,
            title="Trip",
            date=dt.date(2026, 3, 1),
            initial_amount=Decimal("1.00"),
            user_id=other_user.pk,
        )

    assert rows() == []


def test_update_changes_only_the_fields_passed(user):
    budget = make_budget(user, title="Old", description="Kept")
    make_transaction(budget, "-10.00")

    updated = services.budget_update(user=user, budget_id=budget.pk, title="New")

    assert (updated.title, updated.description, updated.balance) == (
        "New",
        "Kept",
        Decimal("990.00"),
    )
    budget.refresh_from_db()
    assert (budget.title, budget.description) == ("New", "Kept")


def test_update_with_nothing_passed_writes_nothing(user):
    budget = make_budget(user)
    before = rows()

    assert services.budget_update(user=user, budget_id=budget.pk).pk == budget.pk
    assert rows() == before


@pytest.mark.parametrize("foreign", [True, False], ids=["other-users", "impossible"])
def test_update_of_a_budget_not_yours_is_not_found_and_changes_nothing(user, other_user, foreign):
    theirs = make_budget(other_user, title="Theirs")
    before = rows()

    for budget_id in [theirs.pk] if foreign else IMPOSSIBLE_IDS:
        with pytest.raises(NotFound):
            services.budget_update(user=user, budget_id=budget_id, title="Mine now")

    assert rows() == before


def test_delete_takes_the_budgets_transactions_with_it(user):
    budget = make_budget(user)
    kept = make_budget(user, title="Kept")
    make_transaction(budget)
    survivor = make_transaction(kept)

    services.budget_delete(user=user, budget_id=budget.pk)

    assert list(Budget.objects.all()) == [kept]
    assert list(Transaction.objects.all()) == [survivor]


def test_delete_of_another_users_budget_is_not_found_and_deletes_nothing(user, other_user):
    theirs = make_budget(other_user)
    make_transaction(theirs)

    with pytest.raises(NotFound):
        services.budget_delete(user=user, budget_id=theirs.pk)

    assert (Budget.objects.count(), Transaction.objects.count()) == (1, 1)
