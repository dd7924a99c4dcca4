"""Cross-cutting HTTP rules: request ids, bodiless responses, caching, JSON errors."""

import logging
import re
import uuid
from contextvars import ContextVar
from functools import cache

from django.urls import reverse

from project import errors, health

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class LivenessMiddleware:
    """``/up``, answered here and only here: before host validation (a healthcheck on
    127.0.0.1 works whatever ``ALLOWED_HOSTS`` says), sessions, CSRF or the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == health.LIVENESS_PATH:
            return health.up(request)
        return self.get_response(request)


class RequestIdMiddleware:
    """Reuse a sane incoming X-Request-ID (from a proxy) or make one up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Puts the request id on every record as ``request_id`` (``-`` outside a request).

    Django logs 4xx/5xx answers (``django.request``) after the middleware chain has
    returned, when the context variable is already reset; those records carry the
    request itself, which remembers its id.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


_CONTENT_LENGTH = re.compile(r"[0-9]+")


class ContentLengthMiddleware:
    """Refuse a ``Content-Length`` that is not a whole number (RFC 9110 §8.6) with a 400.

    gunicorn and nginx refuse one themselves, but other servers (``runserver``, ASGI
    servers) pass it on, and Django's ``request.body`` then fails with a ``ValueError``:
    a 500 wherever a body is read (the API, the Idempotency-Key middleware, the admin).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH")
        if length and not _CONTENT_LENGTH.fullmatch(length):
            return errors.detail_response(errors.BAD_CONTENT_LENGTH, 400)
        return self.get_response(request)


class JsonErrorMiddleware:
    """Give Django's own 404 and 405 answers (unknown URL, wrong method) the API's
    JSON error shape instead of HTML or plain text. The admin keeps its pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code in (404, 405)
            and not response.streaming
            and not response.get("Content-Type", "").startswith("application/json")
            and not request.path.startswith("/admin/")
        ):
            if response.status_code == 404:
                message = errors.NOT_FOUND
            else:
                message = errors.METHOD_NOT_ALLOWED.format(request.method)
            replacement = errors.detail_response(message, response.status_code)
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response


# RFC 9110: 204 (§15.3.5) and 304 (§15.4.5) end at the header section; a 204 must not carry
# Content-Length (§8.6), and neither has a representation for Content-Type to describe.
BODILESS_STATUSES = frozenset({204, 304})


class BodilessResponseMiddleware:
    """A 204 or 304 goes out with no body, no ``Content-Type`` and no ``Content-Length``;
    any other response whose body is empty loses its ``Content-Type``.

    Clients parse JSON whenever the content type says so, and an empty body is not JSON.
    Django and ninja label every response (``application/json`` from ninja for a
    ``Status(204, None)``), so the rule is enforced here, outermost, for every route that
    exists now or is added later. HEAD answers keep their headers: they describe the GET.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in BODILESS_STATUSES:
            if not response.streaming:
                response.content = b""
            for header in ("Content-Type", "Content-Length"):
                if response.has_header(header):
                    del response[header]
        elif (
            request.method != "HEAD"
            and not response.streaming
            and not response.content
            and response.has_header("Content-Type")
        ):
            del response["Content-Type"]
        return response


@cache
def _cacheable_api_paths() -> frozenset[str]:
    # The docs page and the schema are the same for everyone and may be cached.
    return frozenset({reverse("api:openapi-json"), reverse("api:openapi-view")})


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer under ``/api/`` except the docs and
    the schema: responses carry one user's data and must not be kept by browsers or
    shared caches (OWASP REST Security Cheat Sheet). A view that sets its own
    ``Cache-Control`` keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and request.path not in _cacheable_api_paths()
            and not response.has_header("Cache-Control")
        ):
            response["Cache-Control"] = "no-store"
        return response
