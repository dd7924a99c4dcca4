"""Transactions over HTTP: create, read, replace, patch, delete, read-only fields,
and the budgets' balances after each kind of change."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest

from budgets.models import Transaction
from tests.budgets.transaction_helpers import (
    NOT_FOUND,
    URL,
    balance,
    body_for,
    detail_url,
    expected,
    snapshot,
)
from tests.conftest import TIMESTAMP, make_budget, make_category, make_transaction

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
        "recurring_rule": None,
        "transfer": None,
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


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_read_only_and_unknown_fields_are_ignored(auth_client, user, other_user, method):
    budget = make_budget(user)
    existing = make_transaction(budget, "-5.00") if method != "post" else None
    path = URL if existing is None else detail_url(existing.pk)
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

    response = getattr(auth_client, method)(path, payload)

    assert response.status_code == (201 if method == "post" else 200)
    tx = Transaction.objects.get()
    assert response.json() == expected(tx)
    assert tx.pk != 987654
    assert 2000 not in (tx.created_at.year, tx.updated_at.year)
    assert tx.amount == Decimal("-45.50")
    assert balance(auth_client, budget) == "954.50"


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
