"""The ``precondition`` argument of the update and delete services (If-Match): it sees the
current object under the row lock, and when it refuses, nothing is written."""

import copy
from decimal import Decimal

import pytest

from budgets import services
from budgets.models import Budget, Category, Transaction
from project.errors import NotFound, PreconditionFailed
from tests.conftest import make_budget, make_category, make_transaction


def refuse(seen: list):
    def check(current):
        seen.append(current)
        raise PreconditionFailed

    return check


def accept(seen: list):
    # A copy: the service goes on to change the object it showed the precondition.
    return lambda current: seen.append(copy.copy(current))


@pytest.fixture
def rows(user):
    budget = make_budget(user, initial_amount=Decimal("100.00"))
    category = make_category(user)
    tx = make_transaction(budget, "-30.00", category=category)
    return budget, category, tx


def test_budget_update_shows_the_balance_and_refuses_before_writing(user, rows):
    budget, _, _ = rows
    seen: list = []

    with pytest.raises(PreconditionFailed):
        services.budget_update(
            user=user, budget_id=budget.id, title="New", precondition=refuse(seen)
        )

    assert [b.balance for b in seen] == [Decimal("70.00")]
    assert Budget.objects.get(pk=budget.pk).title == "Household"


def test_budget_update_writes_when_the_precondition_holds(user, rows):
    budget, _, _ = rows
    seen: list = []

    updated = services.budget_update(
        user=user, budget_id=budget.id, title="New", precondition=accept(seen)
    )

    assert seen[0].title == "Household"  # the version before this write
    assert updated.title == "New"


def test_budget_delete_refused_keeps_the_budget_and_its_transactions(user, rows):
    budget, _, tx = rows
    with pytest.raises(PreconditionFailed):
        services.budget_delete(user=user, budget_id=budget.id, precondition=refuse([]))
    assert Budget.objects.filter(pk=budget.pk).exists()
    assert Transaction.objects.filter(pk=tx.pk).exists()


def test_category_update_and_delete_refused_change_nothing(user, rows):
    _, category, tx = rows
    seen: list = []
    with pytest.raises(PreconditionFailed):
        services.category_update(
            user=user, category_id=category.id, name="Other", precondition=refuse(seen)
        )
    with pytest.raises(PreconditionFailed):
        services.category_delete(user=user, category_id=category.id, precondition=refuse(seen))

    assert [c.pk for c in seen] == [category.pk, category.pk]
    assert Category.objects.get(pk=category.pk).name == "Food"
    assert Transaction.objects.get(pk=tx.pk).category_id == category.pk


@pytest.mark.parametrize("move", [False, True], ids=["edit", "move"])
def test_transaction_update_refused_changes_nothing(user, rows, move):
    budget, _, tx = rows
    target = make_budget(user, title="Other") if move else None
    seen: list = []
    changes = {"budget": target.id} if move else {"amount": Decimal("-1.00")}

    with pytest.raises(PreconditionFailed):
        services.transaction_update(
            user=user, transaction_id=tx.id, precondition=refuse(seen), **changes
        )

    assert [(t.pk, t.amount) for t in seen] == [(tx.pk, Decimal("-30.00"))]
    assert Transaction.objects.filter(pk=tx.pk, budget=budget, amount=Decimal("-30.00")).exists()


def test_transaction_delete_refused_keeps_it(user, rows):
    _, _, tx = rows
    with pytest.raises(PreconditionFailed):
        services.transaction_delete(user=user, transaction_id=tx.id, precondition=refuse([]))
    assert Transaction.objects.filter(pk=tx.pk).exists()


def test_preconditions_never_see_another_users_rows(user, other_user, rows):
    budget, category, tx = rows
    seen: list = []
    calls = [
        lambda: services.budget_update(
            user=other_user, budget_id=budget.id, precondition=accept(seen)
        ),
        lambda: services.category_delete(
            user=other_user, category_id=category.id, precondition=accept(seen)
        ),
        lambda: services.transaction_delete(
            user=other_user, transaction_id=tx.id, precondition=accept(seen)
        ),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert seen == []
