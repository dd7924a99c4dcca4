"""Transactions over HTTP: the list's filters, ordering, pagination and its constant
query count."""

import datetime as dt

import pytest

from budgets.models import Transaction
from tests.budgets.transaction_helpers import (
    URL,
    expected,
)
from tests.conftest import make_budget, make_category, make_transaction

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


# --- Query count ---------------------------------------------------------------------


# The token's user, the page count, the page itself.
TRANSACTION_LIST_QUERIES = 3


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
