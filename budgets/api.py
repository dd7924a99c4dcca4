"""Routers for budgets, categories and transactions: typed HTTP in, one selector or
service call out (reads from ``budgets.selectors``, writes from ``budgets.services``,
the summary from ``budgets.reports``, CSV from ``budgets.export``)."""

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import File, Form, Query, Router
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from budgets import export, messages, reports, selectors, services
from budgets.schemas import (
    BudgetFilters,
    BudgetIn,
    BudgetOut,
    BudgetPatch,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    RecurringRuleFilters,
    RecurringRuleIn,
    RecurringRuleOut,
    RecurringRulePatch,
    SummaryFilters,
    SummaryOut,
    TransactionFilters,
    TransactionImportOptions,
    TransactionImportOut,
    TransactionImportRejectedOut,
    TransactionIn,
    TransactionOut,
    TransactionPatch,
    UpcomingFilters,
    UpcomingOut,
)
from project import conditional
from project.conditional import IfMatch, IfNoneMatch
from project.errors import FieldError
from project.openapi import errors
from project.pagination import PageNumberPagination
from project.schemas import BadRequestOut
from project.uploads import upload_limit

budgets_router = Router(tags=["budgets"])
categories_router = Router(tags=["categories"])
transactions_router = Router(tags=["transactions"])
recurring_router = Router(tags=["recurring"])

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
# Routes taking If-Match / If-None-Match: 412 only when If-Match names a stale version,
# 304 only when If-None-Match names the current one.
CONDITIONAL_WRITE_ERRORS = errors(400, 401, 404, 412, 413, 503)
CONDITIONAL_DELETE_ERRORS = errors(401, 404, 412, 503)
READ_ONE_ERRORS = {304: None, **errors(401, 404)}
NOT_YOURS = " Another user's id answers 404, exactly like a missing one."
POSTS_DUE = (
    " Recurring occurrences due up to today are posted first (a bounded number per request)."
)
READ_ETAG = (
    " The answer carries an `ETag`; send it back as `If-None-Match` to get a 304 with no "
    "body while the object is unchanged, or as `If-Match` on PUT, PATCH or DELETE."
)
WRITE_ETAG = (
    " With `If-Match`, only if the object's current `ETag` is one named there; else 412 and "
    "nothing changes. The answer carries the new `ETag`."
)
DELETE_ETAG = (
    " With `If-Match`, only if the object's current `ETag` is one named there; else 412 "
    "and nothing is deleted."
)

# --- Budgets -------------------------------------------------------------------------


@budgets_router.get(
    "/",
    response={200: list[BudgetOut], **LIST_ERRORS},
    summary="List my budgets",
    description="Newest `date` first, then newest `created_at`. Paginated." + POSTS_DUE,
)
@paginate(PageNumberPagination)
def budget_list(request: HttpRequest, filters: Query[BudgetFilters]):
    services.recurring_catch_up(user=request.auth)
    return selectors.budget_listing(user=request.auth, **filters.dict())


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
    response={200: BudgetOut, **READ_ONE_ERRORS},
    summary="Read a budget",
    description="With its current `balance` (which the `ETag` covers too)."
    + POSTS_DUE
    + READ_ETAG
    + NOT_YOURS,
)
def budget_get(
    request: HttpRequest, budget_id: int, response: HttpResponse, if_none_match: IfNoneMatch = None
):
    services.recurring_catch_up(user=request.auth)
    budget = selectors.budget_get(user=request.auth, budget_id=budget_id)
    return conditional.read(response, BudgetOut, budget, if_none_match)


@budgets_router.put(
    "/{int:budget_id}/",
    response={200: BudgetOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Replace a budget",
    description="Every writable field is required." + WRITE_ETAG + NOT_YOURS,
)
def budget_replace(
    request: HttpRequest,
    budget_id: int,
    payload: BudgetIn,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        BudgetOut,
        if_match,
        services.budget_update,
        user=request.auth,
        budget_id=budget_id,
        **payload.dict(),
    )


@budgets_router.patch(
    "/{int:budget_id}/",
    response={200: BudgetOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Update a budget",
    description="Any subset of the writable fields." + WRITE_ETAG + NOT_YOURS,
)
def budget_update(
    request: HttpRequest,
    budget_id: int,
    payload: BudgetPatch,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        BudgetOut,
        if_match,
        services.budget_update,
        user=request.auth,
        budget_id=budget_id,
        **payload.dict(exclude_unset=True),
    )


@budgets_router.delete(
    "/{int:budget_id}/",
    response={204: None, **CONDITIONAL_DELETE_ERRORS},
    summary="Delete a budget",
    description=(
        "Its transactions and spending limits are deleted with it. Its transfers end: the "
        "leg in the other budget stays there as an ordinary transaction (`transfer: null`), "
        "so no other balance changes." + DELETE_ETAG + NOT_YOURS
    ),
)
def budget_delete(request: HttpRequest, budget_id: int, if_match: IfMatch = None):
    return conditional.delete(
        BudgetOut, if_match, services.budget_delete, user=request.auth, budget_id=budget_id
    )


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
        "remains (negative when overspent)." + POSTS_DUE + NOT_YOURS
    ),
)
def budget_summary(request: HttpRequest, budget_id: int, filters: Query[SummaryFilters]):
    services.recurring_catch_up(user=request.auth)
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
    response={200: CategoryOut, **READ_ONE_ERRORS},
    summary="Read a category",
    description=READ_ETAG.strip() + NOT_YOURS,
)
def category_get(
    request: HttpRequest,
    category_id: int,
    response: HttpResponse,
    if_none_match: IfNoneMatch = None,
):
    category = selectors.category_get(user=request.auth, category_id=category_id)
    return conditional.read(response, CategoryOut, category, if_none_match)


@categories_router.put(
    "/{int:category_id}/",
    response={200: CategoryOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Replace a category",
    description=WRITE_ETAG.strip() + NOT_YOURS,
)
def category_replace(
    request: HttpRequest,
    category_id: int,
    payload: CategoryIn,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        CategoryOut,
        if_match,
        services.category_update,
        user=request.auth,
        category_id=category_id,
        **payload.dict(),
    )


@categories_router.patch(
    "/{int:category_id}/",
    response={200: CategoryOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Update a category",
    description=WRITE_ETAG.strip() + NOT_YOURS,
)
def category_update(
    request: HttpRequest,
    category_id: int,
    payload: CategoryPatch,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        CategoryOut,
        if_match,
        services.category_update,
        user=request.auth,
        category_id=category_id,
        **payload.dict(exclude_unset=True),
    )


@categories_router.delete(
    "/{int:category_id}/",
    response={204: None, **CONDITIONAL_DELETE_ERRORS},
    summary="Delete a category",
    description=(
        "Its transactions stay, with `category: null`; its spending limits are deleted."
        + DELETE_ETAG
        + NOT_YOURS
    ),
)
def category_delete(request: HttpRequest, category_id: int, if_match: IfMatch = None):
    return conditional.delete(
        CategoryOut, if_match, services.category_delete, user=request.auth, category_id=category_id
    )


# --- Transactions --------------------------------------------------------------------

TRANSACTION_FILTERS_DOC = (
    " A `budget` or `category` filter naming someone else's object matches nothing."
)


@transactions_router.get(
    "/",
    response={200: list[TransactionOut], **LIST_ERRORS},
    summary="List my transactions",
    description="Newest `date` first by default. Paginated." + TRANSACTION_FILTERS_DOC + POSTS_DUE,
)
@paginate(PageNumberPagination)
def transaction_list(request: HttpRequest, filters: Query[TransactionFilters]):
    services.recurring_catch_up(user=request.auth)
    return selectors.transaction_listing(user=request.auth, **filters.dict())


@transactions_router.get(
    "/export/",
    response={200: None, **errors(400, 401)},
    summary="Export my transactions as CSV",
    description=(
        "Same filters and order as the list, every matching row, not paginated, streamed. "
        "Columns: `date,budget,category,description,amount` (budget title, category name). "
        "Text cells starting with `=`, `+`, `-`, `@`, tab or carriage return get a leading `'` "
        "so spreadsheets do not run them as formulas, and so do cells starting with `'` (so "
        "the escaping can be undone: an export imports back unchanged through "
        "`POST /api/transactions/import/`); amounts stay numeric. Transfer legs are rows "
        "like any other (the file has no transfer column): imported back, they become "
        "ordinary transactions." + TRANSACTION_FILTERS_DOC + POSTS_DUE
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
    services.recurring_catch_up(user=request.auth)
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


IMPORT_DESCRIPTION = """
Upload one CSV file (multipart field `file`; several: 400) in the columns the export writes:
`date,budget,category,description,amount`. The header line must be exactly those names;
the file must be UTF-8 (a byte order mark is fine), at most `IMPORT_MAX_BYTES` (5 MiB by
default; larger: 413) and `IMPORT_MAX_ROWS` rows (100,000 by default). `budget` is the
title of one of your budgets (two budgets with that title: an error), `category` the name
of one of yours (any case) or empty; the export's formula escaping (a leading `'`) is
undone.

Options, as form fields: `dry_run=true` checks everything and writes nothing;
`create_categories=true` creates the categories you do not have yet (otherwise they are
errors); `allow_duplicates=true` imports rows identical (budget, date, amount, description)
to transactions you already have, which are otherwise skipped and counted (so an export
re-imports without doubling anything).

The import only adds ordinary transactions; it never changes or deletes an existing one
(so it cannot edit a transfer's leg), never creates a transfer and never links a row to a
recurring rule. A transfer's two legs in an exported file come back as an ordinary expense
and an ordinary income (counted in the summary's income and expense), or are skipped as
duplicates while the legs themselves still exist.

A real run is all-or-nothing: any faulty row answers 400
`{"file": ["Rows with errors: N. Nothing was imported."], "errors": [{"line": 7, "errors":
{"amount": ["..."]}}]}` and writes nothing. A dry run answers 200 with the same `errors`
list (the first 1,000 faulty rows; `error_count` counts them all). A file that cannot be
read at all (encoding, header, CSV syntax, too many rows) is a 400 `{"file": ["..."]}`.
"""


@transactions_router.post(
    "/import/",
    response={
        200: TransactionImportOut,
        201: TransactionImportOut,
        **errors(401, 413, 503),
        400: TransactionImportRejectedOut | BadRequestOut,
    },
    summary="Import transactions from CSV",
    description=IMPORT_DESCRIPTION.strip(),
    openapi_extra={
        "responses": {
            200: {"description": "Dry run: what would be imported, and every row's errors."},
            201: {"description": "Imported."},
            413: {"description": "The file is larger than `IMPORT_MAX_BYTES`."},
        }
    },
)
@decorate_view(upload_limit("IMPORT_MAX_BYTES"))
def transaction_import(
    request: HttpRequest, file: File[UploadedFile], options: Form[TransactionImportOptions]
):
    # Ninja hands over the last of several `file` parts; the others must not vanish.
    if len(request.FILES.getlist("file")) > 1:
        raise FieldError.single("file", messages.IMPORT_ONE_FILE)
    report = services.transaction_import(user=request.auth, file=file, **options.dict())
    return Status(200 if report.dry_run else 201, report)


@transactions_router.get(
    "/{int:transaction_id}/",
    response={200: TransactionOut, **READ_ONE_ERRORS},
    summary="Read a transaction",
    description=READ_ETAG.strip() + NOT_YOURS,
)
def transaction_get(
    request: HttpRequest,
    transaction_id: int,
    response: HttpResponse,
    if_none_match: IfNoneMatch = None,
):
    tx = selectors.transaction_get(user=request.auth, transaction_id=transaction_id)
    return conditional.read(response, TransactionOut, tx, if_none_match)


@transactions_router.put(
    "/{int:transaction_id}/",
    response={200: TransactionOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Replace a transaction",
    description="Every writable field is required." + TRANSFER_LEG + WRITE_ETAG + NOT_YOURS,
)
def transaction_replace(
    request: HttpRequest,
    transaction_id: int,
    payload: TransactionIn,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        TransactionOut,
        if_match,
        services.transaction_update,
        user=request.auth,
        transaction_id=transaction_id,
        **payload.dict(),
    )


@transactions_router.patch(
    "/{int:transaction_id}/",
    response={200: TransactionOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Update or move a transaction",
    description=(
        "Any subset; a new `budget` moves it to another of your budgets (both balances "
        "follow)." + TRANSFER_LEG + WRITE_ETAG + NOT_YOURS
    ),
)
def transaction_update(
    request: HttpRequest,
    transaction_id: int,
    payload: TransactionPatch,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        TransactionOut,
        if_match,
        services.transaction_update,
        user=request.auth,
        transaction_id=transaction_id,
        **payload.dict(exclude_unset=True),
    )


@transactions_router.delete(
    "/{int:transaction_id}/",
    # 400: a transfer's leg is deleted through its transfer.
    response={204: None, **errors(400, 401, 404, 412, 503)},
    summary="Delete a transaction",
    description=TRANSFER_LEG.strip() + DELETE_ETAG + NOT_YOURS,
)
def transaction_delete(request: HttpRequest, transaction_id: int, if_match: IfMatch = None):
    return conditional.delete(
        TransactionOut,
        if_match,
        services.transaction_delete,
        user=request.auth,
        transaction_id=transaction_id,
    )


# --- Recurring rules -----------------------------------------------------------------

RECURRING_DOC = (
    " Occurrences dated up to today are posted as ordinary transactions (linked by "
    "`recurring_rule`, never transfer legs: `transfer` stays null) exactly once, before "
    "your transaction, budget and summary reads "
    "and by the `post_recurring` command. Monthly rules on the 29th to 31st fall on the "
    "last day of shorter months and come back to their day after."
)
EDIT_DOC = (
    " Only occurrences after `last_posted_date` follow the change: transactions already "
    "posted stay as they are, and no date at or before `last_posted_date` is posted again."
)


@recurring_router.get(
    "/",
    response={200: list[RecurringRuleOut], **LIST_ERRORS},
    summary="List my recurring rules",
    description="Newest first. Paginated." + POSTS_DUE,
)
@paginate(PageNumberPagination)
def recurring_rule_list(request: HttpRequest, filters: Query[RecurringRuleFilters]):
    services.recurring_catch_up(user=request.auth)
    return selectors.recurring_rule_list(user=request.auth, **filters.dict())


@recurring_router.post(
    "/",
    response={201: RecurringRuleOut, **CREATE_ERRORS},
    summary="Create a recurring rule",
    description=(
        "`budget` and `category` must be yours (else 400 as for transactions). A start "
        "date in the past back-fills its occurrences, at most 1,000 of them." + RECURRING_DOC
    ),
)
def recurring_rule_create(request: HttpRequest, payload: RecurringRuleIn):
    return Status(201, services.recurring_rule_create(user=request.auth, **payload.dict()))


@recurring_router.get(
    "/{int:rule_id}/",
    response={200: RecurringRuleOut, **READ_ONE_ERRORS},
    summary="Read a recurring rule",
    description="With its posting cursor (`last_posted_date`, `next_due_date`)."
    + POSTS_DUE
    + READ_ETAG
    + NOT_YOURS,
)
def recurring_rule_get(
    request: HttpRequest, rule_id: int, response: HttpResponse, if_none_match: IfNoneMatch = None
):
    services.recurring_catch_up(user=request.auth)
    rule = selectors.recurring_rule_get(user=request.auth, rule_id=rule_id)
    return conditional.read(response, RecurringRuleOut, rule, if_none_match)


@recurring_router.put(
    "/{int:rule_id}/",
    response={200: RecurringRuleOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Replace a recurring rule",
    description="Every writable field is required." + EDIT_DOC + WRITE_ETAG + NOT_YOURS,
)
def recurring_rule_replace(
    request: HttpRequest,
    rule_id: int,
    payload: RecurringRuleIn,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        RecurringRuleOut,
        if_match,
        services.recurring_rule_update,
        user=request.auth,
        rule_id=rule_id,
        **payload.dict(),
    )


@recurring_router.patch(
    "/{int:rule_id}/",
    response={200: RecurringRuleOut, **CONDITIONAL_WRITE_ERRORS},
    summary="Update a recurring rule",
    description="Any subset of the writable fields." + EDIT_DOC + WRITE_ETAG + NOT_YOURS,
)
def recurring_rule_update(
    request: HttpRequest,
    rule_id: int,
    payload: RecurringRulePatch,
    response: HttpResponse,
    if_match: IfMatch = None,
):
    return conditional.write(
        response,
        RecurringRuleOut,
        if_match,
        services.recurring_rule_update,
        user=request.auth,
        rule_id=rule_id,
        **payload.dict(exclude_unset=True),
    )


@recurring_router.delete(
    "/{int:rule_id}/",
    response={204: None, **CONDITIONAL_DELETE_ERRORS},
    summary="Delete a recurring rule",
    description=(
        "The transactions it posted stay, with `recurring_rule: null`; nothing more is "
        "posted." + DELETE_ETAG + NOT_YOURS
    ),
)
def recurring_rule_delete(request: HttpRequest, rule_id: int, if_match: IfMatch = None):
    return conditional.delete(
        RecurringRuleOut,
        if_match,
        services.recurring_rule_delete,
        user=request.auth,
        rule_id=rule_id,
    )


@recurring_router.get(
    "/{int:rule_id}/upcoming/",
    response={200: UpcomingOut, **errors(400, 401, 404)},
    summary="Upcoming occurrences of a recurring rule",
    description=(
        "The next `count` occurrences (1 to 100, default 10) from today on, today included "
        "while it is not posted yet; fewer when the rule ends first. Computed, not stored."
        + NOT_YOURS
    ),
)
def recurring_rule_upcoming(request: HttpRequest, rule_id: int, filters: Query[UpcomingFilters]):
    return selectors.recurring_rule_upcoming(
        user=request.auth, rule_id=rule_id, count=filters.count
    )
