"""Writing transactions: record (one or in bulk), edit or move between budgets, delete.

``budget`` and ``category`` arguments are ids that must name the caller's rows, else
field errors (``{"budget": ["Budget not found."]}``). Locks follow
``budgets.services.locking``: budgets, then categories, then the transaction.

A leg of a transfer is changed only through its transfer (``services.transfers``):
editing or deleting one here is a 400 naming the transfer.

**The write path.** Every transaction row is inserted, changed and deleted by the
functions at the end of this module, whoever asks: ``transactions_insert`` (bulk-capable;
API creates, recurring postings, CSV import rows, transfer legs, demo data),
``transaction_change``, ``transaction_remove`` and ``transactions_unlink_transfers``.
Anything that must follow every write (stored balances, rollups) belongs there.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from budgets import messages
from budgets.models import Transaction
from budgets.selectors.transactions import transaction_get
from budgets.services.locking import (
    lock_budgets,
    lock_budgets_any,
    lock_categories,
    lock_transaction,
    reference_errors,
)
from budgets.services.totals import Entry, totals_apply
from project.errors import NON_FIELD_ERRORS, FieldError, NotFound, Precondition
from project.services import UNSET, Retry, Unset, assign, retry_on_conflict


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """One transaction to insert with :func:`transaction_bulk_create` (or, for transfer
    legs, :func:`transactions_insert`). ``budget`` and ``category`` are ids;
    ``recurring_rule``/``recurring_date`` mark a posted occurrence of a recurring rule
    (unique per rule and date); ``transfer`` makes the row a leg of that transfer. A row
    is never both (a database check refuses it)."""

    budget: int
    amount: Decimal
    date: dt.date
    category: int | None = None
    description: str = ""
    recurring_rule: int | None = None
    recurring_date: dt.date | None = None
    transfer: int | None = None


def transaction_bulk_create(
    *, user, rows: Sequence[NewTransaction], return_objects: bool = True
) -> list[Transaction]:
    """The checked entry to the insert path: every new ordinary transaction (API,
    recurring posting, CSV import, demo data) comes through here, then
    :func:`transactions_insert`. Transfer legs are made by ``services.transfers`` only,
    so a row here must not name a transfer (``ValueError``).

    Locks the budgets, then the categories the rows name (ascending ids, see
    ``locking``) until the surrounding transaction ends, so none can be deleted under
    the insert; a budget or category that is not the caller's is a ``FieldError``
    (``{"budget": ["Budget not found."]}``) and nothing is written. Run it inside
    ``transaction.atomic()``; a unique (rule, date) clash raises ``IntegrityError``.

    Returns the new transactions, or nothing with ``return_objects=False`` (see
    :func:`transactions_insert`).
    """
    if not rows:
        return []
    if any(row.transfer is not None for row in rows):
        raise ValueError("Transfer legs are written by services.transfers only.")
    errors = reference_errors(
        budgets_wanted={row.budget for row in rows},
        categories_wanted={row.category for row in rows if row.category is not None},
        budgets_found=lock_budgets(user=user, ids={row.budget for row in rows}),
        categories_found=lock_categories(user=user, ids={row.category for row in rows}),
    )
    if errors is not None:
        raise errors
    return transactions_insert(rows=rows, return_objects=return_objects)


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
    precondition: Precondition | None = None,
) -> Transaction:
    """PUT passes every field, PATCH only those sent (``UNSET`` ones are left alone); a
    new ``budget`` moves the transaction to another of the caller's budgets.
    ``precondition`` (If-Match) runs on the locked transaction before it changes."""
    with transaction.atomic():
        tx = _lock_with_parents(
            user=user, transaction_id=transaction_id, budget=budget, category=category
        )
        if precondition is not None:
            precondition(tx)
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
    *,
    user,
    transaction_id: int,
    budget: int | Unset = UNSET,
    category: int | Unset | None = UNSET,
) -> Transaction:
    """Lock the old and new budget (the stored totals of both move), the old and new
    category when the category or budget changes, then the transaction.

    Its current budget and category are read without a lock first; if they changed
    before the transaction's row was locked, ``Retry`` starts the write over."""
    current = transaction_get(user=user, transaction_id=transaction_id)
    new_budget = [] if budget is UNSET else [budget]
    budgets_found = lock_budgets(user=user, ids=[current.budget_id, *new_budget])
    if budget is UNSET and category is UNSET:
        categories_found: set[int] = set()
    else:
        new_category = [] if category is UNSET else [category]
        categories_found = lock_categories(user=user, ids=[current.category_id, *new_category])
    tx = lock_transaction(user=user, transaction_id=transaction_id)
    if tx is None:  # deleted meanwhile (or with its budget)
        raise NotFound
    if (tx.budget_id, tx.category_id) != (current.budget_id, current.category_id):
        raise Retry
    _refuse_transfer_leg(tx)
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
def transaction_delete(
    *, user, transaction_id: int, precondition: Precondition | None = None
) -> None:
    # Its budget first (the stored totals move), then the row itself.
    with transaction.atomic():
        tx = _lock_with_parents(user=user, transaction_id=transaction_id)
        if precondition is not None:
            precondition(tx)
        transaction_remove(tx)


@retry_on_conflict
def transaction_save_any(tx: Transaction) -> None:
    """For the admin, which acts for any user: save a transaction as a form left it (new
    or changed, any field), its old and new budget locked first and their stored totals
    moved. The form has checked the fields; a leg is never changed here."""
    with transaction.atomic():
        before = None
        if tx.pk is None:
            lock_budgets_any(ids=[tx.budget_id])
        else:
            old_budget = Transaction.objects.filter(pk=tx.pk).values_list("budget_id", flat=True)
            old_budget_id = old_budget.first()
            lock_budgets_any(ids=[old_budget_id, tx.budget_id])
            before = Transaction.objects.select_for_update().filter(pk=tx.pk).first()
            if before is not None and before.budget_id != old_budget_id:
                raise Retry  # moved to another budget meanwhile
        tx.save()
        totals_apply(added=[Entry.of(tx)], removed=[Entry.of(before)] if before else [])


@retry_on_conflict
def transactions_delete_any(queryset: QuerySet[Transaction]) -> None:
    """For the admin: delete these transactions of any users, their budgets locked
    first and their stored totals moved."""
    with transaction.atomic():
        # By id: the admin's queryset joins (outer) rows that cannot be locked.
        ids = list(queryset.values_list("pk", flat=True))
        budgets = set(queryset.values_list("budget_id", flat=True))
        lock_budgets_any(ids=budgets)
        rows = list(Transaction.objects.filter(pk__in=ids).select_for_update())
        if {tx.budget_id for tx in rows} - budgets:
            raise Retry  # one moved to another budget meanwhile
        totals_apply(removed=[Entry.of(tx) for tx in rows])
        Transaction.objects.filter(pk__in=ids).delete()


def _refuse_transfer_leg(tx: Transaction) -> None:
    if tx.transfer_id is not None:
        message = messages.TRANSFER_LEG.format(transfer=tx.transfer_id)
        raise FieldError.single(NON_FIELD_ERRORS, message)


# --- The write path ------------------------------------------------------------------
# Callers scope every row to the user and hold the locks first (budgets, categories,
# then the rows: ``budgets.services.locking``), inside ``transaction.atomic()``.


def transactions_insert(
    *, rows: Sequence[NewTransaction], return_objects: bool = True
) -> list[Transaction]:
    """THE insert path: every new transaction row, ordinary or a transfer leg, is
    written here, one row or a whole batch at a time.

    Returns the new transactions (multi-row ``INSERT ... RETURNING id``, as Django's
    ``bulk_create`` sends, written once rather than compiled per call), or nothing with
    ``return_objects=False``: then the ``INSERT`` statements have no ``RETURNING``, several
    times faster for large imports, which need no objects back. A unique (rule, date) clash raises
    ``IntegrityError``.
    """
    if not rows:
        return []
    totals_apply(
        added=[
            Entry(
                budget=row.budget,
                category=row.category,
                date=row.date,
                amount=row.amount,
                transfer=row.transfer is not None,
            )
            for row in rows
        ]
    )
    now = timezone.now()
    ids = _insert_many(rows, now=now, returning=return_objects)
    if not return_objects:
        return []
    alias = router.db_for_write(Transaction)
    created = []
    for row, pk in zip(rows, ids, strict=True):
        tx = Transaction(
            id=pk,
            created_at=now,
            updated_at=now,
            budget_id=row.budget,
            category_id=row.category,
            amount=row.amount,
            description=row.description,
            date=row.date,
            recurring_rule_id=row.recurring_rule,
            recurring_date=row.recurring_date,
            transfer_id=row.transfer,
        )
        tx._state.adding, tx._state.db = False, alias  # as a saved row (bulk_create's)
        created.append(tx)
    return created


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
    "transfer_id",
)


def _insert_many(rows: Sequence[NewTransaction], *, now: dt.datetime, returning: bool) -> list[int]:
    """The rows of ``transactions_insert`` in multi-row ``INSERT`` statements (as
    many rows per statement as the database takes parameters), values adapted the way
    Django's own insert adapts them for this database; ``returning``: with ``RETURNING``
    the new ids, in the rows' order (what ``bulk_create`` relies on too)."""
    connection = connections[router.db_for_write(Transaction)]
    ops, amount_field = connection.ops, Transaction._meta.get_field("amount")
    width = len(_INSERT_COLUMNS)
    per_statement = min(1000, (connection.features.max_query_params or 65535) // width)
    table = ops.quote_name(Transaction._meta.db_table)
    columns = ", ".join(ops.quote_name(column) for column in _INSERT_COLUMNS)
    one_row = "(" + ", ".join(["%s"] * width) + ")"
    now = ops.adapt_datetimefield_value(now)
    returning_sql = ""
    if returning:
        if not connection.features.can_return_rows_from_bulk_insert:  # pragma: no cover
            raise NotImplementedError("This database cannot return the new rows' ids.")
        returning_sql = " RETURNING " + ops.quote_name(Transaction._meta.pk.column)
    ids: list[int] = []
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
                    row.transfer,
                )
            values = ", ".join([one_row] * len(chunk))
            # Identifiers come from the model; every value is a bound parameter.
            sql = f"INSERT INTO {table} ({columns}) VALUES {values}{returning_sql}"  # noqa: S608
            cursor.execute(sql, params)
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
    return ids


def transaction_change(
    tx: Transaction,
    *,
    budget_id: int | Unset = UNSET,
    category_id: int | Unset | None = UNSET,
    amount: Decimal | Unset = UNSET,
    description: str | Unset = UNSET,
    date: dt.date | Unset = UNSET,
) -> None:
    """Change the given fields of one (locked) row; ``UNSET`` ones stay. Its old and
    new budget must be locked too (the stored totals move)."""
    before = Entry.of(tx)
    changed = assign(
        tx,
        budget_id=budget_id,
        category_id=category_id,
        amount=amount,
        description=description,
        date=date,
    )
    if changed:
        after = Entry.of(tx)
        if after != before:
            totals_apply(added=[after], removed=[before])
        tx.save(update_fields=[*changed, "updated_at"])


def transaction_remove(tx: Transaction) -> None:
    """Delete one (locked) row; its budget must be locked too."""
    totals_apply(removed=[Entry.of(tx)])
    tx.delete()


def transactions_unlink_transfers(*, transfer_ids: QuerySet, outside_budget_id: int) -> None:
    """Make the legs of these transfers outside ``outside_budget_id`` ordinary
    transactions (amounts unchanged, so no balance moves). For a budget being
    deleted: its transfers end, the other budget keeps its leg. Every budget
    involved must be locked."""
    legs = Transaction.objects.filter(transfer__in=transfer_ids).exclude(
        budget_id=outside_budget_id
    )
    moved = [Entry.of(leg) for leg in legs.only("budget", "category", "date", "amount", "transfer")]
    if moved:
        # Their month totals move from the transfers' to the ordinary ones.
        totals_apply(added=[replace(entry, transfer=False) for entry in moved], removed=moved)
        legs.update(transfer=None, updated_at=timezone.now())
