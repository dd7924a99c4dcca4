"""Liveness (``/up``, no database) and readiness (``/api/health/``, database) checks."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router
from ninja.responses import Status

from project import database
from project.errors import METHOD_NOT_ALLOWED, detail_response
from project.openapi import errors
from project.schemas import StatusOut

logger = logging.getLogger(__name__)
router = Router(tags=["service"], auth=None)


class HealthOut(StatusOut):
    database: str


class HealthDownOut(HealthOut):
    """The readiness shape, plus the ``detail`` every other 503 carries."""

    detail: str


LIVENESS_PATH = "/up"
LIVENESS_METHODS = ("GET", "HEAD")


def up(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches no database; ``LivenessMiddleware`` serves it."""
    if request.method not in LIVENESS_METHODS:
        return detail_response(
            METHOD_NOT_ALLOWED.format(request.method),
            405,
            Allow=", ".join(LIVENESS_METHODS),
        )
    return JsonResponse({"status": "ok"})


# The whole check, connecting included, gives up after this long (connecting to a server
# that accepts TCP but never answers takes psycopg's minimum connect timeout, 2 s).
HEALTH_TIMEOUT_SECONDS = 1.0


def database_is_up() -> bool:
    try:
        with database.deadline(HEALTH_TIMEOUT_SECONDS):
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: database unreachable", exc_info=True)
        return False
    return True


@router.get(
    "/",
    response={**errors(), 200: HealthOut, 503: HealthDownOut},
    summary="Readiness check",
    description=(
        "200 when the API can reach its database, 503 (`database: unavailable` and the "
        "`detail` every 503 carries, with `Retry-After`) when it cannot within about two "
        "seconds, whatever the database does."
    ),
)
def health(request: HttpRequest, response: HttpResponse):
    if database_is_up():
        return Status(200, {"status": "ok", "database": "ok"})
    response["Retry-After"] = str(database.RETRY_AFTER_SECONDS)
    return Status(
        503, {"status": "error", "database": "unavailable", "detail": database.UNAVAILABLE}
    )
