"""Views outside the API. Django's error views are in ``project.errors``."""

from django.contrib import admin
from django.http import HttpResponse

from project.throttling import auth_attempt_allowed

ADMIN_LOGIN_THROTTLED = "Too many log-in attempts from your address. Try again in {} seconds."


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
