"""Writing categories: create, rename, delete (their transactions stay, uncategorised).

Names are unique per user by ``category_name_key`` (Unicode case folding). The database
constraint decides; a write it refuses becomes the field error ``{"name": [...]}``.
"""

from django.db import transaction

from budgets import messages
from budgets.models import Category
from budgets.selectors.common import get_or_not_found
from project.errors import FieldError, Precondition, constraint_as_field_error
from project.services import UNSET, Unset, assign, retry_on_conflict


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
    """Deletes the category; its transactions stay, uncategorised (SET_NULL)."""
    with transaction.atomic():
        # The category is locked before its transactions are updated (global lock order).
        category = get_or_not_found(
            Category.objects.for_user(user).select_for_update(), category_id
        )
        if precondition is not None:
            precondition(category)
        category.delete()
