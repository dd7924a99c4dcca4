"""Transfers over HTTP: CRUD with full bodies, both balances after every change, legs in
the transaction list and refused there, budget deletion, isolation between users, bad
input (never a 500), pagination, filters and constant query counts."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest

from budgets import messages
from budgets.models import Transaction
from tests.budgets.transfer_helpers import transfer_snapshot
from tests.conftest import TIMESTAMP, make_budget, make_transaction

URL = "/api/transfers/"
NOT_FOUND = {"detail": "Not found."}
ABSENT_IDS = [987654, 0, 2**63, 10**30]
TRANSFER_LIST_QUERIES = 3  # the token's user, the count, the page (legs in the same query)


def detail_url(transfer_id) -> str:
    return f"{URL}{transfer_id}/"


def leg_message(transfer_id: int) -> dict:
    return {"non_field_errors": [messages.TRANSFER_LEG.format(transfer=transfer_id)]}


def balance(client, budget) -> str:
    response = client.get(f"/api/budgets/{budget.pk}/")
    assert response.status_code == 200
    return response.json()["balance"]


@pytest.fixture
def household(user):
    return make_budget(user, title="Household", initial_amount=Decimal("1000.00"))


@pytest.fixture
def savings(user):
    return make_budget(user, title="Savings", initial_amount=Decimal("500.00"))


def body_for(source, target, /, **fields) -> dict:
    return {
        "from_budget": source.pk,
        "to_budget": target.pk,
        "amount": "250.00",
        "date": "2026-02-26",
        **fields,
    }


@pytest.fixture
def transfer(auth_client, household, savings) -> dict:
    response = auth_client.post(URL, body_for(household, savings, description="Rainy day"))
    assert response.status_code == 201
    return response.json()


# --- Create ----------------------------------------------------------------------------


def test_create_transfer(auth_client, household, savings):
    response = auth_client.post(
        URL, body_for(household, savings, amount="250.40", description="  Rainy day  ")
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": mock.ANY,
        "from_budget": household.pk,
        "to_budget": savings.pk,
        "amount": "250.40",
        "date": "2026-02-26",
        "description": "Rainy day",
        "from_transaction": mock.ANY,
        "to_transaction": mock.ANY,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    assert (balance(auth_client, household), balance(auth_client, savings)) == (
        "749.60",
        "750.40",
    )
    # The legs are transactions like any other, naming their transfer.
    for leg, budget, amount in [
        (body["from_transaction"], household, "-250.40"),
        (body["to_transaction"], savings, "250.40"),
    ]:
        response = auth_client.get(f"/api/transactions/{leg}/")
        assert response.json() == {
            "id": leg,
            "budget": budget.pk,
            "amount": amount,
            "category": None,
            "description": "Rainy day",
            "date": "2026-02-26",
            "recurring_rule": None,
            "transfer": body["id"],
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        }


def test_create_with_only_the_required_fields(auth_client, household, savings):
    response = auth_client.post(URL, body_for(household, savings))

    assert response.status_code == 201
    assert response.json()["description"] == ""


def test_create_ignores_read_only_and_unknown_fields(auth_client, household, savings):
    payload = body_for(
        household,
        savings,
        id=999,
        from_transaction=5,
        to_transaction=6,
        created_at="2000-01-01T00:00:00Z",
        user=42,
        category=1,
        colour="red",
    )

    response = auth_client.post(URL, payload)

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != 999
    assert Transaction.objects.filter(transfer_id=body["id"], category=None).count() == 2


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("0.01", "0.01"), (1, "1.00"), ("9999999999.99", "9999999999.99"), (12.5, "12.50")],
)
def test_create_accepts_amounts_within_bounds(auth_client, household, savings, amount, stored):
    response = auth_client.post(URL, body_for(household, savings, amount=amount))

    assert response.status_code == 201
    assert response.json()["amount"] == stored
    legs = Transaction.objects.filter(transfer_id=response.json()["id"]).order_by("amount")
    assert [str(a) for a in legs.values_list("amount", flat=True)] == [f"-{stored}", stored]


BAD_BODIES = [
    ({"amount": "0"}, {"amount": ["Amount must be greater than 0."]}),
    ({"amount": "0.00"}, {"amount": ["Amount must be greater than 0."]}),
    ({"amount": "-5.00"}, {"amount": ["Amount must be greater than 0."]}),
    ({"amount": "1.001"}, {"amount": ["Amount must have at most 2 decimal places."]}),
    ({"amount": "10000000000.00"}, {"amount": ["Amount must be at most 9999999999.99."]}),
    ({"amount": "abc"}, {"amount": ["Amount must be a valid number."]}),
    ({"amount": "1e3"}, {"amount": ["Amount must be a valid number."]}),
    ({"amount": "NaN"}, {"amount": ["Amount must be a valid number."]}),
    ({"amount": True}, {"amount": ["Amount must be a valid number."]}),
    ({"amount": None}, {"amount": ["Amount must be a valid number."]}),
    ({"from_budget": "abc"}, {"from_budget": ["From budget must be a whole number."]}),
    ({"from_budget": 1.5}, {"from_budget": ["From budget must be a whole number."]}),
    ({"to_budget": True}, {"to_budget": ["To budget must be a whole number."]}),
    ({"to_budget": None}, {"to_budget": ["To budget must be a whole number."]}),
    ({"date": "2026-02-30"}, {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
    ({"date": "2026-02-26T10:00:00"}, {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
    ({"date": 20260226}, {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
    (
        {"description": "x" * 256},
        {"description": ["Description must have at most 255 characters."]},
    ),
    ({"description": "a\x00b"}, {"description": ["Description must not contain null characters."]}),
    ({"description": 5}, {"description": ["Description must be a string."]}),
]


@pytest.mark.parametrize(("overrides", "errors"), BAD_BODIES)
def test_create_rejects_bad_input(auth_client, household, savings, overrides, errors):
    response = auth_client.post(URL, body_for(household, savings, **overrides))

    assert response.status_code == 400
    assert response.json() == errors
    assert transfer_snapshot() == []


@pytest.mark.parametrize("missing", ["from_budget", "to_budget", "amount", "date"])
def test_create_requires_every_required_field(auth_client, household, savings, missing):
    payload = body_for(household, savings)
    del payload[missing]

    response = auth_client.post(URL, payload)

    label = missing.replace("_", " ").capitalize()
    assert response.status_code == 400
    assert response.json() == {missing: [f"{label} is required."]}
    assert transfer_snapshot() == []


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        ("{not json", {"detail": "Request body is not valid JSON."}),
        ("[]", {"non_field_errors": ["Request body must be a JSON object."]}),
        ("null", {"non_field_errors": ["Request body must be a JSON object."]}),
    ],
)
def test_create_rejects_bodies_that_are_not_json_objects(auth_client, raw, errors):
    response = auth_client.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == errors


def test_create_between_the_same_budget_is_refused(auth_client, household):
    response = auth_client.post(URL, body_for(household, household))

    assert response.status_code == 400
    assert response.json() == {"to_budget": [messages.TRANSFER_SAME_BUDGET]}
    assert transfer_snapshot() == []
    assert balance(auth_client, household) == "1000.00"


@pytest.mark.parametrize("side", ["from_budget", "to_budget"])
@pytest.mark.parametrize("budget_id", ["foreign", *ABSENT_IDS, -1])
def test_create_with_a_budget_that_is_not_yours_is_refused(
    auth_client, other_user, household, savings, side, budget_id
):
    if budget_id == "foreign":
        budget_id = make_budget(other_user).pk
    payload = {**body_for(household, savings), side: budget_id}

    response = auth_client.post(URL, payload)

    assert response.status_code == 400
    assert response.json() == {side: [messages.BUDGET_NOT_FOUND]}
    assert transfer_snapshot() == []
    assert balance(auth_client, household) == "1000.00"


# --- Read, update, delete ----------------------------------------------------------------


def test_get_transfer(auth_client, transfer):
    response = auth_client.get(detail_url(transfer["id"]))

    assert response.status_code == 200
    assert response.json() == transfer


@pytest.mark.parametrize(
    ("patch", "amount", "date", "description"),
    [
        ({"amount": "99.99"}, "99.99", "2026-02-26", "Rainy day"),
        ({"amount": 1}, "1.00", "2026-02-26", "Rainy day"),
        ({"date": "2026-03-01"}, "250.00", "2026-03-01", "Rainy day"),
        ({"description": " Holiday fund "}, "250.00", "2026-02-26", "Holiday fund"),
        ({}, "250.00", "2026-02-26", "Rainy day"),
        (
            {"amount": "0.01", "date": "2025-12-31", "description": ""},
            "0.01",
            "2025-12-31",
            "",
        ),
    ],
)
def test_patch_moves_both_legs_and_balances(
    auth_client, household, savings, transfer, patch, amount, date, description
):
    response = auth_client.patch(detail_url(transfer["id"]), patch)

    assert response.status_code == 200
    assert response.json() == {
        **transfer,
        "amount": amount,
        "date": date,
        "description": description,
        "updated_at": TIMESTAMP,
    }
    for leg, sign in [(transfer["from_transaction"], "-"), (transfer["to_transaction"], "")]:
        got = auth_client.get(f"/api/transactions/{leg}/").json()
        assert (got["amount"], got["date"], got["description"]) == (
            f"{sign}{amount}",
            date,
            description,
        )
    money = Decimal(amount)
    assert balance(auth_client, household) == str(Decimal("1000.00") - money)
    assert balance(auth_client, savings) == str(Decimal("500.00") + money)


def test_patch_ignores_budgets_and_read_only_fields(auth_client, user, transfer):
    third = make_budget(user, title="Third")
    response = auth_client.patch(
        detail_url(transfer["id"]),
        {"from_budget": third.pk, "to_budget": third.pk, "id": 1, "from_transaction": 1},
    )

    assert response.status_code == 200
    assert {k: v for k, v in response.json().items() if k != "updated_at"} == {
        k: v for k, v in transfer.items() if k != "updated_at"
    }


BAD_PATCHES = [
    ({"amount": "0"}, {"amount": ["Amount must be greater than 0."]}),
    ({"amount": "-250.00"}, {"amount": ["Amount must be greater than 0."]}),
    ({"amount": "1.001"}, {"amount": ["Amount must have at most 2 decimal places."]}),
    ({"amount": None}, {"amount": ["Amount must be a valid number."]}),
    ({"amount": "Infinity"}, {"amount": ["Amount must be a valid number."]}),
    ({"date": None}, {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
    ({"date": "2026-13-01"}, {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
    ({"description": None}, {"description": ["Description must be a string."]}),
    (
        {"description": "x" * 256},
        {"description": ["Description must have at most 255 characters."]},
    ),
]


@pytest.mark.parametrize(("patch", "errors"), BAD_PATCHES)
def test_patch_rejects_bad_input(auth_client, transfer, patch, errors):
    before = transfer_snapshot()

    response = auth_client.patch(detail_url(transfer["id"]), patch)

    assert response.status_code == 400
    assert response.json() == errors
    assert transfer_snapshot() == before


def test_put_is_not_allowed(auth_client, household, savings, transfer):
    response = auth_client.put(detail_url(transfer["id"]), body_for(household, savings))

    assert response.status_code == 405


def test_delete_transfer_removes_both_legs(auth_client, household, savings, transfer):
    kept = make_transaction(household, "-5.00")

    response = auth_client.delete(detail_url(transfer["id"]))

    assert (response.status_code, response.content) == (204, b"")
    assert "Content-Type" not in response.headers
    assert auth_client.get(detail_url(transfer["id"])).status_code == 404
    assert list(Transaction.objects.values_list("pk", flat=True)) == [kept.pk]
    assert (balance(auth_client, household), balance(auth_client, savings)) == (
        "995.00",
        "500.00",
    )


# --- Legs through /api/transactions/ ------------------------------------------------------


@pytest.mark.parametrize("leg", ["from_transaction", "to_transaction"])
@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("patch", {"amount": "-1.00"}),
        ("patch", {"description": "mine"}),
        ("patch", {}),
        ("put", "full"),
        ("delete", None),
    ],
)
def test_a_leg_cannot_be_changed_on_its_own(auth_client, household, transfer, leg, method, payload):
    if payload == "full":
        payload = {"budget": household.pk, "amount": "-3.00", "date": "2026-01-01"}
    before = transfer_snapshot()

    response = getattr(auth_client, method)(f"/api/transactions/{transfer[leg]}/", payload)

    assert response.status_code == 400
    assert response.json() == leg_message(transfer["id"])
    assert transfer_snapshot() == before


def test_legs_appear_in_the_transaction_list_and_export(auth_client, household, transfer):
    make_transaction(household, "-5.00", date=dt.date(2026, 2, 1))

    listed = auth_client.get("/api/transactions/", {"budget": household.pk}).json()
    exported = auth_client.get("/api/transactions/export/", {"budget": household.pk})

    assert [(t["amount"], t["transfer"]) for t in listed["results"]] == [
        ("-250.00", transfer["id"]),
        ("-5.00", None),
    ]
    lines = b"".join(exported.streaming_content).decode().splitlines()
    assert lines[1] == "2026-02-26,Household,,Rainy day,-250.00"


# --- Deleting a budget --------------------------------------------------------------------


@pytest.mark.parametrize("deleted", ["source", "target"])
def test_deleting_a_budget_ends_the_transfer_and_keeps_the_other_leg(
    auth_client, household, savings, transfer, deleted
):
    gone, kept, kept_leg, kept_balance = (
        (household, savings, transfer["to_transaction"], "750.00")
        if deleted == "source"
        else (savings, household, transfer["from_transaction"], "750.00")
    )

    response = auth_client.delete(f"/api/budgets/{gone.pk}/")

    assert response.status_code == 204
    assert auth_client.get(detail_url(transfer["id"])).status_code == 404
    assert auth_client.get(URL).json()["count"] == 0
    leg = auth_client.get(f"/api/transactions/{kept_leg}/").json()
    assert (leg["budget"], leg["transfer"]) == (kept.pk, None)
    assert balance(auth_client, kept) == kept_balance
    # An ordinary transaction now: it can be edited and deleted.
    assert auth_client.patch(f"/api/transactions/{kept_leg}/", {"amount": "1"}).status_code == 200
    assert auth_client.delete(f"/api/transactions/{kept_leg}/").status_code == 204


# --- Isolation ------------------------------------------------------------------------------


@pytest.fixture
def foreign(other_client, other_user) -> dict:
    source, target = make_budget(other_user), make_budget(other_user, title="Theirs too")
    response = other_client.post(URL, body_for(source, target))
    assert response.status_code == 201
    return response.json()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_transfer_is_not_found(auth_client, foreign, method):
    before = transfer_snapshot()

    response = getattr(auth_client, method)(detail_url(foreign["id"]), {"amount": "1.00"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert transfer_snapshot() == before


@pytest.mark.parametrize("transfer_id", ABSENT_IDS)
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_missing_transfer_is_not_found(auth_client, transfer_id, method):
    response = getattr(auth_client, method)(detail_url(transfer_id), {"amount": "1.00"})

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_another_users_leg_is_not_found_through_transactions(auth_client, foreign, method):
    payload = {"amount": "-1.00", "budget": 1, "date": "2026-01-01"}
    response = getattr(auth_client, method)(
        f"/api/transactions/{foreign['from_transaction']}/", payload
    )

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_lists_never_show_another_users_transfers(auth_client, other_user, transfer, foreign):
    assert [t["id"] for t in auth_client.get(URL).json()["results"]] == [transfer["id"]]
    theirs = auth_client.get(URL, {"budget": foreign["from_budget"]}).json()
    assert theirs == {"count": 0, "next": None, "previous": None, "results": []}


def test_deleting_a_budget_never_touches_another_users_transfer(auth_client, user, foreign):
    make_budget(user)
    before = transfer_snapshot()

    response = auth_client.delete(f"/api/budgets/{foreign['to_budget']}/")

    assert response.status_code == 404
    assert transfer_snapshot() == before


# --- List: filters, pagination, query counts ----------------------------------------------


@pytest.fixture
def ledger(auth_client, user, household, savings):
    """Four transfers among three budgets."""
    third = make_budget(user, title="Third")
    made = {}
    for label, source, target, date in [
        ("a", household, savings, "2026-01-31"),
        ("b", savings, third, "2026-02-01"),
        ("c", third, household, "2026-02-28"),
        ("d", household, third, "2026-02-28"),
    ]:
        response = auth_client.post(URL, body_for(source, target, date=date))
        assert response.status_code == 201
        made[response.json()["id"]] = label
    return made, {"household": household.pk, "savings": savings.pk, "third": third.pk}


@pytest.mark.parametrize(
    ("params", "labels"),
    [
        ({}, ["d", "c", "b", "a"]),  # newest date, then newest created
        ({"budget": "household"}, ["d", "c", "a"]),
        ({"budget": "savings"}, ["b", "a"]),
        ({"date_from": "2026-02-01"}, ["d", "c", "b"]),
        ({"date_to": "2026-02-01"}, ["b", "a"]),
        ({"date_from": "2026-02-01", "date_to": "2026-02-01"}, ["b"]),
        ({"budget": "third", "date_to": "2026-02-27"}, ["b"]),
        ({"budget": 987654}, []),
        ({"budget": 2**64}, []),
    ],
)
def test_list_filters(auth_client, ledger, params, labels):
    made, budgets = ledger
    params = {k: budgets.get(v, v) if isinstance(v, str) else v for k, v in params.items()}

    response = auth_client.get(URL, params)

    assert response.status_code == 200
    assert [made[t["id"]] for t in response.json()["results"]] == labels


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"budget": "abc"}, {"budget": ["Budget must be a whole number."]}),
        (
            {"date_from": "2026-02-30"},
            {"date_from": ["Date from must be a valid date (YYYY-MM-DD)."]},
        ),
        ({"date_to": "soon"}, {"date_to": ["Date to must be a valid date (YYYY-MM-DD)."]}),
        ({"page": "0"}, {"page": ["Page must be at least 1."]}),
        ({"page_size": "101"}, {"page_size": ["Page size must be at most 100."]}),
    ],
)
def test_list_rejects_malformed_parameters(auth_client, ledger, params, errors):
    response = auth_client.get(URL, params)

    assert response.status_code == 400
    assert response.json() == errors


def test_list_pages(auth_client, ledger):
    first = auth_client.get(URL, {"page_size": 3, "budget": ledger[1]["household"]})
    second = auth_client.get(URL, {"page_size": 3, "page": 2})

    assert first.json()["count"] == 3
    assert first.json()["next"] is None
    assert second.json()["previous"] == "http://testserver/api/transfers/?page_size=3"
    assert len(second.json()["results"]) == 1
    assert auth_client.get(URL, {"page": 3, "page_size": 3}).json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("rows", [1, 30])
def test_list_query_count_does_not_grow(
    auth_client, household, savings, django_assert_num_queries, rows
):
    for n in range(rows):
        source, target = (household, savings) if n % 2 else (savings, household)
        assert auth_client.post(URL, body_for(source, target, amount=n + 1)).status_code == 201

    with django_assert_num_queries(TRANSFER_LIST_QUERIES):
        response = auth_client.get(URL, {"page_size": 100})

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == rows
    assert all(t["from_transaction"] and t["to_transaction"] for t in results)
