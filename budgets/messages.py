"""User-facing messages of the budgets app; tests import them."""

from project.schemas import AMOUNT_ZERO

__all__ = [
    "AMOUNT_ZERO",
    "BUDGET_NOT_FOUND",
    "CATEGORY_EXISTS",
    "CATEGORY_NOT_FOUND",
    "DATE_INVALID",
    "UNCATEGORIZED",
]

DATE_INVALID = "Input should be a date in the format YYYY-MM-DD."
BUDGET_NOT_FOUND = "Budget not found."
CATEGORY_NOT_FOUND = "Category not found."
CATEGORY_EXISTS = "Category already exists."
UNCATEGORIZED = "Uncategorized"
