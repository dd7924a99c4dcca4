"""The one lock order of every budgets write, so no two requests can deadlock.

Every write takes its locks in this order, skipping the steps it does not need:

1. the owner's user row (FOR NO KEY UPDATE), by recurring rule writes and posting only
   (it caches the next due date and serialises one user's posters), see
   ``budgets.services.recurring``;
2. budgets, ascending id (``lock_budgets``; a budget delete: ``lock_budget_to_delete``,
   the budget and its transfer partners, still in ascending id order);
3. categories, ascending id (``lock_categories``);
4. the recurring rule or the transfer (``lock_transfer``), or a spending limit;
5. transactions: the row edited (``lock_transaction``), a transfer's legs
   (``lock_transfer_legs``) or the rows inserted (``transactions.transactions_insert``).

Parents before children: a delete locks the budget or category and then reaches its
transactions (cascade / SET NULL); a transaction write therefore locks the budgets and
categories it touches first, and its own row last. Every transaction write, even one that
changes no parent, locks its budgets: their stored totals (``totals``) change with it, and
the month totals of a budget are only ever written under its lock. A category delete locks
the budgets its transactions are in first (their month totals change), then the category.
A transfer write locks both its budgets, then the transfer, then its two legs; a posting
locks the user, the rules' budgets and categories, then inserts. A recurring rule and a
transfer are never locked by the same write (a posted occurrence is never a leg). Writing a
foreign key also takes FOR KEY SHARE on the referenced row, so that row must already be
locked by then.

Each lock lasts until the surrounding ``transaction.atomic()`` ends; call these inside one.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from budgets import messages
from budgets.models import Budget, Category, Transaction, Transfer
from budgets.selectors.common import valid_id
from project.errors import FieldError
from project.prepared import PreparedQuery


def _locking(queryset: QuerySet, wanted: list[int]) -> QuerySet:
    # ORDER BY runs before FOR ... UPDATE, so rows are locked in ascending id order.
    return (
        queryset.filter(pk__in=wanted)
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", flat=True)
    )


def _wanted(ids: Iterable[int | None]) -> list[int]:
    return sorted({i for i in ids if valid_id(i)})


def _lock_in_id_order(queryset: QuerySet, ids: Iterable[int | None]) -> set[int]:
    wanted = _wanted(ids)
    return set(_locking(queryset, wanted)) if wanted else set()


# One row of the caller's, what nearly every write locks: the same SQL, compiled once.
_ONE_BUDGET = PreparedQuery(lambda user, id: _locking(Budget.objects.for_user(user), [id]))
_ONE_CATEGORY = PreparedQuery(lambda user, id: _locking(Category.objects.for_user(user), [id]))


def lock_budgets(*, user, ids: Iterable[int | None]) -> set[int]:
    """Lock the caller's budgets among ``ids`` (FOR NO KEY UPDATE, ascending id): none
    can be deleted until the transaction ends. Returns the ids that exist."""
    wanted = _wanted(ids)
    if len(wanted) == 1:
        return set(_ONE_BUDGET.rows(user=user.pk, id=wanted[0]))
    return _lock_in_id_order(Budget.objects.for_user(user), wanted)


def lock_budgets_any(*, ids: Iterable[int | None]) -> set[int]:
    """Same, for budgets of any user: for the admin, which acts for all of them."""
    return _lock_in_id_order(Budget.objects.all(), ids)


def lock_categories(*, user, ids: Iterable[int | None]) -> set[int]:
    """Same for categories; take them after the budgets."""
    wanted = _wanted(ids)
    if len(wanted) == 1:
        return set(_ONE_CATEGORY.rows(user=user.pk, id=wanted[0]))
    return _lock_in_id_order(Category.objects.for_user(user), wanted)


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


def lock_transfer(*, user, transfer_id: int) -> Transfer | None:
    """Lock the caller's transfer row, after both its budgets and before its legs."""
    if not valid_id(transfer_id):
        return None
    locked = Transfer.objects.for_user(user).select_for_update(of=("self",))
    return locked.filter(pk=transfer_id).first()


def lock_transfer_legs(*, transfer: Transfer) -> list[Transaction]:
    """Lock a (locked) transfer's two legs, in id order: the expense leg (amount < 0)
    and the income leg."""
    return list(
        Transaction.objects.filter(transfer=transfer)
        .order_by("pk")
        .select_for_update(of=("self",), no_key=True)
    )


def lock_budget_to_delete(*, user, budget_id: int, partner_ids: Iterable[int]) -> Budget | None:
    """Lock a budget about to be deleted (FOR UPDATE) and the budgets it shares
    transfers with (FOR NO KEY UPDATE, their legs change), all in ascending id order.
    Returns the budget, or None when it is not the caller's."""
    if not valid_id(budget_id):
        return None
    partners = {i for i in partner_ids if i != budget_id}
    _lock_in_id_order(Budget.objects.for_user(user), (i for i in partners if i < budget_id))
    doomed = Budget.objects.for_user(user).select_for_update().filter(pk=budget_id).first()
    _lock_in_id_order(Budget.objects.for_user(user), (i for i in partners if i > budget_id))
    return doomed
