"""Spending limits over HTTP: CRUD with full bodies, one per budget+category+month,
isolation between users and budgets, bad input (never a 500), pagination and filters."""

from decimal import Decimal
from unittest import mock

import pytest

from budgets import messages
from budgets.models import SpendingLimit
from tests.conftest import TIMESTAMP, make_budget, make_category

NOT_FOUND = {"detail": "Not found."}
ABSENT_IDS = [987654, 0, 2**63, 10**30]
MONTH_INVALID = "Month must be in the format YYYY-MM."
LIMIT_LIST_QUERIES = 4  # the token's user, the budget is yours, the count, the page


def url(budget_id) -> str:
    return f"/api/budgets/{budget_id}/limits/"


def detail_url(budget_id, limit_id) -> str:
    return f"{url(budget_id)}{limit_id}/"


def state() -> list[tuple]:
    return list(
        SpendingLimit.objects.order_by("pk").values_list(
            "pk", "budget_id", "category_id", "month", "amount", "updated_at"
        )
    )


def body_for(category, /, **fields) -> dict:
    return {"category": category.pk, "month": "2026-02", "amount": "300.00", **fields}


@pytest.fixture
def limit(auth_client, budget, category) -> dict:
    response = auth_client.post(url(budget.pk), body_for(category))
    assert response.status_code == 201
    return response.json()


# --- Create, read, update, delete ---------------------------------------------------------


def test_create_limit(auth_client, budget, category):
    response = auth_client.post(url(budget.pk), body_for(category, amount=300.5, id=9, budget=7))

    assert response.status_code == 201
    assert response.json() == {
        "id": mock.ANY,
        "budget": budget.pk,
        "category": category.pk,
        "month": "2026-02",
        "amount": "300.50",
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    stored = SpendingLimit.objects.get()
    assert (stored.month.isoformat(), stored.amount) == ("2026-02-01", Decimal("300.50"))


def test_get_limit(auth_client, budget, limit):
    response = auth_client.get(detail_url(budget.pk, limit["id"]))

    assert response.status_code == 200
    assert response.json() == limit


def test_put_replaces_every_field(auth_client, user, budget, limit):
    rent = make_category(user, "Rent")

    response = auth_client.put(
        detail_url(budget.pk, limit["id"]),
        {"category": rent.pk, "month": "0999-12", "amount": "0.01"},
    )

    assert response.status_code == 200
    assert response.json() == {
        **limit,
        "category": rent.pk,
        "month": "0999-12",
        "amount": "0.01",
        "updated_at": TIMESTAMP,
    }


@pytest.mark.parametrize("missing", ["category", "month", "amount"])
def test_put_requires_every_field(auth_client, budget, category, limit, missing):
    payload = body_for(category)
    del payload[missing]

    response = auth_client.put(detail_url(budget.pk, limit["id"]), payload)

    assert response.status_code == 400
    assert response.json() == {missing: [f"{missing.capitalize()} is required."]}


@pytest.mark.parametrize(
    ("patch", "changed"),
    [
        ({"amount": "12.34"}, {"amount": "12.34"}),
        ({"month": "2027-01"}, {"month": "2027-01"}),
        ({}, {}),
    ],
)
def test_patch_changes_only_the_given_fields(auth_client, budget, limit, patch, changed):
    response = auth_client.patch(detail_url(budget.pk, limit["id"]), patch)

    assert response.status_code == 200
    assert response.json() == {**limit, **changed, "updated_at": TIMESTAMP}


def test_delete_limit(auth_client, budget, limit):
    response = auth_client.delete(detail_url(budget.pk, limit["id"]))

    assert (response.status_code, response.content) == (204, b"")
    assert auth_client.get(detail_url(budget.pk, limit["id"])).status_code == 404
    assert not SpendingLimit.objects.exists()


# --- One per budget, category and month ---------------------------------------------------


def test_a_second_limit_for_the_same_month_is_refused(auth_client, budget, category, limit):
    before = state()

    response = auth_client.post(url(budget.pk), body_for(category, amount="1.00"))

    assert response.status_code == 400
    assert response.json() == {"month": [messages.LIMIT_EXISTS]}
    assert state() == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_moving_a_limit_onto_another_is_refused(auth_client, user, budget, category, method):
    first = auth_client.post(url(budget.pk), body_for(category)).json()
    second = auth_client.post(url(budget.pk), body_for(category, month="2026-03")).json()
    before = state()

    response = getattr(auth_client, method)(
        detail_url(budget.pk, second["id"]), body_for(category, month=first["month"])
    )

    assert response.status_code == 400
    assert response.json() == {"month": [messages.LIMIT_EXISTS]}
    assert state() == before


def test_the_same_month_is_fine_in_another_category_or_budget(
    auth_client, user, budget, category, limit
):
    rent = make_category(user, "Rent")
    holidays = make_budget(user, title="Holidays")

    assert auth_client.post(url(budget.pk), body_for(rent)).status_code == 201
    assert auth_client.post(url(holidays.pk), body_for(category)).status_code == 201
    assert SpendingLimit.objects.filter(month="2026-02-01").count() == 3


# --- Bad input --------------------------------------------------------------------------

BAD_BODIES = [
    ({"month": "2026-2"}, {"month": [MONTH_INVALID]}),
    ({"month": "2026-13"}, {"month": [MONTH_INVALID]}),
    ({"month": "2026-00"}, {"month": [MONTH_INVALID]}),
    ({"month": "0000-01"}, {"month": [MONTH_INVALID]}),
    ({"month": "2026-02-01"}, {"month": [MONTH_INVALID]}),
    ({"month": "Feb 2026"}, {"month": [MONTH_INVALID]}),
    ({"month": 202602}, {"month": [MONTH_INVALID]}),
    ({"month": None}, {"month": [MONTH_INVALID]}),
    ({"month": "2026-02\x00"}, {"month": ["Month must not contain null characters."]}),
    ({"amount": "0"}, {"amount": ["Amount must be greater than 0."]}),
    ({"amount": "-10.00"}, {"amount": ["Amount must be greater than 0."]}),
    ({"amount": "1.001"}, {"amount": ["Amount must have at most 2 decimal places."]}),
    ({"amount": "10000000000"}, {"amount": ["Amount must be at most 9999999999.99."]}),
    ({"amount": "ten"}, {"amount": ["Amount must be a valid number."]}),
    ({"amount": False}, {"amount": ["Amount must be a valid number."]}),
    ({"category": None}, {"category": ["Category must be a whole number."]}),
    ({"category": "abc"}, {"category": ["Category must be a whole number."]}),
    ({"category": True}, {"category": ["Category must be a whole number."]}),
]


@pytest.mark.parametrize(("overrides", "errors"), BAD_BODIES)
def test_create_rejects_bad_input(auth_client, budget, category, overrides, errors):
    response = auth_client.post(url(budget.pk), body_for(category, **overrides))

    assert response.status_code == 400
    assert response.json() == errors
    assert state() == []


@pytest.mark.parametrize(("overrides", "errors"), BAD_BODIES)
@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_rejects_bad_input(auth_client, budget, category, limit, method, overrides, errors):
    payload = body_for(category, **overrides) if method == "put" else overrides
    before = state()

    response = getattr(auth_client, method)(detail_url(budget.pk, limit["id"]), payload)

    assert response.status_code == 400
    assert response.json() == errors
    assert state() == before


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        ("{not json", {"detail": "Request body is not valid JSON."}),
        ("[1]", {"non_field_errors": ["Request body must be a JSON object."]}),
    ],
)
def test_create_rejects_bodies_that_are_not_json_objects(auth_client, budget, raw, errors):
    response = auth_client.post(url(budget.pk), raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == errors


# --- Isolation ---------------------------------------------------------------------------


@pytest.mark.parametrize("budget_id", ["foreign", *ABSENT_IDS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_limits_of_a_budget_that_is_not_yours_are_not_found(
    auth_client, other_user, category, budget_id, method
):
    if budget_id == "foreign":
        budget_id = make_budget(other_user).pk

    response = getattr(auth_client, method)(
        url(budget_id), body_for(category) if method == "post" else None
    )

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert state() == []


@pytest.mark.parametrize("category_id", ["foreign", *ABSENT_IDS, -1])
def test_a_category_that_is_not_yours_is_refused(
    auth_client, other_user, budget, category, limit, category_id
):
    if category_id == "foreign":
        category_id = make_category(other_user).pk
    before = state()

    created = auth_client.post(url(budget.pk), {**body_for(category), "category": category_id})
    patched = auth_client.patch(detail_url(budget.pk, limit["id"]), {"category": category_id})

    for response in (created, patched):
        assert response.status_code == 400
        assert response.json() == {"category": [messages.CATEGORY_NOT_FOUND]}
    assert state() == before


@pytest.fixture
def foreign(other_client, other_user) -> tuple[int, dict]:
    budget = make_budget(other_user)
    response = other_client.post(url(budget.pk), body_for(make_category(other_user)))
    assert response.status_code == 201
    return budget.pk, response.json()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_limit_is_not_found(auth_client, budget, category, foreign, method):
    budget_id, theirs = foreign
    before = state()

    for path in (detail_url(budget_id, theirs["id"]), detail_url(budget.pk, theirs["id"])):
        response = getattr(auth_client, method)(path, body_for(category))
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    assert state() == before


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_limit_is_only_found_under_its_own_budget(auth_client, user, category, limit, method):
    sibling = make_budget(user, title="Holidays")
    before = state()

    response = getattr(auth_client, method)(detail_url(sibling.pk, limit["id"]), body_for(category))

    assert response.status_code == 404
    assert state() == before


@pytest.mark.parametrize("limit_id", ABSENT_IDS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_missing_limit_is_not_found(auth_client, budget, category, limit_id, method):
    response = getattr(auth_client, method)(detail_url(budget.pk, limit_id), body_for(category))

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# --- List ------------------------------------------------------------------------------


@pytest.fixture
def limits(auth_client, user, budget, category):
    """Five limits of the budget (Food and Rent, Jan to Mar 2026; no Rent in January)."""
    rent = make_category(user, "Rent")
    made = {}
    for cat, month in [
        (category, "2026-01"),
        (category, "2026-02"),
        (rent, "2026-02"),
        (category, "2026-03"),
        (rent, "2026-03"),
    ]:
        response = auth_client.post(url(budget.pk), body_for(cat, month=month))
        assert response.status_code == 201
        made[response.json()["id"]] = f"{cat.name} {month}"
    auth_client.post(url(make_budget(user, title="Other").pk), body_for(rent))
    return made, {"Food": category.pk, "Rent": rent.pk}


@pytest.mark.parametrize(
    ("params", "labels"),
    [
        ({}, ["Food 2026-03", "Rent 2026-03", "Food 2026-02", "Rent 2026-02", "Food 2026-01"]),
        ({"month": "2026-02"}, ["Food 2026-02", "Rent 2026-02"]),
        ({"category": "Rent"}, ["Rent 2026-03", "Rent 2026-02"]),
        ({"category": "Rent", "month": "2026-01"}, []),
        ({"category": 987654}, []),
        ({"category": 2**64}, []),
    ],
)
def test_list_orders_and_filters(auth_client, budget, limits, params, labels):
    made, categories = limits
    params = {k: categories.get(v, v) if isinstance(v, str) else v for k, v in params.items()}

    response = auth_client.get(url(budget.pk), params)

    assert response.status_code == 200
    assert [made[x["id"]] for x in response.json()["results"]] == labels


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"month": "2026"}, {"month": [MONTH_INVALID]}),
        ({"month": "2026-02-01"}, {"month": [MONTH_INVALID]}),
        ({"category": "food"}, {"category": ["Category must be a whole number."]}),
        ({"page": "0"}, {"page": ["Page must be at least 1."]}),
        ({"page_size": "0"}, {"page_size": ["Page size must be at least 1."]}),
    ],
)
def test_list_rejects_malformed_parameters(auth_client, budget, limits, params, errors):
    response = auth_client.get(url(budget.pk), params)

    assert response.status_code == 400
    assert response.json() == errors


def test_list_pages(auth_client, budget, limits):
    response = auth_client.get(url(budget.pk), {"page_size": 2, "page": 2})

    assert response.json()["count"] == 5
    assert response.json()["next"] == f"http://testserver{url(budget.pk)}?page_size=2&page=3"
    assert auth_client.get(url(budget.pk), {"page": 2}).json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("rows", [1, 24])
def test_list_query_count_does_not_grow(auth_client, user, budget, django_assert_num_queries, rows):
    categories = [make_category(user, f"C{n}") for n in range(3)]
    for n in range(rows):
        month = f"2026-{n // 3 + 1:02d}"
        response = auth_client.post(url(budget.pk), body_for(categories[n % 3], month=month))
        assert response.status_code == 201

    with django_assert_num_queries(LIMIT_LIST_QUERIES):
        response = auth_client.get(url(budget.pk), {"page_size": 100})

    assert len(response.json()["results"]) == rows
