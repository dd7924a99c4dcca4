"""Reading budgets: the filtered, ordered list and one budget, each with its (stored)
balance."""

import datetime as dt

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from budgets.models import Budget
from budgets.selectors.common import get_or_not_found

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


def budget_get(*, user, budget_id: int) -> Budget:
    return get_or_not_found(Budget.objects.for_user(user), budget_id)
