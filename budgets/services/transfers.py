"""Writing transfers: money moved between two of the caller's budgets in one database
transaction, as an expense leg in the source and an income leg in the target.

Locks follow ``budgets.services.locking``: both budgets (ascending id, so A→B and B→A at
the same moment cannot deadlock), then the transfer, then its legs. Legs are written
through the transactions write path, like every transaction row.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from budgets import messages
from budgets.models import Transfer
from budgets.selectors.common import valid_id
from budgets.selectors.transfers import transfer_get
from budgets.services.locking import lock_budgets, lock_transfer, lock_transfer_legs
from budgets.services.transactions import (
    NewTransaction,
    transaction_change,
    transaction_remove,
    transactions_insert,
    transactions_unlink_transfers,
)
from project.errors import FieldError, NotFound, Precondition
from project.services import UNSET, Unset, assign, retry_on_conflict


@retry_on_conflict
def transfer_create(
    *,
    user,
    from_budget: int,
    to_budget: int,
    amount: Decimal,
    date: dt.date,
    description: str = "",
) -> Transfer:
    """``from_budget``/``to_budget`` are ids of two different budgets of the caller."""
    if from_budget == to_budget:
        raise FieldError.single("to_budget", messages.TRANSFER_SAME_BUDGET)
    with transaction.atomic():
        found = lock_budgets(user=user, ids=[from_budget, to_budget])
        missing = {
            field: [messages.BUDGET_NOT_FOUND]
            for field, budget in (("from_budget", from_budget), ("to_budget", to_budget))
            if budget not in found
        }
        if missing:
            raise FieldError(missing)
        transfer = Transfer.objects.create(
            from_budget_id=from_budget,
            to_budget_id=to_budget,
            amount=amount,
            date=date,
            description=description,
        )
        # Both legs in one insert, through the one write path of transactions.
        transactions_insert(
            rows=[
                NewTransaction(
                    budget=budget,
                    amount=signed,
                    date=date,
                    description=description,
                    transfer=transfer.pk,
                )
                for budget, signed in ((from_budget, -amount), (to_budget, amount))
            ]
        )
        # Read back while the budgets are locked: a budget deleted right after the
        # commit would take the transfer with it.
        return transfer_get(user=user, transfer_id=transfer.pk)


def _lock(*, user, transfer_id: int, precondition: Precondition | None = None) -> Transfer:
    """Lock both budgets of the transfer, then the transfer. A transfer never changes
    budgets, so reading them first without a lock is safe; if one was deleted
    meanwhile, the transfer went with it (not found). ``precondition`` (If-Match) then
    runs on the transfer as a GET shows it (read again under the lock, with its legs)."""
    current = transfer_get(user=user, transfer_id=transfer_id)
    lock_budgets(user=user, ids=[current.from_budget_id, current.to_budget_id])
    transfer = lock_transfer(user=user, transfer_id=transfer_id)
    if transfer is None:
        raise NotFound
    if precondition is not None:
        precondition(transfer_get(user=user, transfer_id=transfer_id))
    return transfer


@retry_on_conflict
def transfer_update(
    *,
    user,
    transfer_id: int,
    amount: Decimal | Unset = UNSET,
    date: dt.date | Unset = UNSET,
    description: str | Unset = UNSET,
    precondition: Precondition | None = None,
) -> Transfer:
    """Both legs follow: -amount / +amount, the same date and description.
    ``precondition`` (If-Match) runs on the transfer once it is locked."""
    with transaction.atomic():
        transfer = _lock(user=user, transfer_id=transfer_id, precondition=precondition)
        changed = assign(transfer, amount=amount, date=date, description=description)
        if changed:
            transfer.save(update_fields=[*changed, "updated_at"])
            for leg in lock_transfer_legs(transfer=transfer):
                signed = UNSET if amount is UNSET else (-amount if leg.amount < 0 else amount)
                transaction_change(leg, amount=signed, date=date, description=description)
        return transfer_get(user=user, transfer_id=transfer_id)


@retry_on_conflict
def transfer_delete(*, user, transfer_id: int, precondition: Precondition | None = None) -> None:
    """Deletes the transfer and both its legs (``precondition``: as in ``transfer_update``)."""
    with transaction.atomic():
        transfer = _lock(user=user, transfer_id=transfer_id, precondition=precondition)
        for leg in lock_transfer_legs(transfer=transfer):
            transaction_remove(leg)
        transfer.delete()


def transfers_end_with_budget(*, budget_id: int) -> None:
    """For ``budget_delete``, with the budget and its transfer partners locked: every
    transfer from or to the budget ends; its leg in the other budget stays there as an
    ordinary transaction (that budget's balance does not change), its leg in this
    budget goes with the budget."""
    if not valid_id(budget_id):
        return
    transfers = Transfer.objects.filter(Q(from_budget_id=budget_id) | Q(to_budget_id=budget_id))
    transactions_unlink_transfers(transfer_ids=transfers.values("pk"), outside_budget_id=budget_id)
