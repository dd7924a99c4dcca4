"""What the recurring rule tests share: a fixed "today" and a rule builder that goes
through the real service."""

import datetime as dt
from decimal import Decimal

from budgets.models import RecurringRule
from budgets.services.recurring import recurring_post_due, recurring_rule_create

D = dt.date
TODAY = D(2026, 3, 10)


def rule_for(user, budget, **fields) -> RecurringRule:
    """A monthly rent of -1150.00 from 2026-01-01, created on ``TODAY``; any field may be
    replaced."""
    values = {
        "budget": budget.pk,
        "amount": Decimal("-1150.00"),
        "start_date": D(2026, 1, 1),
        "frequency": "monthly",
        "description": "Rent",
        "today": TODAY,
        **fields,
    }
    return recurring_rule_create(user=user, **values)


def post(user, today=TODAY, limit=1000):
    return recurring_post_due(user=user, today=today, limit=limit)
