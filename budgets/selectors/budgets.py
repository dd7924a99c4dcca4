"""Reading budgets: the filtered, ordered list and one budget, each with its (stored)
balance. The hot shapes (one budget; a page of the unfiltered list) run statements
compiled once (``project.prepared``)."""

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from budgets.models import Budget
from budgets.selectors.common import found
from project.pagination import Listing
from project.prepared import PreparedQuery

BUDGET_DEFAULT_ORDERING = "-date"
# `ordering` value -> ORDER BY; every one ends with the id, so pages never overlap.
# Names only (``title_key`` is annotated), so keyset pagination can compare them.
# The schema's `BudgetOrdering` choices are these keys.
BUDGET_ORDERINGS: dict[str, tuple] = {
    "date": ("date", "created_at", "id"),
    "-date": ("-date", "-created_at", "-id"),
    "title": ("title_key", "id"),
    "-title": ("-title_key", "-id"),
    "initial_amount": ("initial_amount", "id"),
    "-initial_amount": ("-initial_amount", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


def budget_list(
    *,
    user,
    search: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    ordering: str = BUDGET_DEFAULT_ORDERING,
) -> QuerySet[Budget]:
    qs = Budget.objects.for_user(user)
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(description__icontains=search))
    if date_from is not None:
        qs = qs.filter(date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(date__lte=date_to)
    if "title" in ordering:
        qs = qs.annotate(title_key=Lower("title"))
    return qs.order_by(*BUDGET_ORDERINGS[ordering])


def budget_listing(
    *,
    user,
    search: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    ordering: str = BUDGET_DEFAULT_ORDERING,
) -> QuerySet[Budget] | Listing:
    """What the list route paginates: ``budget_list``'s rows, unfiltered ones answered by
    prepared statements."""
    if search or date_from is not None or date_to is not None:
        return budget_list(
            user=user, search=search, date_from=date_from, date_to=date_to, ordering=ordering
        )
    return Listing(
        page=_PAGES[ordering],
        count=_COUNT,
        values={"user": user.pk},
        queryset=lambda: budget_list(user=user, ordering=ordering),
        complete=_with_balance,
    )


# A page's rows as dicts of every column (what BudgetOut reads, with the balance the model
# computes), not model instances: the same statement, without making the objects.
_COLUMNS = [field.attname for field in Budget._meta.concrete_fields]


def _with_balance(row: dict) -> None:
    row["balance"] = Budget.balance_of(row["initial_amount"], row["transactions_cents"])


def _page(ordering: str) -> PreparedQuery:
    return PreparedQuery(
        lambda user: budget_list(user=user, ordering=ordering).values(*_COLUMNS), paged=True
    )


_PAGES = {ordering: _page(ordering) for ordering in BUDGET_ORDERINGS}
_COUNT = PreparedQuery(
    lambda user: (
        Budget.objects.for_user(user)
        .order_by()
        .values("user")
        .annotate(rows=Count("*"))
        .values_list("rows", flat=True)
    )
)
_ONE = PreparedQuery(lambda user, budget: Budget.objects.for_user(user).filter(pk=budget)[:1])


def budget_get(*, user, budget_id: int) -> Budget:
    return found(_ONE, user=user.pk, budget=budget_id)
