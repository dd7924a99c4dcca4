"""Reading spending limits: one budget's list (newest month first, then by category
name) and one limit. The budget must be the caller's, else not found."""

import datetime as dt

from django.db.models import F, QuerySet

from budgets.models import Budget, SpendingLimit
from budgets.selectors.common import get_or_not_found, valid_id
from project.errors import NotFound

# Names only (``category_name_key`` is annotated), so keyset pagination can compare them.
SPENDING_LIMIT_ORDERING = ("-month", "category_name_key", "id")


def _of_budget(*, user, budget_id: int) -> QuerySet[SpendingLimit]:
    limits = SpendingLimit.objects.for_user(user)
    return limits.filter(budget_id=budget_id) if valid_id(budget_id) else limits.none()


def spending_limit_list(
    *,
    user,
    budget_id: int,
    category: int | None = None,
    month: dt.date | None = None,
) -> QuerySet[SpendingLimit]:
    if not valid_id(budget_id) or not Budget.objects.for_user(user).filter(pk=budget_id).exists():
        raise NotFound
    qs = _of_budget(user=user, budget_id=budget_id)
    if category is not None:
        qs = qs.filter(category_id=category) if valid_id(category) else qs.none()
    if month is not None:
        qs = qs.filter(month=month)
    return qs.annotate(category_name_key=F("category__name_key")).order_by(*SPENDING_LIMIT_ORDERING)


def spending_limit_get(*, user, budget_id: int, limit_id: int) -> SpendingLimit:
    return get_or_not_found(_of_budget(user=user, budget_id=budget_id), limit_id)
