"""Conditional requests for single objects: ``ETag``, ``If-None-Match``, ``If-Match``.

RFC 9110 §8.8.3 and §13.1. An object's ETag is a strong validator: a hash of exactly the
JSON body a GET of it answers, so it changes whenever that representation changes (a
budget's includes its balance). The same function computes it for the ``ETag`` header
and, inside the services' row lock, for ``If-Match``, so the check and the write see the
same version and two clients sending the same ETag at once get one 2xx and one 412.
"""

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from django.http import HttpResponse
from django.utils.http import parse_etags
from ninja import Header
from ninja.responses import Status

from project.errors import Precondition, PreconditionFailed
from project.renderer import dumps
from project.schemas import Schema

ETAG_LENGTH = 32  # hex digits of SHA-256 kept: 128 bits

# Typed ``str`` (default None) so the schema says "string": a header is never null.
IfMatch = Annotated[
    str,
    Header(
        None,
        alias="If-Match",
        description=(
            "Optional. Only change the object if its current `ETag` is one of these "
            '(`"…"`, comma-separated; `*`: any version). Otherwise 412 and nothing changes.'
        ),
    ),
]
IfNoneMatch = Annotated[
    str,
    Header(
        None,
        alias="If-None-Match",
        description=(
            "Optional. The `ETag`(s) of the copy you hold: if the object still has one of "
            "them, the answer is 304 with no body."
        ),
    ),
]


def _rendered(schema: type[Schema], obj: Any) -> tuple[bytes, str]:
    """``obj`` as the API's JSON body (``schema``'s dump, ninja's renderer) and its ETag."""
    body = dumps(schema.model_validate(obj).model_dump())
    return body, f'"{hashlib.sha256(body).hexdigest()[:ETAG_LENGTH]}"'


def etag_of(schema: type[Schema], obj: Any) -> str:
    """The strong ETag of ``obj`` as ``schema`` renders it: a hash of the very bytes the
    API sends (same schema dump, same JSON renderer as ninja's responses)."""
    return _rendered(schema, obj)[1]


def _answer(response: HttpResponse, body: bytes, etag: str) -> HttpResponse:
    # The body is rendered once, for the hash and the answer: ninja passes a returned
    # HttpResponse through as it is (its temporal response, with any headers set on it).
    response["ETag"] = etag
    response.content = body
    return response


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def if_match(header: str | None, schema: type[Schema]) -> Precondition | None:
    """The precondition a write service runs under its lock, or None without If-Match.

    Strong comparison: a weak tag (``W/"…"``) never matches; ``*`` matches any version.
    A header that is not a list of entity tags matches nothing.
    """
    if header is None:
        return None
    tags = parse_etags(header)

    def check(current: Any) -> None:
        if tags == ["*"]:
            return
        if etag_of(schema, current) not in [t for t in tags if not t.startswith("W/")]:
            raise PreconditionFailed

    return check


def none_match(header: str | None, etag: str) -> bool:
    """Whether If-None-Match names ``etag`` (weak comparison) or is ``*``."""
    if header is None:
        return False
    tags = parse_etags(header)
    return tags == ["*"] or _opaque(etag) in {_opaque(t) for t in tags}


def not_modified(etag: str) -> HttpResponse:
    """304: no body, no Content-Type; the ETag repeated as RFC 9110 §15.4.5 asks."""
    response = HttpResponse(status=304)
    del response["Content-Type"]
    response["ETag"] = etag
    return response


def read(response: HttpResponse, schema: type[Schema], obj: Any, if_none_match: str | None):
    """For a GET route: ``obj`` with its ETag, or a 304 when the client's copy is current.
    ``response`` is the route's temporal response (its headers go out with the answer)."""
    body, etag = _rendered(schema, obj)
    if none_match(if_none_match, etag):
        return not_modified(etag)
    return _answer(response, body, etag)


def tagged(response: HttpResponse, schema: type[Schema], obj: Any):
    """For a write route: ``obj`` with its new ETag."""
    return _answer(response, *_rendered(schema, obj))


def write(
    response: HttpResponse,
    schema: type[Schema],
    header: str | None,
    service: Callable[..., Any],
    **arguments: Any,
):
    """For a PUT or PATCH route: run the write ``service`` under the If-Match ``header``
    (checked inside its row lock) and answer the object with its new ETag."""
    obj = service(precondition=if_match(header, schema), **arguments)
    return tagged(response, schema, obj)


def delete(
    schema: type[Schema], header: str | None, service: Callable[..., Any], **arguments: Any
) -> Status:
    """For a DELETE route: run the delete ``service`` under the If-Match ``header``; 204."""
    service(precondition=if_match(header, schema), **arguments)
    return Status(204, None)


ETAG_RESPONSE_HEADER = {
    "ETag": {
        "description": "Strong validator of this representation: send it as `If-Match` "
        "(PUT, PATCH, DELETE) or `If-None-Match` (GET).",
        "required": True,
        "schema": {"type": "string", "pattern": f'^"[0-9a-f]{{{ETAG_LENGTH}}}"$'},
    }
}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the ``ETag`` response header wherever the routes above send it: the 200 and
    304 of a GET taking If-None-Match, the 200 of a PUT or PATCH taking If-Match."""
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            headers = {
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"
            }
            if not ("If-None-Match" in headers or ("If-Match" in headers and method != "delete")):
                continue
            for code, response in operation.get("responses", {}).items():
                if int(code) in (200, 304):
                    response.setdefault("headers", {}).update(dict(ETAG_RESPONSE_HEADER))
    return schema
