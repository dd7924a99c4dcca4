"""Id checks shared by selectors and services: an id the database cannot hold is
simply not found (never a database error), and so is someone else's row."""

from typing import TypeVar

from django.db.models import Model, QuerySet

from project.errors import NotFound
from project.prepared import PreparedQuery

# Ids the database can hold (bigint); anything else cannot exist.
MAX_ID = 2**63 - 1

M = TypeVar("M", bound=Model)


def valid_id(value: int | None) -> bool:
    return value is not None and 1 <= value <= MAX_ID


def get_or_not_found(queryset: QuerySet[M], object_id: int) -> M:
    """The row ``object_id`` of ``queryset`` (already scoped to the caller), or
    ``NotFound``: missing and foreign ids look the same."""
    if not valid_id(object_id):
        raise NotFound
    obj = queryset.filter(pk=object_id).first()
    if obj is None:
        raise NotFound
    return obj


def found(query: PreparedQuery[M], **ids: int) -> M:
    """The row a prepared query (scoped to the caller) finds for these ids, or
    ``NotFound``, as :func:`get_or_not_found`."""
    if not all(valid_id(value) for value in ids.values()):
        raise NotFound
    obj = query.first(**ids)
    if obj is None:
        raise NotFound
    return obj
