"""CSV export: transactions (as ``selectors.transaction_list`` returns them) encoded as
spreadsheet-safe CSV lines, streamed in chunks, never held in memory."""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from budgets.models import Transaction
from project.schemas import money_out

EXPORT_HEADER = ["date", "budget", "category", "description", "amount"]
EXPORT_CHUNK_SIZE = 2000
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(text: str) -> str:
    """Neutralise spreadsheet formulas in a text cell (CSV injection)."""
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def transaction_export_rows(transactions: QuerySet[Transaction]) -> Iterator[list[str]]:
    """The header, then every transaction as CSV cells, in the queryset's order, read
    in chunks. Pass a queryset already scoped to the caller."""
    rows = transactions.values_list(
        "date", "budget__title", "category__name", "description", "amount"
    )
    yield EXPORT_HEADER
    for date, budget, category, description, amount in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield [
            date.isoformat(),
            _safe_cell(budget),
            _safe_cell(category or ""),
            _safe_cell(description),
            money_out(amount),
        ]


class _Echo:
    """A file-like object whose write() hands the line back (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
