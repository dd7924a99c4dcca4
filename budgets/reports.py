"""Reports: a budget's summary (totals, per category, per month, transfers, spending
limits) in a fixed number of aggregate queries, whatever the number of rows.

Transfer legs are neither income nor expense: income, expense, ``by_category``,
``by_month`` and ``transactions_count`` leave them out, and ``transfers_in``,
``transfers_out`` and ``transfers_count`` show them apart. ``balance`` counts every
transaction, legs included.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth

from budgets import messages
from budgets.models import Budget, SpendingLimit, Transaction, cents_sum, cents_to_money
from budgets.months import month_end, month_key, month_start
from budgets.selectors.budgets import budget_get


def _money_sums() -> dict[str, Any]:
    return {
        "income": cents_sum(Q(amount__gt=0)),
        "spent": cents_sum(Q(amount__lt=0)),
        "net": cents_sum(),
        "count": Count("id"),
    }


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "income": cents_to_money(row["income"]),
        "expense": cents_to_money(-row["spent"]),
        "net": cents_to_money(row["net"]),
        "count": row["count"],
    }


def _in_period(
    queryset: QuerySet, field: str, date_from: dt.date | None, date_to: dt.date | None
) -> QuerySet:
    if date_from is not None:
        queryset = queryset.filter(**{f"{field}__gte": date_from})
    if date_to is not None:
        queryset = queryset.filter(**{f"{field}__lte": date_to})
    return queryset


def _transfer_totals(transactions: QuerySet[Transaction]) -> dict[str, Any]:
    """Money moved in and out of the budget by transfers (positive amounts): one query."""
    totals = transactions.filter(transfer__isnull=False).aggregate(
        moved_in=cents_sum(Q(amount__gt=0)),
        moved_out=cents_sum(Q(amount__lt=0)),
        count=Count("id"),
    )
    return {
        "transfers_in": cents_to_money(totals["moved_in"]),
        "transfers_out": cents_to_money(-totals["moved_out"]),
        "transfers_count": totals["count"],
    }


def _limit_figures(
    budget: Budget, date_from: dt.date | None, date_to: dt.date | None
) -> list[dict[str, Any]]:
    """Every spending limit whose month overlaps the period (oldest month first, then by
    category name), with the money spent in that category over that whole month:
    expenses, positive, transfer legs left out. Two queries, however many rows: the
    limits, then the spending of their categories between their first and last month
    (a date range the (budget, date) index serves)."""
    first = None if date_from is None else month_start(date_from)
    limits = _in_period(SpendingLimit.objects.filter(budget=budget), "month", first, date_to)
    rows = list(
        limits.values("category_id", "category__name", "month", "amount").order_by(
            "month", "category__name_key", "category_id"
        )
    )
    if rows:
        window = Q(
            category_id__in={row["category_id"] for row in rows},
            date__range=(rows[0]["month"], month_end(rows[-1]["month"])),
        )
    else:  # an empty range: no rows, yet the same number of queries
        window = Q(date__range=(dt.date.max, dt.date.min))
    spending = (
        Transaction.objects.filter(window, budget=budget, transfer__isnull=True, amount__lt=0)
        .annotate(month=TruncMonth("date"))
        .values("category_id", "month")
        .annotate(spent=cents_sum())
        .order_by()
    )
    spent = {(row["category_id"], month_key(row["month"])): -row["spent"] for row in spending}
    figures = []
    for row in rows:
        key = (row["category_id"], month_key(row["month"]))
        money_spent = cents_to_money(spent.get(key, 0))
        figures.append(
            {
                "category": row["category_id"],
                "name": row["category__name"],
                "month": key[1],
                "limit": row["amount"],
                "spent": money_spent,
                "remaining": row["amount"] - money_spent,
            }
        )
    return figures


def budget_summary(
    *, user, budget_id: int, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> dict[str, Any]:
    """Totals, per-category and per-month breakdowns, transfers and spending limits.

    ``balance`` is always the budget's full balance; everything else follows the dates
    (limits: every month the period touches, each counted whole).
    """
    budget = budget_get(user=user, budget_id=budget_id)
    transactions = _in_period(
        Transaction.objects.filter(budget=budget).order_by(), "date", date_from, date_to
    )
    ordinary = transactions.filter(transfer__isnull=True)

    by_category = (
        ordinary.values("category_id", "category__name")
        .annotate(**_money_sums())
        .order_by(F("category__name_key").asc(nulls_last=True), "category_id")
    )
    by_month = (
        ordinary.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(**_money_sums())
        .order_by("month")
    )
    months = [{"month": month_key(row["month"]), **_figures(row)} for row in by_month]
    return {
        "budget": budget.pk,
        "initial_amount": budget.initial_amount,
        "balance": budget.balance,
        # Totals add up the (few) month rows: no extra query over the transactions.
        "income_total": sum((m["income"] for m in months), Decimal("0")),
        "expense_total": sum((m["expense"] for m in months), Decimal("0")),
        "transactions_count": sum(m["count"] for m in months),
        **_transfer_totals(transactions),
        "by_category": [
            {
                "category": row["category_id"],
                "name": row["category__name"] or messages.UNCATEGORIZED,
                **_figures(row),
            }
            for row in by_category
        ],
        "by_month": months,
        "limits": _limit_figures(budget, date_from, date_to),
    }
