"""Document ``Idempotency-Key`` on every POST under /api/ in the OpenAPI schema.

The middleware handles every POST, so the schema is completed here, after ninja built it,
rather than route by route: a route added later is documented without any code of its own.
"""

from typing import Any

from pydantic import TypeAdapter

from project.idempotency import messages
from project.idempotency.middleware import API_PREFIX, NOT_STORED_STATUSES
from project.idempotency.services import KEY_MAX_LENGTH, KEY_PATTERN
from project.schemas import FieldErrorsOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}

PARAMETER = {
    "name": messages.HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Optional. Makes a retry of this request safe: the first request with a key runs, "
        "and the same request with the same key again (for 24 hours) gets the stored answer "
        f"(status and body) with `{messages.REPLAYED_HEADER}: true` instead of running "
        "twice. Keys are the caller's own (per user; per client IP without a token) and per "
        "path. The same key with a different request: 422; while the first request still "
        "runs: 409. Answers 5xx, 401 and 429 are not stored. Any 1 to 255 printable ASCII "
        "characters; a UUID is a good choice."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": KEY_MAX_LENGTH,
        "pattern": f"^{KEY_PATTERN}$",
        "examples": ["7f3c5a62-9d1e-4b2a-a8f4-3c0e2b6d9e41"],
    },
}
REPLAYED = {
    messages.REPLAYED_HEADER: {
        "description": "`true` when this is the stored answer to an earlier request with "
        "the same Idempotency-Key.",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _bad_request() -> dict[str, Any]:
    field_errors = TypeAdapter(FieldErrorsOut).json_schema()
    return {
        "description": "Bad Request",
        "content": {"application/json": {"schema": {"anyOf": [field_errors, ERROR_REF]}}},
    }


ADDED_RESPONSES = {
    409: lambda: _error(f"Conflict: a request with this {messages.HEADER} is still running."),
    413: lambda: _error("Request Entity Too Large"),
    422: lambda: _error(
        f"Unprocessable Content: this {messages.HEADER} was used with a different request."
    ),
}


# Answers that are never stored, so never come back as replays.
NEVER_REPLAYED = {*NOT_STORED_STATUSES, 409, 413, 422}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    for path, item in schema.get("paths", {}).items():
        operation = item.get("post")
        if not path.startswith(API_PREFIX) or operation is None:
            continue
        operation.setdefault("parameters", []).append(dict(PARAMETER))
        responses = operation.setdefault("responses", {})
        if 400 not in responses and "400" not in responses:
            responses[400] = _bad_request()
        for code, build in ADDED_RESPONSES.items():
            if code not in responses and str(code) not in responses:
                responses[code] = build()
        for code, response in responses.items():
            if int(code) not in NEVER_REPLAYED:
                response.setdefault("headers", {}).update(dict(REPLAYED))
    return schema
