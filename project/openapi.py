"""Error responses declared on every operation, so the OpenAPI schema tells the truth."""

from typing import Any

from project.schemas import BadRequestOut, ErrorOut

_ERROR_SCHEMAS: dict[int, Any] = {
    400: BadRequestOut,
    401: ErrorOut,
    404: ErrorOut,
    405: ErrorOut,
    412: ErrorOut,
    413: ErrorOut,
    429: ErrorOut,
    503: ErrorOut,
}


def errors(*codes: int) -> dict[int, Any]:
    """``response={200: Out, **errors(400, 401, 404)}``; every route may also answer 405,
    and 503 when the database cannot be reached in time."""
    return {code: _ERROR_SCHEMAS[code] for code in (*codes, 405, 503)}
