"""Reads: every query that answers a GET, scoped to the caller from its first line.

One module per entity (``budgets``, ``categories``, ``transactions``, ``recurring``,
``transfers``, ``limits``); ``common`` has the id checks they share. Sort keys live here;
the schemas' ``ordering`` choices are derived from them. Writes are in
``budgets.services``, reports in ``budgets.reports``.
"""

from budgets.selectors.budgets import (
    BUDGET_DEFAULT_ORDERING,
    BUDGET_ORDERINGS,
    budget_get,
    budget_list,
    budget_listing,
)
from budgets.selectors.categories import CATEGORY_ORDERING, category_get, category_list
from budgets.selectors.limits import spending_limit_get, spending_limit_list
from budgets.selectors.recurring import (
    RECURRING_RULE_ORDERING,
    recurring_rule_get,
    recurring_rule_list,
    recurring_rule_upcoming,
)
from budgets.selectors.transactions import (
    TRANSACTION_DEFAULT_ORDERING,
    TRANSACTION_ORDERINGS,
    TRANSACTION_TYPES,
    transaction_get,
    transaction_list,
    transaction_listing,
)
from budgets.selectors.transfers import transfer_get, transfer_list

__all__ = [
    "BUDGET_DEFAULT_ORDERING",
    "BUDGET_ORDERINGS",
    "CATEGORY_ORDERING",
    "RECURRING_RULE_ORDERING",
    "TRANSACTION_DEFAULT_ORDERING",
    "TRANSACTION_ORDERINGS",
    "TRANSACTION_TYPES",
    "budget_get",
    "budget_list",
    "budget_listing",
    "category_get",
    "category_list",
    "recurring_rule_get",
    "recurring_rule_list",
    "recurring_rule_upcoming",
    "spending_limit_get",
    "spending_limit_list",
    "transaction_get",
    "transaction_list",
    "transaction_listing",
    "transfer_get",
    "transfer_list",
]
