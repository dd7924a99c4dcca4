"""Transfer services: every rule checked at the service, where it lives. A rejected call
changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError
from django.db import transaction as db_transaction

from budgets import messages
from budgets.models import Budget, Transaction, Transfer
from budgets.services import (
    budget_delete,
    transaction_delete,
    transaction_update,
    transfer_create,
    transfer_delete,
    transfer_update,
)
from project.errors import NON_FIELD_ERRORS, FieldError, NotFound
from tests.budgets.transfer_helpers import transfer_snapshot
from tests.conftest import make_budget, make_category, make_transaction

D = dt.date


def balance(budget: Budget) -> Decimal:
    return Budget.objects.get(pk=budget.pk).balance


@pytest.fixture
def two(user):
    """Two budgets of the user: Household (1000.00) and Savings (500.00)."""
    return (
        make_budget(user, title="Household", initial_amount=Decimal("1000.00")),
        make_budget(user, title="Savings", initial_amount=Decimal("500.00")),
    )


def move(user, source, target, amount="250.00", **fields) -> Transfer:
    return transfer_create(
        user=user,
        from_budget=source.pk,
        to_budget=target.pk,
        amount=Decimal(amount),
        date=fields.pop("date", D(2026, 2, 26)),
        **fields,
    )


def legs(transfer: Transfer) -> list[tuple]:
    return list(
        Transaction.objects.filter(transfer=transfer)
        .order_by("amount")
        .values_list("budget_id", "amount", "date", "description", "category_id")
    )


# --- Create --------------------------------------------------------------------------


def test_create_writes_the_transfer_and_both_legs(user, two):
    household, savings = two

    transfer = move(user, household, savings, "250.40", description="Rainy day")

    assert (transfer.from_budget_id, transfer.to_budget_id) == (household.pk, savings.pk)
    assert (transfer.amount, transfer.date, transfer.description) == (
        Decimal("250.40"),
        D(2026, 2, 26),
        "Rainy day",
    )
    assert legs(transfer) == [
        (household.pk, Decimal("-250.40"), D(2026, 2, 26), "Rainy day", None),
        (savings.pk, Decimal("250.40"), D(2026, 2, 26), "Rainy day", None),
    ]
    assert transfer.from_transaction < transfer.to_transaction
    out_leg = Transaction.objects.get(pk=transfer.from_transaction)
    assert (out_leg.budget_id, out_leg.amount) == (household.pk, Decimal("-250.40"))
    assert (balance(household), balance(savings)) == (Decimal("749.60"), Decimal("750.40"))


def test_create_refuses_the_same_budget_twice(user, two):
    household, _ = two

    with pytest.raises(FieldError) as exc:
        move(user, household, household)

    assert exc.value.errors == {"to_budget": [messages.TRANSFER_SAME_BUDGET]}
    assert transfer_snapshot() == []


@pytest.mark.parametrize("side", ["from_budget", "to_budget"])
@pytest.mark.parametrize("whose", ["missing", "foreign", "impossible"])
def test_create_refuses_a_budget_that_is_not_the_callers(user, other_user, two, side, whose):
    household, _ = two
    bad = {
        "missing": 987654,
        "foreign": make_budget(other_user).pk,
        "impossible": 2**63,
    }[whose]
    ids = {"from_budget": household.pk, "to_budget": household.pk, side: bad}

    with pytest.raises(FieldError) as exc:
        transfer_create(user=user, amount=Decimal("1.00"), date=D(2026, 1, 1), **ids)

    assert exc.value.errors == {side: [messages.BUDGET_NOT_FOUND]}
    assert transfer_snapshot() == []


def test_create_names_both_budgets_when_neither_is_the_callers(user, other_user):
    theirs = make_budget(other_user)

    with pytest.raises(FieldError) as exc:
        transfer_create(
            user=user, from_budget=theirs.pk, to_budget=0, amount=Decimal("1"), date=D(2026, 1, 1)
        )

    assert exc.value.errors == {
        "from_budget": [messages.BUDGET_NOT_FOUND],
        "to_budget": [messages.BUDGET_NOT_FOUND],
    }
    assert transfer_snapshot() == []


# --- Update --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "amount", "date", "description"),
    [
        ({"amount": Decimal("99.99")}, "99.99", D(2026, 2, 26), "Rainy day"),
        ({"date": D(2026, 3, 1)}, "250.00", D(2026, 3, 1), "Rainy day"),
        ({"description": ""}, "250.00", D(2026, 2, 26), ""),
        (
            {"amount": Decimal("0.01"), "date": D(2025, 1, 1), "description": "x"},
            "0.01",
            D(2025, 1, 1),
            "x",
        ),
    ],
)
def test_update_moves_both_legs_with_the_transfer(user, two, changes, amount, date, description):
    household, savings = two
    transfer = move(user, household, savings, description="Rainy day")

    updated = transfer_update(user=user, transfer_id=transfer.pk, **changes)

    money = Decimal(amount)
    assert (updated.amount, updated.date, updated.description) == (money, date, description)
    assert legs(transfer) == [
        (household.pk, -money, date, description, None),
        (savings.pk, money, date, description, None),
    ]
    assert balance(household) == Decimal("1000.00") - money
    assert balance(savings) == Decimal("500.00") + money


def test_update_with_nothing_changes_nothing(user, two):
    transfer = move(user, *two)
    before = transfer_snapshot()

    transfer_update(user=user, transfer_id=transfer.pk)

    assert transfer_snapshot() == before


@pytest.mark.parametrize("operation", ["update", "delete"])
def test_another_users_or_a_missing_transfer_is_not_found(user, other_user, operation):
    theirs = move(other_user, make_budget(other_user), make_budget(other_user))
    before = transfer_snapshot()
    call = {
        "update": lambda tid: transfer_update(user=user, transfer_id=tid, amount=Decimal("1")),
        "delete": lambda tid: transfer_delete(user=user, transfer_id=tid),
    }[operation]

    for transfer_id in (theirs.pk, 987654, 0, -1, 2**63):
        with pytest.raises(NotFound):
            call(transfer_id)
    assert transfer_snapshot() == before


# --- Delete --------------------------------------------------------------------------


def test_delete_removes_the_transfer_and_both_legs(user, two):
    household, savings = two
    kept = make_transaction(household, "-5.00")
    transfer = move(user, household, savings)

    transfer_delete(user=user, transfer_id=transfer.pk)

    assert not Transfer.objects.exists()
    assert list(Transaction.objects.values_list("pk", flat=True)) == [kept.pk]
    assert (balance(household), balance(savings)) == (Decimal("995.00"), Decimal("500.00"))


# --- Legs through the transactions services --------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"amount": Decimal("-1.00")},
        {"description": "mine now"},
        {"date": D(2020, 1, 1)},
        {"category": None},
        {"budget": None},  # replaced below by a real budget: a move
    ],
    ids=["amount", "description", "date", "category", "move"],
)
@pytest.mark.parametrize("leg", ["from_transaction", "to_transaction"])
def test_a_leg_cannot_be_edited_on_its_own(user, two, change, leg):
    household, savings = two
    transfer = move(user, household, savings)
    if "budget" in change:
        change = {"budget": make_budget(user, title="Third").pk}
    before = transfer_snapshot()

    with pytest.raises(FieldError) as exc:
        transaction_update(user=user, transaction_id=getattr(transfer, leg), **change)

    message = messages.TRANSFER_LEG.format(transfer=transfer.pk)
    assert exc.value.errors == {NON_FIELD_ERRORS: [message]}
    assert str(transfer.pk) in message
    assert transfer_snapshot() == before


@pytest.mark.parametrize("leg", ["from_transaction", "to_transaction"])
def test_a_leg_cannot_be_deleted_on_its_own(user, two, leg):
    transfer = move(user, *two)
    before = transfer_snapshot()

    with pytest.raises(FieldError) as exc:
        transaction_delete(user=user, transaction_id=getattr(transfer, leg))

    assert exc.value.errors == {
        NON_FIELD_ERRORS: [messages.TRANSFER_LEG.format(transfer=transfer.pk)]
    }
    assert transfer_snapshot() == before


# --- Deleting a budget -----------------------------------------------------------------


def test_deleting_a_budget_ends_its_transfers_and_the_other_leg_stays(user, two):
    """Savings is deleted: its two transfers with Household end, Household keeps its
    legs as ordinary transactions (balance unchanged); the transfer between Household
    and Third is untouched."""
    household, savings = two
    third = make_budget(user, title="Third", initial_amount=Decimal("10.00"))
    move(user, household, savings, "250.00")
    move(user, savings, household, "40.00")
    untouched = move(user, household, third, "1.00")
    before = balance(household)

    budget_delete(user=user, budget_id=savings.pk)

    assert list(Transfer.objects.values_list("pk", flat=True)) == [untouched.pk]
    assert list(
        Transaction.objects.filter(budget=household)
        .order_by("amount")
        .values_list("amount", "transfer")
    ) == [
        (Decimal("-250.00"), None),
        (Decimal("-1.00"), untouched.pk),
        (Decimal("40.00"), None),
    ]
    assert balance(household) == before == Decimal("789.00")
    assert Transaction.objects.filter(transfer=untouched).count() == 2
    assert not Transaction.objects.filter(budget_id=savings.pk).exists()


@pytest.mark.parametrize("doomed", ["source", "target"])
def test_deleting_either_budget_of_a_transfer_keeps_the_other_balance(user, two, doomed):
    household, savings = two
    transfer = move(user, household, savings, "250.00")
    gone, kept = (household, savings) if doomed == "source" else (savings, household)
    before = balance(kept)

    budget_delete(user=user, budget_id=gone.pk)

    assert not Transfer.objects.exists()
    leg = Transaction.objects.get()
    assert (leg.budget_id, leg.transfer_id) == (kept.pk, None)
    assert leg.pk in (transfer.from_transaction, transfer.to_transaction)
    assert balance(kept) == before


def test_an_unlinked_leg_is_an_ordinary_transaction_again(user, two):
    household, savings = two
    transfer = move(user, household, savings)
    budget_delete(user=user, budget_id=household.pk)

    tx = transaction_update(
        user=user, transaction_id=transfer.to_transaction, amount=Decimal("1.00")
    )
    assert (tx.amount, tx.transfer_id) == (Decimal("1.00"), None)
    transaction_delete(user=user, transaction_id=tx.pk)
    assert not Transaction.objects.exists()


def test_deleting_another_users_budget_is_not_found_and_keeps_their_transfers(
    user, other_user, two
):
    theirs = move(other_user, make_budget(other_user), make_budget(other_user))
    before = transfer_snapshot()

    with pytest.raises(NotFound):
        budget_delete(user=user, budget_id=theirs.from_budget_id)

    assert transfer_snapshot() == before


# --- The database's own rules -------------------------------------------------------------


def _raw_transfer(**fields) -> Transfer:
    return Transfer(amount=Decimal("1.00"), date=D(2026, 1, 1), **fields)


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "10000000000.00"])
def test_database_refuses_non_positive_or_huge_amounts(two, amount):
    household, savings = two
    transfer = _raw_transfer(from_budget=household, to_budget=savings)
    transfer.amount = Decimal(amount)
    # PostgreSQL refuses 10^10 as a numeric overflow (DataError) before the CHECK.
    with pytest.raises(DatabaseError), db_transaction.atomic():
        transfer.save()


def test_database_refuses_a_transfer_to_the_same_budget(two):
    household, _ = two
    with pytest.raises(IntegrityError), db_transaction.atomic():
        _raw_transfer(from_budget=household, to_budget=household).save()


@pytest.mark.parametrize("amount", ["-250.00", "250.00"])
def test_database_refuses_a_second_leg_in_the_same_direction(user, two, amount):
    household, savings = two
    transfer = move(user, household, savings)
    with pytest.raises(IntegrityError), db_transaction.atomic():
        make_transaction(household, amount, transfer=transfer)
    assert Transaction.objects.filter(transfer=transfer).count() == 2


def test_category_of_a_leg_stays_empty(user, two):
    make_category(user)
    transfer = move(user, *two)
    assert set(
        Transaction.objects.filter(transfer=transfer).values_list("category", flat=True)
    ) == {None}


def test_budget_delete_starts_over_when_a_transfer_to_a_new_budget_landed_before_its_locks(
    user, two, monkeypatch
):
    """The budgets a transfer partner shares are read before the locks are taken; a
    partner that appeared in between (a transfer committed meanwhile) was not locked,
    so the delete starts over (``Retry``) and then locks it too."""
    from budgets.services import budgets as budget_services

    household, savings = two
    move(user, household, savings)
    real = budget_services.transfer_partner_budget_ids
    calls = []

    def stale_first(*, user, budget_id):
        calls.append(budget_id)
        return set() if len(calls) == 1 else real(user=user, budget_id=budget_id)

    monkeypatch.setattr(budget_services, "transfer_partner_budget_ids", stale_first)

    budget_delete(user=user, budget_id=household.pk)

    assert calls == [household.pk] * 4  # two reads per try, two tries
    assert not Transfer.objects.exists()
    assert Transaction.objects.get().budget_id == savings.pk
