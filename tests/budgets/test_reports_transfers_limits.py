"""The budget summary with transfers and spending limits. Transfer legs are neither
income nor expense; limits show what was spent in their category over their whole
month. Every expected figure is worked out by hand from the fixture."""

import datetime as dt
from decimal import Decimal

import pytest

from budgets.models import SpendingLimit, Transaction
from budgets.services import spending_limit_create, transfer_create
from tests.budgets.test_reports import CUT_MONTHS_QUERIES, LIMITS_QUERIES, SUMMARY_QUERIES
from tests.conftest import make_budget, make_category, make_transaction

D = dt.date


def summary_url(budget_id: int) -> str:
    return f"/api/budgets/{budget_id}/summary/"


def move(user, source, target, amount, date):
    return transfer_create(
        user=user, from_budget=source.pk, to_budget=target.pk, amount=Decimal(amount), date=date
    )


def set_limit(user, budget, category, month, amount):
    return spending_limit_create(
        user=user, budget_id=budget.pk, category=category.pk, month=month, amount=Decimal(amount)
    )


@pytest.fixture
def household(user, other_user):
    """Household (1000.00):

    date        amount    category
    2026-01-10  -100.00   Food
    2026-01-20  -250.00   Food
    2026-01-25    20.00   Food      (a refund: income, not negative spending)
    2026-01-31  -300.00   -         transfer to Savings
    2026-02-01 -1200.00   Rent
    2026-02-05   -80.00   Food
    2026-02-10    50.00   -         transfer from Savings
    2026-02-15  3000.00   -         salary
    2026-03-01   -25.00   -         transfer to Savings

    Income 3020.00, expenses 1630.00 (6 transactions); transfers in 50.00, out 325.00
    (3 legs); balance 1000 + 3020 - 1630 + 50 - 325 = 2115.00.
    Limits: Food Jan 300.00 (spent 350.00), Food Feb 200.00 (spent 80.00), Rent Feb
    1200.00 (spent 1200.00), Food Mar 100.00 (spent nothing).
    """
    budget = make_budget(user, title="Household", initial_amount=Decimal("1000.00"))
    savings = make_budget(user, title="Savings", initial_amount=Decimal("500.00"))
    food, rent = make_category(user, "Food"), make_category(user, "Rent")
    for date, amount, category in [
        (D(2026, 1, 10), "-100.00", food),
        (D(2026, 1, 20), "-250.00", food),
        (D(2026, 1, 25), "20.00", food),
        (D(2026, 2, 1), "-1200.00", rent),
        (D(2026, 2, 5), "-80.00", food),
        (D(2026, 2, 15), "3000.00", None),
    ]:
        make_transaction(budget, amount, date=date, category=category)
    move(user, budget, savings, "300.00", D(2026, 1, 31))
    move(user, savings, budget, "50.00", D(2026, 2, 10))
    move(user, budget, savings, "25.00", D(2026, 3, 1))
    for category, month, amount in [
        (food, D(2026, 1, 1), "300.00"),
        (food, D(2026, 2, 1), "200.00"),
        (rent, D(2026, 2, 1), "1200.00"),
        (food, D(2026, 3, 1), "100.00"),
    ]:
        set_limit(user, budget, category, month, amount)
    # Never counted: Food spending and a Food limit in another budget, someone else's data.
    make_transaction(savings, "-999.00", date=D(2026, 1, 15), category=food)
    set_limit(user, savings, food, D(2026, 1, 1), "5.00")
    theirs = make_budget(other_user)
    make_transaction(theirs, "-777.00", date=D(2026, 1, 15), category=make_category(other_user))
    return budget, savings, {"Food": food.pk, "Rent": rent.pk}


def limit_row(ids, name, month, limit, spent, remaining):
    return {
        "category": ids[name],
        "name": name,
        "month": month,
        "limit": limit,
        "spent": spent,
        "remaining": remaining,
    }


def test_summary_shows_transfers_apart_and_limits(auth_client, household):
    budget, _, ids = household

    response = auth_client.get(summary_url(budget.pk))

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "budget": budget.pk,
        "initial_amount": "1000.00",
        "income_total": "3020.00",
        "expense_total": "1630.00",
        "balance": "2115.00",
        "transactions_count": 6,
        "transfers_in": "50.00",
        "transfers_out": "325.00",
        "transfers_count": 3,
        # Transfer legs have no category and are not in the breakdowns.
        "by_category": [
            {
                "category": ids["Food"],
                "name": "Food",
                "income": "20.00",
                "expense": "430.00",
                "net": "-410.00",
                "count": 4,
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
                "category": None,
                "name": "Uncategorized",
                "income": "3000.00",
                "expense": "0.00",
                "net": "3000.00",
                "count": 1,
            },
        ],
        # March has only a transfer: no month row.
        "by_month": [
            {
                "month": "2026-01",
                "income": "20.00",
                "expense": "350.00",
                "net": "-330.00",
                "count": 3,
            },
            {
                "month": "2026-02",
                "income": "3000.00",
                "expense": "1280.00",
                "net": "1720.00",
                "count": 3,
            },
        ],
        "limits": [
            limit_row(ids, "Food", "2026-01", "300.00", "350.00", "-50.00"),
            limit_row(ids, "Food", "2026-02", "200.00", "80.00", "120.00"),
            limit_row(ids, "Rent", "2026-02", "1200.00", "1200.00", "0.00"),
            limit_row(ids, "Food", "2026-03", "100.00", "0.00", "100.00"),
        ],
    }
    # Without dates every figure adds up to the balance.
    total = (
        Decimal(body["initial_amount"])
        + Decimal(body["income_total"])
        - Decimal(body["expense_total"])
        + Decimal(body["transfers_in"])
        - Decimal(body["transfers_out"])
    )
    assert str(total) == body["balance"]


@pytest.mark.parametrize(
    ("params", "expected", "limits"),
    [
        pytest.param(
            {"date_from": "2026-02-10", "date_to": "2026-02-20"},
            {"income_total": "3000.00", "expense_total": "0.00", "transactions_count": 1,
             "transfers_in": "50.00", "transfers_out": "0.00", "transfers_count": 1},
            # Limits of every month the period touches, each month counted whole.
            [("Food", "2026-02", "200.00", "80.00", "120.00"),
             ("Rent", "2026-02", "1200.00", "1200.00", "0.00")],
            id="inside-february",
        ),
        pytest.param(
            {"date_from": "2026-01-31"},
            {"income_total": "3000.00", "expense_total": "1280.00", "transactions_count": 3,
             "transfers_in": "50.00", "transfers_out": "325.00", "transfers_count": 3},
            [("Food", "2026-01", "300.00", "350.00", "-50.00"),
             ("Food", "2026-02", "200.00", "80.00", "120.00"),
             ("Rent", "2026-02", "1200.00", "1200.00", "0.00"),
             ("Food", "2026-03", "100.00", "0.00", "100.00")],
            id="from-the-last-day-of-january",
        ),
        pytest.param(
            {"date_to": "2026-01-31"},
            {"income_total": "20.00", "expense_total": "350.00", "transactions_count": 3,
             "transfers_in": "0.00", "transfers_out": "300.00", "transfers_count": 1},
            [("Food", "2026-01", "300.00", "350.00", "-50.00")],
            id="up-to-january",
        ),
        pytest.param(
            {"date_from": "2026-04-01"},
            {"income_total": "0.00", "expense_total": "0.00", "transactions_count": 0,
             "transfers_in": "0.00", "transfers_out": "0.00", "transfers_count": 0},
            [],
            id="after-everything",
        ),
    ],
)  # fmt: skip
def test_summary_dates_filter_transfers_and_limits(
    auth_client, household, params, expected, limits
):
    budget, _, ids = household

    response = auth_client.get(summary_url(budget.pk), params)

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in expected} == expected
    assert body["limits"] == [limit_row(ids, *row) for row in limits]
    assert body["balance"] == "2115.00"


def test_the_other_side_of_the_transfers(auth_client, household):
    _, savings, ids = household

    body = auth_client.get(summary_url(savings.pk)).json()

    assert (body["transfers_in"], body["transfers_out"], body["transfers_count"]) == (
        "325.00",
        "50.00",
        3,
    )
    assert (body["income_total"], body["expense_total"]) == ("0.00", "999.00")
    assert body["balance"] == "-224.00"  # 500 - 999 + 325 - 50
    assert body["limits"] == [limit_row(ids, "Food", "2026-01", "5.00", "999.00", "-994.00")]


def test_a_leg_left_by_a_deleted_budget_counts_as_income_or_expense(auth_client, household):
    budget, savings, _ = household
    assert auth_client.delete(f"/api/budgets/{savings.pk}/").status_code == 204

    body = auth_client.get(summary_url(budget.pk)).json()

    assert (body["transfers_in"], body["transfers_out"], body["transfers_count"]) == (
        "0.00",
        "0.00",
        0,
    )
    assert (body["income_total"], body["expense_total"], body["transactions_count"]) == (
        "3070.00",
        "1955.00",
        9,
    )
    assert body["balance"] == "2115.00"


def test_deleting_a_category_removes_its_limits_from_the_summary(auth_client, household):
    budget, _, ids = household
    assert auth_client.delete(f"/api/categories/{ids['Food']}/").status_code == 204

    body = auth_client.get(summary_url(budget.pk)).json()

    assert body["limits"] == [limit_row(ids, "Rent", "2026-02", "1200.00", "1200.00", "0.00")]


@pytest.mark.parametrize("size", [1, 40])
@pytest.mark.parametrize("params", [{}, {"date_from": "2025-11-05", "date_to": "2026-06-30"}])
def test_summary_query_count_does_not_grow_with_transfers_and_limits(
    auth_client, user, django_assert_num_queries, size, params
):
    budget = make_budget(user)
    other = make_budget(user, title="Other")
    categories = [make_category(user, f"Category {n}") for n in range(4)]
    for n in range(size):
        day = D(2025, 11, 1) + dt.timedelta(days=n * 7)
        make_transaction(budget, f"-{n + 1}.25", date=day, category=categories[n % 4])
        source, target = (budget, other) if n % 2 else (other, budget)
        move(user, source, target, f"{n + 1}.50", day)
        month = D(2025 + (10 + n // 4) // 12, (10 + n // 4) % 12 + 1, 1)
        set_limit(user, budget, categories[n % 4], month, "100.00")
    assert SpendingLimit.objects.filter(budget=budget).count() == size
    assert Transaction.objects.filter(budget=budget).count() == 2 * size

    expected = SUMMARY_QUERIES + LIMITS_QUERIES + (CUT_MONTHS_QUERIES if params else 0)
    with django_assert_num_queries(expected):
        response = auth_client.get(summary_url(budget.pk), params)

    assert response.status_code == 200
    if not params:
        body = response.json()
        assert body["transfers_count"] == body["transactions_count"] == size
        assert len(body["limits"]) == size
