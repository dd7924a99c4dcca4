"""The one lock order of every budgets write, so no two requests can deadlock.

Parents before children: budgets (ascending id), then categories (ascending id), then
transfers, then spending limits and transactions. A delete locks the budget or category
and then reaches its transactions (cascade / SET NULL); a transaction write therefore
locks the budgets and categories it touches first, and its own row last. A transfer
write locks both its budgets, then the transfer, then its two legs. Writing a foreign
key also takes FOR KEY SHARE on the referenced row, so that row must already be locked
by then.

Each lock lasts until the surrounding ``transaction.atomic()`` ends; call these inside one.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from budgets.models import Budget, Category, Transaction, Transfer
from budgets.selectors.common import valid_id


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


def lock_transaction(*, user, transaction_id: int) -> Transaction | None:
    """Lock the caller's transaction row, last (after its budgets and categories)."""
    if not valid_id(transaction_id):
        return None
    locked = Transaction.objects.for_user(user).select_for_update(of=("self",), no_key=True)
    return locked.filter(pk=transaction_id).first()


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
