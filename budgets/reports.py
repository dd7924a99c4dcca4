"""Reports: a budget's summary (totals, per category, per month) in aggregate queries."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth

from budgets import messages
from budgets.models import Transaction, cents_sum, cents_to_money
from budgets.selectors.budgets import budget_get


def _money_sums() -> dict[str, Any]:
    return {
        "income": cents_sum(Q(amount__gt=0)),
        "spent": cents_sum(Q(amount__lt=0)),
        "net": cents_sum(),
        "count": Count("id"),
    }


def _month_key(month: dt.date) -> str:
    # Not strftime("%Y"): it drops the zero padding of years before 1000.
    return f"{month.year:04d}-{month.month:02d}"


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "income": cents_to_money(row["income"]),
        "expense": cents_to_money(-row["spent"]),
        "net": cents_to_money(row["net"]),
        "count": row["count"],
    }


def budget_summary(
    *, user, budget_id: int, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> dict[str, Any]:
    """Totals, per-category and per-month breakdowns in three aggregate queries.

    ``balance`` is always the budget's full balance; everything else follows the dates.
    """
    budget = budget_get(user=user, budget_id=budget_id)
    txs = Transaction.objects.filter(budget=budget).order_by()
    if date_from is not None:
        txs = txs.filter(date__gte=date_from)
    if date_to is not None:
        txs = txs.filter(date__lte=date_to)

    by_category = (
        txs.values("category_id", "category__name")
        .annotate(**_money_sums())
        .order_by(F("category__name_key").asc(nulls_last=True), "category_id")
    )
    by_month = (
        txs.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(**_money_sums())
        .order_by("month")
    )
    months = [{"month": _month_key(row["month"]), **_figures(row)} for row in by_month]
    return {
        "budget": budget.pk,
        "initial_amount": budget.initial_amount,
        "balance": budget.balance,
        # Totals add up the (few) month rows: no extra query over the transactions.
        "income_total": sum((m["income"] for m in months), Decimal("0")),
        "expense_total": sum((m["expense"] for m in months), Decimal("0")),
        "transactions_count": sum(m["count"] for m in months),
        "by_category": [
            {
                "category": row["category_id"],
                "name": row["category__name"] or messages.UNCATEGORIZED,
                **_figures(row),
            }
            for row in by_category
        ],
        "by_month": months,
    }
