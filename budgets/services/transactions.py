"""Writing transactions: record, edit or move between budgets, delete.

``budget`` and ``category`` arguments are ids that must name the caller's rows, else
field errors (``{"budget": ["Budget not found."]}``). Locks follow
``budgets.services.locking``: budgets, then categories, then the transaction.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router, transaction
from django.utils import timezone

from budgets.models import Transaction
from budgets.selectors.transactions import transaction_get
from budgets.services.locking import (
    lock_budgets,
    lock_categories,
    lock_transaction,
    reference_errors,
)
from project.errors import NotFound
from project.services import UNSET, Retry, Unset, assign, retry_on_conflict


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """One transaction to insert with :func:`transaction_bulk_create`. ``budget`` and
    ``category`` are ids; ``recurring_rule``/``recurring_date`` mark a posted occurrence
    of a recurring rule (unique per rule and date)."""

    budget: int
    amount: Decimal
    date: dt.date
    category: int | None = None
    description: str = ""
    recurring_rule: int | None = None
    recurring_date: dt.date | None = None


def transaction_bulk_create(
    *, user, rows: Sequence[NewTransaction], return_objects: bool = True
) -> list[Transaction]:
    """THE write path of new transactions: every one (API, recurring posting, CSV
    import, demo data) is inserted here.

    Locks the budgets, then the categories the rows name (ascending ids, see
    ``locking``) until the surrounding transaction ends, so none can be deleted under
    the insert; a budget or category that is not the caller's is a ``FieldError``
    (``{"budget": ["Budget not found."]}``) and nothing is written. Run it inside
    ``transaction.atomic()``; a unique (rule, date) clash raises ``IntegrityError``.

    Returns the new transactions (one ``INSERT ... RETURNING`` per batch, Django's
    ``bulk_create``), or nothing with ``return_objects=False``: then one prepared
    ``INSERT`` runs for every row (``executemany``), several times faster for large
    imports, which need no objects back.
    """
    if not rows:
        return []
    errors = reference_errors(
        budgets_wanted={row.budget for row in rows},
        categories_wanted={row.category for row in rows if row.category is not None},
        budgets_found=lock_budgets(user=user, ids={row.budget for row in rows}),
        categories_found=lock_categories(user=user, ids={row.category for row in rows}),
    )
    if errors is not None:
        raise errors
    if not return_objects:
        _insert_many(rows)
        return []
    return Transaction.objects.bulk_create(
        Transaction(
            budget_id=row.budget,
            category_id=row.category,
            amount=row.amount,
            description=row.description,
            date=row.date,
            recurring_rule_id=row.recurring_rule,
            recurring_date=row.recurring_date,
        )
        for row in rows
    )


_INSERT_COLUMNS = (
    "created_at",
    "updated_at",
    "budget_id",
    "category_id",
    "amount",
    "description",
    "date",
    "recurring_rule_id",
    "recurring_date",
)


def _insert_many(rows: Sequence[NewTransaction]) -> None:
    """The rows of ``transaction_bulk_create`` in multi-row ``INSERT`` statements (as
    many rows per statement as the database takes parameters), values adapted the way
    Django's own insert adapts them for this database."""
    connection = connections[router.db_for_write(Transaction)]
    ops, amount_field = connection.ops, Transaction._meta.get_field("amount")
    width = len(_INSERT_COLUMNS)
    per_statement = min(1000, (connection.features.max_query_params or 65535) // width)
    table = ops.quote_name(Transaction._meta.db_table)
    columns = ", ".join(ops.quote_name(column) for column in _INSERT_COLUMNS)
    one_row = "(" + ", ".join(["%s"] * width) + ")"
    now = ops.adapt_datetimefield_value(timezone.now())
    digits, places = amount_field.max_digits, amount_field.decimal_places
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list = []
            for row in chunk:
                params += (
                    now,
                    now,
                    row.budget,
                    row.category,
                    ops.adapt_decimalfield_value(row.amount, digits, places),
                    row.description,
                    ops.adapt_datefield_value(row.date),
                    row.recurring_rule,
                    ops.adapt_datefield_value(row.recurring_date),
                )
            values = ", ".join([one_row] * len(chunk))
            # Identifiers come from the model; every value is a bound parameter.
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", params)  # noqa: S608


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
    row = NewTransaction(
        budget=budget, amount=amount, date=date, category=category, description=description
    )
    with transaction.atomic():
        return transaction_bulk_create(user=user, rows=[row])[0]


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
    errors = reference_errors(
        budgets_wanted=[] if budget is UNSET else [budget],
        categories_wanted=[] if category is UNSET or category is None else [category],
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
