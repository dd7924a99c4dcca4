"""Budgets over HTTP: CRUD, validation at each boundary, isolation, filters, ordering."""

import datetime as dt
from decimal import Decimal

import pytest

from budgets.models import Budget, Transaction
from tests.conftest import TIMESTAMP, make_budget, make_transaction

VALID = {
    "title": "Holiday",
    "description": "Summer",
    "date": "2026-07-01",
    "initial_amount": "2500.5",
}


def url(budget_id=None):
    return "/api/budgets/" if budget_id is None else f"/api/budgets/{budget_id}/"


def expected_body(budget, **overrides):
    body = {
        "id": budget.id,
        "user": budget.user_id,
        "title": budget.title,
        "description": budget.description,
        "date": budget.date.isoformat(),
        "initial_amount": f"{budget.initial_amount:.2f}",
        "balance": f"{budget.initial_amount:.2f}",
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    return {**body, **overrides}


# --- Create ----------------------------------------------------------------------------


def test_create_budget(auth_client, user):
    response = auth_client.post(url(), VALID)

    assert response.status_code == 201
    budget = Budget.objects.get()
    assert response.json() == expected_body(budget, initial_amount="2500.50", balance="2500.50")
    assert (budget.user, budget.title, budget.initial_amount) == (
        user,
        "Holiday",
        Decimal("2500.50"),
    )


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_read_only_and_unknown_fields_are_ignored(auth_client, user, other_user, method):
    existing = make_budget(user) if method != "post" else None
    path = url() if existing is None else url(existing.id)
    body = {
        **VALID,
        "user": other_user.id,
        "balance": "1.00",
        "id": 4242,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "unknown": "ignored",
    }

    response = getattr(auth_client, method)(path, body)

    assert response.status_code == (201 if method == "post" else 200)
    budget = Budget.objects.get()
    assert response.json() == expected_body(budget, balance="2500.50")
    assert (budget.pk != 4242, budget.user) == (True, user)
    assert 2000 not in (budget.created_at.year, budget.updated_at.year)


def test_create_description_defaults_to_empty_and_title_is_trimmed(auth_client):
    response = auth_client.post(
        url(), {"title": "  Rent  ", "date": "2026-01-01", "initial_amount": 10}
    )

    assert response.status_code == 201
    assert (response.json()["title"], response.json()["description"]) == ("Rent", "")
    assert response.json()["initial_amount"] == "10.00"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Title may not be blank."),
        ("title", "   ", "Title may not be blank."),
        ("title", "x" * 256, "Title must have at most 255 characters."),
        ("title", None, "Title must be a string."),
        ("description", "x" * 5001, "Description must have at most 5000 characters."),
        ("initial_amount", "0", "Initial amount must be greater than 0."),
        ("initial_amount", "0.00", "Initial amount must be greater than 0."),
        ("initial_amount", "-5", "Initial amount must be greater than 0."),
        ("initial_amount", "1.005", "Initial amount must have at most 2 decimal places."),
        ("initial_amount", "1000000000.00", "Initial amount must be at most 999999999.99."),
        ("initial_amount", "abc", "Initial amount must be a valid number."),
        ("initial_amount", "", "Initial amount must be a valid number."),
        ("initial_amount", "1_000", "Initial amount must be a valid number."),
        ("initial_amount", " 7.1 ", "Initial amount must be a valid number."),
        ("initial_amount", "1e3", "Initial amount must be a valid number."),
        ("initial_amount", "NaN", "Initial amount must be a valid number."),
        ("initial_amount", "Infinity", "Initial amount must be a valid number."),
        ("initial_amount", True, "Initial amount must be a valid number."),
        ("date", "2026-02-30", "Date must be a valid date (YYYY-MM-DD)."),
        ("date", "01/02/2026", "Date must be a valid date (YYYY-MM-DD)."),
        ("date", "2026-02-03T10:00:00", "Date must be a valid date (YYYY-MM-DD)."),
        ("date", 20260203, "Date must be a valid date (YYYY-MM-DD)."),
    ],
)
def test_create_rejects_invalid_field_and_stores_nothing(auth_client, field, value, message):
    response = auth_client.post(url(), {**VALID, field: value})

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert Budget.objects.count() == 0


@pytest.mark.parametrize("missing", ["title", "date", "initial_amount"])
def test_create_requires_field(auth_client, missing):
    body = {k: v for k, v in VALID.items() if k != missing}

    response = auth_client.post(url(), body)

    assert response.status_code == 400
    label = missing.replace("_", " ").capitalize()
    assert response.json() == {missing: [f"{label} is required."]}
    assert Budget.objects.count() == 0


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("999999999.99", "999999999.99"),
        ("0.01", "0.01"),
        (12.5, "12.50"),
        ("7.1", "7.10"),
        (".5", "0.50"),
        ("+3", "3.00"),
        ("0001.500", "1.50"),
        ("x" * 255, None),
    ],
)
def test_create_accepts_values_on_the_boundary(auth_client, value, stored):
    body = {**VALID, "title": value} if stored is None else {**VALID, "initial_amount": value}

    response = auth_client.post(url(), body)

    assert response.status_code == 201, response.content
    if stored is not None:
        assert response.json()["initial_amount"] == stored


def test_create_accepts_past_and_future_dates_and_long_description(auth_client):
    for date in ("1999-12-31", "2099-01-01"):
        body = {**VALID, "date": date, "description": "d" * 5000}
        assert auth_client.post(url(), body).status_code == 201


def test_unauthenticated_create_is_401(api_client):
    assert api_client.post(url(), VALID).status_code == 401
    assert Budget.objects.count() == 0


# --- Read, update, delete --------------------------------------------------------------


def test_get_budget_with_balance(auth_client, budget):
    make_transaction(budget, "250.25")
    make_transaction(budget, "-100.10")

    response = auth_client.get(url(budget.id))

    assert response.status_code == 200
    assert response.json() == expected_body(budget, balance="1150.15")


def test_put_replaces_all_writable_fields(auth_client, budget):
    body = {"title": "New", "description": "D", "date": "2026-05-05", "initial_amount": "50"}

    response = auth_client.put(url(budget.id), body)

    assert response.status_code == 200
    budget.refresh_from_db()
    assert response.json() == expected_body(budget, initial_amount="50.00", balance="50.00")
    assert (budget.title, budget.description, budget.date) == ("New", "D", dt.date(2026, 5, 5))


def test_put_requires_every_writable_field(auth_client, budget):
    response = auth_client.put(url(budget.id), {"title": "Only title"})

    assert response.status_code == 400
    assert set(response.json()) == {"date", "initial_amount"}
    budget.refresh_from_db()
    assert budget.title == "Household"


def test_patch_changes_only_sent_fields(auth_client, budget):
    make_transaction(budget, "-1.00")

    response = auth_client.patch(url(budget.id), {"initial_amount": "2000"})

    assert response.status_code == 200
    budget.refresh_from_db()
    assert response.json() == expected_body(budget, initial_amount="2000.00", balance="1999.00")
    assert budget.title == "Household"


def test_patch_with_empty_body_changes_nothing(auth_client, budget):
    response = auth_client.patch(url(budget.id), {})

    assert response.status_code == 200
    assert response.json()["title"] == "Household"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"initial_amount": "0"}, "initial_amount"),
        ({"date": None}, "date"),
    ],
)
def test_patch_rejects_invalid_values_and_changes_nothing(auth_client, budget, body, field):
    response = auth_client.patch(url(budget.id), body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    fresh = Budget.objects.get(pk=budget.pk)
    assert (fresh.title, fresh.initial_amount, fresh.date) == (
        budget.title,
        budget.initial_amount,
        budget.date,
    )


def test_delete_budget_removes_its_transactions(auth_client, budget):
    make_transaction(budget)
    make_transaction(budget)

    response = auth_client.delete(url(budget.id))

    assert (response.status_code, response.content) == (204, b"")
    assert not Budget.objects.exists()
    assert not Transaction.objects.exists()
    assert auth_client.get(url(budget.id)).status_code == 404


# --- Isolation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("put", VALID), ("patch", {"title": "Mine now"}), ("delete", None)],
)
def test_someone_elses_budget_is_404_like_a_missing_one(auth_client, other_user, method, body):
    foreign = make_budget(other_user, title="Secret")

    foreign_response = getattr(auth_client, method)(url(foreign.id), body)
    missing_response = getattr(auth_client, method)(url(foreign.id + 1000), body)

    assert foreign_response.status_code == missing_response.status_code == 404
    assert foreign_response.json() == missing_response.json() == {"detail": "Not found."}
    foreign.refresh_from_db()
    assert foreign.title == "Secret"


def test_list_never_shows_other_users_budgets(auth_client, user, other_user):
    mine = make_budget(user, title="Mine")
    make_budget(other_user, title="Theirs")

    response = auth_client.get(url())

    assert response.status_code == 200
    assert [b["id"] for b in response.json()["results"]] == [mine.id]
    assert response.json()["count"] == 1


# --- List: pagination, filters, ordering -------------------------------------------------


def test_list_default_order_is_newest_date_then_newest_created(auth_client, user):
    old = make_budget(user, date=dt.date(2025, 1, 1))
    first_same_day = make_budget(user, date=dt.date(2026, 6, 1))
    second_same_day = make_budget(user, date=dt.date(2026, 6, 1))

    response = auth_client.get(url())

    ids = [b["id"] for b in response.json()["results"]]
    assert ids == [second_same_day.id, first_same_day.id, old.id]


@pytest.mark.parametrize(
    ("ordering", "expected_titles"),
    [
        ("title", ["apple", "Banana", "cherry"]),
        ("-title", ["cherry", "Banana", "apple"]),
        ("initial_amount", ["cherry", "apple", "Banana"]),
        ("-initial_amount", ["Banana", "apple", "cherry"]),
        ("date", ["Banana", "cherry", "apple"]),
        ("-date", ["apple", "cherry", "Banana"]),
        ("created_at", ["Banana", "apple", "cherry"]),
        ("-created_at", ["cherry", "apple", "Banana"]),
    ],
)
def test_list_ordering(auth_client, user, ordering, expected_titles):
    make_budget(user, title="Banana", initial_amount=Decimal("300"), date=dt.date(2026, 1, 1))
    make_budget(user, title="apple", initial_amount=Decimal("200"), date=dt.date(2026, 3, 1))
    make_budget(user, title="cherry", initial_amount=Decimal("100"), date=dt.date(2026, 2, 1))

    response = auth_client.get(url(), {"ordering": ordering})

    assert response.status_code == 200
    assert [b["title"] for b in response.json()["results"]] == expected_titles


def test_ordering_ties_break_on_id(auth_client, user):
    budgets = [make_budget(user, title="Same", initial_amount=Decimal("5")) for _ in range(3)]

    ascending = auth_client.get(url(), {"ordering": "initial_amount"}).json()["results"]
    descending = auth_client.get(url(), {"ordering": "-initial_amount"}).json()["results"]

    ids = [b.id for b in budgets]
    assert [b["id"] for b in ascending] == ids
    assert [b["id"] for b in descending] == ids[::-1]


def test_search_matches_title_or_description_case_insensitively(auth_client, user):
    in_title = make_budget(user, title="Summer TRIP")
    in_description = make_budget(user, title="Other", description="a trip to Rome")
    make_budget(user, title="Groceries")

    response = auth_client.get(url(), {"search": "trip"})

    assert {b["id"] for b in response.json()["results"]} == {in_title.id, in_description.id}


def test_date_range_is_inclusive(auth_client, user):
    for day in (1, 10, 20, 30):
        make_budget(user, title=f"d{day}", date=dt.date(2026, 4, day))

    response = auth_client.get(url(), {"date_from": "2026-04-10", "date_to": "2026-04-20"})

    assert sorted(b["title"] for b in response.json()["results"]) == ["d10", "d20"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "user"}, "ordering"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"search": "x" * 101}, "search"),
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
    ],
)
def test_malformed_list_parameters_are_400_naming_the_parameter(auth_client, budget, params, field):
    response = auth_client.get(url(), params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_pagination_shape_and_links_keep_other_parameters(auth_client, user):
    for n in range(5):
        make_budget(user, title=f"Trip {n}", date=dt.date(2026, 1, n + 1))

    first = auth_client.get(url(), {"search": "trip", "page_size": 2}).json()
    second = auth_client.get(url(), {"search": "trip", "page_size": 2, "page": 2}).json()
    last = auth_client.get(url(), {"search": "trip", "page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/budgets/?search=trip&page_size=2&page=2"
    assert second["previous"] == "http://testserver/api/budgets/?search=trip&page_size=2"
    assert second["next"] == "http://testserver/api/budgets/?search=trip&page_size=2&page=3"
    assert last["next"] is None
    assert [len(p["results"]) for p in (first, second, last)] == [2, 2, 1]
    seen = [b["id"] for p in (first, second, last) for b in p["results"]]
    assert len(set(seen)) == 5


def test_page_past_the_end_is_404_invalid_page(auth_client, budget):
    response = auth_client.get(url(), {"page": 2})

    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


def test_first_page_of_empty_list_is_200(auth_client):
    response = auth_client.get(url())

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_default_and_maximum_page_size(auth_client, user):
    Budget.objects.bulk_create(
        Budget(user=user, title=f"B{n}", date=dt.date(2026, 1, 1), initial_amount=1)
        for n in range(105)
    )

    default = auth_client.get(url()).json()
    biggest = auth_client.get(url(), {"page_size": 100}).json()

    assert (default["count"], len(default["results"])) == (105, 20)
    assert len(biggest["results"]) == 100


@pytest.mark.parametrize("size", [1, 50])
def test_list_query_count_does_not_grow_with_budgets(
    auth_client, user, size, django_assert_num_queries
):
    for n in range(size):
        budget = make_budget(user, title=f"B{n}")
        make_transaction(budget, "-1.00")
        make_transaction(budget, "2.00")

    # 1 user lookup for the token, 1 count, 1 page (balances come from the same query).
    with django_assert_num_queries(3):
        response = auth_client.get(url(), {"page_size": 100})

    assert response.status_code == 200
    assert {b["balance"] for b in response.json()["results"]} == {"1001.00"}
