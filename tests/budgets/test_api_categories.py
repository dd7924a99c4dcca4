"""Categories over HTTP: CRUD, name rules, per-user uniqueness (also under a race),
isolation between users and what deleting a category does to its transactions."""

from unittest import mock

import pytest
from django.db import IntegrityError
from django.db import transaction as db_transaction

from budgets import messages, services
from budgets.models import Category, Transaction
from project.errors import FieldError
from tests.conftest import TIMESTAMP, make_budget, make_category, make_transaction

URL = "/api/categories/"
NOT_FOUND = {"detail": "Not found."}
EXISTS = {"name": [messages.CATEGORY_EXISTS]}


def detail_url(category_id) -> str:
    return f"{URL}{category_id}/"


def expected(category: Category) -> dict:
    return {
        "id": category.pk,
        "user": category.user_id,
        "name": category.name,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }


def names(user) -> list[str]:
    return list(Category.objects.filter(user=user).order_by("id").values_list("name", flat=True))


# --- Create --------------------------------------------------------------------------


def test_create_category(auth_client, user):
    response = auth_client.post(URL, {"name": "Groceries"})

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": mock.ANY,
        "user": user.pk,
        "name": "Groceries",
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    category = Category.objects.get(pk=body["id"])
    assert (category.user, category.name) == (user, "Groceries")


def test_create_trims_the_name(auth_client, user):
    response = auth_client.post(URL, {"name": "  \t Rent \n "})

    assert response.status_code == 201
    assert response.json()["name"] == "Rent"
    assert names(user) == ["Rent"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a", id="1-char"),
        pytest.param("x" * 100, id="100-chars"),
        pytest.param("   " + "x" * 100 + "   ", id="100-chars-after-trimming"),
        pytest.param("Café & Co. 🍕", id="unicode"),
    ],
)
def test_create_accepts_names_within_bounds(auth_client, user, name):
    response = auth_client.post(URL, {"name": name})

    assert response.status_code == 201
    assert response.json()["name"] == name.strip()
    assert names(user) == [name.strip()]


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        pytest.param({"name": "x" * 101}, ["Name must have at most 100 characters."], id="101"),
        pytest.param({"name": ""}, ["Name may not be blank."], id="empty"),
        pytest.param({"name": "   \t\n "}, ["Name may not be blank."], id="whitespace"),
        pytest.param({}, ["Name is required."], id="missing"),
        pytest.param({"name": None}, ["Name must be a string."], id="null"),
        pytest.param({"name": 42}, ["Name must be a string."], id="number"),
        pytest.param({"name": ["Food"]}, ["Name must be a string."], id="list"),
    ],
)
def test_create_rejects_invalid_names(auth_client, user, payload, errors):
    response = auth_client.post(URL, payload)

    assert response.status_code == 400
    assert response.json() == {"name": errors}
    assert Category.objects.count() == 0


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_read_only_and_unknown_fields_are_ignored(auth_client, user, other_user, method):
    existing = make_category(user, "Old") if method != "post" else None
    path = URL if existing is None else detail_url(existing.pk)
    payload = {
        "name": "Travel",
        "id": 987654,
        "user": other_user.pk,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "colour": "red",
    }

    response = getattr(auth_client, method)(path, payload)

    assert response.status_code == (201 if method == "post" else 200)
    category = Category.objects.get()
    assert response.json() == expected(category)
    assert (category.user, category.name) == (user, "Travel")
    assert category.pk != 987654
    assert 2000 not in (category.created_at.year, category.updated_at.year)


@pytest.mark.parametrize("duplicate", ["Food", "food", "FOOD", "fOoD", "  food  "])
def test_create_duplicate_name_in_any_case_is_rejected(auth_client, user, category, duplicate):
    response = auth_client.post(URL, {"name": duplicate})

    assert response.status_code == 400
    assert response.json() == EXISTS
    assert names(user) == ["Food"]


@pytest.mark.parametrize(
    ("existing", "duplicate"),
    [("Épicerie", "épicerie"), ("Café", "CAFÉ"), ("Ölkosten", "ölkosten")],
    ids=["e-acute-lower", "e-acute-upper", "o-umlaut-lower"],
)
def test_duplicate_check_folds_case_beyond_ascii(auth_client, user, existing, duplicate):
    """Case-insensitive uniqueness holds for accented letters too, on every database."""
    make_category(user, existing)

    response = auth_client.post(URL, {"name": duplicate})

    assert response.status_code == 400
    assert response.json() == EXISTS
    assert names(user) == [existing]


def test_two_users_may_have_the_same_name(auth_client, user, other_user):
    theirs = make_category(other_user, "Food")

    response = auth_client.post(URL, {"name": "FOOD"})

    assert response.status_code == 201
    assert response.json()["user"] == user.pk
    assert names(user) == ["FOOD"]
    assert names(other_user) == [theirs.name]


def test_the_database_decides_a_duplicate_and_the_service_says_so(user):
    make_category(user, "Food")

    with pytest.raises(FieldError) as excinfo:
        services.category_create(user=user, name="FOOD")

    assert excinfo.value.errors == EXISTS
    assert Category.objects.filter(user=user).count() == 1
    # The connection is still usable: the failed insert was rolled back to a savepoint.
    assert services.category_create(user=user, name="Rent").name == "Rent"


def test_database_enforces_case_insensitive_uniqueness_per_user(user, other_user):
    make_category(user, "Food")

    with pytest.raises(IntegrityError), db_transaction.atomic():
        Category.objects.create(user=user, name="fOoD")

    assert Category.objects.create(user=other_user, name="fOoD").pk


# --- Read ----------------------------------------------------------------------------


def test_get_category(auth_client, category):
    response = auth_client.get(detail_url(category.pk))

    assert response.status_code == 200
    assert response.json() == expected(category)


def test_list_is_ordered_by_name_case_insensitively_then_id(auth_client, user, other_user):
    created = [make_category(user, name) for name in ["banana", "Apple", "cherry", "apple pie"]]
    make_category(other_user, "Aardvark")
    banana, apple, cherry, apple_pie = created

    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "count": 4,
        "next": None,
        "previous": None,
        "results": [expected(c) for c in (apple, apple_pie, banana, cherry)],
    }


def test_list_is_paginated(auth_client, user):
    for name in ["d", "C", "b", "A", "e"]:
        make_category(user, name)

    first = auth_client.get(URL, {"page_size": 2}).json()
    last = auth_client.get(URL, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert [c["name"] for c in first["results"]] == ["A", "b"]
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/categories/?page_size=2&page=2"
    assert [c["name"] for c in last["results"]] == ["e"]
    assert last["next"] is None
    assert last["previous"] == "http://testserver/api/categories/?page_size=2&page=2"


def test_list_of_a_user_without_categories_is_empty(auth_client, other_user):
    make_category(other_user, "Food")

    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


# --- Update --------------------------------------------------------------------------


def test_put_renames(auth_client, category):
    response = auth_client.put(detail_url(category.pk), {"name": "  Groceries "})

    assert response.status_code == 200
    category.refresh_from_db()
    assert category.name == "Groceries"
    assert response.json() == expected(category)


def test_patch_renames(auth_client, category):
    response = auth_client.patch(detail_url(category.pk), {"name": "Eating out"})

    assert response.status_code == 200
    category.refresh_from_db()
    assert category.name == "Eating out"
    assert response.json() == expected(category)


def test_patch_with_empty_body_changes_nothing(auth_client, category):
    response = auth_client.patch(detail_url(category.pk), {})

    assert response.status_code == 200
    assert response.json() == expected(category)
    category.refresh_from_db()
    assert category.name == "Food"


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("same_name", ["Food", "food", "FOOD"])
def test_renaming_to_its_own_name_in_any_case_is_allowed(auth_client, category, method, same_name):
    response = getattr(auth_client, method)(detail_url(category.pk), {"name": same_name})

    assert response.status_code == 200
    assert response.json()["name"] == same_name
    category.refresh_from_db()
    assert category.name == same_name


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("taken", ["Rent", "rent", " RENT "])
def test_renaming_to_another_existing_name_is_rejected(auth_client, user, method, taken):
    food = make_category(user, "Food")
    make_category(user, "Rent")

    response = getattr(auth_client, method)(detail_url(food.pk), {"name": taken})

    assert response.status_code == 400
    assert response.json() == EXISTS
    assert names(user) == ["Food", "Rent"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_renaming_to_a_name_another_user_has_is_allowed(auth_client, category, other_user, method):
    make_category(other_user, "Rent")

    response = getattr(auth_client, method)(detail_url(category.pk), {"name": "Rent"})

    assert response.status_code == 200
    assert response.json()["name"] == "Rent"


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        pytest.param({"name": "x" * 101}, ["Name must have at most 100 characters."], id="101"),
        pytest.param({"name": ""}, ["Name may not be blank."], id="empty"),
        pytest.param({"name": "  "}, ["Name may not be blank."], id="whitespace"),
        pytest.param({"name": None}, ["Name must be a string."], id="null"),
    ],
)
def test_update_rejects_invalid_names(auth_client, category, method, payload, errors):
    response = getattr(auth_client, method)(detail_url(category.pk), payload)

    assert response.status_code == 400
    assert response.json() == {"name": errors}
    category.refresh_from_db()
    assert category.name == "Food"


def test_put_requires_the_name(auth_client, category):
    response = auth_client.put(detail_url(category.pk), {})

    assert response.status_code == 400
    assert response.json() == {"name": ["Name is required."]}


# --- Delete --------------------------------------------------------------------------


def test_delete_category(auth_client, user, category):
    response = auth_client.delete(detail_url(category.pk))

    assert response.status_code == 204
    assert response.content == b""
    assert not Category.objects.filter(pk=category.pk).exists()
    assert auth_client.get(detail_url(category.pk)).status_code == 404


def test_delete_keeps_transactions_uncategorised(auth_client, user, category):
    budget = make_budget(user)
    kept_category = make_category(user, "Rent")
    in_deleted = [make_transaction(budget, "-12.50", category=category) for _ in range(2)]
    in_kept = make_transaction(budget, "-700.00", category=kept_category)

    response = auth_client.delete(detail_url(category.pk))

    assert response.status_code == 204
    assert Transaction.objects.count() == 3
    for tx in in_deleted:
        body = auth_client.get(f"/api/transactions/{tx.pk}/").json()
        assert body["category"] is None
        assert body["amount"] == "-12.50"
    in_kept.refresh_from_db()
    assert in_kept.category == kept_category
    balance = auth_client.get(f"/api/budgets/{budget.pk}/").json()["balance"]
    assert balance == "275.00"  # 1000.00 - 12.50 - 12.50 - 700.00


# --- Isolation and missing ids -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("put", {"name": "Mine"}), ("patch", {"name": "Mine"}), ("delete", None)],
)
def test_another_users_category_is_not_found(auth_client, other_user, method, payload):
    theirs = make_category(other_user, "Secret")

    response = getattr(auth_client, method)(detail_url(theirs.pk), payload)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.name == "Secret"


@pytest.mark.parametrize("category_id", [0, 987654, 2**63, 2**64 + 1, 10**30])
@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("put", {"name": "Mine"}), ("patch", {"name": "Mine"}), ("delete", None)],
)
def test_missing_category_is_not_found(auth_client, user, method, payload, category_id):
    response = getattr(auth_client, method)(detail_url(category_id), payload)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert Category.objects.count() == 0


def test_list_never_shows_other_users_categories(auth_client, other_client, user, other_user):
    mine = make_category(user, "Mine")
    theirs = make_category(other_user, "Theirs")

    assert [c["id"] for c in auth_client.get(URL).json()["results"]] == [mine.pk]
    assert [c["id"] for c in other_client.get(URL).json()["results"]] == [theirs.pk]


@pytest.mark.parametrize(
    ("method", "on_detail"),
    [
        ("get", False),
        ("post", False),
        ("get", True),
        ("put", True),
        ("patch", True),
        ("delete", True),
    ],
)
def test_every_route_requires_a_token(api_client, user, method, on_detail):
    category = make_category(user, "Food")
    path = detail_url(category.pk) if on_detail else URL
    payload = None if method in ("get", "delete") else {"name": "Other"}

    response = getattr(api_client, method)(path, payload)

    assert response.status_code == 401
    assert list(response.json()) == ["detail"]
    assert response["WWW-Authenticate"] == "Bearer"
    assert names(user) == ["Food"]


def test_body_that_is_not_json_is_rejected(auth_client, user):
    response = auth_client.post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["detail"]
    assert Category.objects.count() == 0
