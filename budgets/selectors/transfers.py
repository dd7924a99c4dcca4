"""Reading transfers: the filtered list (newest first) and one transfer, each with the
ids of its two legs."""

import datetime as dt

from django.db.models import OuterRef, Q, QuerySet, Subquery

from budgets.models import Transaction, Transfer
from budgets.selectors.common import get_or_not_found, valid_id

TRANSFER_ORDERING = ("-date", "-created_at", "-id")


def _with_legs(transfers: QuerySet[Transfer]) -> QuerySet[Transfer]:
    """Annotate ``from_transaction`` and ``to_transaction``, the ids of the expense and
    income legs, in the same query."""
    legs = Transaction.objects.filter(transfer=OuterRef("pk")).order_by()
    return transfers.annotate(
        from_transaction=Subquery(legs.filter(amount__lt=0).values("pk")[:1]),
        to_transaction=Subquery(legs.filter(amount__gt=0).values("pk")[:1]),
    )


def transfer_list(
    *,
    user,
    budget: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Transfer]:
    """The caller's transfers; ``budget`` matches either side, and naming someone
    else's budget (or an impossible id) matches nothing."""
    qs = Transfer.objects.for_user(user)
    if budget is not None:
        qs = (
            qs.filter(Q(from_budget_id=budget) | Q(to_budget_id=budget))
            if valid_id(budget)
            else qs.none()
        )
    if date_from is not None:
        qs = qs.filter(date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(date__lte=date_to)
    return _with_legs(qs).order_by(*TRANSFER_ORDERING)


def transfer_get(*, user, transfer_id: int) -> Transfer:
    return get_or_not_found(_with_legs(Transfer.objects.for_user(user)), transfer_id)


def transfer_partner_budget_ids(*, user, budget_id: int) -> set[int]:
    """The caller's budgets that share at least one transfer with ``budget_id``."""
    pairs = (
        Transfer.objects.for_user(user)
        .filter(Q(from_budget_id=budget_id) | Q(to_budget_id=budget_id))
        .values_list("from_budget_id", "to_budget_id")
        .distinct()
    )
    return {budget for pair in pairs for budget in pair} - {budget_id}
