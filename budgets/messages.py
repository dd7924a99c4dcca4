"""User-facing messages of the budgets app; tests import them."""

DATE_INVALID = "Input should be a date in the format YYYY-MM-DD."
AMOUNT_ZERO = "Amount must not be zero."
BUDGET_NOT_FOUND = "Budget not found."
CATEGORY_NOT_FOUND = "Category not found."
CATEGORY_EXISTS = "Category already exists."
UNCATEGORIZED = "Uncategorized"
