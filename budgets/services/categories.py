"""Writing categories: create, rename, delete (their transactions stay, uncategorised).

Names are unique per user by ``category_name_key`` (Unicode case folding). The database
constraint decides; a write it refuses becomes the field error ``{"name": [...]}``.
"""

from django.db import transaction

from budgets import messages
from budgets.models import Category, MonthTotal
from budgets.selectors.common import get_or_not_found, valid_id
from budgets.services.locking import lock_budgets
from budgets.services.totals import totals_fold_category
from project.errors import FieldError, Precondition, constraint_as_field_error
from project.services import UNSET, Retry, Unset, assign, retry_on_conflict


def _name_taken() -> FieldError:
    return FieldError.single("name", messages.CATEGORY_EXISTS)


@retry_on_conflict
def category_create(*, user, name: str) -> Category:
    category = Category(user=user, name=name)
    with constraint_as_field_error(_name_taken):
        category.save()
    return category


@retry_on_conflict
def category_update(
    *,
    user,
    category_id: int,
    name: str | Unset = UNSET,
    precondition: Precondition | None = None,
) -> Category:
    """``precondition`` (If-Match) runs on the locked category before anything changes."""
    with transaction.atomic():
        category = get_or_not_found(
            Category.objects.for_user(user).select_for_update(), category_id
        )
        if precondition is not None:
            precondition(category)
        changed = assign(category, name=name)
        if changed:
            with constraint_as_field_error(_name_taken):
                category.save(update_fields=[*changed, "updated_at"])
    return category


@retry_on_conflict
def category_delete(*, user, category_id: int, precondition: Precondition | None = None) -> None:
    """Deletes the category; its transactions stay, uncategorised (SET_NULL), and its
    month totals join the uncategorised ones."""
    with transaction.atomic():
        # Global lock order: the budgets whose totals change, then the category, then
        # its transactions (updated by the delete). A transaction filed under the
        # category in another budget before the category's lock: start over.
        budgets = _budgets_using(category_id)
        lock_budgets(user=user, ids=budgets)
        category = get_or_not_found(
            Category.objects.for_user(user).select_for_update(), category_id
        )
        if not _budgets_using(category_id) <= budgets:
            raise Retry
        if precondition is not None:
            precondition(category)
        totals_fold_category(category_id=category.pk)
        category.delete()


def _budgets_using(category_id: int) -> set[int]:
    if not valid_id(category_id):
        return set()
    rows = MonthTotal.objects.filter(category_key=category_id).values_list("budget_id", flat=True)
    return set(rows.distinct().order_by())
