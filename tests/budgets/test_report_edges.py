"""Report edge cases found by fuzzing: sums beyond one amount's digits, years before 1000."""

from decimal import Decimal

from budgets.models import TRANSACTION_AMOUNT_MAX
from tests.conftest import make_budget, make_transaction


def test_summary_and_balance_with_sums_beyond_twelve_digits(auth_client, user):
    budget = make_budget(user, initial_amount=Decimal("999999999.99"))
    for _ in range(5):
        make_transaction(budget, str(TRANSACTION_AMOUNT_MAX))
    make_transaction(budget, "-0.01")

    summary = auth_client.get(f"/api/budgets/{budget.id}/summary/")
    detail = auth_client.get(f"/api/budgets/{budget.id}/")

    assert summary.status_code == 200, summary.content
    body = summary.json()
    assert body["income_total"] == "49999999999.95"
    assert body["expense_total"] == "0.01"
    assert body["balance"] == detail.json()["balance"] == "50999999999.93"
    assert body["by_month"][0]["net"] == "49999999999.94"


def test_summary_months_of_early_years_keep_four_digits(auth_client, user):
    import datetime as dt

    budget = make_budget(user)
    make_transaction(budget, "-5.00", date=dt.date(374, 6, 15))

    response = auth_client.get(f"/api/budgets/{budget.id}/summary/")

    assert response.status_code == 200
    assert [m["month"] for m in response.json()["by_month"]] == ["0374-06"]


def test_balances_and_totals_are_exact_to_the_cent_beyond_float_precision(auth_client, user):
    # SQLite stores decimals as binary floats; totals past ~1e13 used to lose cents.
    import datetime as dt

    from budgets.models import Transaction
    from budgets.services.totals import totals_rebuild

    budget = make_budget(user, initial_amount=Decimal("999999999.99"))
    Transaction.objects.bulk_create(
        [
            Transaction(budget=budget, amount=TRANSACTION_AMOUNT_MAX, date=dt.date(2026, 1, 1))
            for _ in range(1001)
        ]
        + [
            Transaction(budget=budget, amount=Decimal("0.01"), date=dt.date(2026, 1, 1))
            for _ in range(3)
        ]
    )
    totals_rebuild(budget_ids=[budget.pk])  # bulk_create went around the write path

    detail = auth_client.get(f"/api/budgets/{budget.id}/").json()
    summary = auth_client.get(f"/api/budgets/{budget.id}/summary/").json()

    assert detail["balance"] == summary["balance"] == "10010999999990.01"
    assert summary["income_total"] == "10009999999990.02"
    assert summary["by_month"][0]["net"] == "10009999999990.02"
