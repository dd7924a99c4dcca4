"""The contract's page-number pagination: ``{count, next, previous, results}``."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field
from ninja.pagination import PaginationBase

from project.errors import INVALID_PAGE, NotFound
from project.schemas import Schema

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PageNumberPagination(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, description="Page number, from 1.")
        page_size: int = Field(
            DEFAULT_PAGE_SIZE,
            ge=1,
            le=MAX_PAGE_SIZE,
            description=f"Items per page, 1 to {MAX_PAGE_SIZE}.",
        )

    class Output(Schema):
        count: int
        next: str | None = Field(description="Absolute URL of the next page, or null.")
        previous: str | None = Field(description="Absolute URL of the previous page, or null.")
        results: list[Any]

    items_attribute = "results"

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        page, size = pagination.page, pagination.page_size
        count = queryset.count()
        offset = (page - 1) * size
        if offset >= count and page != 1:
            raise NotFound(INVALID_PAGE)
        results = list(queryset[offset : offset + size])
        return {
            "count": count,
            "next": _page_url(request, page + 1) if offset + size < count else None,
            "previous": _page_url(request, page - 1) if page > 1 else None,
            "results": results,
        }


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    if page == 1:
        query.pop("page", None)
    else:
        query["page"] = str(page)
    encoded = query.urlencode()
    return request.build_absolute_uri(request.path + (f"?{encoded}" if encoded else ""))
