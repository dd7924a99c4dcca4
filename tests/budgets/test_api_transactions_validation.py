"""Transactions over HTTP: every input rule at its boundaries; a refused write is a
400 naming the field and changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError
from django.db import transaction as db_transaction

from budgets.models import Transaction
from tests.budgets.transaction_helpers import (
    URL,
    body_for,
    detail_url,
    snapshot,
)
from tests.conftest import make_transaction

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
