"""Router for monthly spending limits per category, under
``/api/budgets/{budget_id}/limits/``: typed HTTP in, one selector or service call out."""

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from budgets import selectors, services
from budgets.api import (
    CONDITIONAL_DELETE_ERRORS,
    CONDITIONAL_WRITE_ERRORS,
    DELETE_ETAG,
    LIST_ERRORS,
    NOT_YOURS,
    READ_ETAG,
    READ_ONE_ERRORS,
    WRITE_ERRORS,
    WRITE_ETAG,
)
from budgets.schemas import (
    SpendingLimitFilters,
    SpendingLimitIn,
    SpendingLimitOut,
    SpendingLimitPatch,
)
from project import conditional
from project.conditional import IfMatch, IfNoneMatch
from project.pagination import PageNumberPagination

limits_router = Router(tags=["spending limits"])

BUDGET_NOT_YOURS = " A budget of another user answers 404, exactly like a missing one."
RULES = (
    " One limit per budget, category and month: a second one is a 400 on `month`. "
    "`category` must be one of yours (else 400 `Category not found.`)."
)
LIMIT = "/{int:budget_id}/limits/{int:limit_id}/"


@limits_router.get(
    "/{int:budget_id}/limits/",
    response={200: list[SpendingLimitOut], **LIST_ERRORS},
    summary="List a budget's spending limits",
    description=(
        "Newest month first, then by category name. Paginated; filter by `category` "
        "and `month` (`YYYY-MM`)." + BUDGET_NOT_YOURS
    ),
)
@paginate(PageNumberPagination)
def spending_limit_list(request: HttpRequest, budget_id: int, filters: Query[SpendingLimitFilters]):
    return selectors.spending_limit_list(user=request.auth, budget_id=budget_id, **filters.dict())


@limits_router.post(
    "/{int:budget_id}/limits/",
    response={201: SpendingLimitOut, **WRITE_ERRORS},
    summary="Set a monthly spending limit for a category",
    description=(
        "How much the budget may spend in `category` in `month` (`YYYY-MM`). The "
        "budget summary shows each limit with what was spent and what remains."
        + RULES
        + BUDGET_NOT_YOURS
    ),
)
def spending_limit_create(request: HttpRequest, budget_id: int, payload: SpendingLimitIn):
    limit = services.spending_limit_create(user=request.auth, budget_id=budget_id, **payload.dict())
    return Status(201, limit)


@limits_router.get(
    LIMIT,
    response={200: SpendingLimitOut, **READ_ONE_ERRORS},
    summary="Read a spending limit",
    description="Another user's budget or limit, or a limit of another budget, is a 404."
    + READ_ETAG,
)
def spending_limit_get(
    request: HttpRequest,
    budget_id: int,
    limit_id: int,
    response: HttpResponse,
    if_none_match: IfNoneMatch = None,
):
    limit = selectors.spending_limit_get(user=request.auth, budget_id=budget_id, limit_id=limit_id)
    return conditional.read(response, SpendingLimitOut, limit, if_none_match)


@limits_router.put(
    LIMIT,
    response={200: SpendingLimitOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Replace a spending limit",
    description="Every writable field is required." + RULES + WRITE_ETAG + NOT_YOURS,
)
def spending_limit_replace(
    request: HttpRequest,
    budget_id: int,
    limit_id: int,
    payload: SpendingLimitIn,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        SpendingLimitOut,
        if_match,
        services.spending_limit_update,
        user=request.auth,
        budget_id=budget_id,
        limit_id=limit_id,
        **payload.dict(),
    )


@limits_router.patch(
    LIMIT,
    response={200: SpendingLimitOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Update a spending limit",
    description="Any subset of the writable fields." + RULES + WRITE_ETAG + NOT_YOURS,
)
def spending_limit_update(
    request: HttpRequest,
    budget_id: int,
    limit_id: int,
    payload: SpendingLimitPatch,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        SpendingLimitOut,
        if_match,
        services.spending_limit_update,
        user=request.auth,
        budget_id=budget_id,
        limit_id=limit_id,
        **payload.dict(exclude_unset=True),
    )


@limits_router.delete(
    LIMIT,
    response={204: None, **CONDITIONAL_DELETE_ERRORS},
    summary="Delete a spending limit",
    description=NOT_YOURS.strip() + DELETE_ETAG,
)
def spending_limit_delete(
    request: HttpRequest, budget_id: int, limit_id: int, if_match: IfMatch = None
):
    return conditional.delete(
        SpendingLimitOut,
        if_match,
        services.spending_limit_delete,
        user=request.auth,
        budget_id=budget_id,
        limit_id=limit_id,
    )
