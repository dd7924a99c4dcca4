"""Reading categories: the list (by folded name) and one category."""

from django.db.models import QuerySet

from budgets.models import Category
from budgets.selectors.common import get_or_not_found

# By the case-folded name (what makes two names "the same"), then id.
CATEGORY_ORDERING = ("name_key", "id")


def category_list(*, user) -> QuerySet[Category]:
    return Category.objects.for_user(user).order_by(*CATEGORY_ORDERING)


def category_get(*, user, category_id: int) -> Category:
    return get_or_not_found(Category.objects.for_user(user), category_id)
