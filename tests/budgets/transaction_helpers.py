"""What the transaction API tests share: paths, expected bodies, snapshots."""

from budgets import messages
from budgets.models import Transaction
from tests.conftest import TIMESTAMP

URL = "/api/transactions/"
NOT_FOUND = {"detail": "Not found."}
BUDGET_NOT_FOUND = {"budget": [messages.BUDGET_NOT_FOUND]}
CATEGORY_NOT_FOUND = {"category": [messages.CATEGORY_NOT_FOUND]}
# Ids that cannot exist: unused, zero, negative, the first beyond bigint, far beyond 64 bits.
ABSENT_IDS = [987654, 0, -1, 2**63, 2**64 + 1, 10**30]


def detail_url(transaction_id) -> str:
    return f"{URL}{transaction_id}/"


def expected(tx: Transaction) -> dict:
    return {
        "id": tx.pk,
        "budget": tx.budget_id,
        "amount": f"{tx.amount:.2f}",
        "category": tx.category_id,
        "description": tx.description,
        "date": tx.date.isoformat(),
        "recurring_rule": tx.recurring_rule_id,
        "transfer": tx.transfer_id,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }


def body_for(budget, /, **fields) -> dict:
    return {"budget": budget.pk, "amount": "-45.50", "date": "2026-02-15", **fields}


def balance(client, budget) -> str:
    response = client.get(f"/api/budgets/{budget.pk}/")
    assert response.status_code == 200
    return response.json()["balance"]


def snapshot() -> list[tuple]:
    """Every transaction row, to prove a rejected request changed nothing."""
    return list(
        Transaction.objects.order_by("id").values_list(
            "id", "budget_id", "amount", "category_id", "description", "date", "updated_at"
        )
    )
