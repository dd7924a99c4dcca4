"""Writing transactions: record, edit or move between budgets, delete.

``budget`` and ``category`` arguments are ids that must name the caller's rows, else
field errors (``{"budget": ["Budget not found."]}``). Locks follow
``budgets.services.locking``: budgets, then categories, then the transaction.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from budgets import messages
from budgets.models import Transaction
from budgets.selectors.transactions import transaction_get
from budgets.services.locking import lock_budgets, lock_categories, lock_transaction
from project.errors import FieldError, NotFound
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
        return Transaction.objects.create(
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
        else:
            tx = _lock_with_parents(
                user=user, transaction_id=transaction_id, budget=budget, category=category
            )
        changed = assign(
            tx,
            budget_id=budget,
            category_id=category,
            amount=amount,
            description=description,
            date=date,
        )
        if changed:
            tx.save(update_fields=[*changed, "updated_at"])
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
        transaction_get(user=user, transaction_id=transaction_id).delete()
