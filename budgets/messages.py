"""User-facing messages of the budgets app; tests import them."""

from project.schemas import AMOUNT_ZERO

__all__ = [
    "AMOUNT_ZERO",
    "BUDGET_AMBIGUOUS",
    "BUDGET_NOT_FOUND",
    "CATEGORY_EXISTS",
    "CATEGORY_NOT_FOUND",
    "CATEGORY_OF_ANOTHER_USER",
    "DATE_INVALID",
    "IMPORT_ONE_FILE",
    "IMPORT_REJECTED",
    "LIMIT_EXISTS",
    "LIMIT_MONTH_NOT_FIRST_DAY",
    "RULE_BACKFILL_TOO_LONG",
    "RULE_END_BEFORE_START",
    "TRANSFER_LEG",
    "TRANSFER_SAME_BUDGET",
    "UNCATEGORIZED",
]

DATE_INVALID = "Input should be a date in the format YYYY-MM-DD."
BUDGET_NOT_FOUND = "Budget not found."
CATEGORY_NOT_FOUND = "Category not found."
CATEGORY_EXISTS = "Category already exists."
UNCATEGORIZED = "Uncategorized"
# The admin's check for rows that name a budget and a category (the API finds such a
# category "not found").
CATEGORY_OF_ANOTHER_USER = "The category must belong to the budget's owner."

# Recurring rules
RULE_END_BEFORE_START = "End date must be on or after the start date."
RULE_BACKFILL_TOO_LONG = (
    "Start date is too far in the past: at most {limit} past occurrences can be posted."
)

# CSV import
BUDGET_AMBIGUOUS = "More than one of your budgets has this title."
IMPORT_REJECTED = "Rows with errors: {count}. Nothing was imported."
IMPORT_ONE_FILE = "Send one file per import."

# Transfers and spending limits
TRANSFER_SAME_BUDGET = "Choose a budget other than the one the money comes from."
# Formatted with the transfer's id.
TRANSFER_LEG = (
    "This transaction is part of transfer {transfer}; edit or delete the transfer instead."
)
LIMIT_EXISTS = "This budget already has a limit for this category and month."
LIMIT_MONTH_NOT_FIRST_DAY = "Use the first day of the month."
