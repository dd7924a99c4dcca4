"""Seed the benchmark data set, and describe it for the load generator.

The ONE module that knows how benchmark data is written. Users, categories and budgets
go through the application's service layer (so whatever the app derives on those
writes is derived); the mass of transactions goes in with ``bulk_create`` in batches,
and ``after_bulk_transactions`` then brings anything the app keeps derived from
transactions up to date. When the service functions are renamed or the app starts
storing totals, adapt the few functions in the "adapter" section below and nothing else.

Run from the root of the application checkout being measured (the harness does that;
it works on any revision that has the same services)::

    python bench/seed.py --size standard            # seed, then print the description as JSON
    python bench/seed.py --size standard --describe # only describe an already seeded database
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import io
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

# --- Sizes ---------------------------------------------------------------------------


class Size:
    """``users`` users, each with ``budgets`` budgets of ``transactions`` transactions;
    the first user's first budget (the "big" one, newest, so it is on page 1 of the
    budget list) gets ``big`` transactions instead, and that user ``extra_budgets`` more
    budgets without transactions."""

    def __init__(self, *, users, budgets, transactions, big=None, extra_budgets=0, categories=5):
        self.users = users
        self.budgets = budgets
        self.transactions = transactions
        self.big = transactions if big is None else big
        self.extra_budgets = extra_budgets
        self.categories = categories

    @property
    def total_transactions(self) -> int:
        return self.users * self.budgets * self.transactions - self.transactions + self.big


SIZES = {
    # CI smoke: a handful of rows, just enough for every scenario to answer 2xx.
    "smoke": Size(users=2, budgets=3, transactions=30),
    # The standard shape: 3 users x 10 budgets x 100 transactions.
    "standard": Size(users=3, budgets=10, transactions=100),
    # The scale shape, at both ends: one user with 1,000 budgets, one of which holds
    # 1,000 (the reference point) or 1,000,000 transactions.
    "thousand": Size(users=2, budgets=10, transactions=100, big=1_000, extra_budgets=990),
    "million": Size(users=2, budgets=10, transactions=100, big=1_000_000, extra_budgets=990),
}

PASSWORD = "bench-Passw0rd-not-secret"
BIG_TITLE = "Big budget"
POST_TITLE = "Budget 2"  # the POST scenario writes here: not the budget the reads use
POST_DESCRIPTION = "wrk post"  # rows the POST scenario writes (removed by --cleanup)
CATEGORY_NAMES = ["Groceries", "Rent", "Transport", "Eating out", "Salary", "Travel", "Health"]
FIRST_DATE = dt.date(2023, 1, 1)  # transactions spread over three years
DAYS = 3 * 365
BATCH_SIZE = 5000


def username(index: int) -> str:
    return f"bench{index}"


# --- Adapter: the only place that names application code -----------------------------


def _setup_django() -> None:
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()


def create_user(name: str):
    from users.services import user_register

    return user_register(
        username=name, email=f"{name}@example.com", password=PASSWORD, password_confirm=PASSWORD
    )


def _takes_data_dict(function) -> bool:
    """Before the services split (issue 14) writes took ``data={...}``; after it, keyword
    arguments. Both are supported so --compare works across that change."""
    return "data" in inspect.signature(function).parameters


def create_category(user, name: str):
    from budgets.services import category_create

    if _takes_data_dict(category_create):
        return category_create(user=user, data={"name": name})
    return category_create(user=user, name=name)


def create_budget(user, *, title: str, date: dt.date, initial_amount: Decimal):
    from budgets.services import budget_create

    fields = {
        "title": title,
        "description": "Seeded for the benchmark.",
        "date": date,
        "initial_amount": initial_amount,
    }
    if _takes_data_dict(budget_create):
        return budget_create(user=user, data=fields)
    return budget_create(user=user, **fields)


def after_bulk_transactions(budget_ids: list[int]) -> None:
    """Bring whatever the app derives from transactions up to date after the bulk
    insert (and after --cleanup deleted the POSTed rows): the stored balances, counts
    and month totals, through the app's verify-and-repair command. --compare runs this
    module against both revisions, so it calls the command only where the checkout has
    it (an older revision computed everything at read time)."""
    from django.core.management import call_command, get_commands

    if "totals_verify" not in get_commands() or not budget_ids:
        return
    for start in range(0, len(budget_ids), 500):
        batch = budget_ids[start : start + 500]
        call_command("totals_verify", *[f"--budget={pk}" for pk in batch], stdout=io.StringIO())


def access_token(name: str) -> str:
    """A real access token, minted the way the app mints them (its lifetime comes from
    ACCESS_TOKEN_LIFETIME, which the harness raises for long runs)."""
    from users.services import token_obtain

    return token_obtain(username=name, password=PASSWORD)["access"]


# --- Seeding ---------------------------------------------------------------------------


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _bulk_transactions(rng: random.Random, budget, categories: list, count: int) -> None:
    from django.db import transaction

    from budgets.models import Transaction

    written = 0
    while written < count:
        batch = []
        for _ in range(min(BATCH_SIZE, count - written)):
            income = rng.random() < 0.2
            cents = rng.randint(10_000, 400_000) if income else -rng.randint(100, 20_000)
            batch.append(
                Transaction(
                    budget_id=budget.pk,
                    # One in ten uncategorised, as real data has.
                    category_id=rng.choice(categories).pk if rng.random() < 0.9 else None,
                    amount=_money(cents),
                    description=f"Seeded #{written + len(batch) + 1}",
                    date=FIRST_DATE + dt.timedelta(days=rng.randrange(DAYS)),
                )
            )
        # One commit per batch: on PostgreSQL ~1.5x faster than one huge transaction
        # (whose deferred foreign-key checks pile up until the end).
        with transaction.atomic():
            Transaction.objects.bulk_create(batch)
        written += len(batch)


def seed(size: Size, *, progress=print) -> None:
    rng = random.Random(15)  # noqa: S311 - benchmark data, not security
    budget_ids = []
    for u in range(1, size.users + 1):
        t0 = time.perf_counter()
        user = create_user(username(u))
        categories = [create_category(user, name) for name in CATEGORY_NAMES[: size.categories]]
        # The big budget is the newest, so it is on page 1 of the budget list.
        budgets = []
        total = size.budgets + (size.extra_budgets if u == 1 else 0)
        for b in range(total):
            title = BIG_TITLE if (u == 1 and b == 0) else f"Budget {b + 1}"
            date = dt.date(2026, 1, 1) - dt.timedelta(days=b)
            budgets.append(
                create_budget(user, title=title, date=date, initial_amount=_money(500_000))
            )
        t1 = time.perf_counter()
        for b, budget in enumerate(budgets[: size.budgets]):
            count = size.big if (u == 1 and b == 0) else size.transactions
            _bulk_transactions(rng, budget, categories, count)
            budget_ids.append(budget.pk)
        progress(
            f"  user {username(u)}: {len(budgets)} budgets, {len(categories)} categories via "
            f"the services in {t1 - t0:.1f} s; transactions in {time.perf_counter() - t1:.1f} s"
        )
    after_bulk_transactions(budget_ids)


def cleanup() -> int:
    """Remove the rows the POST scenario wrote (so a reused database stays the size it
    was seeded at). Returns how many."""
    from budgets.models import Transaction

    rows = Transaction.objects.filter(description=POST_DESCRIPTION)
    budget_ids = sorted(set(rows.values_list("budget_id", flat=True)))
    deleted, _ = rows.delete()
    if budget_ids:
        after_bulk_transactions(budget_ids)
    return deleted


def describe() -> dict:
    """What the load generator needs: a token and the ids each scenario uses."""
    from budgets.models import Budget, Category, Transaction
    from users.models import User

    user = User.objects.get(username=username(1))
    budgets = Budget.objects.filter(user=user)
    big = budgets.get(title=BIG_TITLE)
    return {
        "user_id": user.pk,
        "username": user.username,
        "token": access_token(user.username),
        "budget_id": big.pk,
        "post_budget_id": budgets.get(title=POST_TITLE).pk,
        "category_id": Category.objects.filter(user=user).order_by("pk").first().pk,
        "budgets": budgets.count(),
        "transactions_in_budget": Transaction.objects.filter(budget=big).count(),
        "transactions": Transaction.objects.count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="standard")
    parser.add_argument("--describe", action="store_true", help="Only describe, do not seed.")
    parser.add_argument("--cleanup", action="store_true", help="Remove rows the POSTs wrote.")
    parser.add_argument("--out", help="Write the description here (default: stdout).")
    args = parser.parse_args(argv)
    _setup_django()
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    if args.cleanup:
        log(f"  removed {cleanup()} rows written by earlier POST runs")
    if not args.describe and not args.cleanup:
        t0 = time.perf_counter()
        seed(SIZES[args.size], progress=log)
        log(f"  seeded '{args.size}' in {time.perf_counter() - t0:.1f} s")
    text = json.dumps(describe())
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
