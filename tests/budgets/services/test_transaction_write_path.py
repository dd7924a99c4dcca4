"""The one write path of transaction rows (``budgets.services.transactions``) as every
feature uses it: transfer legs, recurring postings and CSV import rows all reach the
same insert, and a row is never both a transfer leg and a recurring posting."""

import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError
from django.db import transaction as db_transaction

from budgets.models import Transaction
from budgets.services import imports, transactions, transfers
from budgets.services.transactions import NewTransaction, transaction_bulk_create
from tests.budgets.recurring_helpers import TODAY, post, rule_for
from tests.conftest import make_budget

D = dt.date


@pytest.fixture
def savings(user):
    return make_budget(user, title="Savings")


def one_transfer(user, source, target):
    return transfers.transfer_create(
        user=user,
        from_budget=source.pk,
        to_budget=target.pk,
        amount=Decimal("1.00"),
        date=D(2026, 2, 1),
    )


def spy():
    """Watch the one insert, wherever it is called from."""
    return mock.patch.object(
        transactions, "transactions_insert", wraps=transactions.transactions_insert
    )


def test_transfer_legs_are_inserted_through_the_write_path(user, budget, savings):
    with mock.patch.object(
        transfers, "transactions_insert", wraps=transactions.transactions_insert
    ) as insert:
        transfer = transfers.transfer_create(
            user=user,
            from_budget=budget.pk,
            to_budget=savings.pk,
            amount=Decimal("40.00"),
            date=D(2026, 2, 1),
        )

    [call] = insert.call_args_list
    assert [(row.budget, row.amount, row.transfer) for row in call.kwargs["rows"]] == [
        (budget.pk, Decimal("-40.00"), transfer.pk),
        (savings.pk, Decimal("40.00"), transfer.pk),
    ]


def test_recurring_postings_are_inserted_through_the_write_path_and_are_not_legs(user, budget):
    rule_for(user, budget)  # monthly from 2026-01-01; today is 2026-03-10: three due

    with spy() as insert:
        result = post(user)

    rows = [row for call in insert.call_args_list for row in call.kwargs["rows"]]
    rule_id = result.posted[0].recurring_rule_id
    assert [(row.recurring_rule, row.transfer) for row in rows] == [(rule_id, None)] * 3
    assert Transaction.objects.filter(budget=budget, transfer__isnull=False).count() == 0
    assert Transaction.objects.filter(budget=budget).count() == 3


def test_imported_rows_are_inserted_through_the_write_path_and_are_not_legs(user, budget):
    data = b"date,budget,category,description,amount\r\n2026-02-01,Household,,Bread,-2.50\r\n"

    with spy() as insert:
        report = imports.transaction_import(user=user, file=io.BytesIO(data))

    assert report.imported == 1
    [call] = insert.call_args_list
    assert call.kwargs["return_objects"] is False  # the fast multi-row INSERT
    assert list(Transaction.objects.values_list("transfer", "recurring_rule")) == [(None, None)]


def test_the_checked_bulk_create_refuses_to_make_transfer_legs(user, budget, savings):
    transfer = one_transfer(user, budget, savings)
    row = NewTransaction(
        budget=budget.pk, amount=Decimal("-3.00"), date=D(2026, 2, 2), transfer=transfer.pk
    )

    with pytest.raises(ValueError, match=r"services\.transfers"), db_transaction.atomic():
        transaction_bulk_create(user=user, rows=[row])

    assert Transaction.objects.count() == 2  # only the transfer's own legs


def remove_legs(transfer) -> None:
    """Take a transfer's legs out through the write path (the totals follow)."""
    with db_transaction.atomic():
        for leg in Transaction.objects.filter(transfer=transfer):
            transactions.transaction_remove(leg)


@pytest.mark.parametrize("return_objects", [True, False])
def test_the_database_refuses_a_row_that_is_both_a_leg_and_a_posting(
    user, budget, savings, return_objects
):
    rule = rule_for(user, budget, start_date=TODAY + dt.timedelta(days=30))
    transfer = one_transfer(user, budget, savings)
    remove_legs(transfer)  # only the new check can refuse
    row = NewTransaction(
        budget=budget.pk,
        amount=Decimal("-5.00"),
        date=D(2026, 2, 3),
        recurring_rule=rule.pk,
        recurring_date=D(2026, 2, 3),
        transfer=transfer.pk,
    )

    with pytest.raises(IntegrityError), db_transaction.atomic():
        transactions.transactions_insert(rows=[row], return_objects=return_objects)

    assert not Transaction.objects.filter(recurring_rule=rule).exists()


def test_the_insert_path_keeps_recurring_and_transfer_links_on_both_variants(user, budget, savings):
    rule = rule_for(user, budget, start_date=TODAY + dt.timedelta(days=30))
    transfer = one_transfer(user, budget, savings)
    remove_legs(transfer)  # free both leg slots

    def leg(target, amount):
        return NewTransaction(
            budget=target.pk, amount=Decimal(amount), date=D(2026, 2, 1), transfer=transfer.pk
        )

    def posting(day):
        return NewTransaction(
            budget=budget.pk,
            amount=Decimal("-2.00"),
            date=day,
            recurring_rule=rule.pk,
            recurring_date=day,
        )

    rows = [leg(budget, "-1.00"), posting(D(2026, 2, 2))]
    more = [leg(savings, "1.00"), posting(D(2026, 2, 9))]

    with db_transaction.atomic():
        transactions.transactions_insert(rows=rows)
        transactions.transactions_insert(rows=more, return_objects=False)

    stored = Transaction.objects.order_by("date", "amount").values_list(
        "budget", "amount", "transfer", "recurring_rule", "recurring_date"
    )
    assert list(stored) == [
        (budget.pk, Decimal("-1.00"), transfer.pk, None, None),
        (savings.pk, Decimal("1.00"), transfer.pk, None, None),
        (budget.pk, Decimal("-2.00"), None, rule.pk, D(2026, 2, 2)),
        (budget.pk, Decimal("-2.00"), None, rule.pk, D(2026, 2, 9)),
    ]
