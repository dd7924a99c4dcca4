"""Liveness (``/up``, no database) and readiness (``/api/health/``, database) checks."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from ninja import Router
from ninja.responses import Status

from project.openapi import errors
from project.schemas import StatusOut

logger = logging.getLogger(__name__)
router = Router(tags=["service"], auth=None)


class HealthOut(StatusOut):
    database: str


def up(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database."""
    return JsonResponse({"status": "ok"})


def database_is_up() -> bool:
    try:
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
    response={200: HealthOut, 503: HealthOut, **errors()},
    summary="Readiness check",
    description="200 when the API can reach its database, 503 (`database: unavailable`) when not.",
)
def health(request: HttpRequest):
    if database_is_up():
        return Status(200, {"status": "ok", "database": "ok"})
    return Status(503, {"status": "error", "database": "unavailable"})
