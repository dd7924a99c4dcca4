"""Reading recurring rules: the list, one rule, and its upcoming occurrences."""

import datetime as dt
import itertools
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from budgets.models import RecurringRule
from budgets.selectors.common import get_or_not_found, valid_id

RECURRING_RULE_ORDERING = ("-created_at", "-id")
UPCOMING_DEFAULT = 10
UPCOMING_MAX = 100


def recurring_rule_list(*, user, budget: int | None = None) -> QuerySet[RecurringRule]:
    """The caller's rules, newest first; ``budget`` (an id) narrows them to one budget
    (someone else's, or an impossible id, matches nothing)."""
    qs = RecurringRule.objects.for_user(user)
    if budget is not None:
        qs = qs.filter(budget_id=budget) if valid_id(budget) else qs.none()
    return qs.order_by(*RECURRING_RULE_ORDERING)


def recurring_rule_get(*, user, rule_id: int) -> RecurringRule:
    return get_or_not_found(RecurringRule.objects.for_user(user), rule_id)


def recurring_rule_upcoming(
    *, user, rule_id: int, count: int, today: dt.date | None = None
) -> dict[str, Any]:
    """The next ``count`` occurrences from ``today`` on (today included while it is not
    posted), computed from the rule, never stored; fewer when the rule ends first."""
    rule = recurring_rule_get(user=user, rule_id=rule_id)
    yesterday = (today or timezone.localdate()) - dt.timedelta(days=1)
    after = max(yesterday, rule.last_posted_date or yesterday)
    dates = itertools.islice(rule.schedule.occurrences(after=after), count)
    return {
        "rule": rule.pk,
        "occurrences": [
            {
                "date": day,
                "budget": rule.budget_id,
                "amount": rule.amount,
                "category": rule.category_id,
                "description": rule.description,
            }
            for day in dates
        ],
    }
