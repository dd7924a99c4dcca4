"""What the transfer tests share."""

from budgets.models import Transaction, Transfer


def transfer_snapshot() -> list[tuple]:
    """Every transfer and transaction row, to prove a rejected call changed nothing."""
    return [
        *Transfer.objects.order_by("pk").values_list(
            "pk", "from_budget_id", "to_budget_id", "amount", "date", "description", "updated_at"
        ),
        *Transaction.objects.order_by("pk").values_list(
            "pk", "budget_id", "amount", "date", "description", "transfer_id", "updated_at"
        ),
    ]
