"""``Idempotency-Key`` on every ``POST`` under ``/api/``, for every route, present and future.

A Django middleware rather than per-route code: it wraps the whole view in one database
transaction that starts by claiming the key, so the key row, the request's writes and the
stored answer commit together, or not at all.

- Scope: the user the request's bearer token authenticates (the same lookup the API's
  auth then reuses, so no extra query), else the client IP (``NUM_PROXIES`` honoured).
- Stored: 2xx, 3xx and 4xx answers. Not stored: 5xx (the request's writes are rolled back
  and the client may retry), 401 and 429 (the client retries after logging in again or
  waiting), streamed answers.
"""

import io
import logging
import tempfile

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from project import errors
from project.idempotency import messages, services
from project.idempotency.models import IdempotencyKey
from project.throttling import client_ident
from users.auth import bearer_user

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# Answer headers a replay repeats; the rest (request id, CORS, caching) is per request.
STORED_HEADERS = ("Content-Type", "Content-Disposition", "Location", "ETag")
NOT_STORED_STATUSES = frozenset({401, 429})


def request_scope(request: HttpRequest) -> str:
    user = bearer_user(request)
    if user is not None:
        return f"user:{user.pk}"
    return f"ip:{client_ident(request)}"


CHUNK_BYTES = 64 * 1024


class _Body:
    """The request body, readable in chunks for the fingerprint, left for the view to
    read again from the start."""

    def __init__(self, stream):
        self._stream = stream

    def __iter__(self):
        self._stream.seek(0)
        yield from iter(lambda: self._stream.read(CHUNK_BYTES), b"")
        self._stream.seek(0)

    def close(self) -> None:
        self._stream.close()


def _readable_body(request: HttpRequest) -> _Body | None:
    """Read the body once so it can be fingerprinted, or None when it is larger than
    ``IDEMPOTENCY_MAX_BODY_BYTES`` (413).

    Bodies within ``DATA_UPLOAD_MAX_MEMORY_SIZE`` are read as Django reads them
    (``request.body``). Larger ones (a file upload may be allowed more) are copied to a
    temporary file that spills to disk, and the request then reads from that copy, so
    the view and Django's multipart parser see exactly the bytes that were fingerprinted.
    A JSON route still refuses such a body by its Content-Length, as without a key.
    """
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    memory_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if memory_limit is None or length <= memory_limit:
        return _Body(io.BytesIO(request.body))
    if length > settings.IDEMPOTENCY_MAX_BODY_BYTES:
        return None
    copy = tempfile.SpooledTemporaryFile(max_size=memory_limit)  # noqa: SIM115 - closed by caller
    for chunk in iter(lambda: request.read(CHUNK_BYTES), b""):
        copy.write(chunk)
    copy.seek(0)
    # Django's HttpRequest reads from _stream; hand it the copy, unread.
    request._stream = copy
    request._read_started = False
    return _Body(copy)


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status)
    del response["Content-Type"]
    for name, value in row.headers.items():
        response[name] = value
    response[messages.REPLAYED_HEADER] = "true"
    return response


def _storable(response: HttpResponse) -> bool:
    return (
        not response.streaming
        and response.status_code < 500
        and response.status_code not in NOT_STORED_STATUSES
    )


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(messages.HEADER)
        if key is None or request.method != "POST" or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)  # no route: a 404 that writes nothing
        if not services.key_is_valid(key):
            return errors.json_response({messages.HEADER: [messages.KEY_INVALID]}, 400, {})
        body = _readable_body(request)
        if body is None:
            return errors.detail_response(errors.TOO_LARGE, 413)
        try:
            fingerprint = services.request_fingerprint(
                method=request.method, full_path=request.get_full_path(), body=body
            )
            return self._run_once(request, key, fingerprint)
        finally:
            body.close()

    def _run_once(self, request: HttpRequest, key: str, fingerprint: str) -> HttpResponse:
        scope = request_scope(request)
        digest = services.key_digest(scope=scope, path=request.path, key=key)
        with services.key_running(digest) as free:
            if not free:
                return errors.detail_response(messages.IN_PROGRESS, 409)
            return self._run_in_transaction(request, scope, key, fingerprint)

    def _run_in_transaction(
        self, request: HttpRequest, scope: str, key: str, fingerprint: str
    ) -> HttpResponse:
        with transaction.atomic():
            try:
                row, replay = services.key_claim(
                    scope=scope, path=request.path, key=key, fingerprint=fingerprint
                )
            except services.KeyInProgress:
                return errors.detail_response(messages.IN_PROGRESS, 409)
            except services.KeyReused:
                return errors.detail_response(messages.KEY_REUSED, 422)
            if replay:
                return _replay(row)
            response = self.get_response(request)
            return self._finish(request, row, response)

    def _finish(self, request, row: IdempotencyKey, response: HttpResponse) -> HttpResponse:
        connection = transaction.get_connection()
        if connection.needs_rollback and response.status_code < 500:
            # A view swallowed a database error: its writes will not commit, so the
            # answer must not claim success.
            logger.error(
                "%s %s: transaction broken under a %s answer",
                request.method,
                request.path,
                response.status_code,
            )
            transaction.set_rollback(True)
            return errors.detail_response(errors.SERVER_ERROR, 500)
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        if not _storable(response):
            services.key_release(row)
            return response
        headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
        services.key_store(row, status=response.status_code, headers=headers, body=response.content)
        return response
