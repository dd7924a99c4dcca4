"""Transactions over HTTP: CRUD, every validation rule at its boundaries, isolation
between users, budget balances after each kind of change, filters, ordering,
pagination and constant query counts."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError, IntegrityError
from django.db import transaction as db_transaction

from budgets import messages
from budgets.models import Transaction
from tests.conftest import TIMESTAMP, make_budget, make_category, make_transaction

URL = "/api/transactions/"
NOT_FOUND = {"detail": "Not found."}
BUDGET_NOT_FOUND = {"budget": [messages.BUDGET_NOT_FOUND]}
CATEGORY_NOT_FOUND = {"category": [messages.CATEGORY_NOT_FOUND]}
# Ids that cannot exist: unused, zero, negative, the first beyond bigint, far beyond 64 bits.
ABSENT_IDS = [987654, 0, -1, 2**63, 2**64 + 1, 10**30]


def detail_url(transaction_id) -> str:
    return f"{URL}{transaction_id}/"


def expected(tx: Transaction) -> dict:
    return {
        "id": tx.pk,
        "budget": tx.budget_id,
        "amount": f"{tx.amount:.2f}",
        "category": tx.category_id,
        "description": tx.description,
        "date": tx.date.isoformat(),
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }


def body_for(budget, /, **fields) -> dict:
    return {"budget": budget.pk, "amount": "-45.50", "date": "2026-02-15", **fields}


def balance(client, budget) -> str:
    response = client.get(f"/api/budgets/{budget.pk}/")
    assert response.status_code == 200
    return response.json()["balance"]


def snapshot() -> list[tuple]:
    """Every transaction row, to prove a rejected request changed nothing."""
    return list(
        Transaction.objects.order_by("id").values_list(
            "id", "budget_id", "amount", "category_id", "description", "date", "updated_at"
        )
    )


# --- Create --------------------------------------------------------------------------


def test_create_transaction(auth_client, budget, category):
    payload = {
        "budget": budget.pk,
        "amount": "-45.50",
        "category": category.pk,
        "description": "Groceries",
        "date": "2026-02-15",
    }

    response = auth_client.post(URL, payload)

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": mock.ANY,
        "budget": budget.pk,
        "amount": "-45.50",
        "category": category.pk,
        "description": "Groceries",
        "date": "2026-02-15",
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    tx = Transaction.objects.get(pk=body["id"])
    assert (tx.budget, tx.amount, tx.category, tx.description, tx.date) == (
        budget,
        Decimal("-45.50"),
        category,
        "Groceries",
        dt.date(2026, 2, 15),
    )


def test_create_with_only_the_required_fields(auth_client, budget):
    response = auth_client.post(URL, {"budget": budget.pk, "amount": "2500", "date": "2026-02-01"})

    assert response.status_code == 201
    tx = Transaction.objects.get()
    assert response.json() == expected(tx)
    assert (tx.amount, tx.category, tx.description) == (Decimal("2500.00"), None, "")


def test_create_with_null_category(auth_client, budget):
    response = auth_client.post(URL, body_for(budget, category=None))

    assert response.status_code == 201
    assert response.json()["category"] is None


def test_create_ignores_read_only_and_unknown_fields(auth_client, budget, other_user):
    payload = body_for(
        budget,
        id=987654,
        user=other_user.pk,
        balance="1.00",
        created_at="2000-01-01T00:00:00Z",
        updated_at="2000-01-01T00:00:00Z",
        type="income",
        tags=["x"],
    )

    response = auth_client.post(URL, payload)

    assert response.status_code == 201
    tx = Transaction.objects.get()
    assert response.json() == expected(tx)
    assert tx.pk != 987654
    assert tx.created_at.year != 2000
    assert tx.amount == Decimal("-45.50")
    assert balance(auth_client, budget) == "954.50"


# --- Validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        pytest.param("0.01", "0.01", id="smallest-income"),
        pytest.param("-0.01", "-0.01", id="smallest-expense"),
        pytest.param("9999999999.99", "9999999999.99", id="largest-income"),
        pytest.param("-9999999999.99", "-9999999999.99", id="largest-expense"),
        pytest.param(12.5, "12.50", id="json-number"),
        pytest.param(-7, "-7.00", id="json-integer"),
        pytest.param("100", "100.00", id="no-decimals"),
        pytest.param("3.1", "3.10", id="one-decimal"),
    ],
)
def test_create_accepts_amounts_within_bounds(auth_client, budget, amount, stored):
    response = auth_client.post(URL, body_for(budget, amount=amount))

    assert response.status_code == 201
    assert response.json()["amount"] == stored
    assert Transaction.objects.get().amount == Decimal(stored)


ZERO = "Amount must not be zero."
NOT_A_NUMBER = "Amount must be a valid number."
NOT_FINITE = "Amount must be a finite number."
TWO_PLACES = "Amount must have at most 2 decimal places."

BAD_AMOUNTS = [
    pytest.param(0, ZERO, id="zero"),
    pytest.param("0", ZERO, id="zero-string"),
    pytest.param("0.00", ZERO, id="zero-cents"),
    pytest.param("-0.00", ZERO, id="negative-zero"),
    pytest.param("1.234", TWO_PLACES, id="3-decimals"),
    pytest.param("-0.001", TWO_PLACES, id="3-decimals-below-a-cent"),
    pytest.param(0.005, TWO_PLACES, id="3-decimals-number"),
    pytest.param("10000000000.00", "Amount must be at most 9999999999.99.", id="one-cent-over-max"),
    pytest.param(
        "-10000000000.00", "Amount must be at least -9999999999.99.", id="one-cent-under-min"
    ),
    pytest.param(float("nan"), NOT_FINITE, id="nan-number"),
    pytest.param(float("inf"), NOT_FINITE, id="infinity-number"),
    pytest.param("NaN", NOT_A_NUMBER, id="nan-string"),
    pytest.param("Infinity", NOT_A_NUMBER, id="infinity-string"),
    pytest.param("1e400", NOT_A_NUMBER, id="exponent-string"),
    pytest.param("1e2", NOT_A_NUMBER, id="small-exponent-string"),
    pytest.param("1_000", NOT_A_NUMBER, id="underscores"),
    pytest.param("12,50", NOT_A_NUMBER, id="comma"),
    pytest.param("abc", NOT_A_NUMBER, id="text"),
    pytest.param("", NOT_A_NUMBER, id="empty-string"),
    pytest.param(True, NOT_A_NUMBER, id="true"),
    pytest.param(False, NOT_A_NUMBER, id="false"),
    pytest.param(None, NOT_A_NUMBER, id="null"),
]


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_create_rejects_bad_amounts(auth_client, budget, amount, message):
    response = auth_client.post(URL, body_for(budget, amount=amount))

    assert response.status_code == 400
    assert response.json() == {"amount": [message]}
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_create_rejects_non_finite_json_number_literals(auth_client, budget, literal):
    raw = f'{{"budget": {budget.pk}, "amount": {literal}, "date": "2026-02-15"}}'

    response = auth_client.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"amount": [NOT_FINITE]}
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize("description", ["", "x", "x" * 255, "  " + "x" * 255 + "  "])
def test_create_accepts_descriptions_up_to_255_chars(auth_client, budget, description):
    response = auth_client.post(URL, body_for(budget, description=description))

    assert response.status_code == 201
    assert response.json()["description"] == description.strip()
    assert Transaction.objects.get().description == description.strip()


def test_create_trims_the_description(auth_client, budget):
    response = auth_client.post(URL, body_for(budget, description=" \t Coffee \n"))

    assert response.status_code == 201
    assert response.json()["description"] == "Coffee"


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("x" * 256, "Description must have at most 255 characters."),
        (" " + "x" * 256, "Description must have at most 255 characters."),
        (42, "Description must be a string."),
    ],
    ids=["256-chars", "256-chars-after-trimming", "number"],
)
def test_create_rejects_bad_descriptions(auth_client, budget, description, message):
    response = auth_client.post(URL, body_for(budget, description=description))

    assert response.status_code == 400
    assert response.json() == {"description": [message]}
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize("date", ["2024-02-29", "1999-12-31", "2100-01-01"])
def test_create_accepts_any_real_date(auth_client, budget, date):
    response = auth_client.post(URL, body_for(budget, date=date))

    assert response.status_code == 201
    assert response.json()["date"] == date


@pytest.mark.parametrize(
    "date",
    [
        "2026-02-30",
        "2025-02-29",
        "2026-13-01",
        "2026-2-5",
        "15/02/2026",
        "2026-02-15T10:00:00",
        "2026-02-15T00:00:00Z",
        "",
        "today",
        20260215,
        None,
    ],
)
def test_create_rejects_invalid_dates(auth_client, budget, date):
    response = auth_client.post(URL, body_for(budget, date=date))

    assert response.status_code == 400
    assert response.json() == {"date": ["Date must be a valid date (YYYY-MM-DD)."]}
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize(
    ("missing", "errors"),
    [
        (["budget"], {"budget": ["Budget is required."]}),
        (["amount"], {"amount": ["Amount is required."]}),
        (["date"], {"date": ["Date is required."]}),
        (
            ["budget", "amount", "date"],
            {
                "budget": ["Budget is required."],
                "amount": ["Amount is required."],
                "date": ["Date is required."],
            },
        ),
    ],
    ids=["budget", "amount", "date", "all"],
)
def test_create_requires_budget_amount_and_date(auth_client, budget, missing, errors):
    payload = {k: v for k, v in body_for(budget).items() if k not in missing}

    response = auth_client.post(URL, payload)

    assert response.status_code == 400
    assert response.json() == errors
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("budget", "abc", "Budget must be a whole number."),
        ("budget", 1.5, "Budget must be a whole number."),
        ("budget", None, "Budget must be a whole number."),
        ("budget", True, "Budget must be a whole number."),
        ("category", "abc", "Category must be a whole number."),
        ("category", True, "Category must be a whole number."),
    ],
)
def test_create_rejects_malformed_ids(auth_client, budget, field, value, message):
    response = auth_client.post(URL, body_for(budget, **{field: value}))

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert Transaction.objects.count() == 0


NOT_AN_OBJECT = {"non_field_errors": ["Request body must be a JSON object."]}


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        ("{not json", {"detail": "Request body is not valid JSON."}),
        ("[]", NOT_AN_OBJECT),
        ('"text"', NOT_AN_OBJECT),
        ("null", NOT_AN_OBJECT),
        ("42", NOT_AN_OBJECT),
    ],
)
def test_create_rejects_bodies_that_are_not_json_objects(auth_client, budget, raw, errors):
    response = auth_client.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == errors
    assert Transaction.objects.count() == 0


def test_database_refuses_zero_and_out_of_range_amounts(budget):
    tx = make_transaction(budget, "1.00")

    for amount in ["0.00", "10000000000.00", "-10000000000.00"]:
        with pytest.raises(DatabaseError), db_transaction.atomic():
            Transaction.objects.filter(pk=tx.pk).update(amount=Decimal(amount))
    with pytest.raises(IntegrityError), db_transaction.atomic():
        Transaction.objects.create(budget=budget, amount=Decimal("0"), date=dt.date(2026, 1, 1))

    tx.refresh_from_db()
    assert tx.amount == Decimal("1.00")


# --- Read ----------------------------------------------------------------------------


def test_get_transaction(auth_client, transaction):
    response = auth_client.get(detail_url(transaction.pk))

    assert response.status_code == 200
    assert response.json() == expected(transaction)


# --- Update --------------------------------------------------------------------------


def test_put_replaces_every_field(auth_client, user, transaction):
    other_budget = make_budget(user, title="Holiday")
    rent = make_category(user, "Rent")
    payload = {
        "budget": other_budget.pk,
        "amount": "1200",
        "category": rent.pk,
        "description": "  Salary ",
        "date": "2026-03-01",
    }

    response = auth_client.put(detail_url(transaction.pk), payload)

    assert response.status_code == 200
    transaction.refresh_from_db()
    assert response.json() == expected(transaction)
    assert (
        transaction.budget,
        transaction.amount,
        transaction.category,
        transaction.description,
        transaction.date,
    ) == (other_budget, Decimal("1200.00"), rent, "Salary", dt.date(2026, 3, 1))


def test_put_without_optional_fields_resets_them(auth_client, budget, category):
    tx = make_transaction(budget, "-5.00", category=category, description="Snacks")

    response = auth_client.put(detail_url(tx.pk), body_for(budget))

    assert response.status_code == 200
    tx.refresh_from_db()
    assert (tx.category, tx.description, tx.amount) == (None, "", Decimal("-45.50"))


@pytest.mark.parametrize("missing", ["budget", "amount", "date"])
def test_put_requires_every_required_field(auth_client, budget, transaction, missing):
    before = snapshot()
    payload = {k: v for k, v in body_for(budget).items() if k != missing}

    response = auth_client.put(detail_url(transaction.pk), payload)

    assert response.status_code == 400
    assert response.json() == {missing: [f"{missing.capitalize()} is required."]}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("patch", "changed"),
    [
        ({"amount": "99.99"}, {"amount": Decimal("99.99")}),
        ({"description": "  Lunch  "}, {"description": "Lunch"}),
        ({"date": "2026-12-31"}, {"date": dt.date(2026, 12, 31)}),
        ({"category": None}, {"category_id": None}),
    ],
    ids=["amount", "description", "date", "category-null"],
)
def test_patch_changes_only_the_given_fields(auth_client, transaction, patch, changed):
    before = {
        "budget_id": transaction.budget_id,
        "amount": transaction.amount,
        "category_id": transaction.category_id,
        "description": transaction.description,
        "date": transaction.date,
    }

    response = auth_client.patch(detail_url(transaction.pk), patch)

    assert response.status_code == 200
    transaction.refresh_from_db()
    assert response.json() == expected(transaction)
    after = {name: getattr(transaction, name) for name in before}
    assert after == {**before, **changed}


def test_patch_sets_another_own_category(auth_client, user, transaction):
    rent = make_category(user, "Rent")

    response = auth_client.patch(detail_url(transaction.pk), {"category": rent.pk})

    assert response.status_code == 200
    assert response.json()["category"] == rent.pk
    transaction.refresh_from_db()
    assert transaction.category == rent


def test_patch_with_empty_body_changes_nothing(auth_client, transaction):
    before = snapshot()

    response = auth_client.patch(detail_url(transaction.pk), {})

    assert response.status_code == 200
    assert response.json() == expected(transaction)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("patch", "errors"),
    [
        ({"amount": "0"}, {"amount": [ZERO]}),
        ({"amount": "1.001"}, {"amount": [TWO_PLACES]}),
        ({"amount": None}, {"amount": [NOT_A_NUMBER]}),
        ({"amount": "10000000000"}, {"amount": ["Amount must be at most 9999999999.99."]}),
        ({"budget": None}, {"budget": ["Budget must be a whole number."]}),
        ({"date": None}, {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
        ({"date": "2026-02-30"}, {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
        (
            {"description": "x" * 256},
            {"description": ["Description must have at most 255 characters."]},
        ),
        ({"description": None}, {"description": ["Description must be a string."]}),
    ],
    ids=[
        "zero",
        "3-decimals",
        "null-amount",
        "too-large",
        "null-budget",
        "null-date",
        "bad-date",
        "long-description",
        "null-description",
    ],
)
def test_patch_rejects_invalid_values(auth_client, transaction, patch, errors):
    before = snapshot()

    response = auth_client.patch(detail_url(transaction.pk), patch)

    assert response.status_code == 400
    assert response.json() == errors
    assert snapshot() == before


def test_update_ignores_read_only_and_unknown_fields(auth_client, budget, transaction, other_user):
    junk = {
        "id": 987654,
        "user": other_user.pk,
        "balance": "1.00",
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "colour": "red",
    }

    put = auth_client.put(detail_url(transaction.pk), {**body_for(budget), **junk})
    patch = auth_client.patch(detail_url(transaction.pk), junk)

    assert put.status_code == 200
    assert patch.status_code == 200
    transaction.refresh_from_db()
    assert patch.json() == expected(transaction)
    assert transaction.created_at.year != 2000
    assert not Transaction.objects.filter(pk=987654).exists()


# --- Delete --------------------------------------------------------------------------


def test_delete_transaction(auth_client, budget, transaction):
    keep = make_transaction(budget, "5.00")

    response = auth_client.delete(detail_url(transaction.pk))

    assert response.status_code == 204
    assert response.content == b""
    assert list(Transaction.objects.values_list("id", flat=True)) == [keep.pk]
    assert auth_client.get(detail_url(transaction.pk)).json() == NOT_FOUND


def test_deleting_a_budget_deletes_its_transactions(auth_client, user, category):
    doomed = make_budget(user, title="Doomed")
    kept = make_budget(user, title="Kept")
    doomed_txs = [make_transaction(doomed, a, category=category) for a in ("-1.00", "2.00")]
    kept_tx = make_transaction(kept, "3.00", category=category)

    response = auth_client.delete(f"/api/budgets/{doomed.pk}/")

    assert response.status_code == 204
    assert list(Transaction.objects.values_list("id", flat=True)) == [kept_tx.pk]
    for tx in doomed_txs:
        assert auth_client.get(detail_url(tx.pk)).status_code == 404
    listed = auth_client.get(URL).json()
    assert [t["id"] for t in listed["results"]] == [kept_tx.pk]
    assert balance(auth_client, kept) == "1003.00"


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


# --- Balance -------------------------------------------------------------------------


def test_balance_follows_every_change_across_two_budgets(auth_client, user):
    a = make_budget(user, title="A", initial_amount=Decimal("1000.00"))
    b = make_budget(user, title="B", initial_amount=Decimal("500.00"))

    def post(budget, amount):
        response = auth_client.post(URL, body_for(budget, amount=amount))
        assert response.status_code == 201
        return response.json()["id"]

    def balances():
        return balance(auth_client, a), balance(auth_client, b)

    assert balances() == ("1000.00", "500.00")

    salary = post(a, "250.00")
    assert balances() == ("1250.00", "500.00")
    food = post(a, "-99.99")
    assert balances() == ("1150.01", "500.00")
    coffee = post(b, "-0.01")
    assert balances() == ("1150.01", "499.99")

    # PUT changes the amount: 1000 + 300.50 - 99.99
    assert auth_client.put(detail_url(salary), body_for(a, amount="300.50")).status_code == 200
    assert balances() == ("1200.51", "499.99")
    # PATCH changes the amount: 1000 + 300.50 - 100.00
    assert auth_client.patch(detail_url(food), {"amount": "-100.00"}).status_code == 200
    assert balances() == ("1200.50", "499.99")
    # PATCH moves salary to B: A = 1000 - 100.00, B = 500 - 0.01 + 300.50
    assert auth_client.patch(detail_url(salary), {"budget": b.pk}).status_code == 200
    assert balances() == ("900.00", "800.49")
    # PATCH moves food to B and changes its amount: A = 1000, B = 800.49 - 50.00
    moved = auth_client.patch(detail_url(food), {"budget": b.pk, "amount": "-50.00"})
    assert moved.status_code == 200
    assert moved.json()["budget"] == b.pk
    assert balances() == ("1000.00", "750.49")
    # PUT moves salary back to A: A = 1000 + 300.50, B = 500 - 0.01 - 50.00
    assert auth_client.put(detail_url(salary), body_for(a, amount="300.50")).status_code == 200
    assert balances() == ("1300.50", "449.99")
    # DELETE from each budget
    assert auth_client.delete(detail_url(coffee)).status_code == 204
    assert balances() == ("1300.50", "450.00")
    assert auth_client.delete(detail_url(salary)).status_code == 204
    assert balances() == ("1000.00", "450.00")

    listed = {b["id"]: b["balance"] for b in auth_client.get("/api/budgets/").json()["results"]}
    assert listed == {a.pk: "1000.00", b.pk: "450.00"}


def test_balance_handles_the_extreme_amounts(auth_client, user):
    budget = make_budget(user, initial_amount=Decimal("999999999.99"))
    for amount in ["9999999999.99", "9999999999.99", "-0.01"]:
        assert auth_client.post(URL, body_for(budget, amount=amount)).status_code == 201

    # 999999999.99 + 2 * 9999999999.99 - 0.01
    assert balance(auth_client, budget) == "20999999999.96"


def test_rejected_writes_leave_the_balance_alone(auth_client, budget, transaction):
    assert balance(auth_client, budget) == "990.00"

    assert auth_client.post(URL, body_for(budget, amount="0")).status_code == 400
    assert auth_client.patch(detail_url(transaction.pk), {"amount": "1.001"}).status_code == 400
    assert auth_client.patch(detail_url(transaction.pk), {"budget": 987654}).status_code == 400

    assert balance(auth_client, budget) == "990.00"


# --- Filters and ordering ------------------------------------------------------------


@pytest.fixture
def ledger(user, other_user):
    """Five transactions of the caller in two budgets, plus one of another user.

    label  budget  amount    category  description          date        created_at
    t1     A       2000.00   -         Salary February      2026-02-01  03-05
    t2     A        -45.50   food      Groceries at Lidl    2026-02-03  03-01
    t3     A       -700.00   rent      Rent February        2026-02-05  03-04
    t4     B        -12.25   food      coffee beans         2026-02-05  03-02
    t5     B        150.00   -         Refund groceries     2026-03-01  03-03
    """
    a = make_budget(user, title="A")
    b = make_budget(user, title="B")
    food = make_category(user, "Food")
    rent = make_category(user, "Rent")
    rows = {
        "t1": (a, "2000.00", None, "Salary February", (2, 1), (3, 5)),
        "t2": (a, "-45.50", food, "Groceries at Lidl", (2, 3), (3, 1)),
        "t3": (a, "-700.00", rent, "Rent February", (2, 5), (3, 4)),
        "t4": (b, "-12.25", food, "coffee beans", (2, 5), (3, 2)),
        "t5": (b, "150.00", None, "Refund groceries", (3, 1), (3, 3)),
    }
    labels = {}
    for label, (budget, amount, category, description, date, created) in rows.items():
        tx = make_transaction(
            budget,
            amount,
            category=category,
            description=description,
            date=dt.date(2026, *date),
        )
        created_at = dt.datetime(2026, *created, 12, 0, tzinfo=dt.UTC)
        Transaction.objects.filter(pk=tx.pk).update(created_at=created_at)
        labels[tx.pk] = label
    theirs = make_budget(other_user)
    their_food = make_category(other_user, "Food")
    make_transaction(
        theirs,
        "-45.50",
        category=their_food,
        description="Groceries February",
        date=dt.date(2026, 2, 3),
    )
    return {
        "labels": labels,
        "a": a.pk,
        "b": b.pk,
        "food": food.pk,
        "rent": rent.pk,
        "their_budget": theirs.pk,
        "their_food": their_food.pk,
    }


def listed_labels(client, ledger, params) -> list[str]:
    response = client.get(URL, {"page_size": 100, **params})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == len(body["results"])
    return [ledger["labels"].get(t["id"], "foreign") for t in body["results"]]


@pytest.mark.parametrize(
    ("params", "labels"),
    [
        ({}, ["t5", "t3", "t4", "t2", "t1"]),
        ({"budget": "a"}, ["t3", "t2", "t1"]),
        ({"budget": "b"}, ["t5", "t4"]),
        ({"category": "food"}, ["t4", "t2"]),
        ({"category": "rent"}, ["t3"]),
        ({"type": "income"}, ["t5", "t1"]),
        ({"type": "expense"}, ["t3", "t4", "t2"]),
        ({"date_from": "2026-02-05"}, ["t5", "t3", "t4"]),
        ({"date_to": "2026-02-03"}, ["t2", "t1"]),
        ({"date_from": "2026-02-03", "date_to": "2026-02-05"}, ["t3", "t4", "t2"]),
        ({"date_from": "2026-02-06", "date_to": "2026-02-04"}, []),
        ({"min_amount": "-45.50"}, ["t5", "t4", "t2", "t1"]),
        ({"max_amount": "-45.50"}, ["t3", "t2"]),
        ({"min_amount": "-100", "max_amount": "150"}, ["t5", "t4", "t2"]),
        ({"min_amount": "100"}, ["t5", "t1"]),
        ({"max_amount": "-700.01"}, []),
        ({"search": "GROCERIES"}, ["t5", "t2"]),
        ({"search": "february"}, ["t3", "t1"]),
        ({"search": "at li"}, ["t2"]),
        ({"search": ""}, ["t5", "t3", "t4", "t2", "t1"]),
        ({"search": "nothing like it"}, []),
        ({"budget": "a", "type": "expense", "category": "rent"}, ["t3"]),
        ({"budget": "a", "search": "groceries", "min_amount": "-50"}, ["t2"]),
        ({"type": "expense", "ordering": "amount"}, ["t3", "t2", "t4"]),
        ({"budget": "their_budget"}, []),
        ({"category": "their_food"}, []),
        ({"budget": "a", "category": "their_food"}, []),
        ({"budget": 987654}, []),
        ({"budget": 2**63}, []),
        ({"category": 10**30}, []),
    ],
)
def test_list_filters(auth_client, ledger, params, labels):
    # "a", "food", "their_budget"... name ledger objects; other values are sent as they are.
    params = {k: ledger.get(v, v) if isinstance(v, str) else v for k, v in params.items()}

    assert listed_labels(auth_client, ledger, params) == labels


@pytest.mark.parametrize(
    ("ordering", "labels"),
    [
        # ties on date (t3, t4) are broken by created_at, then id
        ("date", ["t1", "t2", "t4", "t3", "t5"]),
        ("-date", ["t5", "t3", "t4", "t2", "t1"]),
        ("amount", ["t3", "t2", "t4", "t5", "t1"]),
        ("-amount", ["t1", "t5", "t4", "t2", "t3"]),
        ("created_at", ["t2", "t4", "t5", "t3", "t1"]),
        ("-created_at", ["t1", "t3", "t5", "t4", "t2"]),
    ],
)
def test_list_ordering(auth_client, ledger, ordering, labels):
    assert listed_labels(auth_client, ledger, {"ordering": ordering}) == labels


@pytest.mark.parametrize(
    ("ordering", "ascending_ids"),
    [
        ("date", True),
        ("-date", False),
        ("amount", True),
        ("-amount", False),
        ("created_at", True),
        ("-created_at", False),
    ],
)
def test_list_ordering_breaks_ties_on_id(auth_client, budget, ordering, ascending_ids):
    txs = [make_transaction(budget, "-5.00", date=dt.date(2026, 2, 1)) for _ in range(4)]
    same_moment = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
    Transaction.objects.update(created_at=same_moment)
    ids = [tx.pk for tx in txs]

    response = auth_client.get(URL, {"ordering": ordering})

    assert [t["id"] for t in response.json()["results"]] == (ids if ascending_ids else ids[::-1])


def test_list_returns_full_bodies(auth_client, transaction):
    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [expected(transaction)],
    }


ORDERING_CHOICES = "'date', '-date', 'amount', '-amount', 'created_at' or '-created_at'"


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"budget": "abc"}, {"budget": ["Budget must be a whole number."]}),
        ({"budget": "1.5"}, {"budget": ["Budget must be a whole number."]}),
        ({"category": "abc"}, {"category": ["Category must be a whole number."]}),
        ({"type": "transfer"}, {"type": ["Type must be one of: 'income' or 'expense'."]}),
        ({"type": "INCOME"}, {"type": ["Type must be one of: 'income' or 'expense'."]}),
        (
            {"date_from": "2026-02-30"},
            {"date_from": ["Date from must be a valid date (YYYY-MM-DD)."]},
        ),
        ({"date_to": "yesterday"}, {"date_to": ["Date to must be a valid date (YYYY-MM-DD)."]}),
        ({"min_amount": "abc"}, {"min_amount": ["Min amount must be a valid number."]}),
        (
            {"min_amount": "1.234"},
            {"min_amount": ["Min amount must have at most 2 decimal places."]},
        ),
        ({"max_amount": "NaN"}, {"max_amount": ["Max amount must be a valid number."]}),
        ({"max_amount": "1e3"}, {"max_amount": ["Max amount must be a valid number."]}),
        ({"search": "x" * 101}, {"search": ["Search must have at most 100 characters."]}),
        ({"ordering": "id"}, {"ordering": [f"Ordering must be one of: {ORDERING_CHOICES}."]}),
        (
            {"ordering": "description"},
            {"ordering": [f"Ordering must be one of: {ORDERING_CHOICES}."]},
        ),
        ({"ordering": "-budget"}, {"ordering": [f"Ordering must be one of: {ORDERING_CHOICES}."]}),
        ({"ordering": ""}, {"ordering": [f"Ordering must be one of: {ORDERING_CHOICES}."]}),
    ],
)
def test_list_rejects_malformed_filters(auth_client, transaction, params, errors):
    response = auth_client.get(URL, params)

    assert response.status_code == 400
    assert response.json() == errors


# --- Pagination ----------------------------------------------------------------------


@pytest.fixture
def many(budget):
    """25 transactions, 15 of them expenses, dated 2026-01-01 .. 2026-01-25."""
    return [
        make_transaction(budget, "-1.00" if day % 5 else "100.00", date=dt.date(2026, 1, day))
        for day in range(1, 26)
    ]


def test_pagination_defaults_to_20_per_page(auth_client, many):
    first = auth_client.get(URL)
    second = auth_client.get(URL, {"page": 2})

    assert first.status_code == second.status_code == 200
    first, second = first.json(), second.json()
    assert (first["count"], len(first["results"])) == (25, 20)
    assert first["next"] == "http://testserver/api/transactions/?page=2"
    assert first["previous"] is None
    assert (second["count"], len(second["results"])) == (25, 5)
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/transactions/"
    ids = [t["id"] for t in first["results"] + second["results"]]
    assert ids == [tx.pk for tx in reversed(many)]


def test_pagination_links_keep_the_other_query_parameters(auth_client, many):
    base = "http://testserver/api/transactions/?type=expense&ordering=amount&page_size=3"

    response = auth_client.get(f"{URL}?type=expense&ordering=amount&page_size=3&page=2")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 20
    assert len(body["results"]) == 3
    assert body["next"] == f"{base}&page=3"
    assert body["previous"] == base
    assert auth_client.get(body["next"]).json()["previous"] == f"{base}&page=2"


def test_walking_the_pages_yields_every_row_once(auth_client, many):
    seen, url = [], f"{URL}?page_size=7&ordering=amount"
    while url:
        body = auth_client.get(url).json()
        seen += [t["id"] for t in body["results"]]
        url = body["next"]

    assert sorted(seen) == sorted(tx.pk for tx in many)
    assert len(seen) == 25


def test_page_size_100_is_allowed(auth_client, many):
    response = auth_client.get(URL, {"page_size": 100})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 25
    assert response.json()["next"] is None


@pytest.mark.parametrize("params", [{"page": 3}, {"page": 2, "page_size": 25}, {"page": 999}])
def test_page_past_the_end_is_not_found(auth_client, many, params):
    response = auth_client.get(URL, params)

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_first_page_of_an_empty_list_is_ok(auth_client, user):
    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"page": "0"}, {"page": ["Page must be at least 1."]}),
        ({"page": "-1"}, {"page": ["Page must be at least 1."]}),
        ({"page": "abc"}, {"page": ["Page must be a whole number."]}),
        ({"page": ""}, {"page": ["Page must be a whole number."]}),
        ({"page_size": "0"}, {"page_size": ["Page size must be at least 1."]}),
        ({"page_size": "101"}, {"page_size": ["Page size must be at most 100."]}),
        ({"page_size": "abc"}, {"page_size": ["Page size must be a whole number."]}),
    ],
)
def test_malformed_pagination_is_rejected(auth_client, many, params, errors):
    response = auth_client.get(URL, params)

    assert response.status_code == 400
    assert response.json() == errors


# --- Query counts --------------------------------------------------------------------

# The token's user, the page count, the page itself.
TRANSACTION_LIST_QUERIES = 3
BUDGET_LIST_QUERIES = 3


@pytest.mark.parametrize("rows", [1, 50])
def test_transaction_list_query_count_does_not_grow(
    auth_client, user, django_assert_num_queries, rows
):
    budgets = [make_budget(user, title=f"B{i}") for i in range(2)]
    categories = [make_category(user, f"C{i}") for i in range(3)]
    for i in range(rows):
        make_transaction(budgets[i % 2], f"-{i + 1}.00", category=categories[i % 3])

    with django_assert_num_queries(TRANSACTION_LIST_QUERIES):
        response = auth_client.get(URL, {"page_size": 100})

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [1, 50])
def test_budget_list_query_count_does_not_grow(auth_client, user, django_assert_num_queries, rows):
    for i in range(rows):
        budget = make_budget(user, title=f"B{i}")
        for amount in ("-1.00", "2.50", "-0.25"):
            make_transaction(budget, amount)

    with django_assert_num_queries(BUDGET_LIST_QUERIES):
        response = auth_client.get("/api/budgets/", {"page_size": 100})

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == rows
    assert {b["balance"] for b in results} == {"1001.25"}
