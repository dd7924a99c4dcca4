"""Reports: a budget's summary (totals, per category, per month, transfers, spending
limits) from the stored month totals (``MonthTotal``), in a few queries whose cost does
not grow with the number of transactions.

Transfer legs are neither income nor expense: income, expense, ``by_category``,
``by_month`` and ``transactions_count`` leave them out, and ``transfers_in``,
``transfers_out`` and ``transfers_count`` show them apart. ``balance`` counts every
transaction, legs included.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from budgets import messages
from budgets.models import (
    Budget,
    Category,
    MonthTotal,
    SpendingLimit,
    Transaction,
    cents_to_money,
)
from budgets.months import month_end, month_key, month_start
from budgets.selectors.budgets import budget_get
from project.prepared import PreparedQuery

# (category key, month, transfer) -> [income cents, expense cents (<= 0), count]
Cells = dict[tuple[int, dt.date, bool], list[int]]
Names = dict[int, tuple[str, str]]  # category id -> (name, name_key)


def _next_month(day: dt.date) -> dt.date:
    return month_end(day) + dt.timedelta(days=1)


def _cells(
    budget: Budget, date_from: dt.date | None, date_to: dt.date | None
) -> tuple[Cells, Names]:
    """The period's sums per category, month and kind. Whole months come from the
    stored month totals (a few rows per month, whatever the number of transactions);
    only the days of a month the period cuts (``date_from`` after the 1st, ``date_to``
    before the month's end) are added up from the transactions, one query for both ends.
    Also the names (and sort keys) of the categories met, read along.
    """
    first, last, cut_only = None, None, False  # whole months: first..last (None: open)
    if date_from is not None:
        if date_from.day == 1:
            first = date_from
        elif date_from >= month_start(dt.date.max):
            cut_only = True  # no whole month after it
        else:
            first = _next_month(date_from)
    if date_to is not None:
        if date_to == month_end(date_to):
            last = month_start(date_to)
        elif date_to <= month_end(dt.date.min):
            cut_only = True  # no whole month before it
        else:
            last = month_start(month_start(date_to) - dt.timedelta(days=1))
    rows = None
    edges: list[tuple[dt.date, dt.date]] = []
    if cut_only or (first is not None and last is not None and first > last):
        edges.append((date_from or dt.date.min, date_to or dt.date.max))
    elif first is None and last is None:  # every month: the usual summary, compiled once
        rows = _ALL_MONTHS.rows(budget=budget.pk, user=budget.user_id)
    else:
        whole = MonthTotal.objects.filter(budget=budget)
        if first is not None:
            whole = whole.filter(month__gte=first)
            if date_from < first:
                edges.append((date_from, first - dt.timedelta(days=1)))
        if last is not None:
            whole = whole.filter(month__lte=last)
            if date_to > month_end(last):
                edges.append((_next_month(last), date_to))
        rows = _month_rows(whole, budget.user_id)
    cells: Cells = {}
    names: Names = {}
    if rows is not None:
        for key, month, leg, income, spent, count, name, name_key in rows:
            cells[key, month, leg] = [income, spent, count]
            if name is not None:
                names[key] = (name, name_key)
    if edges:
        in_edges = Q()
        for low, high in edges:
            in_edges |= Q(date__range=(low, high))
        cut = Transaction.objects.filter(in_edges, budget=budget).month_sums(
            "category__name", "category__name_key", "category__user_id"
        )
        for name, name_key, owner, category_id, month, leg, income, spent, rows in cut:
            _add(cells, (category_id or 0, month, bool(leg)), [income, spent, rows])
            if owner == budget.user_id:
                names[category_id] = (name, name_key)
    return cells, names


def _month_rows(month_totals: QuerySet[MonthTotal], user_id: int) -> QuerySet:
    """Each month total's key and figures, with the name and sort key of its category
    when that is one of the owner's (no other user's name, whatever the rows say)."""
    category = Category.objects.filter(pk=OuterRef("category_key"), user_id=user_id)
    return month_totals.annotate(
        name=Subquery(category.values("name")),
        name_key=Subquery(category.values("name_key")),
    ).values_list(*MonthTotal.KEY_COLUMNS, *MonthTotal.FIGURE_COLUMNS, "name", "name_key")


_ALL_MONTHS = PreparedQuery(
    lambda budget, user: _month_rows(MonthTotal.objects.filter(budget=budget), user)
)


def _figures(income: int, spent: int, count: int) -> dict[str, Any]:
    return {
        "income": cents_to_money(income),
        "expense": cents_to_money(-spent),
        "net": cents_to_money(income + spent),
        "count": count,
    }


def _add(into: dict, key, cell: list[int]) -> None:
    """Add a cell's [income, expense, count] to the sums kept under ``key``."""
    sums = into.setdefault(key, [0, 0, 0])
    for i, value in enumerate(cell):
        sums[i] += value


def _in_period(
    queryset: QuerySet, field: str, date_from: dt.date | None, date_to: dt.date | None
) -> QuerySet:
    if date_from is not None:
        queryset = queryset.filter(**{f"{field}__gte": date_from})
    if date_to is not None:
        queryset = queryset.filter(**{f"{field}__lte": date_to})
    return queryset


def _limit_rows(limits: QuerySet[SpendingLimit]) -> QuerySet:
    return limits.values("category_id", "category__name", "month", "amount").order_by(
        "month", "category__name_key", "category_id"
    )


_ALL_LIMITS = PreparedQuery(lambda budget: _limit_rows(SpendingLimit.objects.filter(budget=budget)))


def _limit_figures(
    budget: Budget, date_from: dt.date | None, date_to: dt.date | None
) -> list[dict[str, Any]]:
    """Every spending limit whose month overlaps the period (oldest month first, then by
    category name), with the money spent in that category over that whole month:
    expenses, positive, transfer legs left out. Two queries, however many rows: the
    limits, then the stored month totals of their categories and months."""
    if date_from is None and date_to is None:
        rows = _ALL_LIMITS.rows(budget=budget.pk)
    else:
        first = None if date_from is None else month_start(date_from)
        limits = SpendingLimit.objects.filter(budget=budget)
        rows = list(_limit_rows(_in_period(limits, "month", first, date_to)))
    if not rows:
        return []
    spending = MonthTotal.objects.filter(
        budget=budget,
        transfer=False,
        category_key__in={row["category_id"] for row in rows},
        month__range=(rows[0]["month"], rows[-1]["month"]),
    ).values_list("category_key", "month", "expense_cents")
    spent = {(category, month): -expense for category, month, expense in spending}
    figures = []
    for row in rows:
        money_spent = cents_to_money(spent.get((row["category_id"], row["month"]), 0))
        figures.append(
            {
                "category": row["category_id"],
                "name": row["category__name"],
                "month": month_key(row["month"]),
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
    (limits: every month the period touches, each counted whole). Read from the stored
    totals: the cost does not grow with the number of transactions.
    """
    budget = budget_get(user=user, budget_id=budget_id)
    by_category: dict[int, list[int]] = {}
    by_month: dict[dt.date, list[int]] = {}
    moved: dict[str, list[int]] = {}
    cells, named = _cells(budget, date_from, date_to)
    for (category, month, leg), cell in cells.items():
        if leg:
            _add(moved, "transfers", cell)
        else:
            # A key that names none of the owner's categories counts as uncategorised.
            _add(by_category, category if category in named else 0, cell)
            _add(by_month, month, cell)

    def category_order(pk: int) -> tuple:
        name_key = named.get(pk, (None, None))[1]
        return (name_key is None, name_key or "", pk)

    months = [
        {"month": month_key(month), **_figures(*by_month[month])} for month in sorted(by_month)
    ]
    transfers = moved.get("transfers", [0, 0, 0])
    return {
        "budget": budget.pk,
        "initial_amount": budget.initial_amount,
        "balance": budget.balance,
        "income_total": sum((m["income"] for m in months), Decimal("0")),
        "expense_total": sum((m["expense"] for m in months), Decimal("0")),
        "transactions_count": sum(m["count"] for m in months),
        "transfers_in": cents_to_money(transfers[0]),
        "transfers_out": cents_to_money(-transfers[1]),
        "transfers_count": transfers[2],
        "by_category": [
            {
                "category": pk or None,
                "name": named[pk][0] if pk in named else messages.UNCATEGORIZED,
                **_figures(*by_category[pk]),
            }
            for pk in sorted(by_category, key=category_order)
        ],
        "by_month": months,
        "limits": _limit_figures(budget, date_from, date_to),
    }
