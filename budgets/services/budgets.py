"""Writing budgets: create, update (PUT and PATCH), delete with its transactions."""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from budgets.models import Budget
from budgets.selectors.common import get_or_not_found
from budgets.selectors.transfers import transfer_partner_budget_ids
from budgets.services.locking import lock_budget_to_delete
from budgets.services.transfers import transfers_end_with_budget
from project.errors import NotFound, Precondition
from project.services import UNSET, Retry, Unset, assign, retry_on_conflict


@retry_on_conflict
def budget_create(
    *, user, title: str, date: dt.date, initial_amount: Decimal, description: str = ""
) -> Budget:
    # The new row is returned as created: no transaction yet, so its balance is the
    # initial amount (the stored totals start at 0).
    return Budget.objects.create(
        user=user, title=title, description=description, date=date, initial_amount=initial_amount
    )


@retry_on_conflict
def budget_update(
    *,
    user,
    budget_id: int,
    title: str | Unset = UNSET,
    description: str | Unset = UNSET,
    date: dt.date | Unset = UNSET,
    initial_amount: Decimal | Unset = UNSET,
    precondition: Precondition | None = None,
) -> Budget:
    """PUT passes every field, PATCH only those sent; ``UNSET`` ones are left alone.

    ``precondition`` (If-Match) runs on the current budget, balance included, once its
    row is locked: no other write of it can slip between that check and this one."""
    with transaction.atomic():
        budget = get_or_not_found(Budget.objects.for_user(user).select_for_update(), budget_id)
        if precondition is not None:
            precondition(budget)
        changed = assign(
            budget, title=title, description=description, date=date, initial_amount=initial_amount
        )
        if changed:
            budget.save(update_fields=[*changed, "updated_at"])
    # Read while locked, the stored balance is current: no read back.
    return budget


@retry_on_conflict
def budget_delete(*, user, budget_id: int, precondition: Precondition | None = None) -> None:
    """Deletes the budget, its transactions and spending limits. Its transfers end: the
    leg in the other budget stays there as an ordinary transaction. ``precondition``: as
    in ``budget_update``, checked once the budget is locked."""
    with transaction.atomic():
        # Lock the budget before its transactions (the global lock order): a
        # transaction being added right now either commits first and goes with the
        # budget, or waits and then finds the budget gone. The budgets it shares
        # transfers with are locked too (their legs change), all in id order.
        partners = transfer_partner_budget_ids(user=user, budget_id=budget_id)
        budget = lock_budget_to_delete(user=user, budget_id=budget_id, partner_ids=partners)
        if budget is None:
            raise NotFound
        if not transfer_partner_budget_ids(user=user, budget_id=budget_id) <= partners:
            raise Retry  # a transfer to a new partner landed before our lock
        if precondition is not None:
            precondition(budget)
        transfers_end_with_budget(budget_id=budget_id)
        budget.delete()
