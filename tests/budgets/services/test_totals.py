"""Stored totals: each budget's balance and count and its month totals follow every write,
the summary read from them equals the sums of the transactions for any period, and
``totals_verify`` finds and repairs totals that something else left behind.

(Every test that uses the database is also checked by ``_stored_totals_stay_exact`` in
``tests/conftest.py``: after it, the stored totals must equal the transactions' sums.)
"""

import datetime as dt
import io
import random
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from budgets import services
from budgets.models import Budget, MonthTotal, Transaction
from budgets.services.totals import Drift, totals_rebuild, totals_verify
from tests.conftest import make_budget, make_category, make_transaction

D = dt.date
ZERO = Decimal("0.00")


def month_rows(budget) -> set[tuple]:
    return set(
        MonthTotal.objects.filter(budget=budget).values_list(
            "category_key", "month", "transfer", "income_cents", "expense_cents", "count"
        )
    )


def stored(budget) -> tuple[int, int]:
    budget = Budget.objects.get(pk=budget.pk)
    return budget.transactions_cents, budget.transactions_count


def test_every_kind_of_write_moves_the_stored_totals(user):
    budget = make_budget(user)
    savings = make_budget(user, title="Savings")
    food = make_category(user, "Food")

    tx = services.transaction_create(
        user=user, budget=budget.pk, amount=Decimal("-12.34"), date=D(2026, 1, 31), category=food.pk
    )
    assert stored(budget) == (-1234, 1)
    assert month_rows(budget) == {(food.pk, D(2026, 1, 1), False, 0, -1234, 1)}

    services.transaction_update(
        user=user, transaction_id=tx.pk, amount=Decimal("5.00"), date=D(2026, 2, 1)
    )
    assert stored(budget) == (500, 1)
    assert month_rows(budget) == {(food.pk, D(2026, 2, 1), False, 500, 0, 1)}

    services.transaction_update(user=user, transaction_id=tx.pk, budget=savings.pk, category=None)
    assert stored(budget) == (0, 0)
    assert month_rows(budget) == set()
    assert stored(savings) == (500, 1)
    assert month_rows(savings) == {(0, D(2026, 2, 1), False, 500, 0, 1)}

    transfer = services.transfer_create(
        user=user,
        from_budget=savings.pk,
        to_budget=budget.pk,
        amount=Decimal("100.00"),
        date=D(2026, 3, 3),
    )
    assert stored(budget) == (10000, 1)
    assert stored(savings) == (500 - 10000, 2)
    assert (0, D(2026, 3, 1), True, 0, -10000, 1) in month_rows(savings)

    services.transfer_update(user=user, transfer_id=transfer.pk, amount=Decimal("1.00"))
    assert stored(budget) == (100, 1)
    assert month_rows(budget) == {(0, D(2026, 3, 1), True, 100, 0, 1)}

    services.transaction_delete(user=user, transaction_id=tx.pk)
    assert stored(savings) == (-100, 1)

    # Deleting the source budget ends the transfer: the income leg stays, as an
    # ordinary transaction, with the same balance.
    services.budget_delete(user=user, budget_id=savings.pk)
    assert stored(budget) == (100, 1)
    assert month_rows(budget) == {(0, D(2026, 3, 1), False, 100, 0, 1)}
    assert not MonthTotal.objects.filter(budget_id=savings.pk).exists()


def test_deleting_a_category_folds_its_month_totals_into_uncategorised(user):
    budget = make_budget(user)
    other = make_budget(user, title="Other")
    food = make_category(user, "Food")
    make_transaction(budget, "-1.00", category=food, date=D(2026, 1, 5))
    make_transaction(budget, "-2.00", category=None, date=D(2026, 1, 6))
    make_transaction(budget, "3.00", category=food, date=D(2026, 2, 6))
    make_transaction(other, "-4.00", category=food, date=D(2026, 1, 6))

    services.category_delete(user=user, category_id=food.pk)

    assert month_rows(budget) == {
        (0, D(2026, 1, 1), False, 0, -300, 2),
        (0, D(2026, 2, 1), False, 300, 0, 1),
    }
    assert month_rows(other) == {(0, D(2026, 1, 1), False, 0, -400, 1)}


def test_saving_a_budget_read_earlier_keeps_the_stored_totals(user):
    budget = make_budget(user)
    stale = Budget.objects.get(pk=budget.pk)
    make_transaction(budget, "-10.00")

    stale.title = "Renamed"
    stale.save()  # as the admin does: every field of a form

    assert stored(budget) == (-1000, 1)
    assert Budget.objects.get(pk=budget.pk).title == "Renamed"


@pytest.fixture
def mixed(user):
    """Three years of random rows in two budgets: categories, uncategorised, transfers."""
    rng = random.Random(20261206)
    budget = make_budget(user)
    savings = make_budget(user, title="Savings")
    categories = [make_category(user, name) for name in ("Food", "Rent", "Élan", "zoo")]
    for _ in range(150):
        day = D(2025, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))
        amount = Decimal(rng.randrange(1, 100_000)).scaleb(-2) * rng.choice((1, -1, -1))
        make_transaction(budget, str(amount), date=day, category=rng.choice([None, *categories]))
    for _ in range(20):
        day = D(2025, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))
        source, target = rng.sample([budget, savings], 2)
        services.transfer_create(
            user=user,
            from_budget=source.pk,
            to_budget=target.pk,
            amount=Decimal(rng.randrange(1, 50_000)).scaleb(-2),
            date=day,
        )
    services.category_delete(user=user, category_id=categories[-1].pk)
    return budget


def expected_summary(budget, date_from, date_to) -> dict:
    """The summary's period figures added up row by row, in Python."""
    rows = Transaction.objects.filter(budget=budget).select_related("category")
    if date_from:
        rows = rows.filter(date__gte=date_from)
    if date_to:
        rows = rows.filter(date__lte=date_to)
    by_category: dict = {}
    by_month: dict = {}
    moved_in = moved_out = ZERO
    legs = 0
    for tx in rows:
        if tx.transfer_id:
            legs += 1
            moved_in += max(tx.amount, 0)
            moved_out += max(-tx.amount, 0)
            continue
        for sums in (
            by_category.setdefault(tx.category_id, [ZERO, ZERO, 0]),
            by_month.setdefault(f"{tx.date:%Y-%m}", [ZERO, ZERO, 0]),
        ):
            sums[0] += max(tx.amount, 0)
            sums[1] += max(-tx.amount, 0)
            sums[2] += 1
    return {
        "by_category": {k: [str(v[0]), str(v[1]), v[2]] for k, v in by_category.items()},
        "by_month": {k: [str(v[0]), str(v[1]), v[2]] for k, v in sorted(by_month.items())},
        "transfers": [str(moved_in), str(moved_out), legs],
    }


PERIODS = [
    (None, None),
    ("2025-03-01", None),
    ("2025-03-02", None),
    (None, "2026-06-30"),
    (None, "2026-06-29"),
    ("2025-03-15", "2025-03-20"),  # inside one month
    ("2025-03-15", "2025-04-10"),  # two cut months, no whole one
    ("2025-03-31", "2025-04-01"),
    ("2025-02-10", "2026-11-17"),  # cut at both ends, whole months between
    ("2025-02-01", "2026-11-30"),  # whole months only
    ("2026-12-01", "2025-01-01"),  # from after to: nothing
    ("0001-01-01", "0001-01-15"),
    ("9999-12-15", "9999-12-31"),
    ("0001-01-02", "9999-12-30"),
]


@pytest.mark.parametrize(("date_from", "date_to"), PERIODS)
def test_the_summary_from_stored_totals_equals_the_rows_summed(
    auth_client, mixed, date_from, date_to
):
    params = {k: v for k, v in (("date_from", date_from), ("date_to", date_to)) if v}
    response = auth_client.get(f"/api/budgets/{mixed.pk}/summary/", params)
    assert response.status_code == 200, response.json()
    body = response.json()
    want = expected_summary(
        mixed,
        date_from and dt.date.fromisoformat(date_from),
        date_to and dt.date.fromisoformat(date_to),
    )

    got_categories = {
        row["category"]: [row["income"], row["expense"], row["count"]]
        for row in body["by_category"]
    }
    got_months = {
        row["month"]: [row["income"], row["expense"], row["count"]] for row in body["by_month"]
    }
    assert got_categories == want["by_category"]
    assert got_months == want["by_month"]
    assert [body["transfers_in"], body["transfers_out"], body["transfers_count"]] == want[
        "transfers"
    ]
    assert body["transactions_count"] == sum(v[2] for v in want["by_month"].values())
    named = [row["name"] for row in body["by_category"] if row["category"] is not None]
    assert named == sorted(named, key=str.casefold)
    if None in got_categories:  # uncategorised last
        assert body["by_category"][-1] | {"income": 0} == {
            **body["by_category"][-1],
            "income": 0,
            "category": None,
            "name": "Uncategorized",
        }
    assert Decimal(body["balance"]) == Budget.objects.get(pk=mixed.pk).balance


@pytest.mark.stored_totals_drift
def test_verify_finds_totals_written_around_the_write_path_and_repairs_them(user):
    budget = make_budget(user)
    clean = make_budget(user, title="Clean")
    make_transaction(budget, "-10.00", date=D(2026, 1, 2))
    make_transaction(clean, "-1.00")
    Transaction.objects.bulk_create(
        [Transaction(budget=budget, amount=Decimal("2.50"), date=D(2026, 3, 4))]
    )
    ids = [budget.pk, clean.pk]

    out = io.StringIO()
    with pytest.raises(CommandError, match="1 budget"):
        call_command("totals_verify", "--check", stdout=out)
    assert f"budget {budget.pk}: balance and count and 1 month total(s) differed" in out.getvalue()
    assert stored(budget) == (-1000, 1)  # --check changed nothing

    assert totals_rebuild(budget_ids=ids) == [Drift(budget=budget.pk, balance=True, months=1)]
    assert stored(budget) == (-750, 2)
    assert month_rows(budget) == {
        (0, D(2026, 1, 1), False, 0, -1000, 1),
        (0, D(2026, 3, 1), False, 250, 0, 1),
    }
    out = io.StringIO()
    call_command("totals_verify", "--check", stdout=out)
    assert out.getvalue().strip().endswith("2 budget(s) checked, 0 differed.")


@pytest.mark.stored_totals_drift
def test_the_command_repairs_by_default(user):
    budget = make_budget(user)
    make_transaction(budget, "-10.00")
    Budget.objects.filter(pk=budget.pk).update(transactions_cents=7, transactions_count=9)
    MonthTotal.objects.all().delete()

    out = io.StringIO()
    call_command("totals_verify", "--budget", str(budget.pk), stdout=out)

    assert "1 budget(s) checked, 1 repaired." in out.getvalue()
    assert stored(budget) == (-1000, 1)
    assert totals_verify(budget_ids=[budget.pk], repair=False) == []


def test_the_command_refuses_a_batch_below_one():
    with pytest.raises(CommandError, match="--batch"):
        call_command("totals_verify", "--batch", "0")


@pytest.mark.stored_totals_drift
@pytest.mark.parametrize("params", [{}, {"date_from": "2026-01-10"}])
def test_the_summary_never_names_another_users_category(auth_client, user, other_user, params):
    """Rows can only name the owner's categories through the API and the admin; should the
    data say otherwise (SQL by hand), the summary shows them uncategorised, not the other
    user's category name or id. Both sources: stored month totals and cut months."""
    budget = make_budget(user)
    mine = make_category(user, "Mine")
    theirs = make_category(other_user, "Secret plans")
    make_transaction(budget, "-1.00", date=D(2026, 1, 15), category=mine)
    make_transaction(budget, "-2.00", date=D(2026, 1, 20))
    Transaction.objects.filter(category=None).update(category=theirs)  # around the services
    MonthTotal.objects.filter(budget=budget, category_key=0).update(category_key=theirs.pk)

    body = auth_client.get(f"/api/budgets/{budget.pk}/summary/", params).json()

    assert "Secret plans" not in str(body)
    assert [(row["category"], row["name"], row["expense"]) for row in body["by_category"]] == [
        (mine.pk, "Mine", "1.00"),
        (None, "Uncategorized", "2.00"),
    ]
