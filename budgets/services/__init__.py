"""Writes: every use case that changes budgets, categories, transactions, transfers or
spending limits.

One module per entity; each function is ``<entity>_<action>``, takes keyword-only,
typed arguments with ``user`` first, scopes every query to that user, runs in one
``transaction.atomic()`` and is retried on deadlock (``project.services``). Update
functions default every field to ``UNSET`` (not sent). ``locking`` is the one lock
order all of them follow; ``totals`` keeps the stored balances and month totals, from
the one write path of transactions. Reads are in ``budgets.selectors``.
"""

from budgets.services.budgets import budget_create, budget_delete, budget_update
from budgets.services.categories import category_create, category_delete, category_update
from budgets.services.imports import transaction_import
from budgets.services.limits import (
    spending_limit_create,
    spending_limit_delete,
    spending_limit_update,
)
from budgets.services.recurring import (
    recurring_catch_up,
    recurring_post_due,
    recurring_rule_create,
    recurring_rule_delete,
    recurring_rule_update,
)
from budgets.services.transactions import (
    transaction_bulk_create,
    transaction_create,
    transaction_delete,
    transaction_save_any,
    transaction_update,
    transactions_delete_any,
    transactions_insert,
)
from budgets.services.transfers import transfer_create, transfer_delete, transfer_update

__all__ = [
    "budget_create",
    "budget_delete",
    "budget_update",
    "category_create",
    "category_delete",
    "category_update",
    "recurring_catch_up",
    "recurring_post_due",
    "recurring_rule_create",
    "recurring_rule_delete",
    "recurring_rule_update",
    "spending_limit_create",
    "spending_limit_delete",
    "spending_limit_update",
    "transaction_bulk_create",
    "transaction_create",
    "transaction_delete",
    "transaction_import",
    "transaction_save_any",
    "transaction_update",
    "transactions_delete_any",
    "transactions_insert",
    "transfer_create",
    "transfer_delete",
    "transfer_update",
]
