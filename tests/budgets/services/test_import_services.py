"""The CSV import in the service layer: round trips with the export, duplicates (counted,
not just matched), name resolution within the caller's data, all-or-nothing real runs,
dry runs that write nothing, limits, and the one bulk write path."""

import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import pytest

from budgets import messages
from budgets.csv_format import HEADER
from budgets.export import csv_lines, transaction_export_rows
from budgets.models import Category, Transaction
from budgets.selectors.transactions import transaction_list
from budgets.services import imports
from budgets.services.imports import ImportRejected, transaction_import
from project.errors import FieldError
from tests.conftest import make_budget, make_category, make_transaction, make_user

D = dt.date


def csv_file(*rows: str, header: str = ",".join(HEADER)) -> io.BytesIO:
    return io.BytesIO(("\r\n".join([header, *rows]) + "\r\n").encode())


def run(user, *rows: str, **options):
    return transaction_import(user=user, file=csv_file(*rows), **options)


def stored() -> list[tuple]:
    return list(
        Transaction.objects.order_by("date", "id").values_list(
            "budget__title", "category__name", "description", "amount", "date"
        )
    )


def exported(user) -> bytes:
    rows = transaction_export_rows(transaction_list(user=user))
    return "".join(csv_lines(rows)).encode()


TRICKY_TEXTS = [
    "=SUM(A1:A9)",
    "+33 6 12",
    "-minus",
    "@mention",
    "'quoted",
    "''twice",
    "it's",
    'say "hi", then leave',
    "two\nlines",
    "Café ☕ ß",
    "",
]


def test_an_export_imports_back_unchanged_for_another_user(user, budget):
    food = make_category(user, "=Food")
    for n, text in enumerate(TRICKY_TEXTS):
        make_transaction(
            budget,
            f"-{n + 1}.{n:02d}",
            category=food if n % 2 else None,
            description=text,
            date=D(2026, 1, 1 + n),
        )
    make_transaction(make_budget(user, title="-Savings, 2026"), "250000.00", description="In")
    data = exported(user)
    twin = make_user("twin")
    make_budget(twin, title=budget.title)
    make_budget(twin, title="-Savings, 2026")
    make_category(twin, "=food")  # another case: still the same category

    report = transaction_import(user=twin, file=io.BytesIO(data))

    assert (report.imported, report.skipped_duplicates, report.error_count) == (12, 0, 0)
    mine = Transaction.objects.filter(budget__user=user)
    theirs = Transaction.objects.filter(budget__user=twin)
    fields = ("budget__title", "category__name_key", "description", "amount", "date")
    assert sorted(theirs.values_list(*fields), key=str) == sorted(
        mine.values_list(*fields), key=str
    )


def test_importing_your_own_export_again_adds_nothing(user, budget):
    for _ in range(5):
        make_transaction(budget, "-3.00", description="Coffee", date=D(2026, 2, 1))
    make_transaction(budget, "-3.00", description="Coffee", date=D(2026, 2, 2))

    report = transaction_import(user=user, file=io.BytesIO(exported(user)))

    assert (report.imported, report.skipped_duplicates) == (0, 6)
    assert Transaction.objects.count() == 6


def test_duplicates_are_counted_not_just_matched(user, budget):
    make_transaction(budget, "-3.00", description="Coffee", date=D(2026, 2, 1))
    coffee = "2026-02-01,Household,,Coffee,-3.00"

    report = run(user, coffee, coffee, coffee)

    assert (report.imported, report.skipped_duplicates) == (2, 1)
    assert Transaction.objects.count() == 3


@pytest.mark.parametrize(
    "row",
    [
        "2026-02-02,Household,,Coffee,-3.00",  # another date
        "2026-02-01,Household,,Coffee,-3.01",  # another amount
        "2026-02-01,Household,,coffee,-3.00",  # another description (case counts)
        "2026-02-01,Other,,Coffee,-3.00",  # another budget
    ],
)
def test_a_row_that_differs_in_any_key_is_not_a_duplicate(user, budget, row):
    make_budget(user, title="Other")
    make_transaction(budget, "-3.00", description="Coffee", date=D(2026, 2, 1))

    report = run(user, row)

    assert (report.imported, report.skipped_duplicates) == (1, 0)


def test_the_category_is_not_part_of_the_duplicate_key(user, budget, category):
    make_transaction(budget, "-3.00", description="Coffee", date=D(2026, 2, 1))

    report = run(user, "2026-02-01,Household,Food,Coffee,-3.0")

    assert (report.imported, report.skipped_duplicates) == (0, 1)


def test_allow_duplicates_imports_every_row(user, budget):
    make_transaction(budget, "-3.00", description="Coffee", date=D(2026, 2, 1))

    report = run(user, "2026-02-01,Household,,Coffee,-3.00", allow_duplicates=True)

    assert (report.imported, report.skipped_duplicates) == (1, 0)
    assert Transaction.objects.count() == 2


def test_duplicates_across_batches_and_rows_written_by_the_import_itself(user, budget, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    make_transaction(budget, "-3.00", description="Coffee", date=D(2026, 2, 1))
    coffee = "2026-02-01,Household,,Coffee,-3.00"
    tea = "2026-02-01,Household,,Tea,-2.00"

    # Batch 1: coffee (matches the stored one), tea. Batch 2: coffee, tea, written by
    # batch 1 or not, they are new. Batch 3: coffee.
    report = run(user, coffee, tea, coffee, tea, coffee)

    assert (report.imported, report.skipped_duplicates) == (4, 1)
    assert Transaction.objects.filter(description="Coffee").count() == 3


def test_other_users_transactions_are_not_duplicates(user, other_user, budget):
    theirs = make_budget(other_user, title="Household")
    make_transaction(theirs, "-3.00", description="Coffee", date=D(2026, 2, 1))

    report = run(user, "2026-02-01,Household,,Coffee,-3.00")

    assert (report.imported, report.skipped_duplicates) == (1, 0)
    assert Transaction.objects.filter(budget=budget).count() == 1


# --- Names -----------------------------------------------------------------------------


def test_budget_titles_resolve_within_your_own_budgets(user, other_user, budget):
    make_budget(other_user, title="Theirs")
    make_budget(user, title="Twice")
    make_budget(user, title="Twice")

    report = run(
        user,
        "2026-02-01,Theirs,,x,1",
        "2026-02-01,Twice,,x,1",
        "2026-02-01,household,,x,1",
        dry_run=True,
    )

    assert [(e.line, e.errors) for e in report.errors] == [
        (2, {"budget": [messages.BUDGET_NOT_FOUND]}),
        (3, {"budget": [messages.BUDGET_AMBIGUOUS]}),
        (4, {"budget": [messages.BUDGET_NOT_FOUND]}),  # titles are matched exactly
    ]


def test_category_names_match_regardless_of_case(user, other_user, budget, category):
    make_category(other_user, "Theirs")

    report = run(
        user,
        "2026-02-01,Household,FOOD,x,1",
        "2026-02-01,Household, food ,y,1",
        "2026-02-01,Household,Theirs,z,1",
        dry_run=True,
    )

    assert report.imported == 2
    assert [(e.line, e.errors) for e in report.errors] == [
        (4, {"category": [messages.CATEGORY_NOT_FOUND]}),
    ]


def test_create_categories_creates_each_new_name_once(user, budget):
    report = run(
        user,
        "2026-02-01,Household,Books,x,-1",
        "2026-02-02,Household,BOOKS,y,-1",
        "2026-02-03,Household,Music,z,-1",
        create_categories=True,
    )

    assert report.created_categories == ["Books", "Music"]
    assert sorted(Category.objects.values_list("name", flat=True)) == ["Books", "Music"]
    assert [c for _, c, *_ in stored()] == ["Books", "Books", "Music"]


def test_a_dry_run_writes_nothing_but_reports_everything(user, budget):
    make_transaction(budget, "-3.00", description="Coffee", date=D(2026, 2, 1))
    before = stored()

    report = run(
        user,
        "2026-02-01,Household,,Coffee,-3.00",
        "2026-02-02,Household,New,Book,-12.00",
        "2026-02-30,Household,,Bad date,1",
        create_categories=True,
        dry_run=True,
    )

    assert report.dry_run is True
    assert (report.imported, report.skipped_duplicates, report.error_count) == (1, 1, 1)
    assert report.created_categories == ["New"]
    assert stored() == before
    assert not Category.objects.exists()


# --- All or nothing ----------------------------------------------------------------------


def test_a_real_run_with_a_faulty_row_writes_nothing(user, budget):
    rows = [f"2026-02-{d:02d},Household,New,Row {d},-1.00" for d in range(1, 28)]
    rows.append("2026-02-28,Household,,Last,0")

    with pytest.raises(ImportRejected) as caught:
        run(user, *rows, create_categories=True)

    assert caught.value.errors == {
        "file": [messages.IMPORT_REJECTED.format(count=1)],
        "errors": [{"line": 29, "errors": {"amount": [messages.AMOUNT_ZERO]}}],
    }
    assert not Transaction.objects.exists()
    assert not Category.objects.exists()


def test_every_faulty_row_is_reported_with_all_its_problems(user, budget):
    report = run(
        user,
        "2026-02-01,Household,Nope,x,1.001",
        "not-a-date,Nowhere,,x,abc",
        "2026-02-01,Household,,x",
        "2026-02-01,Household,,x,1,extra",
        "2026-02-01,,,x,1",
        f"2026-02-01,Household,,{'y' * 256},1",
        "2026-02-01,Household,,nul\x00here,1",
        "2026-02-01,Household,,ok,10000000000.00",
        dry_run=True,
    )

    assert [(e.line, e.errors) for e in report.errors] == [
        (
            2,
            {
                "amount": ["Amount must have at most 2 decimal places."],
                "category": [messages.CATEGORY_NOT_FOUND],
            },
        ),
        (
            3,
            {
                "date": ["Date must be a valid date (YYYY-MM-DD)."],
                "amount": ["Amount must be a valid number."],
                "budget": [messages.BUDGET_NOT_FOUND],
            },
        ),
        (4, {"non_field_errors": ["Expected 5 columns, got 4."]}),
        (5, {"non_field_errors": ["Expected 5 columns, got 6."]}),
        (6, {"budget": ["Budget may not be blank."]}),
        (7, {"description": ["Description must have at most 255 characters."]}),
        (8, {"description": ["Description must not contain null characters."]}),
        (9, {"amount": ["Amount must be at most 9999999999.99."]}),
    ]
    assert report.imported == 0


def test_errors_reported_are_capped_but_all_counted(user, budget, monkeypatch):
    monkeypatch.setattr(imports, "MAX_REPORTED_ERRORS", 3)

    report = run(user, *["2026-02-01,Household,,x,0"] * 7, dry_run=True)

    assert (report.error_count, len(report.errors)) == (7, 3)


def test_too_many_rows_is_a_file_error(user, budget, settings):
    settings.IMPORT_MAX_ROWS = 3

    assert run(user, *["2026-02-01,Household,,x,1"] * 3).imported == 3
    with pytest.raises(FieldError) as caught:
        run(user, *["2026-02-01,Household,,x,1"] * 4, allow_duplicates=True)

    assert caught.value.errors == {"file": ["The file has more than 3 rows."]}
    assert Transaction.objects.count() == 3


def test_a_file_error_late_in_the_file_rolls_everything_back(user, budget, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    data = csv_file(*[f"2026-02-01,Household,,row {n},1" for n in range(6)]).getvalue()

    with pytest.raises(FieldError) as caught:
        transaction_import(user=user, file=io.BytesIO(data + b"2026-02-01,Household,,\xff,1\r\n"))

    assert caught.value.errors == {"file": [imports.FILE_NOT_UTF8]}
    assert not Transaction.objects.exists()


def test_rows_are_written_through_the_one_bulk_path_in_batches(user, budget, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 4)
    from budgets.services import transactions

    with mock.patch.object(
        imports, "transaction_bulk_create", wraps=transactions.transaction_bulk_create
    ) as bulk:
        report = run(user, *[f"2026-02-{d:02d},Household,,x,-{d}.00" for d in range(1, 11)])

    assert report.imported == 10
    assert [len(call.kwargs["rows"]) for call in bulk.call_args_list] == [4, 4, 2]
    assert sum(amount for *_, amount, _ in stored()) == Decimal("-55.00")
