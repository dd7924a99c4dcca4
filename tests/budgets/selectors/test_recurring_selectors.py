"""Reading recurring rules: upcoming occurrences (computed, never stored), the list and
one rule, scoped to the caller."""

from decimal import Decimal

import pytest

from budgets.selectors.recurring import (
    recurring_rule_get,
    recurring_rule_list,
    recurring_rule_upcoming,
)
from project.errors import NotFound
from tests.budgets.recurring_helpers import TODAY, D, post, rule_for
from tests.conftest import make_budget


def test_upcoming_starts_today_while_today_is_not_posted(user, budget):
    rule = rule_for(user, budget, start_date=D(2026, 1, 31))

    upcoming = recurring_rule_upcoming(user=user, rule_id=rule.pk, count=3, today=D(2026, 3, 31))

    assert [o["date"] for o in upcoming["occurrences"]] == [
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
    ]
    assert upcoming["occurrences"][0] == {
        "date": D(2026, 3, 31),
        "budget": budget.pk,
        "amount": Decimal("-1150.00"),
        "category": None,
        "description": "Rent",
    }


def test_upcoming_skips_what_is_posted_and_stops_at_the_end(user, budget):
    rule = rule_for(
        user, budget, start_date=D(2026, 3, 10), end_date=D(2026, 3, 12), frequency="daily"
    )
    post(user)  # Mar 10

    upcoming = recurring_rule_upcoming(user=user, rule_id=rule.pk, count=10, today=TODAY)

    assert [o["date"] for o in upcoming["occurrences"]] == [D(2026, 3, 11), D(2026, 3, 12)]


def test_list_is_newest_first_and_filters_by_budget(user, other_user, budget):
    first = rule_for(user, budget)
    savings = make_budget(user, title="Savings")
    second = rule_for(user, savings)
    rule_for(other_user, make_budget(other_user))

    assert list(recurring_rule_list(user=user)) == [second, first]
    assert list(recurring_rule_list(user=user, budget=budget.pk)) == [first]
    assert list(recurring_rule_list(user=user, budget=2**70)) == []


@pytest.mark.parametrize("selector", ["get", "upcoming"])
def test_another_users_rule_is_not_found(user, other_user, selector):
    foreign = rule_for(other_user, make_budget(other_user))
    calls = {
        "get": lambda: recurring_rule_get(user=user, rule_id=foreign.pk),
        "upcoming": lambda: recurring_rule_upcoming(user=user, rule_id=foreign.pk, count=3),
    }

    with pytest.raises(NotFound):
        calls[selector]()
