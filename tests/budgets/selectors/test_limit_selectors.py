"""budgets.selectors.limits, called directly."""

import datetime as dt
from decimal import Decimal

import pytest

from budgets import selectors
from budgets.services import spending_limit_create
from project.errors import NotFound
from tests.conftest import make_budget, make_category

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def limit(user, budget, category, month=FEB):
    return spending_limit_create(
        user=user, budget_id=budget.pk, category=category.pk, month=month, amount=Decimal(1)
    )


def test_list_orders_and_filters(user, other_user, budget, category):
    rent = make_category(user, "Rent")
    art = make_category(user, "art")
    feb_food = limit(user, budget, category)
    feb_rent = limit(user, budget, rent)
    mar_rent = limit(user, budget, rent, month=MAR)
    mar_art = limit(user, budget, art, month=MAR)
    limit(user, make_budget(user, title="Holidays"), category)

    def ids(**filters):
        return [
            x.pk for x in selectors.spending_limit_list(user=user, budget_id=budget.pk, **filters)
        ]

    # Newest month first, then by category name regardless of case.
    assert ids() == [mar_art.pk, mar_rent.pk, feb_food.pk, feb_rent.pk]
    assert ids(month=FEB) == [feb_food.pk, feb_rent.pk]
    assert ids(category=rent.pk) == [mar_rent.pk, feb_rent.pk]
    assert ids(category=make_category(other_user).pk) == []
    assert ids(category=2**64) == []
    with pytest.raises(NotFound):
        selectors.spending_limit_list(user=other_user, budget_id=budget.pk)
