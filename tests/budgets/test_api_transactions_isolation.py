"""Transactions over HTTP between users: another user's transaction is a 404, their
budget or category a 400 field error, and no list or filter shows their rows."""

import pytest

from budgets.models import Transaction
from tests.budgets.transaction_helpers import (
    ABSENT_IDS,
    BUDGET_NOT_FOUND,
    CATEGORY_NOT_FOUND,
    NOT_FOUND,
    URL,
    balance,
    body_for,
    detail_url,
    snapshot,
)
from tests.conftest import make_budget, make_category, make_transaction

# --- Isolation -----------------------------------------------------------------------


@pytest.fixture
def foreign(other_user):
    """Another user's budget, category and transaction."""
    budget = make_budget(other_user, title="Theirs")
    category = make_category(other_user, "Food")
    tx = make_transaction(budget, "-45.50", category=category, description="Groceries")
    return {"budget": budget, "category": category, "transaction": tx}


def _bad_reference_cases():
    """(field overrides given the foreign objects, expected 400 body)."""
    cases = [
        pytest.param(lambda f: {"budget": f["budget"].pk}, BUDGET_NOT_FOUND, id="foreign-budget"),
        pytest.param(
            lambda f: {"category": f["category"].pk}, CATEGORY_NOT_FOUND, id="foreign-category"
        ),
        pytest.param(
            lambda f: {"budget": f["budget"].pk, "category": f["category"].pk},
            {**BUDGET_NOT_FOUND, **CATEGORY_NOT_FOUND},
            id="both-foreign",
        ),
    ]
    for absent in ABSENT_IDS:
        cases += [
            pytest.param(
                lambda f, a=absent: {"budget": a}, BUDGET_NOT_FOUND, id=f"missing-budget-{absent}"
            ),
            pytest.param(
                lambda f, a=absent: {"category": a},
                CATEGORY_NOT_FOUND,
                id=f"missing-category-{absent}",
            ),
        ]
    return cases


@pytest.mark.parametrize(("overrides", "errors"), _bad_reference_cases())
def test_create_with_a_foreign_or_missing_reference_is_rejected(
    auth_client, budget, category, foreign, overrides, errors
):
    before = snapshot()
    payload = body_for(budget, **{"category": category.pk, **overrides(foreign)})

    response = auth_client.post(URL, payload)

    assert response.status_code == 400
    assert response.json() == errors
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(("overrides", "errors"), _bad_reference_cases())
def test_update_with_a_foreign_or_missing_reference_is_rejected(
    auth_client, budget, transaction, foreign, method, overrides, errors
):
    before = snapshot()
    payload = body_for(budget, amount="1.00", **overrides(foreign))

    response = getattr(auth_client, method)(detail_url(transaction.pk), payload)

    assert response.status_code == 400
    assert response.json() == errors
    assert snapshot() == before
    assert balance(auth_client, budget) == "990.00"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_transaction_is_not_found(auth_client, budget, foreign, method):
    before = snapshot()
    payload = None if method in ("get", "delete") else body_for(budget, amount="1.00")

    response = getattr(auth_client, method)(detail_url(foreign["transaction"].pk), payload)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert snapshot() == before


@pytest.mark.parametrize("transaction_id", ABSENT_IDS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_missing_transaction_is_not_found(auth_client, budget, method, transaction_id):
    payload = None if method in ("get", "delete") else body_for(budget, amount="1.00")

    response = getattr(auth_client, method)(detail_url(transaction_id), payload)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert Transaction.objects.count() == 0


def test_list_and_filters_never_show_other_users_transactions(
    auth_client, other_client, transaction, foreign
):
    theirs = foreign["transaction"]
    queries = [
        {},
        {"budget": foreign["budget"].pk},
        {"category": foreign["category"].pk},
        {"search": "Groceries"},
        {"type": "expense", "min_amount": "-45.50", "max_amount": "-45.50"},
        {"date_from": "2026-01-15", "date_to": "2026-01-15"},
    ]

    mine = [auth_client.get(URL, q).json()["results"] for q in queries]
    assert [[t["id"] for t in page] for page in mine] == [
        [transaction.pk],
        [],
        [],
        [],
        [],
        [transaction.pk],
    ]
    assert [t["id"] for t in other_client.get(URL).json()["results"]] == [theirs.pk]
