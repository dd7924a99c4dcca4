"""The CSV format without the database: reversible formula escaping and streaming reads."""

import io
import tempfile

import pytest

from budgets.csv_format import (
    FILE_BAD_HEADER,
    FILE_EMPTY,
    FILE_NOT_UTF8,
    HEADER,
    CsvFileError,
    csv_lines,
    escape_cell,
    read_rows,
    unescape_cell,
)

HEADER_LINE = ",".join(HEADER) + "\r\n"


def rows_of(data: bytes, max_rows: int = 100) -> list[tuple[int, list[str]]]:
    return list(read_rows(io.BytesIO(data), max_rows=max_rows))


def file_error(data: bytes, max_rows: int = 100) -> str:
    with pytest.raises(CsvFileError) as caught:
        rows_of(data, max_rows)
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("Groceries", "Groceries"),
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1", "'+1"),
        ("-cash", "'-cash"),
        ("@home", "'@home"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("'quoted", "''quoted"),
        ("'=x", "''=x"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_escaping_round_trips(text, escaped):
    assert escape_cell(text) == escaped
    assert unescape_cell(escaped) == text


@pytest.mark.parametrize("text", ["'hello", "'", "it's", "''"])
def test_unescape_keeps_text_the_export_cannot_have_written(text):
    # A lone leading quote before ordinary text is the user's own character.
    assert unescape_cell(text) == (text[1:] if text == "''" else text)


def test_rows_stream_with_their_starting_line_numbers():
    data = (
        HEADER_LINE
        + "2026-01-02,Household,Food,Bread,-2.50\r\n"
        + "\r\n"
        + '2026-01-03,Household,,"Two\nlines",-1.00\r\n'
        + "2026-01-04,Household,,Last,3.00"
    ).encode()

    assert rows_of(data) == [
        (2, ["2026-01-02", "Household", "Food", "Bread", "-2.50"]),
        (4, ["2026-01-03", "Household", "", "Two\nlines", "-1.00"]),
        (6, ["2026-01-04", "Household", "", "Last", "3.00"]),
    ]


def test_a_byte_order_mark_is_skipped_and_the_header_is_case_insensitive():
    data = "\ufeffDate, Budget ,CATEGORY,description,amount\n2026-01-02,B,,x,1\n".encode()

    assert rows_of(data) == [(2, ["2026-01-02", "B", "", "x", "1"])]


def test_a_header_only_file_has_no_rows():
    assert rows_of(HEADER_LINE.encode()) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", FILE_EMPTY),
        (b"\xef\xbb\xbf", FILE_EMPTY),
        (b"date,budget,amount\n", FILE_BAD_HEADER),
        (b"amount,date,budget,category,description\n", FILE_BAD_HEADER),
        (b"date,budget,category,description,amount,extra\n", FILE_BAD_HEADER),
        (
            "date,budget,category,description,amount\n2026-01-02,Café,,,1\n".encode("latin-1"),
            FILE_NOT_UTF8,
        ),
        ("date,budget,category,description,amount\n".encode("utf-16"), FILE_NOT_UTF8),
        (b"\xff\xfe\x00\x00", FILE_NOT_UTF8),
    ],
)
def test_unreadable_files(data, message):
    assert file_error(data) == message


def test_invalid_utf8_far_into_the_file_is_still_reported():
    data = HEADER_LINE.encode() + b"2026-01-02,B,,ok,1\n" * 5000 + b"2026-01-02,B,,\xc3(,1\n"

    assert file_error(data, max_rows=10**6) == FILE_NOT_UTF8


def test_bad_quoting_is_a_file_error_naming_the_line():
    data = (HEADER_LINE + '2026-01-02,B,,"ok",1\r\n2026-01-03,B,,"bad"x,1\r\n').encode()

    assert file_error(data).startswith("Line 3 is not valid CSV")


def test_too_many_rows():
    data = (HEADER_LINE + "2026-01-02,B,,x,1\n" * 4).encode()

    assert len(rows_of(data, max_rows=4)) == 4
    assert file_error(data, max_rows=3) == "The file has more than 3 rows."


def test_reads_from_a_file_on_disk_and_leaves_it_open():
    with tempfile.TemporaryFile() as handle:
        handle.write((HEADER_LINE + "2026-01-02,B,,x,1\n").encode())
        handle.seek(0)

        assert list(read_rows(handle, max_rows=5)) == [(2, ["2026-01-02", "B", "", "x", "1"])]
        assert not handle.closed


def test_written_lines_read_back_the_same():
    rows = [list(HEADER), ["2026-01-02", "B, with comma", "", 'say "hi"\nbye', "-1.00"]]
    data = "".join(csv_lines(rows)).encode()

    assert rows_of(data) == [(2, rows[1])]
