"""Every failure and its answer, in one place.

The first half holds the domain errors services raise (they know nothing of HTTP); the
second turns each failure, theirs or Django's or ninja's, into the contract's body, status
and headers (``answer``). The API's exception handlers (``install``), Django's own error
views (``handler400/403/404/500``) and the middleware that answer before any view all go
through it, so a status code or message is written once.
"""

import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from project import database
from project.renderer import dumps
from project.uploads import UploadTooLarge
from project.validation import NON_FIELD_ERRORS, NOT_AN_OBJECT, field_errors

logger = logging.getLogger("project.api")

NOT_FOUND = "Not found."
INVALID_PAGE = "Invalid page."
NOT_AUTHENTICATED = "Authentication credentials were not provided."
BAD_JSON = "Request body is not valid JSON."
BAD_MULTIPART = "Request body is not valid multipart/form-data."
BAD_CONTENT_LENGTH = "Content-Length must be a whole number of bytes."
TOO_LARGE = "Request body is too large."
BAD_REQUEST = "Bad request."
PERMISSION_DENIED = "Permission denied."
METHOD_NOT_ALLOWED = 'Method "{}" not allowed.'
THROTTLED = "Request was throttled. Try again later."
SERVER_ERROR = "Internal server error."
DATABASE_BUSY = "The database is busy. Try again in a moment."
DATABASE_BUSY_RETRY_AFTER = "1"


class NotFound(Exception):
    """The object does not exist for this user (missing or someone else's)."""

    def __init__(self, message: str = NOT_FOUND):
        self.message = message
        super().__init__(message)


class FieldError(Exception):
    """Input that the request alone could not reject: ``{field: [messages]}``."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)

    @classmethod
    def single(cls, field: str, message: str) -> "FieldError":
        return cls({field: [message]})


class AuthFailed(Exception):
    """Credentials or a token were rejected (401)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


PRECONDITION_FAILED = (
    "The object has changed since you read it (If-Match does not name its current ETag)."
)


class PreconditionFailed(Exception):
    """The caller's copy of the object is stale (If-Match), so nothing was changed."""

    def __init__(self, message: str = PRECONDITION_FAILED):
        self.message = message
        super().__init__(message)


# A write service's optional ``precondition``: called with the object's current
# representation once its row is locked, it raises PreconditionFailed when the caller's
# copy is stale, before anything is written (see ``project.conditional``).
Precondition = Callable[[Any], None]


class DatabaseBusy(Exception):
    """A write kept losing to concurrent ones (deadlock or serialization failure) and
    was given up after a few tries: worth retrying a moment later (503)."""


@contextmanager
def constraint_as_field_error(error: FieldError | Callable[[], FieldError]) -> Iterator[None]:
    """Run a write in a savepoint; when a database constraint refuses it (a unique
    rule, typically a concurrent request that got there first), roll back to the
    savepoint and raise ``error`` (or what ``error()`` returns) instead.

        with constraint_as_field_error(FieldError.single("name", messages.CATEGORY_EXISTS)):
            category.save()
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise (error() if callable(error) else error) from exc


class BodyNotAnObject(ValueError):
    """A JSON body that parsed but is not an object (``[1, 2]``, ``"x"``)."""


# ---------------------------------------------------------------------------------------
# Answers: failure -> (body, status, headers)

Answer = tuple[dict[str, Any], int, dict[str, str]]


def detail(message: str, status: int, **headers: str) -> Answer:
    """The contract's shape for every error not tied to input fields."""
    return {"detail": message}, status, headers


def _unauthenticated(message: str) -> Answer:
    return detail(message, 401, **{"WWW-Authenticate": "Bearer"})


def _http_error(exc: HttpError) -> Answer:
    # ninja raises HttpError(400) from the parse error when a body is not JSON.
    if exc.status_code == 400 and isinstance(exc.__cause__, BodyNotAnObject):
        return {NON_FIELD_ERRORS: [NOT_AN_OBJECT]}, 400, {}
    if exc.status_code == 400 and isinstance(exc.__cause__, Exception):
        return detail(BAD_JSON, 400)
    return detail(str(exc), exc.status_code)


def _database_unavailable(exc: Exception) -> Answer:
    # Unreachable, timed out, connection lost: the client may retry, it is not a bug.
    return detail(database.UNAVAILABLE, 503, **{"Retry-After": str(database.RETRY_AFTER_SECONDS)})


# Most specific first is not needed: ``answer`` walks the exception's MRO.
_ANSWERS: dict[type[Exception], Callable[[Any], Answer]] = {
    NinjaValidationError: lambda exc: (field_errors(exc.errors), 400, {}),
    FieldError: lambda exc: (exc.errors, 400, {}),
    # E.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS.
    SuspiciousOperation: lambda exc: detail(BAD_REQUEST, 400),
    # A multipart body Django cannot parse (no or a broken boundary, truncated parts).
    MultiPartParserError: lambda exc: detail(BAD_MULTIPART, 400),
    AuthFailed: lambda exc: _unauthenticated(exc.message),
    # ninja's own, when an authenticator answers None instead of raising AuthFailed.
    AuthenticationError: lambda exc: _unauthenticated(NOT_AUTHENTICATED),
    NotFound: lambda exc: detail(exc.message, 404),
    Http404: lambda exc: detail(NOT_FOUND, 404),
    PreconditionFailed: lambda exc: detail(exc.message, 412),
    # An upload over its route's own limit says which limit.
    RequestDataTooBig: lambda exc: detail(
        exc.message if isinstance(exc, UploadTooLarge) else TOO_LARGE, 413
    ),
    # ninja adds Retry-After itself, from the throttle's wait.
    Throttled: lambda exc: detail(THROTTLED, 429),
    HttpError: _http_error,
    DatabaseBusy: lambda exc: detail(
        DATABASE_BUSY, 503, **{"Retry-After": DATABASE_BUSY_RETRY_AFTER}
    ),
    OperationalError: _database_unavailable,
    InterfaceError: _database_unavailable,
    Exception: lambda exc: detail(SERVER_ERROR, 500),
}


def answer(exc: BaseException | None) -> Answer:
    """The contract's answer to ``exc``: the nearest class in its MRO that has one."""
    for klass in type(exc).__mro__:
        if klass in _ANSWERS:
            return _ANSWERS[klass](exc)
    return _ANSWERS[Exception](exc)  # BaseException or None: still a 500


def json_response(body: Mapping[str, Any], status: int, headers: Mapping[str, str]) -> HttpResponse:
    """An answer made outside the API (middleware, Django's error views)."""
    response = HttpResponse(dumps(body), status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response


def detail_response(message: str, status: int, **headers: str) -> HttpResponse:
    return json_response(*detail(message, status, **headers))


def _log(request: HttpRequest, exc: Exception, status: int) -> None:
    where = (request.method, request.path, getattr(request, "request_id", "-"))
    if status == 500:
        logger.exception("Unhandled error on %s %s (request id %s)", *where)
    elif status == 503:
        logger.warning("%s on %s %s (request id %s)", exc, *where)


def install(api: NinjaAPI) -> None:
    """Make ``api`` answer every failure through ``answer`` (and log 500s and 503s)."""

    def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
        body, status, headers = answer(exc)
        _log(request, exc, status)
        response = api.create_response(request, body, status=status)
        for name, value in headers.items():
            response[name] = value
        return response

    for klass in _ANSWERS:
        api.add_exception_handler(klass, handle)


# Django's error views (``handler400`` ... in ``project/urls.py``): requests Django answers
# before or instead of the API (unknown URLs, the admin, middleware).


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return detail_response(BAD_REQUEST, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return detail_response(PERMISSION_DENIED, 403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return detail_response(NOT_FOUND, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception (and logs it itself); a database
    # that cannot be reached is a 503 here too.
    return json_response(*answer(sys.exc_info()[1]))
