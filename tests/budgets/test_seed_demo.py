"""The ``seed_demo`` management command: a demo account whose reports work at once."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from budgets.models import (
    TRANSACTION_AMOUNT_MAX,
    Budget,
    Category,
    RecurringRule,
    Transaction,
    Transfer,
)
from tests.conftest import ApiClient, make_budget, make_transaction
from users.models import User

CATEGORY_NAMES = [
    "Eating out",
    "Entertainment",
    "Groceries",
    "Rent",
    "Salary",
    "Transport",
    "Travel",
    "Utilities",
]


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def snapshot(user) -> list[tuple]:
    """Everything the user owns, without ids or timestamps."""
    return sorted(
        Transaction.objects.for_user(user).values_list(
            "budget__title", "category__name", "description", "amount", "date"
        ),
        key=repr,
    )


def login(username: str, password: str) -> ApiClient:
    response = ApiClient().post("/api/token/", {"username": username, "password": password})
    assert response.status_code == 200
    return ApiClient({"HTTP_AUTHORIZATION": f"Bearer {response.json()['access']}"})


def test_seed_demo_creates_an_account_with_a_year_of_data(db):
    output = seed(transactions=300, seed=1)

    user = User.objects.get(username="demo")
    budgets = Budget.objects.for_user(user)
    assert sorted(budgets.values_list("title", flat=True)) == ["Holidays", "Household", "Savings"]
    names = Category.objects.for_user(user).values_list("name", flat=True)
    assert sorted(names) == CATEGORY_NAMES
    transactions = Transaction.objects.for_user(user)
    assert transactions.count() == 300
    assert transactions.filter(amount__gt=0).exists()
    assert transactions.filter(amount__lt=0).exists()
    assert transactions.filter(category=None).exists()
    assert transactions.filter(category__name="Salary", amount__gt=0).count() in (11, 12)
    # From the 1st of the month 11 months ago up to today.
    today = timezone.localdate()
    if today.month == 12:
        start = today.replace(month=1, day=1)
    else:
        start = today.replace(year=today.year - 1, month=today.month + 1, day=1)
    assert set(budgets.values_list("date", flat=True)) == {start}
    assert not transactions.filter(date__gt=today).exists()
    assert not transactions.filter(date__lt=start).exists()
    for amount in transactions.values_list("amount", flat=True):
        assert amount != 0
        assert abs(amount) <= TRANSACTION_AMOUNT_MAX
        assert Decimal(amount).quantize(Decimal("0.01")) == amount

    assert "demo" in output
    assert "http://localhost:8000/api/docs" in output
    password = re.search(r"password: (\S+)", output).group(1)
    assert user.check_password(password)


def test_seed_demo_reports_add_up_through_the_api(db):
    output = seed(transactions=300, seed=1)
    client = login("demo", re.search(r"password: (\S+)", output).group(1))

    counted = 0
    for budget in Budget.objects.filter(user__username="demo"):
        response = client.get(f"/api/budgets/{budget.pk}/summary/")
        assert response.status_code == 200
        summary = response.json()
        money = {
            key: Decimal(summary[key])
            for key in (
                "initial_amount",
                "income_total",
                "expense_total",
                "transfers_in",
                "transfers_out",
                "balance",
            )
        }
        assert money["balance"] == (
            money["initial_amount"]
            + money["income_total"]
            - money["expense_total"]
            + money["transfers_in"]
            - money["transfers_out"]
        )
        assert money["balance"] == budget.initial_amount + sum(
            budget.transactions.values_list("amount", flat=True), Decimal("0")
        )
        for breakdown in ("by_category", "by_month"):
            rows = summary[breakdown]
            assert sum(row["count"] for row in rows) == summary["transactions_count"]
            assert sum(Decimal(row["income"]) for row in rows) == money["income_total"]
            assert sum(Decimal(row["expense"]) for row in rows) == money["expense_total"]
        months = [row["month"] for row in summary["by_month"]]
        assert months == sorted(months)
        assert len(months) <= 12
        counted += summary["transactions_count"] + summary["transfers_count"]
        if budget.title == "Household":
            # Rent is paid on the 1st of every month: all 12 months show up.
            assert len(months) == 12
            # The salary covers a year of spending.
            assert money["income_total"] > money["expense_total"]
            # It moves money to the other two every month.
            assert money["transfers_in"] == 0 < money["transfers_out"]
            # Groceries, eating out and entertainment have limits in the last 3 months.
            limited = {(row["name"], row["month"]) for row in summary["limits"]}
            assert len(limited) == len(summary["limits"]) == 9
            assert {name for name, _ in limited} == {"Groceries", "Eating out", "Entertainment"}
            assert all(
                Decimal(row["limit"]) - Decimal(row["spent"]) == Decimal(row["remaining"])
                for row in summary["limits"]
            )
        else:
            assert money["transfers_in"] > 0 == money["transfers_out"]
            assert summary["limits"] == []
    assert counted == 300
    assert Transfer.objects.filter(from_budget__user__username="demo").count() in (22, 24)


def test_seed_demo_is_repeatable_with_a_seed(db):
    seed(transactions=300, seed=7)
    first = snapshot(User.objects.get(username="demo"))

    seed(transactions=300, seed=7, reset=True)

    assert snapshot(User.objects.get(username="demo")) == first


def test_seed_demo_refuses_to_overwrite_data_without_reset(db):
    seed(transactions=300, seed=1)
    user = User.objects.get(username="demo")
    before = snapshot(user)
    password_hash = user.password

    with pytest.raises(CommandError, match="--reset"):
        seed(transactions=50, seed=2, password="Another-Long-Passw0rd")

    user.refresh_from_db()
    assert snapshot(user) == before
    assert Budget.objects.for_user(user).count() == 3
    assert user.password == password_hash


def test_seed_demo_reset_replaces_only_the_demo_users_data(db, user):
    seed(transactions=300, seed=1)
    demo = User.objects.get(username="demo")
    old_ids = set(Transaction.objects.for_user(demo).values_list("id", flat=True))
    mine = make_transaction(make_budget(user), "-9.99")

    output = seed(transactions=50, seed=2, reset=True, password="Another-Long-Passw0rd")

    assert Budget.objects.for_user(demo).count() == 3
    assert Category.objects.for_user(demo).count() == 8
    new_ids = set(Transaction.objects.for_user(demo).values_list("id", flat=True))
    assert len(new_ids) == 50
    assert not new_ids & old_ids
    assert Transaction.objects.filter(pk=mine.pk).exists()
    assert "password: Another-Long-Passw0rd" in output
    demo.refresh_from_db()
    assert demo.check_password("Another-Long-Passw0rd")


@pytest.mark.parametrize("count", [0, 1, 4, 5, 40, 83, 11_000])
def test_seed_demo_creates_exactly_the_requested_number(db, count):
    # 5 is fewer than the monthly items (salary, rent...); 11,000 takes three batches.
    seed(transactions=count, seed=3, username="newcomer")

    assert Transaction.objects.filter(budget__user__username="newcomer").count() == count


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"transactions": -1}, "--transactions"),
        ({"password": "123"}, "--password"),
        ({"username": "no spaces allowed"}, "--username"),
    ],
)
def test_seed_demo_rejects_bad_options_and_creates_nothing(db, options, message):
    with pytest.raises(CommandError, match=message):
        seed(**options)

    assert not User.objects.exists()
    assert not Budget.objects.exists()


def test_seed_demo_adds_recurring_rules_that_start_tomorrow(db):
    call_command("seed_demo", "--transactions", "50", stdout=io.StringIO())
    demo = User.objects.get(username="demo")
    today = timezone.localdate()

    rules = RecurringRule.objects.for_user(demo)
    assert rules.count() == 6
    assert set(rules.values_list("frequency", flat=True)) == {"weekly", "monthly", "yearly"}
    assert min(rules.values_list("start_date", flat=True)) == today + dt.timedelta(days=1)
    streaming = rules.get(description="Streaming")
    assert streaming.start_date.day == 31
    # Transfers are transfers, not rules that post one side of them.
    assert not rules.filter(description__icontains="transfer").exists()
    assert Transaction.objects.filter(budget__user=demo).count() == 50  # nothing posted yet
    demo.refresh_from_db()
    assert demo.recurring_next_due == today + dt.timedelta(days=1)
