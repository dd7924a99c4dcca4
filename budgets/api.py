"""Routers for budgets, categories and transactions: typed HTTP in, one selector or
service call out (reads from ``budgets.selectors``, writes from ``budgets.services``,
the summary from ``budgets.reports``, CSV from ``budgets.export``)."""

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from budgets import export, reports, selectors, services
from budgets.schemas import (
    BudgetFilters,
    BudgetIn,
    BudgetOut,
    BudgetPatch,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    SummaryFilters,
    SummaryOut,
    TransactionFilters,
    TransactionIn,
    TransactionOut,
    TransactionPatch,
)
from project.openapi import errors
from project.pagination import PageNumberPagination

budgets_router = Router(tags=["budgets"])
categories_router = Router(tags=["categories"])
transactions_router = Router(tags=["transactions"])

LIST_ERRORS = errors(400, 401, 404)
TRANSFER_LEG = (
    " A leg of a transfer (`transfer` not null) cannot be changed here: 400 "
    '`{"non_field_errors": ["This transaction is part of transfer 12; edit or delete the '
    'transfer instead."]}`.'
)
# Writes answer 503 (+ Retry-After) when they keep losing to concurrent writes.
CREATE_ERRORS = errors(400, 401, 413, 503)
WRITE_ERRORS = errors(400, 401, 404, 413, 503)
DELETE_ERRORS = errors(401, 404, 503)
NOT_YOURS = " Another user's id answers 404, exactly like a missing one."

# --- Budgets -------------------------------------------------------------------------


@budgets_router.get(
    "/",
    response={200: list[BudgetOut], **LIST_ERRORS},
    summary="List my budgets",
    description="Newest `date` first, then newest `created_at`. Paginated.",
)
@paginate(PageNumberPagination)
def budget_list(request: HttpRequest, filters: Query[BudgetFilters]):
    return selectors.budget_list(user=request.auth, **filters.dict())


@budgets_router.post(
    "/",
    response={201: BudgetOut, **CREATE_ERRORS},
    summary="Create a budget",
    description="`user`, `id`, `balance` and timestamps in the body are ignored.",
)
def budget_create(request: HttpRequest, payload: BudgetIn):
    return Status(201, services.budget_create(user=request.auth, **payload.dict()))


@budgets_router.get(
    "/{int:budget_id}/",
    response={200: BudgetOut, **errors(401, 404)},
    summary="Read a budget",
    description="With its current `balance`." + NOT_YOURS,
)
def budget_get(request: HttpRequest, budget_id: int):
    return selectors.budget_get(user=request.auth, budget_id=budget_id)


@budgets_router.put(
    "/{int:budget_id}/",
    response={200: BudgetOut, **WRITE_ERRORS},
    summary="Replace a budget",
    description="Every writable field is required." + NOT_YOURS,
)
def budget_replace(request: HttpRequest, budget_id: int, payload: BudgetIn):
    return services.budget_update(user=request.auth, budget_id=budget_id, **payload.dict())


@budgets_router.patch(
    "/{int:budget_id}/",
    response={200: BudgetOut, **WRITE_ERRORS},
    summary="Update a budget",
    description="Any subset of the writable fields." + NOT_YOURS,
)
def budget_update(request: HttpRequest, budget_id: int, payload: BudgetPatch):
    data = payload.dict(exclude_unset=True)
    return services.budget_update(user=request.auth, budget_id=budget_id, **data)


@budgets_router.delete(
    "/{int:budget_id}/",
    response={204: None, **DELETE_ERRORS},
    summary="Delete a budget",
    description=(
        "Its transactions and spending limits are deleted with it. Its transfers end: the "
        "leg in the other budget stays there as an ordinary transaction (`transfer: null`), "
        "so no other balance changes." + NOT_YOURS
    ),
)
def budget_delete(request: HttpRequest, budget_id: int):
    services.budget_delete(user=request.auth, budget_id=budget_id)
    return Status(204, None)


@budgets_router.get(
    "/{int:budget_id}/summary/",
    response={200: SummaryOut, **errors(400, 401, 404)},
    summary="Budget report: where the money went",
    description=(
        "Income and expense totals (expenses as positive amounts spent), transaction count, "
        "a breakdown per category (uncategorised as `category: null`, `name: "
        '"Uncategorized"`; by name, uncategorised last) and per month (`YYYY-MM`, oldest '
        "first, months without transactions left out). `date_from`/`date_to` filter every "
        "figure except `balance`, which is always the budget's full balance. Transfers are "
        "neither income nor expense: their legs are left out of the totals, `by_category` "
        "and `by_month`, and shown apart as `transfers_in`, `transfers_out` and "
        "`transfers_count`. `limits` lists each spending limit of a month the period "
        "touches with what was spent in its category over that whole month and what "
        "remains (negative when overspent)." + NOT_YOURS
    ),
)
def budget_summary(request: HttpRequest, budget_id: int, filters: Query[SummaryFilters]):
    return reports.budget_summary(user=request.auth, budget_id=budget_id, **filters.dict())


# --- Categories ----------------------------------------------------------------------


@categories_router.get(
    "/",
    response={200: list[CategoryOut], **LIST_ERRORS},
    summary="List my categories",
    description="By name (case-insensitive), then id. Paginated.",
)
@paginate(PageNumberPagination)
def category_list(request: HttpRequest):
    return selectors.category_list(user=request.auth)


@categories_router.post(
    "/",
    response={201: CategoryOut, **CREATE_ERRORS},
    summary="Create a category",
    description="Names are unique per user regardless of case.",
)
def category_create(request: HttpRequest, payload: CategoryIn):
    return Status(201, services.category_create(user=request.auth, **payload.dict()))


@categories_router.get(
    "/{int:category_id}/",
    response={200: CategoryOut, **errors(401, 404)},
    summary="Read a category",
    description=NOT_YOURS.strip(),
)
def category_get(request: HttpRequest, category_id: int):
    return selectors.category_get(user=request.auth, category_id=category_id)


@categories_router.put(
    "/{int:category_id}/",
    response={200: CategoryOut, **WRITE_ERRORS},
    summary="Replace a category",
    description=NOT_YOURS.strip(),
)
def category_replace(request: HttpRequest, category_id: int, payload: CategoryIn):
    data = payload.dict()
    return services.category_update(user=request.auth, category_id=category_id, **data)


@categories_router.patch(
    "/{int:category_id}/",
    response={200: CategoryOut, **WRITE_ERRORS},
    summary="Update a category",
    description=NOT_YOURS.strip(),
)
def category_update(request: HttpRequest, category_id: int, payload: CategoryPatch):
    data = payload.dict(exclude_unset=True)
    return services.category_update(user=request.auth, category_id=category_id, **data)


@categories_router.delete(
    "/{int:category_id}/",
    response={204: None, **DELETE_ERRORS},
    summary="Delete a category",
    description=(
        "Its transactions stay, with `category: null`; its spending limits are deleted." + NOT_YOURS
    ),
)
def category_delete(request: HttpRequest, category_id: int):
    services.category_delete(user=request.auth, category_id=category_id)
    return Status(204, None)


# --- Transactions --------------------------------------------------------------------

TRANSACTION_FILTERS_DOC = (
    " A `budget` or `category` filter naming someone else's object matches nothing."
)


@transactions_router.get(
    "/",
    response={200: list[TransactionOut], **LIST_ERRORS},
    summary="List my transactions",
    description="Newest `date` first by default. Paginated." + TRANSACTION_FILTERS_DOC,
)
@paginate(PageNumberPagination)
def transaction_list(request: HttpRequest, filters: Query[TransactionFilters]):
    return selectors.transaction_list(user=request.auth, **filters.dict())


@transactions_router.get(
    "/export/",
    response={200: None, **errors(400, 401)},
    summary="Export my transactions as CSV",
    description=(
        "Same filters and order as the list, every matching row, not paginated, streamed. "
        "Columns: `date,budget,category,description,amount` (budget title, category name). "
        "Text cells starting with `=`, `+`, `-`, `@`, tab or carriage return get a leading `'` "
        "so spreadsheets do not run them as formulas; amounts stay numeric."
        + TRANSACTION_FILTERS_DOC
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "CSV file",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def transaction_export(request: HttpRequest, filters: Query[TransactionFilters]):
    transactions = selectors.transaction_list(user=request.auth, **filters.dict())
    rows = export.transaction_export_rows(transactions)
    response = StreamingHttpResponse(export.csv_lines(rows), content_type="text/csv; charset=utf-8")
    filename = f"transactions-{timezone.now():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@transactions_router.post(
    "/",
    response={201: TransactionOut, **CREATE_ERRORS},
    summary="Record income or an expense",
    description=(
        "`budget` and `category` must be yours: a missing or foreign id is a 400 "
        '(`{"budget": ["Budget not found."]}`).'
    ),
)
def transaction_create(request: HttpRequest, payload: TransactionIn):
    return Status(201, services.transaction_create(user=request.auth, **payload.dict()))


@transactions_router.get(
    "/{int:transaction_id}/",
    response={200: TransactionOut, **errors(401, 404)},
    summary="Read a transaction",
    description=NOT_YOURS.strip(),
)
def transaction_get(request: HttpRequest, transaction_id: int):
    return selectors.transaction_get(user=request.auth, transaction_id=transaction_id)


@transactions_router.put(
    "/{int:transaction_id}/",
    response={200: TransactionOut, **WRITE_ERRORS},
    summary="Replace a transaction",
    description="Every writable field is required." + TRANSFER_LEG + NOT_YOURS,
)
def transaction_replace(request: HttpRequest, transaction_id: int, payload: TransactionIn):
    return services.transaction_update(
        user=request.auth, transaction_id=transaction_id, **payload.dict()
    )


@transactions_router.patch(
    "/{int:transaction_id}/",
    response={200: TransactionOut, **WRITE_ERRORS},
    summary="Update or move a transaction",
    description=(
        "Any subset; a new `budget` moves it to another of your budgets (both balances "
        "follow)." + TRANSFER_LEG + NOT_YOURS
    ),
)
def transaction_update(request: HttpRequest, transaction_id: int, payload: TransactionPatch):
    return services.transaction_update(
        user=request.auth, transaction_id=transaction_id, **payload.dict(exclude_unset=True)
    )


@transactions_router.delete(
    "/{int:transaction_id}/",
    response={204: None, **errors(400, 401, 404, 503)},
    summary="Delete a transaction",
    description=TRANSFER_LEG.strip() + NOT_YOURS,
)
def transaction_delete(request: HttpRequest, transaction_id: int):
    services.transaction_delete(user=request.auth, transaction_id=transaction_id)
    return Status(204, None)
