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

import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RequestDataTooBig
from django.urls import Resolver404, resolve

from idempotency import messages, services
from idempotency.models import IdempotencyKey
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
            return JsonResponse({messages.HEADER: [messages.KEY_INVALID]}, status=400)
        try:
            body = request.body
        except RequestDataTooBig:
            # Too large to fingerprint; answered as the API answers any such body.
            return JsonResponse({"detail": messages.BODY_TOO_LARGE}, status=413)
        fingerprint = services.request_fingerprint(
            method=request.method, full_path=request.get_full_path(), body=body
        )
        scope = request_scope(request)
        with transaction.atomic():
            try:
                row, replay = services.key_claim(
                    scope=scope, path=request.path, key=key, fingerprint=fingerprint
                )
            except services.KeyInProgress:
                return JsonResponse({"detail": messages.IN_PROGRESS}, status=409)
            except services.KeyReused:
                return JsonResponse({"detail": messages.KEY_REUSED}, status=422)
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
            return JsonResponse({"detail": messages.SERVER_ERROR}, status=500)
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        if not _storable(response):
            services.key_release(row)
            return response
        headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
        services.key_store(row, status=response.status_code, headers=headers, body=response.content)
        return response
