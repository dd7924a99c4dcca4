"""Django's session, CSRF, authentication and message middleware, for the admin only.

Apart from ``project.middleware`` because they import models (that module is imported by
the logging configuration, before the apps are ready)."""

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware

API_PREFIX = "/api/"


class _NotForTheApi:
    """Runs the middleware for every path except the API's.

    Sessions, CSRF cookies, ``request.user`` and messages serve the admin (cookie log-in,
    forms); the API authenticates each request by its bearer token and uses none of them
    (its views are CSRF-exempt). Skipping them there saves their per-request work: a
    session store, a message storage, cookie parsing (bench/README.md).
    """

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class AdminSessionMiddleware(_NotForTheApi, SessionMiddleware):
    pass


class AdminCsrfViewMiddleware(_NotForTheApi, CsrfViewMiddleware):
    pass


class AdminAuthenticationMiddleware(_NotForTheApi, AuthenticationMiddleware):
    pass


class AdminMessageMiddleware(_NotForTheApi, MessageMiddleware):
    pass
