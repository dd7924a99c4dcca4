"""budgets.selectors.transactions, called directly."""

from decimal import Decimal
from typing import get_args

import pytest

from budgets import selectors
from budgets.schemas import TransactionFilters, TransactionOrdering, TransactionType
from project.errors import NotFound
from tests.conftest import make_budget, make_category, make_transaction


def test_the_schema_offers_exactly_the_selectors_keys():
    assert get_args(TransactionOrdering) == tuple(selectors.TRANSACTION_ORDERINGS)
    assert get_args(TransactionType) == tuple(selectors.TRANSACTION_TYPES)
    assert TransactionFilters().ordering == selectors.TRANSACTION_DEFAULT_ORDERING


@pytest.mark.parametrize("ordering", list(selectors.TRANSACTION_ORDERINGS))
def test_every_sort_key_breaks_ties_on_id(user, ordering):
    budget = make_budget(user)
    same = [make_transaction(budget, "-1.00") for _ in range(3)]

    ids = [tx.pk for tx in selectors.transaction_list(user=user, ordering=ordering)]

    assert ids == sorted(t.pk for t in same) or ids == sorted((t.pk for t in same), reverse=True)


def test_filters_combine(user):
    budget, other = make_budget(user), make_budget(user, title="Other")
    food = make_category(user, "Food")
    hit = make_transaction(budget, "-12.00", category=food, description="Lunch out")
    make_transaction(budget, "12.00", category=food, description="Lunch refund")
    make_transaction(other, "-12.00", category=food, description="Lunch")

    listed = selectors.transaction_list(
        user=user,
        budget=budget.pk,
        category=food.pk,
        type="expense",
        min_amount=Decimal("-20"),
        max_amount=Decimal("-10"),
        search="LUNCH",
    )

    assert list(listed) == [hit]


@pytest.mark.parametrize("field", ["budget", "category"])
def test_filtering_by_someone_elses_or_an_impossible_id_matches_nothing(user, other_user, field):
    mine = make_transaction(make_budget(user), category=make_category(user))
    theirs = make_transaction(make_budget(other_user), category=make_category(other_user))
    their_id = getattr(theirs, f"{field}_id")

    for value in [their_id, 0, 2**64]:
        assert list(selectors.transaction_list(user=user, **{field: value})) == []
    assert list(selectors.transaction_list(user=user)) == [mine]


def test_get_of_another_users_transaction_is_not_found(user, other_user):
    theirs = make_transaction(make_budget(other_user))

    with pytest.raises(NotFound):
        selectors.transaction_get(user=user, transaction_id=theirs.pk)
