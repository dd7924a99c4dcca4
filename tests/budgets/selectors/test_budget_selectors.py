"""budgets.selectors.budgets, called directly."""

import datetime as dt
from decimal import Decimal
from typing import get_args

import pytest

from budgets import selectors
from budgets.schemas import BudgetFilters, BudgetOrdering
from project.errors import NotFound
from tests.conftest import make_budget, make_transaction


def test_the_schema_offers_exactly_the_selectors_sort_keys():
    assert get_args(BudgetOrdering) == tuple(selectors.BUDGET_ORDERINGS)
    assert BudgetFilters().ordering == selectors.BUDGET_DEFAULT_ORDERING


@pytest.mark.parametrize("ordering", list(selectors.BUDGET_ORDERINGS))
def test_every_sort_key_lists_only_the_callers_budgets(user, other_user, ordering):
    mine = [make_budget(user, title=f"B{n}") for n in range(3)]
    make_budget(other_user)

    listed = selectors.budget_list(user=user, ordering=ordering)

    assert sorted(b.pk for b in listed) == sorted(b.pk for b in mine)


def test_list_filters_and_balances(user):
    make_budget(user, title="Rent", date=dt.date(2026, 1, 1))
    trip = make_budget(user, title="Trip", description="Summer", date=dt.date(2026, 6, 1))
    make_transaction(trip, "-100.00")

    listed = selectors.budget_list(user=user, search="summ", date_from=dt.date(2026, 2, 1))

    assert [(b.pk, b.balance) for b in listed] == [(trip.pk, Decimal("900.00"))]


def test_get_of_another_users_budget_is_not_found(user, other_user):
    theirs = make_budget(other_user)

    with pytest.raises(NotFound):
        selectors.budget_get(user=user, budget_id=theirs.pk)
