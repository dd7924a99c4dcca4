"""Reading transactions: the filtered, ordered list (also what the CSV export reads)
and one transaction."""

import datetime as dt
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from budgets.models import Budget, Transaction
from budgets.selectors.common import get_or_not_found, valid_id
from project.pagination import Listing, with_count
from project.prepared import PreparedQuery

TRANSACTION_DEFAULT_ORDERING = "-date"
# `ordering` value -> ORDER BY (ends with the id); the schema's choices are these keys.
TRANSACTION_ORDERINGS: dict[str, tuple] = {
    "date": ("date", "created_at", "id"),
    "-date": ("-date", "-created_at", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}
# `type` filter value -> condition; the schema's choices are these keys.
TRANSACTION_TYPES: dict[str, Q] = {
    "income": Q(amount__gt=0),
    "expense": Q(amount__lt=0),
}


def transaction_list(
    *,
    user,
    budget: int | None = None,
    category: int | None = None,
    type: str | None = None,  # the query parameter's name: income or expense
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    search: str | None = None,
    ordering: str = TRANSACTION_DEFAULT_ORDERING,
) -> QuerySet[Transaction]:
    """The caller's transactions; ``budget``/``category`` are ids, and naming someone
    else's (or an impossible id) matches nothing.

    Filtered by nothing but the budget (or by nothing), the rows are counted from the
    budgets' stored counts rather than ``COUNT(*)``, so page 1 of a budget with a
    million transactions costs what it costs with ten."""
    filtered = any(
        value not in (None, "")
        for value in (category, type, date_from, date_to, min_amount, max_amount, search)
    )
    qs = Transaction.objects.for_user(user)
    if budget is not None:
        qs = qs.filter(budget_id=budget) if valid_id(budget) else qs.none()
    if category is not None:
        qs = qs.filter(category_id=category) if valid_id(category) else qs.none()
    if type is not None:
        qs = qs.filter(TRANSACTION_TYPES[type])
    if date_from is not None:
        qs = qs.filter(date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(date__lte=date_to)
    if min_amount is not None:
        qs = qs.filter(amount__gte=min_amount)
    if max_amount is not None:
        qs = qs.filter(amount__lte=max_amount)
    if search:
        qs = qs.filter(description__icontains=search)
    qs = qs.order_by(*TRANSACTION_ORDERINGS[ordering])
    if filtered or (budget is not None and not valid_id(budget)):
        return qs
    budgets = Budget.objects.for_user(user)
    if budget is not None:
        budgets = budgets.filter(pk=budget)
    return with_count(
        qs, lambda: budgets.aggregate(rows=Coalesce(Sum("transactions_count"), 0))["rows"]
    )


def transaction_listing(
    *,
    user,
    budget: int | None = None,
    ordering: str = TRANSACTION_DEFAULT_ORDERING,
    **filters,
) -> QuerySet[Transaction] | Listing:
    """What the list route paginates: ``transaction_list``'s rows; filtered by nothing but
    the budget (or by nothing), answered by prepared statements (counted from the
    budgets' stored counts)."""
    if any(value not in (None, "") for value in filters.values()) or not (
        budget is None or valid_id(budget)
    ):
        return transaction_list(user=user, budget=budget, ordering=ordering, **filters)
    if budget is None:
        page, count, values = _PAGES[ordering], _COUNT, {"user": user.pk}
    else:
        page, count = _BUDGET_PAGES[ordering], _BUDGET_COUNT
        values = {"user": user.pk, "budget": budget}
    return Listing(
        page=page,
        count=count,
        values=values,
        queryset=lambda: transaction_list(user=user, budget=budget, ordering=ordering),
    )


def _stored_count(budgets: QuerySet[Budget]) -> QuerySet:
    return (
        budgets.order_by()
        .values("user")
        .annotate(rows=Sum("transactions_count"))
        .values_list("rows", flat=True)
    )


# A page's rows as dicts of every column (what TransactionOut reads), not model instances:
# the same statement, without making twenty objects nobody calls a method on.
_COLUMNS = [field.attname for field in Transaction._meta.concrete_fields]


def _pages(budget: bool) -> dict[str, PreparedQuery]:
    def page(ordering: str) -> PreparedQuery:
        if budget:
            return PreparedQuery(
                lambda user, budget: transaction_list(
                    user=user, budget=budget, ordering=ordering
                ).values(*_COLUMNS),
                paged=True,
            )
        return PreparedQuery(
            lambda user: transaction_list(user=user, ordering=ordering).values(*_COLUMNS),
            paged=True,
        )

    return {ordering: page(ordering) for ordering in TRANSACTION_ORDERINGS}


_PAGES = _pages(budget=False)
_BUDGET_PAGES = _pages(budget=True)
_COUNT = PreparedQuery(lambda user: _stored_count(Budget.objects.for_user(user)))
_BUDGET_COUNT = PreparedQuery(
    lambda user, budget: _stored_count(Budget.objects.for_user(user).filter(pk=budget))
)


def transaction_get(*, user, transaction_id: int) -> Transaction:
    return get_or_not_found(Transaction.objects.for_user(user), transaction_id)
