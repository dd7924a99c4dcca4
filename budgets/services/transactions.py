"""Writing transactions: record, edit or move between budgets, delete.

``budget`` and ``category`` arguments are ids that must name the caller's rows, else
field errors (``{"budget": ["Budget not found."]}``). Locks follow
``budgets.services.locking``: budgets, then categories, then the transaction.

A leg of a transfer is changed only through its transfer (``services.transfers``):
editing or deleting one here is a 400 naming the transfer.

Every transaction row is inserted, changed and deleted by the write path at the end
of this module (``transaction_insert``, ``transaction_change``, ``transaction_remove``,
``transactions_unlink_transfers``), whoever asks: the services above, transfers, and
any other feature. Anything that must follow every write belongs there.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from budgets import messages
from budgets.models import Transaction
from budgets.selectors.transactions import transaction_get
from budgets.services.locking import lock_budgets, lock_categories, lock_transaction
from project.errors import NON_FIELD_ERRORS, FieldError, NotFound
from project.services import UNSET, Retry, Unset, assign, retry_on_conflict


def _reference_errors(
    *,
    budget: int | Unset,
    category: int | Unset | None,
    budgets_found: set[int],
    categories_found: set[int],
) -> FieldError | None:
    errors: dict[str, list[str]] = {}
    if budget is not UNSET and budget not in budgets_found:
        errors["budget"] = [messages.BUDGET_NOT_FOUND]
    if category is not UNSET and category is not None and category not in categories_found:
        errors["category"] = [messages.CATEGORY_NOT_FOUND]
    return FieldError(errors) if errors else None


@retry_on_conflict
def transaction_create(
    *,
    user,
    budget: int,
    amount: Decimal,
    date: dt.date,
    category: int | None = None,
    description: str = "",
) -> Transaction:
    with transaction.atomic():
        # Keep both rows locked until the insert commits: neither can be deleted
        # between this check and the write that references them.
        errors = _reference_errors(
            budget=budget,
            category=category,
            budgets_found=lock_budgets(user=user, ids=[budget]),
            categories_found=lock_categories(user=user, ids=[category]),
        )
        if errors is not None:
            raise errors
        return transaction_insert(
            budget_id=budget,
            category_id=category,
            amount=amount,
            description=description,
            date=date,
        )


@retry_on_conflict
def transaction_update(
    *,
    user,
    transaction_id: int,
    budget: int | Unset = UNSET,
    amount: Decimal | Unset = UNSET,
    category: int | Unset | None = UNSET,
    description: str | Unset = UNSET,
    date: dt.date | Unset = UNSET,
) -> Transaction:
    """PUT passes every field, PATCH only those sent (``UNSET`` ones are left alone); a
    new ``budget`` moves the transaction to another of the caller's budgets."""
    with transaction.atomic():
        if budget is UNSET and category is UNSET:
            # No parent changes: only the transaction's own row is locked.
            tx = lock_transaction(user=user, transaction_id=transaction_id)
            if tx is None:
                raise NotFound
            _refuse_transfer_leg(tx)
        else:
            tx = _lock_with_parents(
                user=user, transaction_id=transaction_id, budget=budget, category=category
            )
        transaction_change(
            tx,
            budget_id=budget,
            category_id=category,
            amount=amount,
            description=description,
            date=date,
        )
    return tx


def _lock_with_parents(
    *, user, transaction_id: int, budget: int | Unset, category: int | Unset | None
) -> Transaction:
    """Lock the old and new budget, the old and new category, then the transaction.

    Its current budget and category are read without a lock first; if they changed
    before the transaction's row was locked, ``Retry`` starts the write over."""
    current = transaction_get(user=user, transaction_id=transaction_id)
    new_budget = [] if budget is UNSET else [budget]
    new_category = [] if category is UNSET else [category]
    budgets_found = lock_budgets(user=user, ids=[current.budget_id, *new_budget])
    categories_found = lock_categories(user=user, ids=[current.category_id, *new_category])
    tx = lock_transaction(user=user, transaction_id=transaction_id)
    if tx is None:  # deleted meanwhile (or with its budget)
        raise NotFound
    if (tx.budget_id, tx.category_id) != (current.budget_id, current.category_id):
        raise Retry
    _refuse_transfer_leg(tx)
    errors = _reference_errors(
        budget=budget,
        category=category,
        budgets_found=budgets_found,
        categories_found=categories_found,
    )
    if errors is not None:
        raise errors
    return tx


@retry_on_conflict
def transaction_delete(*, user, transaction_id: int) -> None:
    # A transaction has no children: only its own row is locked, by the DELETE.
    with transaction.atomic():
        tx = transaction_get(user=user, transaction_id=transaction_id)
        # Read without a lock, yet safe: a row is created as a leg or not at all, and
        # a leg only ever becomes ordinary (its transfer ends with one of its budgets).
        _refuse_transfer_leg(tx)
        transaction_remove(tx)


def _refuse_transfer_leg(tx: Transaction) -> None:
    if tx.transfer_id is not None:
        message = messages.TRANSFER_LEG.format(transfer=tx.transfer_id)
        raise FieldError.single(NON_FIELD_ERRORS, message)


# --- The write path ------------------------------------------------------------------
# Callers scope every row to the user and hold the locks first (budgets, categories,
# then the rows: ``budgets.services.locking``), inside ``transaction.atomic()``.


def transaction_insert(
    *,
    budget_id: int,
    amount: Decimal,
    date: dt.date,
    category_id: int | None = None,
    description: str = "",
    transfer_id: int | None = None,
) -> Transaction:
    """Insert one transaction row (``transfer_id``: it is a leg of that transfer)."""
    return Transaction.objects.create(
        budget_id=budget_id,
        category_id=category_id,
        amount=amount,
        description=description,
        date=date,
        transfer_id=transfer_id,
    )


def transaction_change(
    tx: Transaction,
    *,
    budget_id: int | Unset = UNSET,
    category_id: int | Unset | None = UNSET,
    amount: Decimal | Unset = UNSET,
    description: str | Unset = UNSET,
    date: dt.date | Unset = UNSET,
) -> None:
    """Change the given fields of one (locked) row; ``UNSET`` ones stay."""
    changed = assign(
        tx,
        budget_id=budget_id,
        category_id=category_id,
        amount=amount,
        description=description,
        date=date,
    )
    if changed:
        tx.save(update_fields=[*changed, "updated_at"])


def transaction_remove(tx: Transaction) -> None:
    """Delete one (locked) row."""
    tx.delete()


def transactions_unlink_transfers(*, transfer_ids: QuerySet, outside_budget_id: int) -> None:
    """Make the legs of these transfers outside ``outside_budget_id`` ordinary
    transactions (amounts unchanged, so no balance moves). For a budget being
    deleted: its transfers end, the other budget keeps its leg. Every budget
    involved must be locked."""
    Transaction.objects.filter(transfer__in=transfer_ids).exclude(
        budget_id=outside_budget_id
    ).update(transfer=None, updated_at=timezone.now())
