"""One error shape everywhere: each kind of failure, triggered for real, and its body."""

import io
import json
import logging

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from budgets.models import Budget
from project import database, errors
from project.errors import (
    NOT_FOUND,
    AuthFailed,
    DatabaseBusy,
    FieldError,
    NotFound,
    PreconditionFailed,
)
from project.middleware import RequestIdLogFilter
from project.uploads import UploadTooLarge
from tests.conftest import ApiClient, bearer

BUDGET = {"title": "Trip", "date": "2026-03-01", "initial_amount": "100.00"}


def test_body_errors_are_keyed_by_json_field_name(auth_client):
    response = auth_client.post(
        "/api/budgets/", {"title": " ", "date": "2026-13-01", "initial_amount": "1.001"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "title": ["Title may not be blank."],
        "date": ["Date must be a valid date (YYYY-MM-DD)."],
        "initial_amount": ["Initial amount must have at most 2 decimal places."],
    }


def test_query_errors_are_keyed_by_parameter_name(auth_client):
    response = auth_client.get("/api/budgets/", {"page": "abc", "ordering": "owner"})

    assert response.status_code == 400
    assert response.json() == {
        "page": ["Page must be a whole number."],
        "ordering": [
            "Ordering must be one of: 'date', '-date', 'title', '-title', 'initial_amount', "
            "'-initial_amount', 'created_at' or '-created_at'."
        ],
    }


def test_path_value_that_is_not_an_id_is_a_404(auth_client):
    # Path converters only match digits, so /abc/ is an unknown URL.
    response = auth_client.get("/api/budgets/abc/")

    assert (response.status_code, response.json()) == (404, {"detail": NOT_FOUND})


def test_huge_path_id_is_a_404_not_a_500(auth_client):
    response = auth_client.get(f"/api/budgets/{2**70}/")

    assert (response.status_code, response.json()) == (404, {"detail": NOT_FOUND})


@pytest.mark.parametrize("body", ["{not json", '{"title": "x",}', "\xff"])
def test_body_that_is_not_json_is_400_detail(auth_client, body):
    response = auth_client.post("/api/budgets/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": errors.BAD_JSON}


@pytest.mark.parametrize(
    ("body", "message"),
    [("[1, 2]", "Request body must be a JSON object."), ("", "Request body is required.")],
)
def test_body_that_is_not_an_object_is_a_non_field_error(auth_client, body, message):
    response = auth_client.post("/api/budgets/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [message]}


def test_unknown_url_is_json_404(auth_client):
    for path in ("/api/nope/", "/api/budgets", "/nowhere"):
        response = auth_client.get(path)
        assert (response.status_code, response.json()) == (404, {"detail": NOT_FOUND})


def test_wrong_method_is_json_405_with_allow(auth_client):
    response = auth_client.delete("/api/budgets/")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_oversized_body_is_413_and_stores_nothing(auth_client):
    body = json.dumps({**BUDGET, "description": "x" * 70_000})

    response = auth_client.post("/api/budgets/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"detail": errors.TOO_LARGE}


@pytest.mark.parametrize("length", ["abc", "1e3", "-1", "+5", " 12", "1_0"])
@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/budgets/", {}),
        ("/api/budgets/", {"HTTP_IDEMPOTENCY_KEY": "k-1"}),
        ("/admin/login/", {}),
    ],
    ids=["api", "keyed", "admin"],
)
def test_a_content_length_that_is_not_a_number_is_a_400_not_a_500(
    auth_client, user, length, path, headers
):
    """gunicorn refuses such a header itself; runserver and ASGI servers pass it on, and
    Django's ``request.body`` then raised a ValueError (a 500)."""
    response = auth_client.post(path, BUDGET, CONTENT_LENGTH=length, **headers)

    assert response.status_code == 400
    assert response.json() == {"detail": errors.BAD_CONTENT_LENGTH}
    assert "X-Request-ID" in response
    assert Budget.objects.count() == 0


def test_unhandled_exception_is_json_500_logged_with_request_id(user, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("budgets.selectors.budget_listing", explode)
    client = ApiClient(bearer(user))
    client.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="project.api"):
        response = client.get("/api/budgets/", HTTP_X_REQUEST_ID="req-123")

    assert response.status_code == 500
    assert response.json() == {"detail": errors.SERVER_ERROR}
    assert response["X-Request-ID"] == "req-123"
    assert any("req-123" in record.getMessage() for record in caplog.records)


def test_django_request_log_lines_carry_the_request_id(user, monkeypatch):
    """Django logs every 5xx on ``django.request`` after the middleware has finished;
    the line written by the configured handler still names the request."""
    monkeypatch.setattr("budgets.selectors.budget_listing", lambda **kwargs: 1 / 0)
    client = ApiClient(bearer(user))
    client.raise_request_exception = False
    (handler,) = [  # the one settings.LOGGING configures (pytest adds its own)
        h
        for h in logging.getLogger("django.request").handlers
        if any(isinstance(f, RequestIdLogFilter) for f in h.filters)
    ]
    output = io.StringIO()
    previous = handler.setStream(output)
    try:
        response = client.get("/api/budgets/", HTTP_X_REQUEST_ID="req-456")
    finally:
        handler.setStream(previous)

    assert response.status_code == 500
    lines = [line for line in output.getvalue().splitlines() if " django.request: " in line]
    assert lines, output.getvalue()
    assert all("[req-456]" in line for line in lines), lines


def test_every_response_carries_a_request_id(api_client):
    response = api_client.get("/up")

    assert len(response["X-Request-ID"]) == 32


@pytest.mark.parametrize(
    ("method", "path", "data", "field"),
    [
        ("post", "/api/budgets/", {**BUDGET, "title": "a\x00b"}, "title"),
        ("get", "/api/budgets/", {"search": "a\x00"}, "search"),
        ("get", "/api/transactions/", {"search": "\x00"}, "search"),
        ("post", "/api/categories/", {"name": "\x00"}, "name"),
        ("patch", "/api/users/me/", {"first_name": "\x00"}, "first_name"),
    ],
)
def test_nul_characters_are_a_400_on_every_database(auth_client, method, path, data, field):
    # PostgreSQL cannot store NUL; it must never reach the database as a 500.
    response = getattr(auth_client, method)(path, data)

    assert response.status_code == 400
    assert response.json() == {
        field: [f"{field.replace('_', ' ').capitalize()} must not contain null characters."]
    }


def test_nul_in_login_is_a_400_not_a_500(api_client):
    response = api_client.post("/api/token/", {"username": "a\x00", "password": "x"})

    assert response.status_code == 400
    assert list(response.json()) == ["username"]


def test_too_many_query_parameters_is_a_400(auth_client):
    query = "&".join(f"p{n}=1" for n in range(1100))

    response = auth_client.get(f"/api/budgets/?{query}")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("/api/budgets/", {**BUDGET, "title": "\ud800"}, "title"),
        ("/api/budgets/", {**BUDGET, "description": "x\udfff"}, "description"),
        ("/api/categories/", {"name": "\ud800"}, "name"),
    ],
)
def test_lone_surrogates_are_a_400(auth_client, path, data, field):
    # json.dumps writes "\ud800" as an escape; json.loads turns it into a lone surrogate.
    response = auth_client.post(path, data)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_category_name_that_grows_under_normalisation_is_stored(auth_client):
    # NFKC turns U+FDFA into 18 characters; the uniqueness key must still fit.
    response = auth_client.post("/api/categories/", {"name": "\ufdfa" * 20})

    assert response.status_code == 201


def test_page_far_past_the_end_is_404_not_400(auth_client):
    response = auth_client.get("/api/transactions/", {"page": 10**12})

    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


class _Cause(Exception):
    pass


def _http_error_from(cause: Exception) -> HttpError:
    try:
        raise HttpError(400, "Cannot parse request body") from cause
    except HttpError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            NinjaValidationError([{"type": "missing", "loc": ("body", "payload", "title")}]),
            ({"title": ["Title is required."]}, 400, {}),
        ),
        (FieldError.single("name", "Taken."), ({"name": ["Taken."]}, 400, {})),
        (
            _http_error_from(_Cause("Expecting value")),
            ({"detail": errors.BAD_JSON}, 400, {}),
        ),
        (
            _http_error_from(errors.BodyNotAnObject(errors.NOT_AN_OBJECT)),
            ({"non_field_errors": [errors.NOT_AN_OBJECT]}, 400, {}),
        ),
        (TooManyFieldsSent("too many"), ({"detail": errors.BAD_REQUEST}, 400, {})),
        (MultiPartParserError("no boundary"), ({"detail": errors.BAD_MULTIPART}, 400, {})),
        (
            AuthFailed("Token is invalid or expired."),
            ({"detail": "Token is invalid or expired."}, 401, {"WWW-Authenticate": "Bearer"}),
        ),
        (
            AuthenticationError(),
            ({"detail": errors.NOT_AUTHENTICATED}, 401, {"WWW-Authenticate": "Bearer"}),
        ),
        (NotFound(), ({"detail": NOT_FOUND}, 404, {})),
        (NotFound(errors.INVALID_PAGE), ({"detail": errors.INVALID_PAGE}, 404, {})),
        (Http404("no such row"), ({"detail": NOT_FOUND}, 404, {})),
        (PreconditionFailed(), ({"detail": errors.PRECONDITION_FAILED}, 412, {})),
        (RequestDataTooBig("big"), ({"detail": errors.TOO_LARGE}, 413, {})),
        (Throttled(wait=3), ({"detail": errors.THROTTLED}, 429, {})),
        (HttpError(405, "Method not allowed"), ({"detail": "Method not allowed"}, 405, {})),
        (
            DatabaseBusy("deadlock"),
            ({"detail": errors.DATABASE_BUSY}, 503, {"Retry-After": "1"}),
        ),
        (
            OperationalError("connection refused"),
            ({"detail": database.UNAVAILABLE}, 503, {"Retry-After": "5"}),
        ),
        (
            InterfaceError("connection already closed"),
            ({"detail": database.UNAVAILABLE}, 503, {"Retry-After": "5"}),
        ),
        (RuntimeError("boom"), ({"detail": errors.SERVER_ERROR}, 500, {})),
        (None, ({"detail": errors.SERVER_ERROR}, 500, {})),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, tuple) else str(value[1]),
)
def test_every_failure_has_one_answer(exc, expected):
    assert errors.answer(exc) == expected


def test_an_upload_over_its_own_limit_names_that_limit():
    exc = UploadTooLarge(1024 * 1024)

    assert errors.answer(exc) == ({"detail": exc.message}, 413, {})


@pytest.mark.parametrize(
    ("exc", "status", "retry_after"),
    [(RuntimeError("boom"), 500, None), (OperationalError("refused"), 503, "5")],
)
def test_djangos_500_view_answers_like_the_api(rf, exc, status, retry_after):
    # Django calls handler500 inside its own except block (admin, middleware failures).
    try:
        raise exc
    except type(exc):
        response = errors.server_error(rf.get("/admin/"))

    body, expected_status, _ = errors.answer(exc)
    assert (response.status_code, json.loads(response.content)) == (expected_status, body)
    assert response.status_code == status
    assert response.get("Retry-After") == retry_after
