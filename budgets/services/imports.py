"""Importing transactions from a CSV file in the export's columns.

The file is read as a stream (``budgets.csv_format``), each row validated like a
``POST /api/transactions/`` body, its ``budget`` and ``category`` resolved by title and
name among the caller's own rows, and the rows written in batches through the one bulk
write path of the transactions service. Memory stays bounded whatever the file's length:
a batch of rows at a time, plus one small entry per row skipped as a duplicate.

A real run is all-or-nothing: everything happens in one database transaction, and a row
with an error rolls it all back (``ImportRejected``). A dry run reads and checks the same
way and writes nothing.

Duplicates: a row is "already present" when a transaction with the same budget, date,
amount and description existed before the import began. Counts matter: a file with two
identical rows where one such transaction exists imports one of them, so importing an
export of your own data again adds nothing, and a partial overlap adds only the rest.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from pydantic import ValidationError

from budgets import messages
from budgets.csv_format import (
    FILE_NOT_UTF8,
    HEADER,
    MAX_REPORTED_ERRORS,
    WRONG_COLUMN_COUNT,
    CsvFileError,
    read_rows,
    unescape_cell,
)
from budgets.models import Budget, Category, Transaction, category_name_key
from budgets.schemas import TransactionImportRow
from budgets.services.categories import category_create
from budgets.services.locking import all_budgets_locked, all_categories_locked
from budgets.services.transactions import NewTransaction, transaction_bulk_create
from project.errors import NON_FIELD_ERRORS, FieldError
from project.services import retry_on_conflict
from project.validation import field_errors

__all__ = ["FILE_NOT_UTF8", "ImportRejected", "ImportReport", "transaction_import"]

BATCH_SIZE = 1000
_TEXT_COLUMNS = ("budget", "category", "description")

# A transaction's identity for the duplicate check: budget, date, cents, description.
Key = tuple[int, dt.date, int, str]


@dataclass
class RowError:
    line: int
    errors: dict[str, list[str]]


@dataclass
class ImportReport:
    dry_run: bool
    imported: int = 0
    skipped_duplicates: int = 0
    created_categories: list[str] = field(default_factory=list)
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    def add_error(self, line: int, errors: dict[str, list[str]]) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line=line, errors=errors))


class ImportRejected(FieldError):
    """A real run found faulty rows: 400 ``{"file": [...], "errors": [{line, errors}]}``,
    nothing written."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(
            {
                "file": [messages.IMPORT_REJECTED.format(count=report.error_count)],
                "errors": [{"line": e.line, "errors": e.errors} for e in report.errors],
            }
        )


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


class _Importer:
    """One pass over the file: parse, resolve, check duplicates, write in batches."""

    def __init__(self, *, user, dry_run: bool, create_categories: bool, allow_duplicates: bool):
        self.user = user
        self.dry_run = dry_run
        self.create_categories = create_categories
        self.allow_duplicates = allow_duplicates
        self.report = ImportReport(dry_run=dry_run)
        budgets, categories = Budget.objects.for_user(user), Category.objects.for_user(user)
        if not dry_run:
            # A real run locks every budget and category a row may name up front, in the
            # one lock order; the batches then only re-lock rows already held.
            budgets, categories = all_budgets_locked(user=user), all_categories_locked(user=user)
        self.budgets: dict[str, list[int]] = {}
        for budget_id, title in budgets.values_list("pk", "title"):
            self.budgets.setdefault(title, []).append(budget_id)
        self.categories: dict[str, int | None] = dict(categories.values_list("name_key", "pk"))
        # Transactions that existed before the import (the duplicate check ignores ours).
        self.baseline_id = Transaction.objects.aggregate(last=Max("pk"))["last"] or 0
        self.matched: Counter[Key] = Counter()  # pre-existing rows already matched

    def run(self, rows: Iterator[tuple[int, list[str]]]) -> ImportReport:
        batch: list[NewTransaction] = []
        for line, cells in rows:
            new = self._row(line, cells)
            if new is not None:
                batch.append(new)
            if len(batch) >= BATCH_SIZE:
                self._flush(batch)
                batch = []
        self._flush(batch)
        return self.report

    def _row(self, line: int, cells: list[str]) -> NewTransaction | None:
        if len(cells) != len(HEADER):
            message = WRONG_COLUMN_COUNT.format(expected=len(HEADER), got=len(cells))
            self.report.add_error(line, {NON_FIELD_ERRORS: [message]})
            return None
        values = dict(zip(HEADER, cells, strict=True))
        for column in _TEXT_COLUMNS:
            values[column] = unescape_cell(values[column])
        try:
            row = TransactionImportRow.model_validate(values)
        except ValidationError as exc:
            errors = field_errors(exc.errors())
            # Say what else is wrong with the row, if its names were readable.
            if "budget" not in errors:
                self._budget(values["budget"].strip(), errors)
            if "category" not in errors and not self.create_categories:
                self._category(values["category"].strip() or None, errors)
            self.report.add_error(line, errors)
            return None
        errors: dict[str, list[str]] = {}
        budget_id = self._budget(row.budget, errors)
        category_id = self._category(row.category, errors)
        if errors:
            self.report.add_error(line, errors)
            return None
        return NewTransaction(
            budget=budget_id,
            amount=row.amount,
            date=row.date,
            category=category_id,
            description=row.description,
        )

    def _budget(self, title: str, errors: dict[str, list[str]]) -> int:
        found = self.budgets.get(title, [])
        if len(found) != 1:
            message = messages.BUDGET_AMBIGUOUS if found else messages.BUDGET_NOT_FOUND
            errors["budget"] = [message]
            return 0
        return found[0]

    def _category(self, name: str | None, errors: dict[str, list[str]]) -> int | None:
        if name is None:
            return None
        key = category_name_key(name)
        if key in self.categories:
            return self.categories[key]
        if not self.create_categories:
            errors["category"] = [messages.CATEGORY_NOT_FOUND]
            return None
        if self.dry_run:
            self.report.created_categories.append(name)  # only counted; None stands for it
        self.categories[key] = None if self.dry_run else self._create_category(name)
        return self.categories[key]

    def _create_category(self, name: str) -> int:
        try:
            category = category_create(user=self.user, name=name)
        except FieldError:
            # Created by another request since we read the caller's categories.
            return Category.objects.for_user(self.user).get(name_key=category_name_key(name)).pk
        self.report.created_categories.append(name)
        return category.pk

    def _flush(self, batch: list[NewTransaction]) -> None:
        if not batch or (self.report.error_count and not self.dry_run):
            # After a faulty row a real run writes nothing more (it is all rolled back);
            # the rest of the file is still read, to report every error.
            return
        if not self.allow_duplicates:
            batch = self._without_duplicates(batch)
        self.report.imported += len(batch)
        if not self.dry_run:
            transaction_bulk_create(user=self.user, rows=batch, return_objects=False)

    def _without_duplicates(self, batch: list[NewTransaction]) -> list[NewTransaction]:
        candidates = (
            Transaction.objects.filter(
                pk__lte=self.baseline_id,
                budget_id__in={row.budget for row in batch},
                date__in={row.date for row in batch},
                amount__in={row.amount for row in batch},
                description__in={row.description for row in batch},
            )
            .order_by()
            .values_list("budget_id", "date", "amount", "description")
        )
        existing = Counter((b, d, _cents(amount), text) for b, d, amount, text in candidates)
        kept = []
        for row in batch:
            key = (row.budget, row.date, _cents(row.amount), row.description)
            if self.matched[key] < existing[key]:
                self.matched[key] += 1
                self.report.skipped_duplicates += 1
            else:
                kept.append(row)
        return kept


@retry_on_conflict
def transaction_import(
    *,
    user,
    file: IO[bytes],
    dry_run: bool = False,
    create_categories: bool = False,
    allow_duplicates: bool = False,
) -> ImportReport:
    """Import the CSV ``file`` (see the module doc). Raises ``FieldError`` for a file
    that cannot be read as a whole (``{"file": [...]}``) and, in a real run,
    ``ImportRejected`` for faulty rows; a dry run reports them instead."""
    file.seek(0)  # a retry reads the file again
    importer_options = {
        "dry_run": dry_run,
        "create_categories": create_categories,
        "allow_duplicates": allow_duplicates,
    }
    try:
        with transaction.atomic():
            importer = _Importer(user=user, **importer_options)
            report = importer.run(read_rows(file, max_rows=settings.IMPORT_MAX_ROWS))
            if report.error_count and not dry_run:
                raise ImportRejected(report)
    except CsvFileError as exc:
        raise FieldError.single("file", exc.message) from exc
    return report
