"""The one NinjaAPI: routers, the shared JWT auth and every exception handler."""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from budgets.api import (
    budgets_router,
    categories_router,
    recurring_router,
    transactions_router,
)
from budgets.api_limits import limits_router
from budgets.api_transfers import transfers_router
from idempotency import openapi as idempotency_openapi
from project import conditional, database
from project.errors import (
    NON_FIELD_ERRORS,
    NOT_FOUND,
    AuthFailed,
    DatabaseBusy,
    FieldError,
    NotFound,
    PreconditionFailed,
)
from project.health import router as health_router
from project.uploads import UploadTooLarge
from project.validation import field_errors
from users.api import token_router, users_router
from users.auth import JWTAuth, auth_failure_message

logger = logging.getLogger("project.api")

BAD_JSON = "Request body is not valid JSON."
BAD_MULTIPART = "Request body is not valid multipart/form-data."
NOT_AN_OBJECT = "Request body must be a JSON object."
TOO_LARGE = "Request body is too large."
BAD_REQUEST = "Bad request."
THROTTLED = "Request was throttled. Try again later."
SERVER_ERROR = "Internal server error."
DATABASE_BUSY = "The database is busy. Try again in a moment."
DATABASE_BUSY_RETRY_AFTER = "1"

API_DESCRIPTION = """
Track budgets, income and expenses. Authenticate with `POST /api/token/` and send
`Authorization: Bearer <access>` on every other call (the **Authorize** button here takes the
access token).

* Money is a JSON **string** with two decimals (`"5000.00"`); inputs accept a string or number
  with at most two decimals.
* Every list is paginated: `page` (from 1), `page_size` (1 to 100, default 20); body
  `{count, next, previous, results}`; a page past the end answers 404 `Invalid page.`.
* Errors: 400 `{"field": ["message"]}` (`non_field_errors` for the rest),
  401/404/405/409/412/413/422/429 `{"detail": "..."}`. Another user's object is a 404,
  exactly like a missing one. When the database cannot be reached in time: 503
  `{"detail": "..."}` with `Retry-After`.
* Optional, for careful clients: `Idempotency-Key` on any POST makes retries safe (the stored
  answer comes back with `Idempotent-Replayed: true`); single objects carry an `ETag`, which
  `If-None-Match` (GET → 304) and `If-Match` (PUT/PATCH/DELETE → 412 when stale) take back.
"""


class BodyNotAnObject(ValueError):
    pass


class ObjectBodyParser(Parser):
    """JSON bodies must be objects; ``[1, 2]`` or ``"x"`` is refused before validation."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise BodyNotAnObject(NOT_AN_OBJECT)
        return data


class BudgetTrackerAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        # Headers handled by middleware for every route are documented after the fact.
        schema = super().get_openapi_schema(*args, **kwargs)
        return conditional.document(idempotency_openapi.document(schema))


api = BudgetTrackerAPI(
    title="Budget Tracker API",
    version="1.0.0",
    description=API_DESCRIPTION,
    auth=JWTAuth(),
    urls_namespace="api",
    parser=ObjectBodyParser(),
)

api.add_router("/users/", users_router)
api.add_router("/token/", token_router)
api.add_router("/budgets/", budgets_router)
api.add_router("/categories/", categories_router)
api.add_router("/budgets/", limits_router)
api.add_router("/transactions/", transactions_router)
api.add_router("/recurring/", recurring_router)
api.add_router("/transfers/", transfers_router)
api.add_router("/health/", health_router)


def _detail(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": message}, status=status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return api.create_response(request, field_errors(exc.errors), status=400)


@api.exception_handler(FieldError)
def on_field_error(request: HttpRequest, exc: FieldError) -> HttpResponse:
    return api.create_response(request, exc.errors, status=400)


@api.exception_handler(NotFound)
def on_not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _detail(request, exc.message, 404)


@api.exception_handler(Http404)
def on_http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _detail(request, NOT_FOUND, 404)


@api.exception_handler(PreconditionFailed)
def on_precondition_failed(request: HttpRequest, exc: PreconditionFailed) -> HttpResponse:
    return _detail(request, exc.message, 412)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _detail(request, auth_failure_message(request), 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(AuthFailed)
def on_auth_failed(request: HttpRequest, exc: AuthFailed) -> HttpResponse:
    response = _detail(request, exc.message, 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Throttled)
def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    return _detail(request, THROTTLED, 429)


@api.exception_handler(DatabaseBusy)
def on_database_busy(request: HttpRequest, exc: DatabaseBusy) -> HttpResponse:
    logger.warning("%s on %s %s", exc, request.method, request.path)
    response = _detail(request, DATABASE_BUSY, 503)
    response["Retry-After"] = DATABASE_BUSY_RETRY_AFTER
    return response


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # E.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS.
    return _detail(request, BAD_REQUEST, 400)


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    # A multipart body Django cannot parse (no or a broken boundary, truncated parts).
    return _detail(request, BAD_MULTIPART, 400)


@api.exception_handler(RequestDataTooBig)
def on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # An upload over its route's own limit says which limit.
    message = exc.message if isinstance(exc, UploadTooLarge) else TOO_LARGE
    return _detail(request, message, 413)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, BodyNotAnObject):
        return api.create_response(request, {NON_FIELD_ERRORS: [NOT_AN_OBJECT]}, status=400)
    if exc.status_code == 400 and isinstance(exc.__cause__, Exception):
        # ninja raises HttpError(400) when the body cannot be parsed as JSON.
        return _detail(request, BAD_JSON, 400)
    return _detail(request, str(exc), exc.status_code)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Unreachable, timed out, connection lost: the client may retry, it is not a bug.
    logger.warning("Database unavailable on %s %s: %s", request.method, request.path, exc)
    response = _detail(request, database.UNAVAILABLE, 503)
    response["Retry-After"] = str(database.RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(Exception)
def on_unhandled(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception(
        "Unhandled error on %s %s (request id %s)",
        request.method,
        request.path,
        getattr(request, "request_id", "-"),
    )
    return _detail(request, SERVER_ERROR, 500)
