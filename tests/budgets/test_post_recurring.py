"""``manage.py post_recurring``: posts what is due for every user, exactly once, says
what it posted, and can be run again at any time."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from budgets.models import Transaction
from budgets.services.recurring import recurring_rule_create
from tests.conftest import make_budget


@pytest.fixture
def today(monkeypatch) -> dt.date:
    """ "Today", pinned for the test and the command alike (a run may cross midnight)."""
    pinned = timezone.localdate()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: pinned)
    return pinned


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("post_recurring", *args, stdout=out)
    return out.getvalue()


def rule(user, budget, *, start: dt.date, frequency="daily", **fields):
    return recurring_rule_create(
        user=user,
        budget=budget.pk,
        amount=Decimal(fields.pop("amount", "-9.99")),
        start_date=start,
        frequency=frequency,
        description=fields.pop("description", "Gym"),
        **fields,
    )


def test_posts_everything_due_for_every_user_and_says_what(user, other_user, budget, today):
    mine = rule(user, budget, start=today - dt.timedelta(days=2))
    theirs = rule(other_user, make_budget(other_user, title="Flat"), start=today, amount="-500")
    rule(user, budget, start=today + dt.timedelta(days=3))  # nothing due yet

    output = run("--batch", "2")

    lines = output.splitlines()
    assert lines[:3] == [
        f"{today - dt.timedelta(days=d)}         -9.99  Gym  -> Household "
        f"(rule {mine.pk}, user {user.username})"
        for d in (2, 1, 0)
    ]
    assert lines[3] == f"{today}       -500.00  Gym  -> Flat (rule {theirs.pk}, user mallory)"
    assert lines[4] == f"Posted 4 transactions due up to {today}."
    assert Transaction.objects.count() == 4


def test_running_again_posts_nothing_twice(user, budget, today):
    rule(user, budget, start=today - dt.timedelta(days=5))
    run()

    assert run() == f"Posted 0 transactions due up to {today}.\n"
    assert Transaction.objects.count() == 6


def test_date_posts_only_what_was_due_then(user, budget, today):
    rule(user, budget, start=today - dt.timedelta(days=10))

    run("--date", str(today - dt.timedelta(days=8)))

    assert Transaction.objects.count() == 3
    user.refresh_from_db()
    assert user.recurring_next_due == today - dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "2026-02-30"), "--date must be a date like 2026-03-01."),
        (("--date", "tomorrow"), "--date must not be after today"),
        (("--batch", "0"), "--batch must be at least 1."),
    ],
)
def test_bad_arguments(db, today, args, message):
    args = tuple(str(today + dt.timedelta(days=1)) if a == "tomorrow" else a for a in args)

    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_user_the_database_stays_busy_for_does_not_hold_up_the_others(
    user, other_user, budget, today, monkeypatch
):
    from budgets.management.commands import post_recurring
    from project.errors import DatabaseBusy

    rule(user, budget, start=today)
    rule(other_user, make_budget(other_user, title="Flat"), start=today)
    real = post_recurring.recurring_post_due

    def busy_for_alice(*, user, **kwargs):
        if user.username == "alice":
            raise DatabaseBusy("recurring_post_due gave up after 4 tries")
        return real(user=user, **kwargs)

    monkeypatch.setattr(post_recurring, "recurring_post_due", busy_for_alice)

    with pytest.raises(CommandError, match=r"busy for 1 user\(s\) \(alice\); run the command"):
        run()

    assert list(Transaction.objects.values_list("budget__user__username", flat=True)) == ["mallory"]
