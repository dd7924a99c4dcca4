"""Router for transfers between two of the caller's budgets: typed HTTP in, one
selector or service call out."""

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from budgets import selectors, services
from budgets.api import (
    CONDITIONAL_DELETE_ERRORS,
    CONDITIONAL_WRITE_ERRORS,
    CREATE_ERRORS,
    DELETE_ETAG,
    LIST_ERRORS,
    NOT_YOURS,
    READ_ETAG,
    READ_ONE_ERRORS,
    WRITE_ETAG,
)
from budgets.schemas import TransferFilters, TransferIn, TransferOut, TransferPatch
from project import conditional
from project.conditional import IfMatch, IfNoneMatch
from project.pagination import PageNumberPagination

transfers_router = Router(tags=["transfers"])

LEGS = (
    " A transfer is two transactions (its legs): an expense of `-amount` in `from_budget` "
    "and an income of `amount` in `to_budget`, listed with the other transactions (with "
    "their `transfer` id) but neither income nor expense in the budget summary."
)


@transfers_router.get(
    "/",
    response={200: list[TransferOut], **LIST_ERRORS},
    summary="List my transfers",
    description=(
        "Newest `date` first, then newest `created_at`. Paginated. `budget` matches "
        "transfers from or to that budget; someone else's budget matches nothing."
    ),
)
@paginate(PageNumberPagination)
def transfer_list(request: HttpRequest, filters: Query[TransferFilters]):
    return selectors.transfer_list(user=request.auth, **filters.dict())


@transfers_router.post(
    "/",
    response={201: TransferOut, **CREATE_ERRORS},
    summary="Move money between two of my budgets",
    description=(
        "Creates the transfer and both legs in one database transaction; both balances "
        "follow. `from_budget` and `to_budget` must be two different budgets of yours: "
        'a missing or foreign id is a 400 (`{"from_budget": ["Budget not found."]}`), '
        "and so is the same budget twice (on `to_budget`)." + LEGS
    ),
)
def transfer_create(request: HttpRequest, payload: TransferIn):
    return Status(201, services.transfer_create(user=request.auth, **payload.dict()))


@transfers_router.get(
    "/{int:transfer_id}/",
    response={200: TransferOut, **READ_ONE_ERRORS},
    summary="Read a transfer",
    description="With the ids of its two legs." + READ_ETAG + NOT_YOURS,
)
def transfer_get(
    request: HttpRequest,
    transfer_id: int,
    response: HttpResponse,
    if_none_match: IfNoneMatch = None,
):
    transfer = selectors.transfer_get(user=request.auth, transfer_id=transfer_id)
    return conditional.read(response, TransferOut, transfer, if_none_match)


@transfers_router.patch(
    "/{int:transfer_id}/",
    response={200: TransferOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Change a transfer's amount, date or description",
    description=(
        "Any subset of `amount`, `date`, `description`; both legs follow (and both "
        "balances). The budgets of a transfer cannot change: delete it and create "
        "another." + WRITE_ETAG + NOT_YOURS
    ),
)
def transfer_update(
    request: HttpRequest,
    transfer_id: int,
    payload: TransferPatch,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        TransferOut,
        if_match,
        services.transfer_update,
        user=request.auth,
        transfer_id=transfer_id,
        **payload.dict(exclude_unset=True),
    )


@transfers_router.delete(
    "/{int:transfer_id}/",
    response={204: None, **CONDITIONAL_DELETE_ERRORS},
    summary="Delete a transfer",
    description="Deletes both legs with it; both balances follow." + DELETE_ETAG + NOT_YOURS,
)
def transfer_delete(request: HttpRequest, transfer_id: int, if_match: IfMatch = None):
    return conditional.delete(
        TransferOut,
        if_match,
        services.transfer_delete,
        user=request.auth,
        transfer_id=transfer_id,
    )
