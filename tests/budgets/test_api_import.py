"""CSV import over HTTP: answers and their shapes, every kind of bad file (400 or 413,
never 500, nothing written), options, isolation, and an export importing back."""

import codecs
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT

from budgets import messages
from budgets.csv_format import FILE_BAD_HEADER, FILE_EMPTY, FILE_NOT_UTF8, HEADER
from budgets.models import Category, Transaction
from tests.conftest import make_budget, make_category, make_transaction

URL = "/api/transactions/import/"
HEADER_LINE = ",".join(HEADER)


def upload(client, data: bytes | str, **fields):
    if isinstance(data, str):
        data = data.encode()
    file = SimpleUploadedFile("transactions.csv", data, content_type="text/csv")
    return client.post(URL, {"file": file, **fields}, content_type=MULTIPART_CONTENT)


def csv_text(*rows: str) -> str:
    return "\r\n".join([HEADER_LINE, *rows]) + "\r\n"


def stored() -> list[tuple]:
    return list(Transaction.objects.order_by("id").values_list("budget_id", "amount", "date"))


def test_import(auth_client, budget, category):
    response = upload(
        auth_client,
        csv_text(
            "2026-02-01,Household,Food,Bread,-2.50",
            "2026-02-02,Household,,'-cash back,10",
            "2026-02-03,Household,Books,Novel,-12.00",
        ),
        create_categories="true",
    )

    assert response.status_code == 201
    assert response.json() == {
        "dry_run": False,
        "imported": 3,
        "skipped_duplicates": 0,
        "created_categories": ["Books"],
        "error_count": 0,
        "errors": [],
    }
    listed = auth_client.get("/api/transactions/", {"ordering": "date"}).json()["results"]
    assert [(t["description"], t["amount"], t["recurring_rule"]) for t in listed] == [
        ("Bread", "-2.50", None),
        ("-cash back", "10.00", None),
        ("Novel", "-12.00", None),
    ]
    assert auth_client.get(f"/api/budgets/{budget.pk}/").json()["balance"] == "995.50"


def test_dry_run(auth_client, budget):
    response = upload(
        auth_client,
        csv_text("2026-02-01,Household,,Bread,-2.50", "2026-02-01,Household,,Bad,1.001"),
        dry_run="true",
    )

    assert response.status_code == 200
    assert response.json() == {
        "dry_run": True,
        "imported": 1,
        "skipped_duplicates": 0,
        "created_categories": [],
        "error_count": 1,
        "errors": [
            {"line": 3, "errors": {"amount": ["Amount must have at most 2 decimal places."]}}
        ],
    }
    assert not Transaction.objects.exists()


def test_a_faulty_row_rejects_the_whole_file(auth_client, budget):
    response = upload(
        auth_client,
        csv_text("2026-02-01,Household,,Bread,-2.50", "2026-02-31,Household,Nope,x,0"),
    )

    assert response.status_code == 400
    assert response.json() == {
        "file": [messages.IMPORT_REJECTED.format(count=1)],
        "errors": [
            {
                "line": 3,
                "errors": {
                    "date": ["Date must be a valid date (YYYY-MM-DD)."],
                    "amount": [messages.AMOUNT_ZERO],
                    "category": [messages.CATEGORY_NOT_FOUND],
                },
            }
        ],
    }
    assert not Transaction.objects.exists()


def test_an_export_reimports_cleanly(auth_client, user, budget, category):
    for n, text in enumerate(["=1+1", "'quoted", "a, b", "multi\nline", "-"]):
        make_transaction(budget, f"-{n + 1}.25", category=category, description=text)
    exported = b"".join(auth_client.get("/api/transactions/export/").streaming_content)

    again = upload(auth_client, exported)
    doubled = upload(auth_client, exported, allow_duplicates="true")

    assert (again.status_code, again.json()["skipped_duplicates"]) == (201, 5)
    assert (doubled.status_code, doubled.json()["imported"]) == (201, 5)
    texts = Transaction.objects.values_list("description", flat=True)
    assert sorted(texts) == sorted(["=1+1", "'quoted", "a, b", "multi\nline", "-"] * 2)


def test_a_byte_order_mark_is_fine(auth_client, budget):
    response = upload(auth_client, codecs.BOM_UTF8 + csv_text("2026-02-01,Household,,x,1").encode())

    assert (response.status_code, response.json()["imported"]) == (201, 1)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (b"", {"file": [FILE_EMPTY]}),
        (b"date;budget;category;description;amount\n", {"file": [FILE_BAD_HEADER]}),
        (b"amount,date\n1,2026-01-01\n", {"file": [FILE_BAD_HEADER]}),
        (csv_text("2026-02-01,Café,,x,1").encode("latin-1"), {"file": [FILE_NOT_UTF8]}),
        (csv_text("2026-02-01,Household,,x,1").encode("utf-16"), {"file": [FILE_NOT_UTF8]}),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {"file": [FILE_NOT_UTF8]}),
        (
            csv_text('2026-02-01,Household,,"unclosed,1').encode(),
            {"file": ["Line 2 is not valid CSV: unexpected end of data."]},
        ),
        (
            csv_text('2026-02-01,Household,,"a"b,1').encode(),
            {"file": ["Line 2 is not valid CSV: ',' expected after '\"'."]},
        ),
    ],
)
def test_unreadable_files_are_a_400(auth_client, budget, data, errors):
    response = upload(auth_client, data)

    assert (response.status_code, response.json()) == (400, errors)
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("row", "errors"),
    [
        ("2026-13-01,Household,,x,1", {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
        ("01/02/2026,Household,,x,1", {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
        ("2026-02-01T10:00,Household,,x,1", {"date": ["Date must be a valid date (YYYY-MM-DD)."]}),
        ("2026-02-01,Household,,x,1.001", {"amount": ["Amount must have at most 2 decimal places."]}),  # noqa: E501
        ("2026-02-01,Household,,x,1e3", {"amount": ["Amount must be a valid number."]}),
        ("2026-02-01,Household,,x,NaN", {"amount": ["Amount must be a valid number."]}),
        ("2026-02-01,Household,,x,", {"amount": ["Amount must be a valid number."]}),
        ("2026-02-01,Household,,x,0.00", {"amount": [messages.AMOUNT_ZERO]}),
        ("2026-02-01,Household,,x,1 000", {"amount": ["Amount must be a valid number."]}),
        ("2026-02-01,Nope,,x,1", {"budget": [messages.BUDGET_NOT_FOUND]}),
        ("2026-02-01,Household,Nope,x,1", {"category": [messages.CATEGORY_NOT_FOUND]}),
        ("2026-02-01,Household,,x", {"non_field_errors": ["Expected 5 columns, got 4."]}),
    ],
)  # fmt: skip
def test_bad_rows_are_reported_by_line_and_field(auth_client, budget, row, errors):
    response = upload(auth_client, csv_text("2026-02-01,Household,,fine,1", row), dry_run="1")

    assert response.status_code == 200
    assert response.json()["errors"] == [{"line": 3, "errors": errors}]
    assert not Transaction.objects.exists()


def test_a_file_over_the_limit_is_a_413(auth_client, budget, settings):
    settings.IMPORT_MAX_BYTES = 1024
    data = csv_text(*["2026-02-01,Household,,x,1"] * 60)
    assert len(data) > 1024

    response = upload(auth_client, data)

    assert (response.status_code, response.json()) == (
        413,
        {"detail": "The file is larger than the 1 KiB limit."},
    )
    assert not Transaction.objects.exists()


def test_the_default_limit_allows_files_far_beyond_the_json_body_limit(auth_client, budget):
    rows = [f"2026-02-01,Household,,Row number {n},-1.00" for n in range(4000)]
    data = csv_text(*rows)
    assert len(data) > 128 * 1024

    response = upload(auth_client, data)

    assert (response.status_code, response.json()["imported"]) == (201, 4000)


def test_a_body_declaring_more_than_the_limit_is_refused_before_it_is_read(auth_client, settings):
    settings.IMPORT_MAX_BYTES = 1024
    body = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'

    response = auth_client.generic(
        "POST",
        URL,
        body,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
        **auth_client._auth,
    )

    assert response.status_code == 413


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"dry_run": "maybe"}, {"dry_run": ["Dry run must be true or false."]}),
        (
            {"create_categories": "2"},
            {"create_categories": ["Create categories must be true or false."]},
        ),
    ],
)
def test_bad_options_are_a_400(auth_client, budget, fields, errors):
    response = upload(auth_client, csv_text("2026-02-01,Household,,x,1"), **fields)

    assert (response.status_code, response.json()) == (400, errors)
    assert not Transaction.objects.exists()


def test_the_file_is_required(auth_client):
    multipart = auth_client.post(URL, {"dry_run": "true"}, content_type=MULTIPART_CONTENT)
    as_json = auth_client.post(URL, {"file": "2026-02-01,Household,,x,1"})
    raw = auth_client.generic(
        "POST", URL, csv_text("x").encode(), content_type="text/csv", **auth_client._auth
    )

    for response in (multipart, as_json, raw):
        assert (response.status_code, response.json()) == (400, {"file": ["File is required."]})


def test_several_files_are_a_400_not_all_but_the_last_ignored(auth_client, budget):
    files = [
        SimpleUploadedFile(f"{name}.csv", csv_text(f"2026-02-01,Household,,{name},-1").encode())
        for name in ("first", "second")
    ]

    response = auth_client.post(URL, {"file": files}, content_type=MULTIPART_CONTENT)

    assert (response.status_code, response.json()) == (400, {"file": [messages.IMPORT_ONE_FILE]})
    assert not Transaction.objects.exists()


def test_needs_a_token(api_client, budget):
    response = upload(api_client, csv_text("2026-02-01,Household,,x,1"))

    assert response.status_code == 401
    assert not Transaction.objects.exists()


def test_names_resolve_only_within_your_own_data(auth_client, other_user, budget):
    make_budget(other_user, title="Theirs")
    make_category(other_user, "Secret")
    theirs = make_budget(other_user, title="Household")
    make_transaction(theirs, "-3.00", description="Coffee")

    response = upload(
        auth_client,
        csv_text(
            "2026-02-01,Theirs,,x,1",
            "2026-02-01,Household,Secret,x,1",
            f"{'2026-01-15'},Household,,Coffee,-3.00",
        ),
        dry_run="true",
    )

    assert response.json()["errors"] == [
        {"line": 2, "errors": {"budget": [messages.BUDGET_NOT_FOUND]}},
        {"line": 3, "errors": {"category": [messages.CATEGORY_NOT_FOUND]}},
    ]
    # Their identical transaction is not a duplicate of yours.
    assert (response.json()["imported"], response.json()["skipped_duplicates"]) == (1, 0)
    assert not Category.objects.filter(user=budget.user).exists()


def test_query_count_is_fixed_per_batch(auth_client, budget, category, django_assert_num_queries):
    rows = [f"2026-02-{d:02d},Household,Food,x,-{d}.00" for d in range(1, 29)]

    # The token's user; in a transaction (here a savepoint): the caller's budgets and
    # categories, locked; the last transaction id; then per batch of up to 1,000 rows:
    # the duplicate check, the bulk path (lock budgets, lock categories, the budget's
    # stored totals, its month totals, insert).
    with django_assert_num_queries(12):
        response = upload(auth_client, csv_text(*rows))

    assert (response.status_code, response.json()["imported"]) == (201, 28)
    assert stored()[0][0] == budget.pk


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\x01"],
)
def test_a_broken_multipart_body_is_a_400(auth_client, content_type):
    response = auth_client.generic(
        "POST", URL, b"--x\r\nnot really\r\n", content_type=content_type, **auth_client._auth
    )

    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Request body is not valid multipart/form-data."},
    )


def test_a_truncated_multipart_body_has_no_file(auth_client, budget):
    body = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        + csv_text("2026-02-01,Household,,x,1").encode()
    )  # no closing boundary

    response = auth_client.generic(
        "POST", URL, body, content_type="multipart/form-data; boundary=x", **auth_client._auth
    )

    # Django drops a part that never ends: the upload arrived without its file.
    assert (response.status_code, response.json()) == (400, {"file": ["File is required."]})
    assert not Transaction.objects.exists()


# --- Transfer legs in a file ------------------------------------------------------------


def transfer_to_savings(client, user, budget):
    """A Savings budget and a transfer of 40.00 from ``budget`` (Household) to it."""
    savings = make_budget(user, title="Savings", initial_amount=Decimal("1.00"))
    payload = {"from_budget": budget.pk, "to_budget": savings.pk, "amount": "40.00",
               "date": "2026-02-01", "description": "Rainy day"}  # fmt: skip
    return savings, client.post("/api/transfers/", payload).json()


def test_transfer_legs_reimport_as_ordinary_transactions(auth_client, user, budget):
    savings, transfer = transfer_to_savings(auth_client, user, budget)
    legs = {transfer["from_transaction"], transfer["to_transaction"]}
    exported = b"".join(auth_client.get("/api/transactions/export/").streaming_content)

    # While the legs exist, they are the duplicates of their rows: nothing changes.
    again = upload(auth_client, exported)
    assert (again.status_code, again.json()["skipped_duplicates"]) == (201, 2)
    # The transfer gone, its rows come back as an ordinary expense and income.
    assert auth_client.delete(f"/api/transfers/{transfer['id']}/").status_code == 204
    back = upload(auth_client, exported)

    assert (back.status_code, back.json()["imported"]) == (201, 2)
    rows = Transaction.objects.order_by("amount").values_list("pk", "budget", "amount", "transfer")
    assert [(budget_id, amount, link) for _, budget_id, amount, link in rows] == [
        (budget.pk, Decimal("-40.00"), None),
        (savings.pk, Decimal("40.00"), None),
    ]
    assert not {pk for pk, *_ in rows} & legs
    summary = auth_client.get(f"/api/budgets/{savings.pk}/summary/").json()
    assert (summary["income_total"], summary["transfers_in"]) == ("40.00", "0.00")
    # Ordinary now: editable through /api/transactions/ like any other.
    first = rows[0][0]
    assert auth_client.patch(f"/api/transactions/{first}/", {"amount": "-41.00"}).status_code == 200


def test_an_import_never_edits_a_leg(auth_client, user, budget):
    _, transfer = transfer_to_savings(auth_client, user, budget)
    before = list(Transaction.objects.order_by("pk").values())

    response = upload(
        auth_client,
        csv_text("2026-02-01,Household,,Rainy day,-40.00", "2026-02-01,Savings,,Rainy day,40.00"),
        allow_duplicates="true",
    )

    assert (response.status_code, response.json()["imported"]) == (201, 2)
    assert (
        list(Transaction.objects.filter(pk__in=[r["id"] for r in before]).order_by("pk").values())
        == before
    )
    copies = Transaction.objects.exclude(pk__in=[r["id"] for r in before])
    assert list(copies.values_list("transfer", flat=True)) == [None, None]
    leg = transfer["from_transaction"]
    refused = auth_client.patch(f"/api/transactions/{leg}/", {"amount": "-1.00"})
    assert refused.status_code == 400
    assert Transaction.objects.get(pk=leg).amount == Decimal("-40.00")
