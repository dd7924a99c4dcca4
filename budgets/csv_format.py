"""The transactions CSV format, both ways: the export writes it, the import reads it.

Columns ``date,budget,category,description,amount``. Text cells that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are
written with a leading ``'``; so are cells that already start with ``'``, which makes the
escaping reversible: the import strips exactly one leading ``'`` when it is followed by one
of those characters, and an export always re-imports to the same text.
"""

import csv
import io
from collections.abc import Iterator
from typing import IO

HEADER = ("date", "budget", "category", "description", "amount")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
# An import reports the errors of this many faulty rows at most (and counts them all).
MAX_REPORTED_ERRORS = 1000
_ESCAPED = (*FORMULA_PREFIXES, ESCAPE)

FILE_EMPTY = "The file is empty."
FILE_NOT_UTF8 = "The file must be UTF-8 text (with or without a byte order mark)."
FILE_BAD_HEADER = "The first line must be the header: " + ",".join(HEADER) + "."
FILE_TOO_MANY_ROWS = "The file has more than {limit} rows."
FILE_NOT_CSV = "Line {line} is not valid CSV: {reason}."
WRONG_COLUMN_COUNT = "Expected {expected} columns, got {got}."


class CsvFileError(Exception):
    """The file as a whole cannot be read (encoding, header, size, CSV syntax)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def escape_cell(text: str) -> str:
    """Neutralise spreadsheet formulas in a text cell (CSV injection), reversibly."""
    return ESCAPE + text if text.startswith(_ESCAPED) else text


def unescape_cell(text: str) -> str:
    """Undo :func:`escape_cell`; any other text is returned as it is."""
    if text.startswith(ESCAPE) and text[1:].startswith(_ESCAPED):
        return text[1:]
    return text


def read_rows(binary: IO[bytes], *, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    """Stream ``(line number, cells)`` for every data row of a CSV file in ``HEADER``'s
    columns, decoding UTF-8 (a byte order mark is skipped) as it goes.

    The line number is where the row starts in the file (the header is line 1). Blank
    lines are skipped. Raises :class:`CsvFileError` for a file that cannot be read as a
    whole; a row with the wrong number of cells is yielded as it is (the caller reports it).
    """
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text, strict=True)
    try:
        try:
            header = next(reader)
        except StopIteration:
            raise CsvFileError(FILE_EMPTY) from None
        if tuple(cell.strip().lower() for cell in header) != HEADER:
            raise CsvFileError(FILE_BAD_HEADER)
        line, count = reader.line_num + 1, 0
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not cells:
                continue
            count += 1
            if count > max_rows:
                raise CsvFileError(FILE_TOO_MANY_ROWS.format(limit=max_rows))
            yield start, cells
    except UnicodeDecodeError:
        raise CsvFileError(FILE_NOT_UTF8) from None
    except csv.Error as exc:
        reason = str(exc).rstrip(".")
        raise CsvFileError(FILE_NOT_CSV.format(line=reader.line_num, reason=reason)) from None
    finally:
        text.detach()  # leave the caller's file open


class _Line:
    """A file-like object whose write() hands the line back (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list[str]] | list[list[str]]) -> Iterator[str]:
    """Each row as one CSV line (``\\r\\n`` terminated, quoted where needed)."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow(row)
