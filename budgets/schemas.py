"""Request and response shapes of budgets, categories, transactions and reports.

Type, length, range and decimal-place rules live here and only here; rules that
need the database (ownership, uniqueness) live in the services.
"""

import datetime as dt
import re
from typing import Annotated, Literal

from ninja import Field
from pydantic import BeforeValidator, PlainSerializer, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from budgets import messages
from budgets.csv_format import MAX_REPORTED_ERRORS
from budgets.models import (
    BUDGET_AMOUNT_DIGITS,
    CATEGORY_NAME_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    RECURRING_INTERVAL_MAX,
    TITLE_MAX_LENGTH,
    TRANSACTION_AMOUNT_DIGITS,
    TRANSACTION_DESCRIPTION_MAX_LENGTH,
)
from budgets.months import MONTH_INVALID, month_key, parse_month
from budgets.recurrence import Frequency
from budgets.selectors.budgets import BUDGET_DEFAULT_ORDERING, BUDGET_ORDERINGS
from budgets.selectors.recurring import UPCOMING_DEFAULT, UPCOMING_MAX
from budgets.selectors.transactions import (
    TRANSACTION_DEFAULT_ORDERING,
    TRANSACTION_ORDERINGS,
    TRANSACTION_TYPES,
)
from project.schemas import MoneyOut, OutSchema, RowSchema, Schema, money_in, strip_whitespace

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SEARCH_MAX_LENGTH = 100


def _no_booleans(value):
    """JSON ``true`` is not the id 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _iso_date_only(value):
    """Dates are ``YYYY-MM-DD`` strings; no timestamps, datetimes or numbers."""
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        return value.strip()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise PydanticCustomError("date_parsing", messages.DATE_INVALID)


def _trimmed(max_length: int, *, min_length: int = 0):
    return Annotated[
        str,
        BeforeValidator(strip_whitespace),
        StringConstraints(min_length=min_length, max_length=max_length),
    ]


Date = Annotated[
    dt.date,
    BeforeValidator(_iso_date_only),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-02-15"]}),
]
Title = _trimmed(TITLE_MAX_LENGTH, min_length=1)
BudgetDescription = _trimmed(DESCRIPTION_MAX_LENGTH)
CategoryName = _trimmed(CATEGORY_NAME_MAX_LENGTH, min_length=1)
TransactionDescription = _trimmed(TRANSACTION_DESCRIPTION_MAX_LENGTH)
InitialAmount = money_in(integer_digits=BUDGET_AMOUNT_DIGITS, signed=False, allow_zero=False)
Amount = money_in(integer_digits=TRANSACTION_AMOUNT_DIGITS, signed=True, allow_zero=False)
Search = Annotated[str, StringConstraints(max_length=SEARCH_MAX_LENGTH)]
# Any integer: ids that cannot exist (0, negative, beyond 64 bits) are simply not found.
Id = Annotated[int, BeforeValidator(_no_booleans)]
# In a body such an id is refused ("Budget not found."), so the schema publishes the range.
BodyId = Annotated[Id, Field(json_schema_extra={"minimum": 1, "maximum": 2**63 - 1})]

# --- Budgets -------------------------------------------------------------------------


class BudgetIn(Schema):
    """Create or replace (PUT): every writable field."""

    title: Title
    description: BudgetDescription = ""
    date: Date
    initial_amount: InitialAmount


class BudgetPatch(Schema):
    """Partial update: any subset of the writable fields."""

    title: Title = None
    description: BudgetDescription = None
    date: Date = None
    initial_amount: InitialAmount = None


class BudgetOut(OutSchema):
    id: int
    user: int = Field(validation_alias="user_id", description="Owner id (always you).")
    title: str
    description: str
    date: dt.date
    initial_amount: MoneyOut
    balance: MoneyOut = Field(description="initial_amount + the sum of transaction amounts.")
    created_at: dt.datetime
    updated_at: dt.datetime


# The sort keys the selector knows, and no other.
BudgetOrdering = Literal[tuple(BUDGET_ORDERINGS)]


class BudgetFilters(Schema):
    search: Search | None = Field(None, description="In title or description, any case.")
    date_from: Date | None = Field(None, description="Budgets dated on or after (inclusive).")
    date_to: Date | None = Field(None, description="Budgets dated on or before (inclusive).")
    ordering: BudgetOrdering = Field(
        BUDGET_DEFAULT_ORDERING, description="Sort key; `-` for descending."
    )


# --- Categories ----------------------------------------------------------------------


class CategoryIn(Schema):
    name: CategoryName


class CategoryPatch(Schema):
    name: CategoryName = None


class CategoryOut(OutSchema):
    id: int
    user: int = Field(validation_alias="user_id")
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


# --- Transactions --------------------------------------------------------------------


class TransactionIn(Schema):
    budget: BodyId = Field(description="Id of one of your budgets.")
    amount: Amount = Field(description="Signed: income > 0, expense < 0; never 0.")
    category: BodyId | None = Field(None, description="Id of one of your categories, or null.")
    description: TransactionDescription = ""
    date: Date


class TransactionPatch(Schema):
    budget: BodyId = Field(None, description="Move the transaction to another of your budgets.")
    amount: Amount = None
    category: BodyId | None = None
    description: TransactionDescription = None
    date: Date = None


class TransactionOut(OutSchema):
    id: int
    budget: int = Field(validation_alias="budget_id")
    amount: MoneyOut
    category: int | None = Field(validation_alias="category_id")
    description: str
    date: dt.date
    recurring_rule: int | None = Field(
        validation_alias="recurring_rule_id",
        description="The recurring rule that posted it, or null.",
    )
    transfer: int | None = Field(
        validation_alias="transfer_id",
        description=(
            "Id of the transfer this transaction is a leg of (edit or delete it through "
            "`/api/transfers/`), or null."
        ),
    )
    created_at: dt.datetime
    updated_at: dt.datetime


TransactionOrdering = Literal[tuple(TRANSACTION_ORDERINGS)]
TransactionType = Literal[tuple(TRANSACTION_TYPES)]
FilterAmount = money_in(integer_digits=TRANSACTION_AMOUNT_DIGITS, signed=True, allow_zero=True)


class TransactionFilters(Schema):
    budget: Id | None = Field(None, description="Only this budget's transactions.")
    category: Id | None = Field(None, description="Only transactions in this category.")
    type: TransactionType | None = Field(
        None, description="`income` (amount > 0) or `expense` (amount < 0)."
    )
    date_from: Date | None = Field(None, description="On or after this date (inclusive).")
    date_to: Date | None = Field(None, description="On or before this date (inclusive).")
    min_amount: FilterAmount | None = Field(
        None, description="Signed amount ≥ this (expenses are negative)."
    )
    max_amount: FilterAmount | None = Field(
        None, description="Signed amount ≤ this (expenses are negative)."
    )
    search: Search | None = Field(None, description="In the description, any case.")
    ordering: TransactionOrdering = Field(
        TRANSACTION_DEFAULT_ORDERING, description="Sort key; `-` for descending."
    )


# --- Reports -------------------------------------------------------------------------


class SummaryFilters(Schema):
    date_from: Date | None = Field(None, description="Totals from this date (inclusive).")
    date_to: Date | None = Field(None, description="Totals up to this date (inclusive).")


class CategorySummaryOut(OutSchema):
    category: int | None = Field(description="Category id, or null for uncategorised.")
    name: str
    income: MoneyOut
    expense: MoneyOut = Field(description="Money spent, as a positive amount.")
    net: MoneyOut
    count: int


class MonthSummaryOut(OutSchema):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-02"])
    income: MoneyOut
    expense: MoneyOut
    net: MoneyOut
    count: int


class LimitSummaryOut(OutSchema):
    category: int
    name: str = Field(description="The category's name.")
    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-02"])
    limit: MoneyOut
    spent: MoneyOut = Field(
        description=(
            "Expenses in this category over the whole month, positive; transfer legs "
            "are not spending."
        )
    )
    remaining: MoneyOut = Field(description="limit - spent; negative when overspent.")


class SummaryOut(OutSchema):
    budget: int
    initial_amount: MoneyOut
    income_total: MoneyOut = Field(description="Income in the period; transfers excluded.")
    expense_total: MoneyOut = Field(
        description="Money spent in the period, positive; transfers excluded."
    )
    balance: MoneyOut = Field(
        description="The budget's full balance, whatever the period (transfers included)."
    )
    transactions_count: int = Field(
        description="Income and expense transactions in the period (not transfer legs)."
    )
    transfers_in: MoneyOut = Field(
        description="Money moved into this budget by transfers in the period, positive."
    )
    transfers_out: MoneyOut = Field(
        description="Money moved out of this budget by transfers in the period, positive."
    )
    transfers_count: int = Field(description="Transfer legs in this budget in the period.")
    by_category: list[CategorySummaryOut]
    by_month: list[MonthSummaryOut]
    limits: list[LimitSummaryOut] = Field(
        description=(
            "Each spending limit of a month the period touches (oldest first, then by "
            "category name), against the whole month's spending."
        )
    )


# --- Transfers -----------------------------------------------------------------------

PositiveAmount = money_in(integer_digits=TRANSACTION_AMOUNT_DIGITS, signed=False, allow_zero=False)


class TransferIn(Schema):
    from_budget: BodyId = Field(description="Id of your budget the money leaves.")
    to_budget: BodyId = Field(description="Id of another of your budgets, where the money goes.")
    amount: PositiveAmount = Field(description="The money moved; > 0.")
    date: Date
    description: TransactionDescription = ""


class TransferPatch(Schema):
    amount: PositiveAmount = None
    date: Date = None
    description: TransactionDescription = None


class TransferOut(OutSchema):
    id: int
    from_budget: int = Field(validation_alias="from_budget_id")
    to_budget: int = Field(validation_alias="to_budget_id")
    amount: MoneyOut = Field(description="The money moved, positive.")
    date: dt.date
    description: str
    from_transaction: int = Field(
        description="Id of the expense leg (amount = -amount) in `from_budget`."
    )
    to_transaction: int = Field(
        description="Id of the income leg (amount = +amount) in `to_budget`."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class TransferFilters(Schema):
    budget: Id | None = Field(None, description="Transfers from or to this budget.")
    date_from: Date | None = Field(None, description="On or after this date (inclusive).")
    date_to: Date | None = Field(None, description="On or before this date (inclusive).")


# --- Spending limits -----------------------------------------------------------------


def _month_in(value):
    """``"YYYY-MM"`` → the month's first day; nothing else (no days, no numbers)."""
    if isinstance(value, str):
        try:
            return parse_month(value)
        except ValueError:
            pass
    raise PydanticCustomError("month_parsing", MONTH_INVALID)


_MONTH_PATTERN = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])$"
)
Month = Annotated[
    dt.date,
    BeforeValidator(_month_in),
    WithJsonSchema({"type": "string", "pattern": _MONTH_PATTERN, "examples": ["2026-02"]}),
]
MonthOut = Annotated[
    dt.date,
    PlainSerializer(month_key, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{4}-\d{2}$", "examples": ["2026-02"]},
        mode="serialization",
    ),
]


class SpendingLimitIn(Schema):
    """Create or replace (PUT): every writable field."""

    category: BodyId = Field(description="Id of one of your categories.")
    month: Month = Field(description="The calendar month, `YYYY-MM`.")
    amount: PositiveAmount = Field(description="Most you mean to spend; > 0.")


class SpendingLimitPatch(Schema):
    category: BodyId = None
    month: Month = None
    amount: PositiveAmount = None


class SpendingLimitOut(OutSchema):
    id: int
    budget: int = Field(validation_alias="budget_id")
    category: int = Field(validation_alias="category_id")
    month: MonthOut
    amount: MoneyOut
    created_at: dt.datetime
    updated_at: dt.datetime


class SpendingLimitFilters(Schema):
    category: Id | None = Field(None, description="Only this category's limits.")
    month: Month | None = Field(None, description="Only this month's limits (`YYYY-MM`).")


# --- Recurring rules -----------------------------------------------------------------

FrequencyName = Literal[tuple(Frequency.values)]
# The range before the validator: after it, pydantic publishes "ge"/"le" (not JSON Schema)
# instead of "minimum"/"maximum". Validation is the same either way.
Interval = Annotated[int, Field(ge=1, le=RECURRING_INTERVAL_MAX), BeforeValidator(_no_booleans)]
_FREQUENCY_DOC = "`daily`, `weekly`, `monthly` or `yearly`."
_INTERVAL_DOC = f"Every `interval` days, weeks, months or years (1 to {RECURRING_INTERVAL_MAX})."
_END_DOC = "Last possible occurrence day (inclusive), or null: no end."


class RecurringRuleIn(Schema):
    """Create or replace (PUT): every writable field."""

    budget: BodyId = Field(description="Id of one of your budgets.")
    amount: Amount = Field(description="Signed: income > 0, expense < 0; never 0.")
    category: BodyId | None = Field(None, description="Id of one of your categories, or null.")
    description: TransactionDescription = ""
    start_date: Date = Field(description="The first occurrence; the others count from it.")
    end_date: Date | None = Field(None, description=_END_DOC)
    frequency: FrequencyName = Field(description=_FREQUENCY_DOC)
    interval: Interval = Field(1, description=_INTERVAL_DOC)


class RecurringRulePatch(Schema):
    """Partial update: any subset of the writable fields."""

    budget: BodyId = Field(None, description="Post future occurrences to another of your budgets.")
    amount: Amount = None
    category: BodyId | None = None
    description: TransactionDescription = None
    start_date: Date = None
    end_date: Date | None = None
    frequency: FrequencyName = None
    interval: Interval = None


class RecurringRuleOut(OutSchema):
    id: int
    budget: int = Field(validation_alias="budget_id")
    amount: MoneyOut
    category: int | None = Field(validation_alias="category_id")
    description: str
    start_date: dt.date
    end_date: dt.date | None
    frequency: FrequencyName
    interval: int
    last_posted_date: dt.date | None = Field(
        description="The latest occurrence posted as a transaction, or null."
    )
    next_due_date: dt.date | None = Field(
        description="The first occurrence not posted yet, or null once the rule has ended."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class RecurringRuleFilters(Schema):
    budget: Id | None = Field(None, description="Only this budget's rules.")


class UpcomingFilters(Schema):
    count: int = Field(
        UPCOMING_DEFAULT,
        ge=1,
        le=UPCOMING_MAX,
        description=f"How many occurrences (1 to {UPCOMING_MAX}).",
    )


class OccurrenceOut(OutSchema):
    date: dt.date
    budget: int
    amount: MoneyOut
    category: int | None
    description: str


class UpcomingOut(OutSchema):
    rule: int
    occurrences: list[OccurrenceOut]


# --- CSV import ----------------------------------------------------------------------


class TransactionImportOptions(Schema):
    dry_run: bool = Field(False, description="Only check the file and report; write nothing.")
    create_categories: bool = Field(
        False, description="Create categories the file names that you do not have yet."
    )
    allow_duplicates: bool = Field(
        False,
        description=(
            "Import rows identical (budget, date, amount, description) to transactions "
            "you already have, instead of skipping them."
        ),
    )


def _blank_to_none(value):
    """An empty category cell means uncategorised."""
    return strip_whitespace(value) or None


class TransactionImportRow(RowSchema):
    """One data row of the file (after the export's formula escaping is undone)."""

    date: Date
    budget: Title
    category: Annotated[
        Annotated[str, StringConstraints(max_length=CATEGORY_NAME_MAX_LENGTH)] | None,
        BeforeValidator(_blank_to_none),
    ] = None
    description: TransactionDescription = ""
    amount: Amount


class ImportRowErrorOut(OutSchema):
    line: int = Field(description="Line of the file where the row starts (the header is 1).")
    errors: dict[str, list[str]] = Field(examples=[{"amount": ["Amount must not be zero."]}])


class TransactionImportOut(OutSchema):
    dry_run: bool
    imported: int = Field(description="Rows written (in a dry run: rows that would be).")
    skipped_duplicates: int = Field(description="Rows already present, left out.")
    created_categories: list[str] = Field(
        description="Categories created (in a dry run: that would be)."
    )
    error_count: int = Field(description="Rows with errors (always 0 when written).")
    errors: list[ImportRowErrorOut] = Field(
        description=f"Each faulty row's errors, the first {MAX_REPORTED_ERRORS} at most."
    )


class TransactionImportRejectedOut(OutSchema):
    file: list[str] = Field(examples=[["Rows with errors: 2. Nothing was imported."]])
    errors: list[ImportRowErrorOut]
