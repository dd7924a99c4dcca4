"""Recurring rules in the service layer: validation, the posting cursor, exactly-once
posting (the unique constraint, not a check), edits that never rewrite the past, the
user's cached next due date, and isolation between users."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.db import transaction as db_transaction

from budgets import messages, services
from budgets.models import RecurringRule, Transaction
from budgets.services.recurring import (
    MAX_BACKFILL,
    recurring_catch_up,
    recurring_rule_delete,
    recurring_rule_update,
)
from project.errors import FieldError, NotFound
from tests.budgets.recurring_helpers import TODAY, D, post, rule_for
from tests.conftest import make_budget, make_category


def posted(rule_id=None) -> list[tuple]:
    qs = Transaction.objects.order_by("recurring_rule_id", "date", "id")
    if rule_id is not None:
        qs = qs.filter(recurring_rule_id=rule_id)
    return list(qs.values_list("date", "amount", "description", "recurring_date"))


def refreshed(user):
    user.refresh_from_db()
    return user


# --- Create, validation ------------------------------------------------------------


def test_create_sets_the_cursor_and_the_users_next_due_date(user, budget, category):
    rule = rule_for(user, budget, category=category.pk, start_date=D(2026, 1, 31))

    assert (rule.last_posted_date, rule.next_due_date) == (None, D(2026, 1, 31))
    assert refreshed(user).recurring_next_due == D(2026, 1, 31)
    assert user.recurring_next_due == D(2026, 1, 31)  # the caller's object follows too


def test_a_future_rule_is_due_on_its_start(user, budget):
    rule_for(user, budget, start_date=D(2026, 4, 1))

    assert refreshed(user).recurring_next_due == D(2026, 4, 1)
    assert post(user).posted == []


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"start_date": D(2026, 2, 1), "end_date": D(2026, 1, 31)},
            {"end_date": [messages.RULE_END_BEFORE_START]},
        ),
        (
            {"start_date": TODAY - dt.timedelta(days=MAX_BACKFILL), "frequency": "daily"},
            {"start_date": [messages.RULE_BACKFILL_TOO_LONG.format(limit=MAX_BACKFILL)]},
        ),
    ],
)
def test_invalid_rules_are_refused_and_nothing_is_stored(user, budget, fields, errors):
    with pytest.raises(FieldError) as caught:
        rule_for(user, budget, **fields)

    assert caught.value.errors == errors
    assert not RecurringRule.objects.exists()
    assert refreshed(user).recurring_next_due is None


def test_exactly_the_backfill_limit_is_accepted(user, budget):
    start = TODAY - dt.timedelta(days=MAX_BACKFILL - 1)

    rule_for(user, budget, start_date=start, frequency="daily")

    assert len(post(user, limit=10 * MAX_BACKFILL).posted) == MAX_BACKFILL


def test_an_old_start_with_an_end_date_counts_only_occurrences_up_to_the_end(user, budget):
    rule = rule_for(
        user, budget, start_date=D(2000, 1, 1), end_date=D(2000, 1, 31), frequency="daily"
    )

    assert len(post(user).posted) == 31
    rule.refresh_from_db()
    assert (rule.last_posted_date, rule.next_due_date) == (D(2000, 1, 31), None)


def test_another_users_budget_or_category_is_not_found(user, other_user, budget):
    foreign_budget = make_budget(other_user)
    foreign_category = make_category(other_user)

    with pytest.raises(FieldError) as caught:
        rule_for(user, budget, category=foreign_category.pk)
    with pytest.raises(FieldError) as caught_budget:
        rule_for(user, foreign_budget, end_date=D(2025, 1, 1))

    assert caught.value.errors == {"category": [messages.CATEGORY_NOT_FOUND]}
    # Every problem at once: the reference and the dates.
    assert caught_budget.value.errors == {
        "budget": [messages.BUDGET_NOT_FOUND],
        "end_date": [messages.RULE_END_BEFORE_START],
    }
    assert not RecurringRule.objects.exists()


# --- Posting -------------------------------------------------------------------------


def test_posting_creates_each_due_occurrence_once_and_moves_the_cursor(user, budget, category):
    rule = rule_for(user, budget, category=category.pk, start_date=D(2025, 12, 31))

    result = post(user)

    assert [tx.date for tx in result.posted] == [D(2025, 12, 31), D(2026, 1, 31), D(2026, 2, 28)]
    assert all(tx.category_id == category.pk and tx.budget_id == budget.pk for tx in result.posted)
    assert posted(rule.pk) == [
        (D(2025, 12, 31), Decimal("-1150.00"), "Rent", D(2025, 12, 31)),
        (D(2026, 1, 31), Decimal("-1150.00"), "Rent", D(2026, 1, 31)),
        (D(2026, 2, 28), Decimal("-1150.00"), "Rent", D(2026, 2, 28)),
    ]
    rule.refresh_from_db()
    assert (rule.last_posted_date, rule.next_due_date) == (D(2026, 2, 28), D(2026, 3, 31))
    assert refreshed(user).recurring_next_due == D(2026, 3, 31)
    assert result.more_due is False
    assert post(user).posted == []  # idempotent
    assert len(posted()) == 3


def test_an_occurrence_due_today_is_posted_today(user, budget):
    rule_for(user, budget, start_date=TODAY, frequency="weekly")

    assert [tx.date for tx in post(user).posted] == [TODAY]
    assert refreshed(user).recurring_next_due == TODAY + dt.timedelta(days=7)


def test_posting_is_bounded_and_resumes_where_it_stopped(user, budget):
    daily = rule_for(user, budget, start_date=D(2026, 3, 1), frequency="daily")
    weekly = rule_for(user, budget, start_date=D(2026, 3, 2), frequency="weekly", amount=1)

    first = post(user, limit=4)
    second = post(user, limit=4)
    third = post(user, limit=4)

    # Earliest due first: the daily rule's first days, then both in due-date order.
    assert [(tx.recurring_rule_id, tx.date.day) for tx in first.posted] == [
        (daily.pk, 1),
        (daily.pk, 2),
        (daily.pk, 3),
        (daily.pk, 4),
    ]
    # Then the weekly rule (due Mar 2 < Mar 5) comes first.
    assert [(tx.recurring_rule_id, tx.date.day) for tx in second.posted] == [
        (weekly.pk, 2),
        (weekly.pk, 9),
        (daily.pk, 5),
        (daily.pk, 6),
    ]
    assert (first.more_due, second.more_due, third.more_due) == (True, True, False)
    assert len(first.posted + second.posted + third.posted) == 10 + 2
    assert [d for d, *_ in posted(weekly.pk)] == [D(2026, 3, 2), D(2026, 3, 9)]
    assert post(user).posted == []


def test_the_end_date_stops_posting_and_clears_the_next_due_date(user, budget):
    rule = rule_for(user, budget, start_date=D(2026, 1, 15), end_date=D(2026, 2, 15))

    post(user)

    rule.refresh_from_db()
    assert [d for d, *_ in posted(rule.pk)] == [D(2026, 1, 15), D(2026, 2, 15)]
    assert rule.next_due_date is None
    assert refreshed(user).recurring_next_due is None


def test_a_deleted_posted_transaction_is_not_posted_again(user, budget):
    rule = rule_for(user, budget)
    first = post(user).posted[0]

    services.transaction_delete(user=user, transaction_id=first.pk)

    assert post(user, today=D(2026, 5, 1)).posted[0].date == D(2026, 4, 1)
    assert D(2026, 1, 1) not in [d for d, *_ in posted(rule.pk)]


def test_the_unique_constraint_refuses_a_second_transaction_for_an_occurrence(user, budget):
    rule = rule_for(user, budget)
    tx = post(user).posted[0]

    with pytest.raises(IntegrityError), db_transaction.atomic():
        Transaction.objects.create(
            budget=budget,
            amount=Decimal("1.00"),
            date=tx.date,
            recurring_rule=rule,
            recurring_date=tx.recurring_date,
        )


def test_a_poster_with_a_stale_cursor_posts_nothing_twice(user, budget):
    """A second poster that read the rule before the first one committed gets past any
    check and inserts: the unique (rule, date) constraint refuses those already
    posted, and only the missing occurrence is added."""
    rule = rule_for(user, budget)
    post(user)  # Jan 1, Feb 1, Mar 1
    Transaction.objects.filter(recurring_date=D(2026, 2, 1)).update(recurring_date=D(2026, 2, 2))
    RecurringRule.objects.filter(pk=rule.pk).update(
        last_posted_date=None, next_due_date=D(2026, 1, 1)
    )

    again = post(user)

    assert [tx.date for tx in again.posted] == [D(2026, 2, 1)]
    assert sorted(d for *_, d in posted(rule.pk)) == [
        D(2026, 1, 1),
        D(2026, 2, 1),
        D(2026, 2, 2),
        D(2026, 3, 1),
    ]
    rule.refresh_from_db()
    assert rule.next_due_date == D(2026, 4, 1)


def test_posting_uses_the_rules_category_when_it_still_exists(user, budget, category):
    rule = rule_for(user, budget, category=category.pk)
    category.delete()

    result = post(user)

    rule.refresh_from_db()
    assert rule.category_id is None
    assert {tx.category_id for tx in result.posted} == {None}


def test_a_category_of_another_user_set_past_the_api_is_posted_uncategorised(
    user, other_user, budget
):
    # The API refuses such a rule; a write past it (a shell, the admin before its form
    # checked this) used to make every poster of the user retry and give up (a 503 on
    # each of their reads) for ever.
    rule = rule_for(user, budget)
    RecurringRule.objects.filter(pk=rule.pk).update(category=make_category(other_user))

    result = post(user)

    assert [(tx.date, tx.category_id) for tx in result.posted] == [
        (D(2026, 1, 1), None),
        (D(2026, 2, 1), None),
        (D(2026, 3, 1), None),
    ]
    assert not result.more_due


def test_posting_only_touches_the_callers_rules(user, other_user, budget):
    other_budget = make_budget(other_user)
    rule_for(other_user, other_budget)
    mine = rule_for(user, budget, start_date=D(2026, 3, 1))

    assert [tx.recurring_rule_id for tx in post(user).posted] == [mine.pk]
    assert refreshed(other_user).recurring_next_due == D(2026, 1, 1)


# --- Lazy posting before reads -------------------------------------------------------


def test_catch_up_costs_no_query_when_nothing_is_due(user, budget, django_assert_num_queries):
    rule_for(user, budget, start_date=D(2026, 4, 1))

    with django_assert_num_queries(0):
        recurring_catch_up(user=user, today=TODAY)
    user.recurring_next_due = None
    with django_assert_num_queries(0):
        recurring_catch_up(user=user, today=TODAY)


def test_catch_up_posts_at_most_the_per_request_limit(user, budget, settings):
    settings.RECURRING_POST_PER_REQUEST = 3
    rule_for(user, budget, start_date=D(2026, 3, 1), frequency="daily")

    recurring_catch_up(user=user, today=TODAY)
    assert len(posted()) == 3
    assert user.recurring_next_due == D(2026, 3, 4)
    recurring_catch_up(user=user, today=TODAY)
    assert len(posted()) == 6


def test_catch_up_posts_in_a_fixed_number_of_queries(user, budget, django_assert_num_queries):
    category = make_category(user, "Bills")
    for day in range(1, 6):
        rule_for(user, budget, start_date=D(2026, 3, day), category=category.pk)
    rule_for(user, budget, start_date=D(2026, 1, 1), frequency="daily")

    # Savepoint, lock the user, the due rules, lock budgets, lock categories (in a
    # savepoint: the budget's stored totals, its month totals, insert), move the cursors,
    # the earliest next due date, store it, release: the same whatever the number of
    # rules and occurrences.
    with django_assert_num_queries(14):
        recurring_catch_up(user=user, today=TODAY)

    assert len(posted()) == 5 + 69


def test_a_stale_early_next_due_date_heals_itself(user, budget, django_assert_num_queries):
    rule_for(user, budget)
    budget.delete()  # takes its rules along; the user's cached date is left early

    recurring_catch_up(user=user, today=TODAY)

    assert refreshed(user).recurring_next_due is None
    with django_assert_num_queries(0):
        recurring_catch_up(user=user, today=TODAY)


# --- Edits never rewrite the past ------------------------------------------------------


def test_editing_the_amount_changes_only_future_occurrences(user, budget):
    rule = rule_for(user, budget)
    post(user)

    recurring_rule_update(user=user, rule_id=rule.pk, amount=Decimal("-1200.00"), today=TODAY)
    post(user, today=D(2026, 4, 1))

    assert [a for _, a, *_ in posted(rule.pk)] == [Decimal("-1150.00")] * 3 + [Decimal("-1200.00")]


def test_moving_the_start_earlier_does_not_backfill_before_the_cursor(user, budget):
    rule = rule_for(user, budget, start_date=D(2026, 3, 1))
    post(user)  # Mar 1

    updated = recurring_rule_update(
        user=user, rule_id=rule.pk, start_date=D(2025, 6, 15), today=TODAY
    )

    assert updated.next_due_date == D(2026, 3, 15)
    post(user)
    assert [d for d, *_ in posted(rule.pk)] == [D(2026, 3, 1)]
    assert refreshed(user).recurring_next_due == D(2026, 3, 15)


def test_changing_the_frequency_resumes_after_the_last_posted_date(user, budget):
    rule = rule_for(user, budget, start_date=D(2026, 1, 5))
    post(user)  # Jan 5, Feb 5, Mar 5

    recurring_rule_update(user=user, rule_id=rule.pk, frequency="weekly", today=TODAY)
    post(user, today=D(2026, 3, 20))

    assert [d for d, *_ in posted(rule.pk)] == [
        D(2026, 1, 5),
        D(2026, 2, 5),
        D(2026, 3, 5),
        D(2026, 3, 9),  # the first Monday of the weekly series after Mar 5
        D(2026, 3, 16),
    ]


def test_a_rule_never_posted_is_backfilled_from_its_new_start(user, budget):
    rule = rule_for(user, budget, start_date=D(2026, 6, 1))

    recurring_rule_update(user=user, rule_id=rule.pk, start_date=D(2026, 2, 1), today=TODAY)

    assert [tx.date for tx in post(user).posted] == [D(2026, 2, 1), D(2026, 3, 1)]


def test_an_update_is_checked_against_the_stored_values(user, budget):
    rule = rule_for(user, budget, end_date=D(2026, 12, 31))

    with pytest.raises(FieldError) as caught:
        recurring_rule_update(user=user, rule_id=rule.pk, start_date=D(2027, 1, 1), today=TODAY)

    assert caught.value.errors == {"end_date": [messages.RULE_END_BEFORE_START]}
    rule.refresh_from_db()
    assert rule.start_date == D(2026, 1, 1)


def test_moving_a_rule_to_another_budget_posts_future_occurrences_there(user, budget):
    rule = rule_for(user, budget)
    post(user)
    savings = make_budget(user, title="Savings")

    recurring_rule_update(user=user, rule_id=rule.pk, budget=savings.pk, today=TODAY)
    post(user, today=D(2026, 4, 1))

    budgets = list(Transaction.objects.order_by("date").values_list("budget_id", flat=True))
    assert budgets == [budget.pk] * 3 + [savings.pk]


def test_an_empty_update_changes_nothing(user, budget, django_assert_num_queries):
    rule = rule_for(user, budget)

    # Savepoint, lock the user, read the rule, lock its budget, lock it, release.
    with django_assert_num_queries(6):
        same = recurring_rule_update(user=user, rule_id=rule.pk, today=TODAY)

    assert same.updated_at == rule.updated_at


# --- Delete, isolation ---------------------------------------------------------------


def test_deleting_a_rule_keeps_its_transactions_unlinked(user, budget):
    rule = rule_for(user, budget)
    rule_for(user, budget, start_date=D(2026, 5, 5))
    post(user)

    recurring_rule_delete(user=user, rule_id=rule.pk)

    assert Transaction.objects.count() == 3
    assert set(Transaction.objects.values_list("recurring_rule_id", flat=True)) == {None}
    assert refreshed(user).recurring_next_due == D(2026, 5, 5)


@pytest.mark.parametrize("action", ["update", "delete"])
def test_another_users_rule_is_not_found(user, other_user, action):
    foreign = rule_for(other_user, make_budget(other_user))
    calls = {
        "update": lambda: recurring_rule_update(
            user=user, rule_id=foreign.pk, amount=Decimal("1"), today=TODAY
        ),
        "delete": lambda: recurring_rule_delete(user=user, rule_id=foreign.pk),
    }

    with pytest.raises(NotFound):
        calls[action]()
    foreign.refresh_from_db()
    assert foreign.amount == Decimal("-1150.00")
