"""budgets.services.transactions, called directly: references must be the caller's,
PATCH semantics with UNSET, moves between budgets, and the lock-order re-check."""

import datetime as dt
from decimal import Decimal

import pytest

from budgets import messages, services
from budgets.models import Transaction
from budgets.selectors import transaction_get
from project.errors import FieldError, NotFound
from tests.conftest import make_budget, make_category, make_transaction

BUDGET_NOT_FOUND = {"budget": [messages.BUDGET_NOT_FOUND]}
CATEGORY_NOT_FOUND = {"category": [messages.CATEGORY_NOT_FOUND]}
DATE = dt.date(2026, 2, 15)


def rows() -> list[tuple]:
    return list(
        Transaction.objects.order_by("id").values_list(
            "id", "budget_id", "category_id", "amount", "description", "date", "updated_at"
        )
    )


@pytest.fixture
def theirs(other_user):
    budget = make_budget(other_user, title="Theirs")
    return {
        "budget": budget,
        "category": make_category(other_user, "Theirs"),
        "transaction": make_transaction(budget),
    }


def test_create_in_own_budget_and_category(user, budget, category):
    tx = services.transaction_create(
        user=user, budget=budget.pk, category=category.pk, amount=Decimal("-4.50"), date=DATE
    )

    assert (tx.budget_id, tx.category_id, tx.amount, tx.description) == (
        budget.pk,
        category.pk,
        Decimal("-4.50"),
        "",
    )


@pytest.mark.parametrize(
    ("refs", "errors"),
    [
        ({"budget": "theirs"}, BUDGET_NOT_FOUND),
        ({"category": "theirs"}, CATEGORY_NOT_FOUND),
        ({"budget": "theirs", "category": "theirs"}, {**BUDGET_NOT_FOUND, **CATEGORY_NOT_FOUND}),
        ({"budget": 0}, BUDGET_NOT_FOUND),
        ({"category": 2**63}, CATEGORY_NOT_FOUND),
    ],
)
def test_create_with_a_reference_not_yours_is_a_field_error(
    user, budget, category, theirs, refs, errors
):
    before = rows()
    ids = {name: theirs[name].pk if value == "theirs" else value for name, value in refs.items()}

    with pytest.raises(FieldError) as excinfo:
        services.transaction_create(
            user=user,
            **{"budget": budget.pk, "category": category.pk, **ids},
            amount=Decimal("1.00"),
            date=DATE,
        )

    assert excinfo.value.errors == errors
    assert rows() == before


def test_update_changes_only_the_fields_passed(user, transaction):
    updated = services.transaction_update(
        user=user, transaction_id=transaction.pk, amount=Decimal("7.00")
    )

    transaction.refresh_from_db()
    assert (updated.amount, transaction.amount) == (Decimal("7.00"), Decimal("7.00"))
    assert transaction.category_id is not None  # not passed: left alone


def test_update_with_category_none_uncategorises(user, transaction):
    services.transaction_update(user=user, transaction_id=transaction.pk, category=None)

    transaction.refresh_from_db()
    assert transaction.category_id is None


def test_update_moves_to_another_own_budget(user, transaction):
    other = make_budget(user, title="Other")

    moved = services.transaction_update(user=user, transaction_id=transaction.pk, budget=other.pk)

    assert moved.budget_id == other.pk
    assert Transaction.objects.get().budget_id == other.pk


@pytest.mark.parametrize("field", ["budget", "category"])
def test_update_to_a_reference_not_yours_is_a_field_error_and_changes_nothing(
    user, transaction, theirs, field
):
    before = rows()

    with pytest.raises(FieldError) as excinfo:
        services.transaction_update(
            user=user,
            transaction_id=transaction.pk,
            amount=Decimal("1.00"),
            **{field: theirs[field].pk},
        )

    assert excinfo.value.errors == (BUDGET_NOT_FOUND if field == "budget" else CATEGORY_NOT_FOUND)
    assert rows() == before


@pytest.mark.parametrize("action", ["update", "move", "delete"])
def test_another_users_transaction_is_not_found_and_unchanged(user, budget, theirs, action):
    before = rows()
    tx_id = theirs["transaction"].pk

    with pytest.raises(NotFound):
        if action == "update":
            services.transaction_update(user=user, transaction_id=tx_id, amount=Decimal("1"))
        elif action == "move":
            services.transaction_update(user=user, transaction_id=tx_id, budget=budget.pk)
        else:
            services.transaction_delete(user=user, transaction_id=tx_id)

    assert rows() == before


def test_update_starts_over_when_the_row_moved_before_it_was_locked(user, transaction, monkeypatch):
    """The first unlocked read is stale (another request moved the transaction): the
    re-check after locking notices and the service runs again with fresh data."""
    from budgets.services import transactions as module

    elsewhere = make_budget(user, title="Elsewhere")
    reads = []

    def stale_once(**kwargs):
        tx = transaction_get(**kwargs)
        if not reads:
            tx.budget_id = elsewhere.pk  # what it looked like a moment ago
        reads.append(tx.budget_id)
        return tx

    monkeypatch.setattr(module, "transaction_get", stale_once)
    monkeypatch.setattr("project.services.BACKOFF_SECONDS", 0)

    updated = services.transaction_update(
        user=user, transaction_id=transaction.pk, budget=transaction.budget_id, amount=Decimal("3")
    )

    assert reads == [elsewhere.pk, transaction.budget_id]
    assert (updated.budget_id, updated.amount) == (transaction.budget_id, Decimal("3"))


def test_delete_removes_only_that_transaction(user, budget):
    doomed, kept = make_transaction(budget), make_transaction(budget)

    services.transaction_delete(user=user, transaction_id=doomed.pk)

    assert list(Transaction.objects.all()) == [kept]
