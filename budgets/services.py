"""Every budgets use case. Each function takes the user first and starts its queries
from that user's rows, so someone else's object is simply not found."""

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Lower, TruncMonth

from budgets import messages
from budgets.models import (
    Budget,
    Category,
    Transaction,
    category_name_key,
    cents_sum,
    cents_to_money,
)
from project.errors import FieldError, NotFound
from project.schemas import money_out

# Ids the database can hold (bigint); anything else cannot exist.
MAX_ID = 2**63 - 1

BUDGET_ORDERINGS: dict[str, tuple] = {
    "date": ("date", "created_at", "id"),
    "-date": ("-date", "-created_at", "-id"),
    "title": (Lower("title"), "id"),
    "-title": (Lower("title").desc(), "-id"),
    "initial_amount": ("initial_amount", "id"),
    "-initial_amount": ("-initial_amount", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}
TRANSACTION_ORDERINGS: dict[str, tuple] = {
    "date": ("date", "created_at", "id"),
    "-date": ("-date", "-created_at", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}
CATEGORY_ORDERING = ("name_key", "id")
EXPORT_HEADER = ["date", "budget", "category", "description", "amount"]
EXPORT_CHUNK_SIZE = 2000
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _valid_id(value: int | None) -> bool:
    return value is not None and 1 <= value <= MAX_ID


def _get(queryset: QuerySet, object_id: int):
    if not _valid_id(object_id):
        raise NotFound
    obj = queryset.filter(pk=object_id).first()
    if obj is None:
        raise NotFound
    return obj


def _apply(obj, data: dict[str, Any]) -> list[str]:
    fields = list(data)
    for name, value in data.items():
        setattr(obj, name, value)
    return fields


# --- Budgets -------------------------------------------------------------------------


def budget_list(*, user, filters: dict[str, Any]) -> QuerySet[Budget]:
    qs = Budget.objects.for_user(user).with_balance()
    if search := filters.get("search"):
        qs = qs.filter(Q(title__icontains=search) | Q(description__icontains=search))
    if (date_from := filters.get("date_from")) is not None:
        qs = qs.filter(date__gte=date_from)
    if (date_to := filters.get("date_to")) is not None:
        qs = qs.filter(date__lte=date_to)
    return qs.order_by(*BUDGET_ORDERINGS[filters.get("ordering") or "-date"])


def budget_get(*, user, budget_id: int) -> Budget:
    return _get(Budget.objects.for_user(user).with_balance(), budget_id)


def budget_create(*, user, data: dict[str, Any]) -> Budget:
    budget = Budget.objects.create(user=user, **data)
    return budget_get(user=user, budget_id=budget.pk)


def budget_update(*, user, budget_id: int, data: dict[str, Any]) -> Budget:
    with transaction.atomic():
        budget = _get(Budget.objects.for_user(user).select_for_update(), budget_id)
        if data:
            budget.save(update_fields=[*_apply(budget, data), "updated_at"])
    return budget_get(user=user, budget_id=budget_id)


def budget_delete(*, user, budget_id: int) -> None:
    with transaction.atomic():
        # Lock first: a transaction being added to this budget right now either
        # commits before we collect its rows (and goes with the budget) or waits and
        # then finds the budget gone.
        _get(Budget.objects.for_user(user).select_for_update(), budget_id).delete()


# --- Categories ----------------------------------------------------------------------


def category_list(*, user) -> QuerySet[Category]:
    return Category.objects.for_user(user).order_by(*CATEGORY_ORDERING)


def category_get(*, user, category_id: int) -> Category:
    return _get(Category.objects.for_user(user), category_id)


def _category_name_taken(*, user, name: str, exclude_id: int | None = None) -> bool:
    qs = Category.objects.for_user(user).filter(name_key=category_name_key(name))
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def _save_category(category: Category, *, update_fields: list[str] | None = None) -> Category:
    if _category_name_taken(user=category.user, name=category.name, exclude_id=category.pk):
        raise FieldError.single("name", messages.CATEGORY_EXISTS)
    try:
        with transaction.atomic():
            category.save(update_fields=update_fields)
    except IntegrityError as exc:
        # Another request created the same name between our check and our write.
        raise FieldError.single("name", messages.CATEGORY_EXISTS) from exc
    return category


def category_create(*, user, data: dict[str, Any]) -> Category:
    return _save_category(Category(user=user, **data))


def category_update(*, user, category_id: int, data: dict[str, Any]) -> Category:
    with transaction.atomic():
        category = _get(Category.objects.for_user(user).select_for_update(), category_id)
        if not data:
            return category
        return _save_category(category, update_fields=[*_apply(category, data), "updated_at"])


def category_delete(*, user, category_id: int) -> None:
    """Deletes the category; its transactions stay, uncategorised (SET_NULL)."""
    with transaction.atomic():
        _get(Category.objects.for_user(user).select_for_update(), category_id).delete()


# --- Transactions --------------------------------------------------------------------


def _lock_owned(queryset: QuerySet, object_id: int) -> bool:
    """Whether the caller owns the row, keeping it locked (FOR NO KEY UPDATE) until the
    surrounding transaction ends, so it cannot be deleted between this check and the
    write that references it. Must run inside ``transaction.atomic()``."""
    if not _valid_id(object_id):
        return False
    locked = queryset.filter(pk=object_id).select_for_update(no_key=True).values_list("pk")
    return bool(list(locked))


def _owned_budget_id(*, user, budget_id: int) -> int:
    if not _lock_owned(Budget.objects.for_user(user), budget_id):
        raise FieldError.single("budget", messages.BUDGET_NOT_FOUND)
    return budget_id


def _owned_category_id(*, user, category_id: int | None) -> int | None:
    if category_id is None:
        return None
    if not _lock_owned(Category.objects.for_user(user), category_id):
        raise FieldError.single("category", messages.CATEGORY_NOT_FOUND)
    return category_id


def _resolve_references(*, user, data: dict[str, Any]) -> dict[str, Any]:
    """Map ``budget``/``category`` ids to the caller's rows, or fail as field errors."""
    resolved = {k: v for k, v in data.items() if k not in ("budget", "category")}
    errors: dict[str, list[str]] = {}
    if "budget" in data:
        try:
            resolved["budget_id"] = _owned_budget_id(user=user, budget_id=data["budget"])
        except FieldError as exc:
            errors.update(exc.errors)
    if "category" in data:
        try:
            resolved["category_id"] = _owned_category_id(user=user, category_id=data["category"])
        except FieldError as exc:
            errors.update(exc.errors)
    if errors:
        raise FieldError(errors)
    return resolved


def transaction_list(*, user, filters: dict[str, Any]) -> QuerySet[Transaction]:
    qs = Transaction.objects.for_user(user)
    if (budget_id := filters.get("budget")) is not None:
        qs = qs.filter(budget_id=budget_id) if _valid_id(budget_id) else qs.none()
    if (category_id := filters.get("category")) is not None:
        qs = qs.filter(category_id=category_id) if _valid_id(category_id) else qs.none()
    if filters.get("type") == "income":
        qs = qs.filter(amount__gt=0)
    elif filters.get("type") == "expense":
        qs = qs.filter(amount__lt=0)
    if (date_from := filters.get("date_from")) is not None:
        qs = qs.filter(date__gte=date_from)
    if (date_to := filters.get("date_to")) is not None:
        qs = qs.filter(date__lte=date_to)
    if (min_amount := filters.get("min_amount")) is not None:
        qs = qs.filter(amount__gte=min_amount)
    if (max_amount := filters.get("max_amount")) is not None:
        qs = qs.filter(amount__lte=max_amount)
    if search := filters.get("search"):
        qs = qs.filter(description__icontains=search)
    return qs.order_by(*TRANSACTION_ORDERINGS[filters.get("ordering") or "-date"])


def transaction_get(*, user, transaction_id: int) -> Transaction:
    return _get(Transaction.objects.for_user(user), transaction_id)


def transaction_create(*, user, data: dict[str, Any]) -> Transaction:
    with transaction.atomic():
        fields = _resolve_references(user=user, data=data)
        return Transaction.objects.create(**fields)


def transaction_update(*, user, transaction_id: int, data: dict[str, Any]) -> Transaction:
    """Replace (PUT) or patch fields; ``budget`` may move it to another of your budgets."""
    with transaction.atomic():
        tx = _get(
            Transaction.objects.for_user(user).select_for_update(of=("self",)), transaction_id
        )
        fields = _resolve_references(user=user, data=data)
        if fields:
            tx.save(update_fields=[*_apply(tx, fields), "updated_at"])
    return tx


def transaction_delete(*, user, transaction_id: int) -> None:
    with transaction.atomic():
        transaction_get(user=user, transaction_id=transaction_id).delete()


# --- Reports -------------------------------------------------------------------------


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


def _safe_cell(text: str) -> str:
    """Neutralise spreadsheet formulas in a text cell (CSV injection)."""
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def transaction_export_rows(*, user, filters: dict[str, Any]) -> Iterator[list[str]]:
    """Every matching transaction as CSV cells, in list order, read in chunks."""
    rows = transaction_list(user=user, filters=filters).values_list(
        "date", "budget__title", "category__name", "description", "amount"
    )
    yield EXPORT_HEADER
    for date, budget, category, description, amount in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield [
            date.isoformat(),
            _safe_cell(budget),
            _safe_cell(category or ""),
            _safe_cell(description),
            money_out(amount),
        ]


class _Echo:
    """A file-like object whose write() hands the line back (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
