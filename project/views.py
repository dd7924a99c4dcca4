"""JSON answers for requests Django handles before (or instead of) the API."""

import sys

from django.contrib import admin
from django.http import HttpResponse, JsonResponse

from project.database import is_unavailable, unavailable_response
from project.errors import NOT_FOUND
from project.throttling import auth_attempt_allowed

ADMIN_LOGIN_THROTTLED = "Too many log-in attempts from your address. Try again in {} seconds."


def not_found(request, exception=None):
    return JsonResponse({"detail": NOT_FOUND}, status=404)


def server_error(request):
    # Django calls this while handling the exception (outside the API: the admin,
    # middleware); a database that cannot be reached is a 503 there too.
    if is_unavailable(sys.exc_info()[1]):
        return unavailable_response()
    return JsonResponse({"detail": "Internal server error."}, status=500)


def bad_request(request, exception=None):
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"detail": "Permission denied."}, status=403)


def admin_login(request, **kwargs):
    """The admin's log-in page, with log-in attempts (POSTs) counted per client IP
    against ``AUTH_RATE_LIMIT`` together with the API's log-ins and registrations."""
    if request.method == "POST":
        allowed, wait = auth_attempt_allowed(request)
        if not allowed:
            response = HttpResponse(
                ADMIN_LOGIN_THROTTLED.format(wait), status=429, content_type="text/plain"
            )
            response["Retry-After"] = str(wait)
            return response
    return admin.site.login(request, **kwargs)
