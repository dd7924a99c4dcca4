"""budgets.selectors.transfers, called directly."""

import datetime as dt
from decimal import Decimal

from budgets import selectors
from budgets.selectors.transfers import transfer_partner_budget_ids
from budgets.services import transfer_create
from tests.conftest import make_budget

D = dt.date


def move(user, source, target, date):
    return transfer_create(
        user=user, from_budget=source.pk, to_budget=target.pk, amount=Decimal("1.00"), date=date
    )


def test_list_filters_by_either_budget_and_dates(user, other_user):
    household, savings = make_budget(user), make_budget(user, title="Savings")
    third = make_budget(user, title="Third")
    a = move(user, household, savings, D(2026, 1, 31))
    b = move(user, savings, third, D(2026, 2, 1))
    c = move(user, third, household, D(2026, 2, 28))
    move(other_user, make_budget(other_user), make_budget(other_user), D(2026, 2, 1))

    def ids(**filters):
        return [t.pk for t in selectors.transfer_list(user=user, **filters)]

    assert ids() == [c.pk, b.pk, a.pk]
    assert ids(budget=household.pk) == [c.pk, a.pk]
    assert ids(budget=savings.pk) == [b.pk, a.pk]
    assert ids(date_from=D(2026, 2, 1)) == [c.pk, b.pk]
    assert ids(date_to=D(2026, 2, 1)) == [b.pk, a.pk]
    assert ids(budget=third.pk, date_from=D(2026, 2, 2)) == [c.pk]
    assert ids(budget=make_budget(other_user).pk) == []
    assert ids(budget=2**64) == []


def test_get_annotates_both_legs(user):
    household, savings = make_budget(user), make_budget(user, title="Savings")
    made = move(user, household, savings, D(2026, 1, 1))

    got = selectors.transfer_get(user=user, transfer_id=made.pk)

    assert got.from_transaction == made.legs.get(amount__lt=0).pk
    assert got.to_transaction == made.legs.get(amount__gt=0).pk


def test_partner_budgets_are_the_callers_other_side_of_each_transfer(user):
    a, b, c, d = (make_budget(user, title=t) for t in "abcd")
    move(user, a, b, D(2026, 1, 1))
    move(user, c, a, D(2026, 1, 1))
    move(user, c, a, D(2026, 1, 2))
    move(user, b, d, D(2026, 1, 1))

    assert transfer_partner_budget_ids(user=user, budget_id=a.pk) == {
        b.pk,
        c.pk,
    }
    assert transfer_partner_budget_ids(user=user, budget_id=d.pk) == {b.pk}
