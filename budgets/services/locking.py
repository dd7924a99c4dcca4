"""The one lock order of every budgets write, so no two requests can deadlock.

Parents before children: budgets (ascending id), then categories (ascending id), then
transactions. A delete locks the budget or category and then reaches its transactions
(cascade / SET NULL); a transaction write therefore locks the budgets and categories it
touches first, and its own row last. Writing a foreign key also takes FOR KEY SHARE on
the referenced row, so that row must already be locked by then.

Recurring rules sit beside transactions: budgets, categories, then the rule, then the
transactions it posts. Rule writes and posting first lock the owner's user row (the
parent of everything; it caches the next due date), see ``budgets.services.recurring``.

Each lock lasts until the surrounding ``transaction.atomic()`` ends; call these inside one.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from budgets import messages
from budgets.models import Budget, Category, Transaction
from budgets.selectors.common import valid_id
from project.errors import FieldError


def _lock_in_id_order(queryset: QuerySet, ids: Iterable[int | None]) -> set[int]:
    wanted = sorted({i for i in ids if valid_id(i)})
    if not wanted:
        return set()
    # ORDER BY runs before FOR ... UPDATE, so rows are locked in ascending id order.
    rows = queryset.filter(pk__in=wanted).order_by("pk").select_for_update(no_key=True)
    return set(rows.values_list("pk", flat=True))


def lock_budgets(*, user, ids: Iterable[int | None]) -> set[int]:
    """Lock the caller's budgets among ``ids`` (FOR NO KEY UPDATE, ascending id): none
    can be deleted until the transaction ends. Returns the ids that exist."""
    return _lock_in_id_order(Budget.objects.for_user(user), ids)


def lock_categories(*, user, ids: Iterable[int | None]) -> set[int]:
    """Same for categories; take them after the budgets."""
    return _lock_in_id_order(Category.objects.for_user(user), ids)


def all_budgets_locked(*, user) -> QuerySet[Budget]:
    """Every budget of the caller, locked in ascending id order when the queryset is
    evaluated (for writes that may touch any of them, like an import)."""
    return Budget.objects.for_user(user).order_by("pk").select_for_update(no_key=True)


def all_categories_locked(*, user) -> QuerySet[Category]:
    """Same for every category of the caller; evaluate it after the budgets."""
    return Category.objects.for_user(user).order_by("pk").select_for_update(no_key=True)


def lock_transaction(*, user, transaction_id: int) -> Transaction | None:
    """Lock the caller's transaction row, last (after its budgets and categories)."""
    if not valid_id(transaction_id):
        return None
    locked = Transaction.objects.for_user(user).select_for_update(of=("self",), no_key=True)
    return locked.filter(pk=transaction_id).first()


def reference_errors(
    *,
    budgets_wanted: Iterable[int],
    categories_wanted: Iterable[int],
    budgets_found: set[int],
    categories_found: set[int],
) -> FieldError | None:
    """The field errors for ids a write wants to reference but did not find (and lock)
    among the caller's rows: ``{"budget": ["Budget not found."]}``, or None."""
    errors: dict[str, list[str]] = {}
    if not set(budgets_wanted) <= budgets_found:
        errors["budget"] = [messages.BUDGET_NOT_FOUND]
    if not set(categories_wanted) <= categories_found:
        errors["category"] = [messages.CATEGORY_NOT_FOUND]
    return FieldError(errors) if errors else None
