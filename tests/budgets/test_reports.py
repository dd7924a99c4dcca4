"""Reports over HTTP: the budget summary and the CSV export of transactions.

Every expected figure below is worked out by hand from the data set in the fixtures.
"""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.models import Transaction
from budgets.services.totals import totals_rebuild
from tests.conftest import make_budget, make_category, make_transaction

D = dt.date
EXPORT_URL = "/api/transactions/export/"
HEADER = ["date", "budget", "category", "description", "amount"]
NOT_FOUND = {"detail": "Not found."}
DATE_INVALID = "must be a valid date (YYYY-MM-DD)."
# Auth (1: the user), the budget with its stored balance (1), its stored month totals
# with their categories' names (1), spending limits (1). Whatever the number of
# transactions: none of these reads them.
SUMMARY_QUERIES = 4
# A period that cuts a month (a `date_from` after the 1st, a `date_to` before the month's
# end) adds the transactions of those days (1, both ends at once); spending limits add
# the stored totals of their months (1).
CUT_MONTHS_QUERIES = LIMITS_QUERIES = 1
# What the summary adds for a budget without transfers or spending limits.
NO_TRANSFERS_NOR_LIMITS = {
    "transfers_in": "0.00",
    "transfers_out": "0.00",
    "transfers_count": 0,
    "limits": [],
}


def summary_url(budget_id: int) -> str:
    return f"/api/budgets/{budget_id}/summary/"


# --- Summary ---------------------------------------------------------------------------


@pytest.fixture
def household(user, other_user):
    """Budget "Household" (1000.00) with eight transactions across Nov 2025 to Mar 2026.

    date        amount    category  description
    2025-11-30  3000.00   Salary    November salary
    2025-12-01  -1200.00  Rent      Rent
    2025-12-15  -45.50    Food      Groceries
    2025-12-31  20.25     Food      Returned bottles   (income in an expense category)
    2026-01-01  -80.10    Food      New year's brunch
    2026-01-05  -15.00    -         Parking
    2026-01-31  100.00    -         Birthday gift
    2026-03-02  3000.00   Salary    March salary       (nothing at all in February)

    Income 6120.25, expenses 1340.60, net 4779.65, balance 1000.00 + 4779.65 = 5779.65.
    The user's other budget and another user's budget share dates and a category name
    with it and must never be counted.
    """
    budget = make_budget(user, title="Household", initial_amount=Decimal("1000.00"))
    food = make_category(user, "Food")
    rent = make_category(user, "Rent")
    salary = make_category(user, "Salary")
    rows = [
        (D(2025, 11, 30), "3000.00", salary, "November salary"),
        (D(2025, 12, 1), "-1200.00", rent, "Rent"),
        (D(2025, 12, 15), "-45.50", food, "Groceries"),
        (D(2025, 12, 31), "20.25", food, "Returned bottles"),
        (D(2026, 1, 1), "-80.10", food, "New year's brunch"),
        (D(2026, 1, 5), "-15.00", None, "Parking"),
        (D(2026, 1, 31), "100.00", None, "Birthday gift"),
        (D(2026, 3, 2), "3000.00", salary, "March salary"),
    ]
    for date, amount, category, description in rows:
        make_transaction(budget, amount, date=date, category=category, description=description)

    holidays = make_budget(user, title="Holidays")
    make_transaction(holidays, "-999.99", date=D(2025, 12, 15), category=food)
    theirs = make_budget(other_user, title="Household")
    make_transaction(theirs, "-777.77", date=D(2025, 12, 15))
    make_transaction(theirs, "555.55", date=D(2026, 1, 1), category=make_category(other_user))

    return budget, {"Food": food.pk, "Rent": rent.pk, "Salary": salary.pk, None: None}


def summary_body(budget, ids, *, income, expense, count, by_category, by_month):
    """The full expected body; ``balance`` is the full balance whatever the filter."""
    return {
        "budget": budget.pk,
        "initial_amount": "1000.00",
        "income_total": income,
        "expense_total": expense,
        "balance": "5779.65",
        "transactions_count": count,
        **NO_TRANSFERS_NOR_LIMITS,
        "by_category": [
            {
                "category": ids[name],
                "name": name or "Uncategorized",
                "income": cat_income,
                "expense": cat_expense,
                "net": net,
                "count": cat_count,
            }
            for name, cat_income, cat_expense, net, cat_count in by_category
        ],
        "by_month": [
            {"month": month, "income": m_income, "expense": m_expense, "net": net, "count": n}
            for month, m_income, m_expense, net, n in by_month
        ],
    }


def test_summary_of_the_whole_budget(auth_client, household):
    budget, ids = household

    response = auth_client.get(summary_url(budget.pk))

    assert response.status_code == 200
    assert response.json() == {
        "budget": budget.pk,
        "initial_amount": "1000.00",
        "income_total": "6120.25",
        "expense_total": "1340.60",
        "balance": "5779.65",
        "transactions_count": 8,
        **NO_TRANSFERS_NOR_LIMITS,
        # By name, uncategorised last.
        "by_category": [
            {
                "category": ids["Food"],
                "name": "Food",
                "income": "20.25",
                "expense": "125.60",
                "net": "-105.35",
                "count": 3,
            },
            {
                "category": ids["Rent"],
                "name": "Rent",
                "income": "0.00",
                "expense": "1200.00",
                "net": "-1200.00",
                "count": 1,
            },
            {
                "category": ids["Salary"],
                "name": "Salary",
                "income": "6000.00",
                "expense": "0.00",
                "net": "6000.00",
                "count": 2,
            },
            {
                "category": None,
                "name": "Uncategorized",
                "income": "100.00",
                "expense": "15.00",
                "net": "85.00",
                "count": 2,
            },
        ],
        # Oldest first, across the year boundary; February (empty) is left out.
        "by_month": [
            {
                "month": "2025-11",
                "income": "3000.00",
                "expense": "0.00",
                "net": "3000.00",
                "count": 1,
            },
            {
                "month": "2025-12",
                "income": "20.25",
                "expense": "1245.50",
                "net": "-1225.25",
                "count": 3,
            },
            {"month": "2026-01", "income": "100.00", "expense": "95.10", "net": "4.90", "count": 3},
            {
                "month": "2026-03",
                "income": "3000.00",
                "expense": "0.00",
                "net": "3000.00",
                "count": 1,
            },
        ],
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"date_from": "2025-12-01", "date_to": "2026-01-31"},
            {
                "income": "120.25",
                "expense": "1340.60",
                "count": 6,
                "by_category": [
                    ("Food", "20.25", "125.60", "-105.35", 3),
                    ("Rent", "0.00", "1200.00", "-1200.00", 1),
                    (None, "100.00", "15.00", "85.00", 2),
                ],
                "by_month": [
                    ("2025-12", "20.25", "1245.50", "-1225.25", 3),
                    ("2026-01", "100.00", "95.10", "4.90", 3),
                ],
            },
            id="december-and-january",
        ),
        pytest.param(
            {"date_from": "2025-12-31", "date_to": "2026-01-01"},
            {
                "income": "20.25",
                "expense": "80.10",
                "count": 2,
                "by_category": [("Food", "20.25", "80.10", "-59.85", 2)],
                "by_month": [
                    ("2025-12", "20.25", "0.00", "20.25", 1),
                    ("2026-01", "0.00", "80.10", "-80.10", 1),
                ],
            },
            id="both-ends-inclusive-across-new-year",
        ),
        pytest.param(
            {"date_from": "2026-01-01"},
            {
                "income": "3100.00",
                "expense": "95.10",
                "count": 4,
                "by_category": [
                    ("Food", "0.00", "80.10", "-80.10", 1),
                    ("Salary", "3000.00", "0.00", "3000.00", 1),
                    (None, "100.00", "15.00", "85.00", 2),
                ],
                "by_month": [
                    ("2026-01", "100.00", "95.10", "4.90", 3),
                    ("2026-03", "3000.00", "0.00", "3000.00", 1),
                ],
            },
            id="date-from-only",
        ),
        pytest.param(
            {"date_to": "2025-11-30"},
            {
                "income": "3000.00",
                "expense": "0.00",
                "count": 1,
                "by_category": [("Salary", "3000.00", "0.00", "3000.00", 1)],
                "by_month": [("2025-11", "3000.00", "0.00", "3000.00", 1)],
            },
            id="date-to-only",
        ),
        pytest.param(
            {"date_from": "2026-02-01", "date_to": "2026-02-28"},
            {"income": "0.00", "expense": "0.00", "count": 0, "by_category": [], "by_month": []},
            id="empty-period",
        ),
    ],
)
def test_summary_date_filters_every_figure_but_the_balance(
    auth_client, household, params, expected
):
    budget, ids = household

    response = auth_client.get(summary_url(budget.pk), params)

    assert response.status_code == 200
    assert response.json() == summary_body(budget, ids, **expected)


def test_summary_of_a_budget_without_transactions(auth_client, user):
    budget = make_budget(user, initial_amount=Decimal("250.00"))

    response = auth_client.get(summary_url(budget.pk))

    assert response.status_code == 200
    assert response.json() == {
        "budget": budget.pk,
        "initial_amount": "250.00",
        "income_total": "0.00",
        "expense_total": "0.00",
        "balance": "250.00",
        "transactions_count": 0,
        **NO_TRANSFERS_NOR_LIMITS,
        "by_category": [],
        "by_month": [],
    }


def test_summary_counts_rows_of_a_deleted_category_as_uncategorized(auth_client, user):
    budget = make_budget(user, initial_amount=Decimal("100.00"))
    food = make_category(user, "Food")
    make_transaction(budget, "-12.30", category=food, date=D(2026, 1, 2))
    make_transaction(budget, "-0.70", category=None, date=D(2026, 1, 3))
    assert auth_client.delete(f"/api/categories/{food.pk}/").status_code == 204

    response = auth_client.get(summary_url(budget.pk))

    assert response.json()["by_category"] == [
        {
            "category": None,
            "name": "Uncategorized",
            "income": "0.00",
            "expense": "13.00",
            "net": "-13.00",
            "count": 2,
        }
    ]


def test_summary_of_someone_elses_budget_is_not_found(auth_client, other_user):
    theirs = make_budget(other_user)
    make_transaction(theirs, "-5.00")

    response = auth_client.get(summary_url(theirs.pk))

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("budget_id", [999_999, 2**63])
def test_summary_of_a_missing_budget_is_not_found(auth_client, budget_id):
    response = auth_client.get(summary_url(budget_id))

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_summary_needs_a_token(api_client, budget):
    response = api_client.get(summary_url(budget.pk))

    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-01-01T00:00:00"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"date_to": ""}, "date_to"),
    ],
)
def test_summary_rejects_a_malformed_date(auth_client, budget, params, field):
    response = auth_client.get(summary_url(budget.pk), params)

    assert response.status_code == 400
    label = field.replace("_", " ").capitalize()
    assert response.json() == {field: [f"{label} {DATE_INVALID}"]}


@pytest.mark.parametrize("size", [10, 2000])
@pytest.mark.parametrize("params", [{}, {"date_from": "2024-11-05", "date_to": "2025-06-30"}])
def test_summary_query_count_does_not_grow_with_data(
    auth_client, user, django_assert_num_queries, size, params
):
    budget = make_budget(user)
    categories = [make_category(user, f"Category {n}") for n in range(5)]
    Transaction.objects.bulk_create(
        Transaction(
            budget=budget,
            category=categories[n % 6] if n % 6 < 5 else None,
            amount=Decimal(n + 1).scaleb(-2) * (1 if n % 4 == 0 else -1),
            date=D(2024, 11, 1) + dt.timedelta(days=n % 700),
        )
        for n in range(size)
    )
    totals_rebuild(budget_ids=[budget.pk])  # bulk_create went around the write path

    with django_assert_num_queries(SUMMARY_QUERIES + (CUT_MONTHS_QUERIES if params else 0)):
        response = auth_client.get(summary_url(budget.pk), params)

    assert response.status_code == 200
    if not params:
        assert response.json()["transactions_count"] == size


# --- CSV export ------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    """Consume the streamed body and parse it the way a spreadsheet import would."""
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def ledger(user, other_user):
    """Two of the user's budgets, one of another user; distinct dates and amounts."""
    household = make_budget(user, title="Household")
    holidays = make_budget(user, title="Holidays")
    food = make_category(user, "Food")
    make_transaction(
        household, "-45.50", date=D(2026, 1, 3), category=food, description="Groceries"
    )
    make_transaction(holidays, "-320.00", date=D(2026, 1, 2), description="Hotel, 2 nights")
    make_transaction(household, "3000.00", date=D(2026, 1, 1), description="Salary")
    make_transaction(
        household, "-5.00", date=D(2025, 12, 31), category=food, description='Café "Zur Post" ☕'
    )
    theirs = make_budget(other_user, title="Secret")
    make_transaction(theirs, "-1.00", date=D(2026, 1, 2), description="Not yours")
    return {"Household": household, "Holidays": holidays, "Secret": theirs}


def test_export_streams_every_row_as_csv(auth_client, ledger):
    before = timezone.now()
    response = auth_client.get(EXPORT_URL)
    after = timezone.now()

    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    match = re.fullmatch(
        r'attachment; filename="transactions-(\d{8})\.csv"', response["Content-Disposition"]
    )
    assert match is not None
    assert match.group(1) in {f"{before:%Y%m%d}", f"{after:%Y%m%d}"}
    assert read_csv(response) == [
        HEADER,
        ["2026-01-03", "Household", "Food", "Groceries", "-45.50"],
        ["2026-01-02", "Holidays", "", "Hotel, 2 nights", "-320.00"],
        ["2026-01-01", "Household", "", "Salary", "3000.00"],
        ["2025-12-31", "Household", "Food", 'Café "Zur Post" ☕', "-5.00"],
    ]


def test_export_quotes_cells_the_csv_way(auth_client, ledger):
    response = auth_client.get(EXPORT_URL)

    lines = b"".join(response.streaming_content).decode("utf-8").split("\r\n")
    assert lines == [
        "date,budget,category,description,amount",
        "2026-01-03,Household,Food,Groceries,-45.50",
        '2026-01-02,Holidays,,"Hotel, 2 nights",-320.00',
        "2026-01-01,Household,,Salary,3000.00",
        '2025-12-31,Household,Food,"Café ""Zur Post"" ☕",-5.00',
        "",
    ]


@pytest.mark.parametrize(
    ("params", "descriptions"),
    [
        ({"type": "expense"}, ["Groceries", "Hotel, 2 nights", 'Café "Zur Post" ☕']),
        ({"type": "income"}, ["Salary"]),
        ({"budget": "Holidays"}, ["Hotel, 2 nights"]),
        ({"budget": "Household", "date_to": "2026-01-01"}, ["Salary", 'Café "Zur Post" ☕']),
        ({"search": "café"}, ['Café "Zur Post" ☕']),
        ({"min_amount": "-50", "max_amount": "-1"}, ["Groceries", 'Café "Zur Post" ☕']),
        ({"ordering": "amount"}, ["Hotel, 2 nights", "Groceries", 'Café "Zur Post" ☕', "Salary"]),
        ({"ordering": "date"}, ['Café "Zur Post" ☕', "Salary", "Hotel, 2 nights", "Groceries"]),
        ({"budget": "Secret"}, []),
    ],
)
def test_export_takes_the_list_filters(auth_client, ledger, params, descriptions):
    if "budget" in params:
        params = {**params, "budget": ledger[params["budget"]].pk}

    rows = read_csv(auth_client.get(EXPORT_URL, params))

    assert rows[0] == HEADER
    assert [row[3] for row in rows[1:]] == descriptions


@pytest.mark.parametrize(
    "ordering", ["date", "-date", "amount", "-amount", "created_at", "-created_at"]
)
def test_export_is_in_the_same_order_as_the_list(auth_client, ledger, ordering):
    listed = auth_client.get("/api/transactions/", {"ordering": ordering, "page_size": 100})
    exported = read_csv(auth_client.get(EXPORT_URL, {"ordering": ordering}))

    assert [row[3] for row in exported[1:]] == [t["description"] for t in listed.json()["results"]]


def test_export_never_shows_someone_elses_rows(other_client, ledger):
    rows = read_csv(other_client.get(EXPORT_URL))

    assert rows == [HEADER, ["2026-01-02", "Secret", "", "Not yours", "-1.00"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "refund"}, "type"),
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"budget": "abc"}, "budget"),
        ({"min_amount": "1.234"}, "min_amount"),
        ({"ordering": "description"}, "ordering"),
    ],
)
def test_export_rejects_malformed_filters(auth_client, ledger, params, field):
    response = auth_client.get(EXPORT_URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_export_needs_a_token(api_client):
    response = api_client.get(EXPORT_URL)

    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Plain = text", "Plain = text"),
        ("1+1", "1+1"),
        # A leading quote gets one more, so the import can undo the escaping exactly.
        ("'quoted", "''quoted"),
        ("it's", "it's"),
    ],
)
def test_export_neutralises_formulas_in_every_text_cell(auth_client, user, text, cell):
    # Written through the ORM: the API trims whitespace, but admin or shell writes do not.
    budget = make_budget(user, title=text)
    category = make_category(user, text)
    make_transaction(budget, "-45.50", category=category, description=text, date=D(2026, 2, 1))

    rows = read_csv(auth_client.get(EXPORT_URL))

    # The amount keeps its minus sign: it is a number, not a formula.
    assert rows == [HEADER, ["2026-02-01", cell, cell, cell, "-45.50"]]


def test_export_reads_rows_only_while_the_body_streams(
    auth_client, ledger, django_assert_num_queries
):
    with django_assert_num_queries(1):  # only the caller's user, for authentication
        response = auth_client.get(EXPORT_URL)
    with django_assert_num_queries(1):  # the rows, one query read in chunks
        chunks = list(response.streaming_content)

    assert len(chunks) == 1 + 4  # a chunk per line, never the whole file at once


def export_amount(n: int) -> Decimal:
    """Row n of the big export: whole cents, every third an income."""
    cents = (n + 1) * 101
    return Decimal(cents if n % 3 == 0 else -cents).scaleb(-2)


def test_export_of_20000_rows_reads_back_row_by_row(auth_client, user, other_user):
    size = 20_000
    budget = make_budget(user, title="Big")
    food = make_category(user, "Food")
    start = D(2000, 1, 1)
    Transaction.objects.bulk_create(
        (
            Transaction(
                budget=budget,
                category=food if n % 2 else None,
                amount=export_amount(n),
                description=f"=Row {n}" if n % 1000 == 0 else f"Row {n}",
                date=start + dt.timedelta(days=n),  # one row per day, so the order is known
            )
            for n in range(size)
        ),
        batch_size=2000,
    )
    totals_rebuild(budget_ids=[budget.pk])
    make_transaction(make_budget(other_user), "-1.00", date=start)

    response = auth_client.get(EXPORT_URL)
    assert response.streaming is True

    # csv.reader pulls one streamed line at a time; nothing is joined in memory.
    reader = csv.reader(chunk.decode("utf-8") for chunk in response.streaming_content)
    assert next(reader) == HEADER
    count = 0
    for position, row in enumerate(reader):
        n = size - 1 - position  # newest date first
        assert row == [
            (start + dt.timedelta(days=n)).isoformat(),
            "Big",
            "Food" if n % 2 else "",
            f"'=Row {n}" if n % 1000 == 0 else f"Row {n}",
            str(export_amount(n)),
        ]
        count += 1
    assert count == size


def test_export_amounts_of_the_big_export_by_hand(auth_client, user):
    # export_amount() spelled out for a few rows, so the big test's expectations are pinned.
    budget = make_budget(user, title="Big")
    for n in (0, 1, 2):
        make_transaction(budget, str(export_amount(n)), date=D(2000, 1, 1) + dt.timedelta(n))

    rows = read_csv(auth_client.get(EXPORT_URL))

    assert [row[4] for row in rows[1:]] == ["-3.03", "-2.02", "1.01"]
