"""Stored totals: each budget's balance and transaction count (``Budget.transactions_cents``
and ``transactions_count``) and its month totals (``MonthTotal``: per category, month and
kind), so that reads never add up a budget's transactions.

They change only here, and only from the transactions write path
(``budgets.services.transactions``) and the category delete, in the same database
transaction as the rows they sum, while the caller holds the row locks of every budget
involved (``budgets.services.locking``): the stored figures are exact under concurrent
writers. Anything that writes transaction rows another way (raw SQL, a bulk load) brings
them up to date with :func:`totals_rebuild`; ``manage.py totals_verify`` compares every
budget with its transactions and repairs what differs.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router, transaction
from django.db.models import Count

from budgets.models import Budget, MonthTotal, Transaction, cents_sum
from budgets.months import month_start


@dataclass(frozen=True, slots=True)
class Entry:
    """What one transaction row adds to the totals."""

    budget: int
    category: int | None
    date: dt.date
    amount: Decimal
    transfer: bool

    @classmethod
    def of(cls, tx: Transaction) -> "Entry":
        return cls(
            budget=tx.budget_id,
            category=tx.category_id,
            date=tx.date,
            amount=tx.amount,
            transfer=tx.transfer_id is not None,
        )


def to_cents(amount: Decimal) -> int:
    """Two-place money to whole cents, exactly: Decimal("-12.34") -> -1234."""
    return int(amount.scaleb(2))


MonthKey = tuple[int, int, dt.date, bool]  # budget, category key, month, transfer


def totals_apply(*, added: Iterable[Entry] = (), removed: Iterable[Entry] = ()) -> None:
    """Add the ``added`` rows to the stored totals and take the ``removed`` ones out.

    At most three statements whatever the number of rows: one ``UPDATE`` per budget
    whose figures move, one multi-row upsert of the month totals, and, when rows were
    taken out, one ``DELETE`` of the month totals that fell to no row."""
    budgets: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    months: dict[MonthKey, list[int]] = defaultdict(lambda: [0, 0, 0])
    shrinks = False
    for sign, entries in ((1, added), (-1, removed)):
        for entry in entries:
            cents = to_cents(entry.amount) * sign
            figures = budgets[entry.budget]
            figures[0] += cents
            figures[1] += sign
            key = (entry.budget, entry.category or 0, month_start(entry.date), entry.transfer)
            month = months[key]
            month[0 if entry.amount > 0 else 1] += cents
            month[2] += sign
            shrinks = shrinks or sign < 0
    moved = [(cents, count, pk) for pk, (cents, count) in sorted(budgets.items()) if cents or count]
    if moved:
        connection = connections[router.db_for_write(Budget)]
        with connection.cursor() as cursor:
            for params in moved:
                cursor.execute(_budget_add_sql(connection), params)
    _month_totals_add([(key, figures) for key, figures in sorted(months.items()) if any(figures)])
    if shrinks:
        MonthTotal.objects.filter(budget_id__in=budgets.keys(), count=0).delete()


def _budget_add_sql(connection) -> str:
    """What ``Budget.objects.filter(pk=...).update(transactions_cents=F(...) + cents,
    transactions_count=F(...) + count)`` sends, written once instead of compiled on every
    write: parameters cents, count, budget id."""
    quote = connection.ops.quote_name
    table = quote(Budget._meta.db_table)
    cents, count = quote("transactions_cents"), quote("transactions_count")
    # Identifiers come from the model; every value is a bound parameter.
    return (
        f"UPDATE {table} SET {cents} = ({table}.{cents} + %s), "  # noqa: S608
        f"{count} = ({table}.{count} + %s) WHERE {table}.{quote('id')} = %s"
    )


_MONTH_COLUMNS = ("budget_id", *MonthTotal.KEY_COLUMNS, *MonthTotal.FIGURE_COLUMNS)
_SUMMED = MonthTotal.FIGURE_COLUMNS


def _upsert_sql(connection, values_sql: str) -> str:
    """``INSERT ... ON CONFLICT DO UPDATE`` that adds the new figures to a row that
    exists (PostgreSQL and SQLite alike)."""
    quote = connection.ops.quote_name
    table = quote(MonthTotal._meta.db_table)
    columns = ", ".join(quote(column) for column in _MONTH_COLUMNS)
    key = ", ".join(quote(column) for column in _MONTH_COLUMNS[:4])
    sums = ", ".join(
        f"{quote(column)} = {table}.{quote(column)} + excluded.{quote(column)}"
        for column in _SUMMED
    )
    return f"INSERT INTO {table} ({columns}) {values_sql} ON CONFLICT ({key}) DO UPDATE SET {sums}"


def _month_totals_add(rows: Sequence[tuple[MonthKey, list[int]]]) -> None:
    if not rows:
        return
    connection = connections[router.db_for_write(MonthTotal)]
    per_statement = min(500, (connection.features.max_query_params or 65535) // 7)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list = []
            for (budget, category, month, transfer), figures in chunk:
                params += (budget, category, connection.ops.adapt_datefield_value(month))
                params += (transfer, *figures)
            values = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(_upsert_sql(connection, values), params)


def totals_fold_category(*, category_id: int) -> None:
    """For a category about to be deleted (its transactions become uncategorised): its
    month totals join the uncategorised ones of the same budget, month and kind. The
    budgets holding them must be locked (``category_delete`` does)."""
    connection = connections[router.db_for_write(MonthTotal)]
    quote = connection.ops.quote_name
    table = quote(MonthTotal._meta.db_table)
    selected = ", ".join(
        "0" if column == "category_key" else quote(column) for column in _MONTH_COLUMNS
    )
    # The WHERE also settles SQLite's parsing of INSERT ... SELECT ... ON CONFLICT.
    values = f"SELECT {selected} FROM {table} WHERE {quote('category_key')} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(connection, values), [category_id])
    MonthTotal.objects.filter(category_key=category_id).delete()


# --- Verify and repair ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drift:
    """A budget whose stored totals differed from its transactions."""

    budget: int
    balance: bool  # the stored sum or count was wrong
    months: int  # month-total rows missing, left over or wrong


def _expected(budget_ids: Sequence[int]) -> tuple[dict[int, tuple[int, int]], dict]:
    """What the stored totals of these budgets must be, added up from their rows."""
    transactions = Transaction.objects.filter(budget_id__in=budget_ids).order_by()
    budgets = {
        row["budget_id"]: (row["cents"], row["rows"])
        for row in transactions.values("budget_id").annotate(cents=cents_sum(), rows=Count("id"))
    }
    months = {
        (budget, category or 0, month, bool(leg)): (income, spent, rows)
        for budget, category, month, leg, income, spent, rows in transactions.month_sums(
            "budget_id"
        )
    }
    return budgets, months


def totals_verify(*, budget_ids: Sequence[int], repair: bool) -> list[Drift]:
    """Compare the stored totals of these budgets with their transactions (each budget
    locked meanwhile, so no write moves either side); with ``repair``, make the stored
    ones right. Returns the budgets that differed. Run inside ``transaction.atomic()``."""
    locked = list(
        Budget.objects.filter(pk__in=budget_ids)
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", "transactions_cents", "transactions_count")
    )
    ids = [pk for pk, _, _ in locked]
    budgets, months = _expected(ids)
    stored_months = {
        (row.budget_id, row.category_key, row.month, row.transfer): (
            row.income_cents,
            row.expense_cents,
            row.count,
        )
        for row in MonthTotal.objects.filter(budget_id__in=ids)
    }
    wrong_months: dict[int, int] = defaultdict(int)
    for key in months.keys() | stored_months.keys():
        if months.get(key) != stored_months.get(key):
            wrong_months[key[0]] += 1
    drifts = []
    for pk, cents, count in locked:
        balance_wrong = budgets.get(pk, (0, 0)) != (cents, count)
        if balance_wrong or wrong_months[pk]:
            drifts.append(Drift(budget=pk, balance=balance_wrong, months=wrong_months[pk]))
    if repair and drifts:
        for drift in drifts:
            cents, count = budgets.get(drift.budget, (0, 0))
            Budget.objects.filter(pk=drift.budget).update(
                transactions_cents=cents, transactions_count=count
            )
        redo = {drift.budget for drift in drifts if drift.months}
        MonthTotal.objects.filter(budget_id__in=redo).delete()
        MonthTotal.objects.bulk_create(
            MonthTotal(
                budget_id=budget,
                category_key=category,
                month=month,
                transfer=transfer,
                income_cents=income,
                expense_cents=expense,
                count=count,
            )
            for (budget, category, month, transfer), (income, expense, count) in months.items()
            if budget in redo
        )
    return drifts


def totals_rebuild(*, budget_ids: Sequence[int]) -> list[Drift]:
    """Make the stored totals of these budgets right (after a bulk load that went
    around the write path); returns what had to change."""
    with transaction.atomic():
        return totals_verify(budget_ids=budget_ids, repair=True)
