"""Opt-in keyset pagination (``cursor``) on the lists, and counts read from the stored
totals: the same rows as page numbers, in the same order, at a cost that does not grow
with the depth of the page."""

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest

from budgets.selectors.budgets import BUDGET_ORDERINGS
from budgets.selectors.transactions import TRANSACTION_ORDERINGS
from tests.conftest import make_budget, make_category, make_transaction

TX_URL = "/api/transactions/"
BUDGETS_URL = "/api/budgets/"
INVALID = {"cursor": ["Invalid cursor."]}


@pytest.fixture
def rows(user):
    """30 transactions in two budgets with many ties (dates, amounts) to break by id."""
    budget = make_budget(user, title="Main")
    other = make_budget(user, title="Other")
    food = make_category(user, "Food")
    made = []
    for n in range(30):
        target = budget if n % 3 else other
        amount = Decimal(n % 4 + 1) * (1 if n % 5 == 0 else -1)
        day = dt.date(2026, 1, 1) + dt.timedelta(days=n % 6)
        made.append(make_transaction(target, str(amount), date=day, category=food))
    return budget, other, made


def walk(client, url: str, key: str = "next") -> tuple[list[int], list[str]]:
    ids, links = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        ids += [row["id"] for row in body["results"]] if key == "next" else []
        if key == "previous":
            ids = [row["id"] for row in body["results"]] + ids
        links.append(url)
        url = body[key]
    return ids, links


def by_pages(client, url: str) -> list[int]:
    return [row["id"] for row in client.get(f"{url}&page_size=100").json()["results"]]


@pytest.mark.parametrize("ordering", list(TRANSACTION_ORDERINGS))
def test_cursor_pages_hold_the_rows_of_the_page_numbers_in_order(auth_client, rows, ordering):
    expected = by_pages(auth_client, f"{TX_URL}?ordering={ordering}")

    forward, links = walk(auth_client, f"{TX_URL}?ordering={ordering}&page_size=4&cursor=")

    assert forward == expected
    assert len(links) == 8  # 30 rows, 4 a page
    # And back again from the last page, following `previous`.
    last = auth_client.get(links[-1]).json()
    backward, _ = walk(auth_client, last["previous"], key="previous")
    assert backward + [row["id"] for row in last["results"]] == expected


@pytest.mark.parametrize("ordering", list(BUDGET_ORDERINGS))
def test_budget_lists_page_by_cursor_in_every_ordering(auth_client, user, ordering):
    for n in range(7):
        make_budget(user, title=f"{'ab'[n % 2]}{n % 3}", date=dt.date(2026, 1, n % 2 + 1))

    expected = by_pages(auth_client, f"{BUDGETS_URL}?ordering={ordering}")
    forward, _ = walk(auth_client, f"{BUDGETS_URL}?ordering={ordering}&page_size=2&cursor=")

    assert forward == expected


def test_cursor_links_keep_the_other_parameters_and_drop_the_page(auth_client, rows):
    budget, _, _ = rows
    body = auth_client.get(TX_URL, {"budget": budget.pk, "page_size": 5, "cursor": ""}).json()

    assert body["count"] == 20
    assert body["previous"] is None
    assert body["next"].startswith(
        f"http://testserver/api/transactions/?budget={budget.pk}&page_size=5&cursor="
    )
    second = auth_client.get(body["next"]).json()
    assert second["previous"] is not None
    assert [r["id"] for r in auth_client.get(second["previous"]).json()["results"]] == [
        r["id"] for r in body["results"]
    ]


def test_rows_written_meanwhile_do_not_shift_a_cursor_page(auth_client, rows):
    budget, _, _ = rows
    first = auth_client.get(TX_URL, {"budget": budget.pk, "page_size": 5, "cursor": ""}).json()
    expected_next = auth_client.get(first["next"]).json()["results"]

    make_transaction(budget, "-1.00", date=dt.date(2027, 1, 1))  # lands on page 1
    auth_client.delete(f"{TX_URL}{first['results'][0]['id']}/")

    assert auth_client.get(first["next"]).json()["results"] == expected_next


def base64_text(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        return ""


def cursor_token(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "bm90IGpzb24",  # base64 of "not json"
        "e30",  # {}
        cursor_token([1, 2]),
        cursor_token({"o": ["date", "created_at", "id"], "v": ["x", "y", 1], "f": True}),
        cursor_token({"o": ["amount", "id"], "v": ["1.00", 1], "f": True}),  # other ordering
        cursor_token({"o": ["date", "created_at", "id"], "v": ["2026-01-01", None, 1], "f": True}),
        cursor_token(
            {
                "o": ["date", "created_at", "id"],
                "v": ["2026-01-01", "2026-01-01T00:00:00+00:00", 2**70],
                "f": True,
            }
        ),
        cursor_token(
            {
                "o": ["date", "created_at", "id"],
                "v": ["2026-01-01", "2026-01-01T00:00:00+00:00", 1],
                "f": "yes",
            }
        ),
        cursor_token(  # naive time
            {"o": ["date", "created_at", "id"], "v": ["2026-01-01", "2026-01-01T00:00", 1], "f": 1}
        ),
        cursor_token(
            {
                "o": ["date", "created_at", "id"],
                "v": ["2026-01-01", "2026-01-01T00:00:00+99:00", 1],
                "f": True,
            }
        ),
        cursor_token({"o": ["amount", "id"], "v": ["1e999999", 1], "f": True}),
        cursor_token({"o": ["amount", "id"], "v": ["12345678901234.5", 1], "f": True}),
    ],
)
def test_a_broken_cursor_is_a_400(auth_client, rows, cursor):
    # The amount cursors below are sent with their own ordering (else the ordering differs).
    text = base64_text(cursor)
    ordering = "amount" if "1e999999" in text or "12345678901234" in text else "-date"
    response = auth_client.get(TX_URL, {"cursor": cursor, "ordering": ordering})

    assert (response.status_code, response.json()) == (400, INVALID)


def test_a_cursor_with_other_characters_is_a_400(auth_client, rows):
    response = auth_client.get(TX_URL, {"cursor": "not base64 at all!"})

    assert (response.status_code, response.json()) == (
        400,
        {"cursor": ["Cursor has an invalid format."]},
    )


def test_page_and_cursor_together_are_a_400(auth_client, rows):
    response = auth_client.get(TX_URL, {"cursor": "", "page": 1})

    assert (response.status_code, response.json()) == (
        400,
        {"cursor": ["Send either page or cursor, not both."]},
    )


def test_an_overlong_cursor_is_a_400(auth_client, rows):
    response = auth_client.get(TX_URL, {"cursor": "a" * 1001})

    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_another_users_cursor_shows_only_the_callers_rows(auth_client, other_client, rows):
    first = auth_client.get(TX_URL, {"page_size": 5, "cursor": ""}).json()

    body = other_client.get(first["next"]).json()

    assert body == {"count": 0, "next": None, "previous": None, "results": []}


# --- Counts and query counts ---------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{}, {"type": "expense"}, {"search": "x"}, {"date_from": "2026-01-03"}, {"min_amount": "-2"}],
)
def test_counts_match_the_rows_whatever_the_filters(auth_client, rows, params):
    budget, other, _ = rows
    for scope in ({}, {"budget": budget.pk}, {"budget": other.pk}, {"budget": 10**12}):
        body = auth_client.get(TX_URL, {**params, **scope, "page_size": 100}).json()
        assert body["count"] == len(body["results"]), (params, scope)


# The token's user, the count (the budgets' stored counts), the page.
LIST_QUERIES = 3


@pytest.mark.parametrize("depth", [0, 6])
def test_a_cursor_page_costs_the_same_queries_at_any_depth(
    auth_client, rows, django_assert_num_queries, depth
):
    budget, _, _ = rows
    url = f"{TX_URL}?budget={budget.pk}&page_size=2&cursor="
    for _ in range(depth):
        url = auth_client.get(url).json()["next"]

    with django_assert_num_queries(LIST_QUERIES):
        response = auth_client.get(url)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


# --- Every paginated list ------------------------------------------------------------


@pytest.fixture
def everything(user):
    """Seven rows of every paginated kind, with ties in their orderings."""
    from budgets import services

    main = make_budget(user, title="Main")
    other = make_budget(user, title="Other")
    categories = [make_category(user, f"{'Bb'[n % 2]}{n}") for n in range(7)]
    for n, category in enumerate(categories):
        day = dt.date(2026, 1, n % 2 + 1)
        services.transfer_create(
            user=user, from_budget=main.pk, to_budget=other.pk, amount=Decimal(n + 1), date=day
        )
        services.spending_limit_create(
            user=user,
            budget_id=main.pk,
            category=category.pk,
            month=dt.date(2026, n % 2 + 1, 1),
            amount=Decimal("10.00"),
        )
        services.recurring_rule_create(
            user=user,
            budget=main.pk,
            amount=Decimal("-1.00"),
            start_date=dt.date(2030, 1, 1),
            frequency="monthly",
        )
    return main


@pytest.mark.parametrize(
    "path",
    ["/api/categories/", "/api/transfers/", "/api/recurring/", "/api/budgets/{main}/limits/"],
)
def test_every_list_pages_by_cursor_as_by_page_numbers(auth_client, everything, path):
    url = path.format(main=everything.pk)
    expected = [row["id"] for row in auth_client.get(url, {"page_size": 100}).json()["results"]]

    forward, links = walk(auth_client, f"{url}?page_size=2&cursor=")
    last = auth_client.get(links[-1]).json()
    backward, _ = walk(auth_client, last["previous"], key="previous")

    assert len(expected) == 7
    assert forward == expected
    assert backward + [row["id"] for row in last["results"]] == expected


@pytest.mark.parametrize(
    ("ordering", "values"),
    [
        ("title", ["\ud800", 1]),  # a lone surrogate: no text the database can take
        ("title", ["a\x00b", 1]),
        ("-date", ["2026-01-01", "9999-12-31T23:59:59-12:00", 1]),  # past the calendar in UTC
        ("-date", ["2026-01-01", "0001-01-01T00:00:00+12:00", 1]),
    ],
)
def test_cursor_values_the_database_cannot_take_are_a_400(auth_client, rows, ordering, values):
    names = {"title": ["title_key", "id"], "-date": ["date", "created_at", "id"]}[ordering]
    url = BUDGETS_URL if ordering == "title" else TX_URL
    token = cursor_token({"o": names, "v": values, "f": True})

    response = auth_client.get(url, {"cursor": token, "ordering": ordering})

    assert (response.status_code, response.json()) == (400, INVALID)
