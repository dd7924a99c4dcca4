"""Unfiltered lists are answered by prepared statements (project.pagination.Listing); the
answers are exactly those of the queryset path that filtered lists take."""

import datetime as dt

import pytest

from budgets.selectors import BUDGET_ORDERINGS, TRANSACTION_ORDERINGS
from tests.conftest import make_budget, make_category, make_transaction

pytestmark = pytest.mark.django_db

# A filter that keeps every row sends the list down the queryset path.
KEEP_ALL = "&date_from=0001-01-01"


def both(client, url: str) -> tuple[dict, dict]:
    prepared, queryset = client.get(url).json(), client.get(url + KEEP_ALL).json()
    for body in (prepared, queryset):  # the links carry the filter
        body.pop("next"), body.pop("previous")
    return prepared, queryset


@pytest.mark.parametrize("ordering", list(BUDGET_ORDERINGS))
def test_budget_pages_are_the_querysets(auth_client, user, other_user, ordering):
    for i, title in enumerate(["b", "A", "c", "a", "B"]):
        budget = make_budget(
            user, title=title, date=dt.date(2026, 1, 1 + i % 2), initial_amount=f"{i + 1}.10"
        )
        make_transaction(budget, amount="-1.25")
    make_budget(other_user, title="not mine")

    for page in (1, 2, 3):
        prepared, queryset = both(
            auth_client, f"/api/budgets/?ordering={ordering}&page_size=2&page={page}"
        )
        assert prepared == queryset
        assert prepared["count"] == 5


@pytest.mark.parametrize("ordering", list(TRANSACTION_ORDERINGS))
def test_transaction_pages_are_the_querysets(auth_client, user, other_user, ordering):
    first, second = make_budget(user), make_budget(user, title="Two")
    category = make_category(user)
    for i in range(5):
        make_transaction(
            first,
            amount=f"-{i}.50" if i else "7.00",
            category=category if i % 2 else None,
            date=dt.date(2026, 1, 1 + i % 2),
        )
    leg = auth_client.post(
        "/api/transfers/",
        {"from_budget": first.pk, "to_budget": second.pk, "amount": "3.10", "date": "2026-01-02"},
        content_type="application/json",
    )
    assert leg.status_code == 201
    foreign = make_budget(other_user)
    make_transaction(foreign)

    for budget, count in (("", 7), (f"&budget={first.pk}", 6), (f"&budget={foreign.pk}", 0)):
        for page in (1, 2):
            url = f"/api/transactions/?ordering={ordering}&page_size=4&page={page}{budget}"
            if count <= 4 and page == 2:
                continue
            prepared, queryset = both(auth_client, url)
            assert prepared == queryset
            assert prepared["count"] == count
