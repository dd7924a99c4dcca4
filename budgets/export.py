"""CSV export: transactions (as ``selectors.transaction_list`` returns them) encoded as
spreadsheet-safe CSV lines, streamed in chunks, never held in memory. The format (and
its reversible formula escaping) lives in ``budgets.csv_format``, shared with the import.
"""

from collections.abc import Iterator

from django.db.models import QuerySet

from budgets.csv_format import HEADER, csv_lines, escape_cell
from budgets.models import Transaction
from project.schemas import money_out

__all__ = ["EXPORT_CHUNK_SIZE", "EXPORT_HEADER", "csv_lines", "transaction_export_rows"]

EXPORT_HEADER = list(HEADER)
EXPORT_CHUNK_SIZE = 2000


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
            escape_cell(budget),
            escape_cell(category or ""),
            escape_cell(description),
            money_out(amount),
        ]
