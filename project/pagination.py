"""The contract's pagination: ``{count, next, previous, results}``.

Page numbers (``page``, ``page_size``) as the contract says, and, opt-in, keyset
pagination (``cursor``): send ``cursor=`` (empty) for the first page, then follow
``next``/``previous``. A cursor names the last (or first) row seen by its ordering values,
so a page costs the same however deep it is (``OFFSET`` reads and drops every row before
the page) and rows added or removed meanwhile never shift a page.

A selector may attach a cheaper way to count its rows (``with_count``), e.g. a count
stored on the parent row, which the paginator then uses instead of ``COUNT(*)``. For its
hottest shapes it may answer a :class:`Listing` instead of a queryset: the page and count
statements compiled once (``project.prepared``), with the queryset they stand for built
only when a keyset page needs it.
"""

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field
from ninja.pagination import PaginationBase

from project.errors import INVALID_PAGE, FieldError, NotFound
from project.prepared import PreparedQuery
from project.schemas import OutSchema, Schema

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CURSOR_MAX_LENGTH = 1000
INVALID_CURSOR = "Invalid cursor."
PAGE_AND_CURSOR = "Send either page or cursor, not both."

COUNT_ATTRIBUTE = "_count_rows"


def with_count(queryset: QuerySet, count: Callable[[], int]) -> QuerySet:
    """``queryset``, counted by ``count()`` instead of ``COUNT(*)`` when paginated. Call
    it last: any further filter makes a new queryset without it."""
    setattr(queryset, COUNT_ATTRIBUTE, count)
    return queryset


@dataclass(frozen=True, slots=True)
class Listing:
    """A list answered by prepared statements: ``page`` (paged) gives the rows of a page
    (model instances, or dicts of the columns the response reads, which ``complete`` may
    finish), ``count`` (one number, or no row for none) how many there are, both run with
    ``values``; ``queryset()`` builds the queryset they stand for (same rows, same
    order), for keyset pages."""

    page: PreparedQuery
    count: PreparedQuery
    values: dict[str, int]
    queryset: Callable[[], QuerySet]
    # Completes each row of ``page`` in place (e.g. a value the model computes).
    complete: Callable[[Any], None] | None = None

    def total(self) -> int:
        return self.count.first(**self.values) or 0

    def rows(self, offset: int, limit: int) -> list:
        rows = self.page.rows(limit=limit, offset=offset, **self.values)
        if self.complete is not None:
            for row in rows:
                self.complete(row)
        return rows


def _count(queryset: QuerySet) -> int:
    count = getattr(queryset, COUNT_ATTRIBUTE, None)
    return count() if count is not None else queryset.count()


class PageNumberPagination(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, description="Page number, from 1.")
        page_size: int = Field(
            DEFAULT_PAGE_SIZE,
            ge=1,
            le=MAX_PAGE_SIZE,
            description=f"Items per page, 1 to {MAX_PAGE_SIZE}.",
        )
        cursor: str | None = Field(
            None,
            max_length=CURSOR_MAX_LENGTH,
            pattern=r"^[A-Za-z0-9_-]*$",
            description=(
                "Opt-in keyset pagination instead of `page`: send `cursor=` (empty) for "
                "the first page, then follow `next` and `previous`, which carry the "
                "cursor. A page costs the same at any depth, and rows written meanwhile "
                "never shift it. Not together with `page`."
            ),
        )

    class Output(OutSchema):
        count: int
        next: str | None = Field(description="Absolute URL of the next page, or null.")
        previous: str | None = Field(description="Absolute URL of the previous page, or null.")
        results: list[Any]

    items_attribute = "results"

    def paginate_queryset(
        self,
        queryset: QuerySet | Listing,
        pagination: Input,
        request: HttpRequest,
        **params: Any,
    ) -> dict[str, Any]:
        if pagination.cursor is not None:
            if "page" in request.GET:
                raise FieldError.single("cursor", PAGE_AND_CURSOR)
            if isinstance(queryset, Listing):
                queryset = queryset.queryset()
            return _cursor_page(queryset, pagination.cursor, pagination.page_size, request)
        page, size = pagination.page, pagination.page_size
        listing = queryset if isinstance(queryset, Listing) else None
        count = listing.total() if listing is not None else _count(queryset)
        offset = (page - 1) * size
        if offset >= count and page != 1:
            raise NotFound(INVALID_PAGE)
        if listing is not None:
            results = listing.rows(offset, size)
        else:
            results = list(queryset[offset : offset + size])
        return {
            "count": count,
            "next": _url(request, page=page + 1) if offset + size < count else None,
            "previous": _url(request, page=page - 1) if page > 1 else None,
            "results": results,
        }


def _url(request: HttpRequest, *, page: int | None = None, cursor: str | None = None) -> str:
    query = request.GET.copy()
    if cursor is not None:
        query.pop("page", None)
        query["cursor"] = cursor
    elif page == 1:
        query.pop("page", None)
    else:
        query["page"] = str(page)
    encoded = query.urlencode()
    return request.build_absolute_uri(request.path + (f"?{encoded}" if encoded else ""))


# --- Keyset pagination -----------------------------------------------------------------


def _ordering(queryset: QuerySet) -> list[tuple[str, bool]]:
    """The queryset's ORDER BY as (name, descending) pairs: field or annotation names."""
    query = queryset.query
    names = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
    ordering = []
    for name in names:
        # An expression or a related field: order by an annotation instead (the cursor
        # reads each value from the row).
        if not isinstance(name, str) or "__" in name:
            raise TypeError(f"Keyset pagination needs named orderings, not {name!r}.")
        ordering.append((name.lstrip("-"), name.startswith("-")))
    if not ordering or ordering[-1][0] not in ("id", "pk"):
        raise TypeError("Keyset pagination needs an ordering that ends with the id.")
    return ordering


def _encode(values: list, names: list[str], forward: bool) -> str:
    payload = {"o": names, "v": [_text(value) for value in values], "f": forward}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _text(value: Any) -> Any:
    if value is None or isinstance(value, int | str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _decode(token: str, model: type[Model], names: list[str]) -> tuple[list, bool]:
    """The values and direction a cursor carries, checked against the ordering and
    converted by the model's fields; anything else is a 400 on ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if payload["o"] != names or len(payload["v"]) != len(names):
            raise ValueError
        values = [
            _value(model, name, value) for name, value in zip(names, payload["v"], strict=True)
        ]
        forward = payload["f"]
        if not isinstance(forward, bool):
            raise ValueError
    except (binascii.Error, ValueError, TypeError, KeyError, ValidationError, OverflowError):
        raise FieldError.single("cursor", INVALID_CURSOR) from None
    return values, forward


def _value(model: type[Model], name: str, value: Any) -> Any:
    if value is None:
        raise ValueError
    try:
        field = model._meta.get_field("id" if name == "pk" else name)
    except FieldDoesNotExist:  # an annotation: text the database can store
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError from None
        value.encode()  # a lone surrogate: UnicodeEncodeError, a ValueError
        return value
    # clean(): the field's own validators too (a decimal's digits, an id's range), so no
    # value reaches the database that it cannot compare.
    converted = field.clean(value, None)
    if isinstance(converted, int) and not -(2**63) <= converted < 2**63:
        raise ValueError
    if isinstance(converted, dt.datetime):
        if timezone.is_naive(converted):
            raise ValueError
        # In UTC now, as the database compares it: a time past the calendar's ends
        # (9999-12-31T23:59-12:00) is an OverflowError here, not in the query.
        converted = converted.astimezone(dt.UTC)
    return converted


def _after(ordering: list[tuple[str, bool]], values: list, forward: bool) -> Q:
    """Rows after ``values`` in the ordering (before them when not ``forward``):
    (a > x) OR (a = x AND b > y) OR ..., each comparison turned for descending keys."""
    condition = Q()
    for i, (name, descending) in enumerate(ordering):
        lookup = "lt" if descending == forward else "gt"
        step = Q(**{f"{name}__{lookup}": values[i]})
        for earlier, value in zip(ordering[:i], values[:i], strict=True):
            step &= Q(**{earlier[0]: value})
        condition |= step
    return condition


def _cursor_page(queryset: QuerySet, token: str, size: int, request: HttpRequest) -> dict[str, Any]:
    try:
        ordering = _ordering(queryset)
    except TypeError:
        raise FieldError.single("cursor", INVALID_CURSOR) from None
    names = [name for name, _ in ordering]
    count = _count(queryset)
    forward, window = True, queryset
    if token:
        values, forward = _decode(token, queryset.model, names)
        window = queryset.filter(_after(ordering, values, forward))
    if not forward:
        window = window.reverse()
    rows = list(window[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()

    def link(row: Model, onward: bool) -> str:
        values = [getattr(row, name) for name in names]
        return _url(request, cursor=_encode(values, names, onward))

    has_next = more if forward else bool(token)
    has_previous = bool(token) if forward else more
    return {
        "count": count,
        "next": link(rows[-1], True) if rows and has_next else None,
        "previous": link(rows[0], False) if rows and has_previous else None,
        "results": rows,
    }
