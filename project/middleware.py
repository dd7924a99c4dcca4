"""Request ids: every request gets one, every log line and response carries it."""

import logging
import re
import uuid
from contextvars import ContextVar

from django.http import JsonResponse

from project.errors import NOT_FOUND

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class LivenessMiddleware:
    """Answer ``GET /up`` before host validation, sessions or the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/up" and request.method in ("GET", "HEAD"):
            from project.health import up

            return up(request)
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
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


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
                detail = NOT_FOUND
            else:
                detail = f'Method "{request.method}" not allowed.'
            replacement = JsonResponse({"detail": detail}, status=response.status_code)
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response
