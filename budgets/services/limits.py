"""Writing spending limits: one per budget, category and month. The database's unique
constraint decides; a duplicate it refuses (also from a concurrent request) becomes
the field error ``{"month": [...]}``.

Locks follow ``budgets.services.locking``: the budget, then the categories (old and
new), then the limit.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from budgets import messages
from budgets.models import SpendingLimit
from budgets.selectors.limits import spending_limit_get
from budgets.services.locking import lock_budgets, lock_categories
from project.errors import FieldError, NotFound, Precondition, constraint_as_field_error
from project.services import UNSET, Retry, Unset, assign, retry_on_conflict


def _limit_exists() -> FieldError:
    return FieldError.single("month", messages.LIMIT_EXISTS)


def _lock_budget(*, user, budget_id: int) -> None:
    if budget_id not in lock_budgets(user=user, ids=[budget_id]):
        raise NotFound


@retry_on_conflict
def spending_limit_create(
    *, user, budget_id: int, category: int, month: dt.date, amount: Decimal
) -> SpendingLimit:
    """``category`` is the id of one of the caller's categories; ``month`` its first day."""
    with transaction.atomic():
        _lock_budget(user=user, budget_id=budget_id)
        if category not in lock_categories(user=user, ids=[category]):
            raise FieldError.single("category", messages.CATEGORY_NOT_FOUND)
        limit = SpendingLimit(budget_id=budget_id, category_id=category, month=month, amount=amount)
        with constraint_as_field_error(_limit_exists):
            limit.save()
    return limit


@retry_on_conflict
def spending_limit_update(
    *,
    user,
    budget_id: int,
    limit_id: int,
    category: int | Unset = UNSET,
    month: dt.date | Unset = UNSET,
    amount: Decimal | Unset = UNSET,
    precondition: Precondition | None = None,
) -> SpendingLimit:
    """PUT passes every field, PATCH only those sent (``UNSET`` ones are left alone).
    ``precondition`` (If-Match) runs on the locked limit before anything changes."""
    with transaction.atomic():
        current = spending_limit_get(user=user, budget_id=budget_id, limit_id=limit_id)
        _lock_budget(user=user, budget_id=budget_id)
        new_category = [] if category is UNSET else [category]
        found = lock_categories(user=user, ids=[current.category_id, *new_category])
        limit = (
            SpendingLimit.objects.for_user(user)
            .filter(budget_id=budget_id, pk=limit_id)
            .select_for_update(of=("self",))
            .first()
        )
        if limit is None:  # deleted meanwhile (or with its budget or category)
            raise NotFound
        if limit.category_id != current.category_id:
            raise Retry  # moved to a category we did not lock
        if category is not UNSET and category not in found:
            raise FieldError.single("category", messages.CATEGORY_NOT_FOUND)
        if precondition is not None:  # after the input checks: those are a 400 regardless
            precondition(limit)
        changed = assign(limit, category_id=category, month=month, amount=amount)
        if changed:
            with constraint_as_field_error(_limit_exists):
                limit.save(update_fields=[*changed, "updated_at"])
    return limit


@retry_on_conflict
def spending_limit_delete(
    *, user, budget_id: int, limit_id: int, precondition: Precondition | None = None
) -> None:
    """A limit has no children: only its own row is locked (by the DELETE, or first,
    when ``precondition`` (If-Match) must see the version it deletes)."""
    with transaction.atomic():
        limit = spending_limit_get(user=user, budget_id=budget_id, limit_id=limit_id)
        if precondition is not None:
            limit = SpendingLimit.objects.select_for_update().filter(pk=limit.pk).first()
            if limit is None:  # deleted meanwhile (or with its budget or category)
                raise NotFound
            precondition(limit)
        limit.delete()
