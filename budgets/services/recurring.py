"""Recurring rules: create, edit, delete, and post their due occurrences.

**Posting.** Every occurrence dated today or earlier becomes an ordinary transaction
linked to its rule, exactly once: the database refuses a second transaction for the same
(rule, occurrence date) (a unique constraint), so two posters running at the same moment
(the ``post_recurring`` command, lazy posting before reads in several workers) cannot both
post it. A rule keeps a cursor: ``last_posted_date`` (the latest occurrence posted) and
``next_due_date`` (the first one not posted yet, null once the rule has ended).

**Edits** change future occurrences only. Transactions already posted are never touched,
and posting resumes after ``last_posted_date`` whatever the new start date, frequency or
interval say, so no date at or before it is posted again (and none is back-filled there).
Deleting a rule keeps its transactions, unlinked.

**The user's next due date.** ``User.recurring_next_due`` is the earliest
``next_due_date`` of the user's rules, kept here on every rule write and posting. The
user row is loaded by authentication anyway, so a read finds out that nothing is due
without a query (:func:`recurring_catch_up`). It may be early (a deleted budget took its
rules along), never late.

**Locks**, in this order: the user row (FOR NO KEY UPDATE: it holds the cached date and
serialises every rule write and poster of one user), then budgets and categories
(ascending ids, ``locking``), then the rule, then transactions.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.utils import timezone

from budgets import messages
from budgets.models import RecurringRule, Transaction
from budgets.selectors.common import get_or_not_found
from budgets.services.locking import lock_budgets, lock_categories, reference_errors
from budgets.services.transactions import NewTransaction, transaction_bulk_create
from project.errors import FieldError, NotFound, Precondition, PreconditionFailed
from project.services import UNSET, Retry, Unset, assign, retry_on_conflict
from users.models import User

# A rule created or edited may have at most this many past occurrences left to post.
MAX_BACKFILL = 1000


def _lock_user(user) -> bool:
    rows = User.objects.filter(pk=user.pk).select_for_update(no_key=True).values_list("pk")
    return bool(list(rows))


def _refresh_user_next_due(user) -> dt.date | None:
    """Store the earliest ``next_due_date`` of the user's rules on the user row (and on
    the ``user`` object, so the rest of the request sees it). Hold the user lock."""
    due = RecurringRule.objects.for_user(user).aggregate(due=Min("next_due_date"))["due"]
    User.objects.filter(pk=user.pk).update(recurring_next_due=due)
    user.recurring_next_due = due
    return due


def _pending_count(rule: RecurringRule, today: dt.date) -> int:
    """How many occurrences dated up to ``today`` are still to be posted."""
    through = today if rule.end_date is None else min(today, rule.end_date)
    if through < rule.start_date:
        return 0
    schedule = rule.schedule
    # first_index_after(day) is the number of occurrences on or before that day.
    posted = schedule.first_index_after(rule.last_posted_date)
    return max(0, schedule.first_index_after(through) - posted)


def _check_and_schedule(rule: RecurringRule, *, errors: dict[str, list[str]], today: dt.date):
    """Validate the rule as a whole, then set its next due date."""
    if rule.end_date is not None and rule.end_date < rule.start_date:
        errors.setdefault("end_date", []).append(messages.RULE_END_BEFORE_START)
    elif _pending_count(rule, today) > MAX_BACKFILL:
        message = messages.RULE_BACKFILL_TOO_LONG.format(limit=MAX_BACKFILL)
        errors.setdefault("start_date", []).append(message)
    if errors:
        raise FieldError(errors)
    rule.next_due_date = rule.schedule.next_after(rule.last_posted_date)


def _locked_references(
    *, user, budgets: list[int], categories: list[int | None], wanted_budget, wanted_category
) -> dict[str, list[str]]:
    found = reference_errors(
        budgets_wanted=[] if wanted_budget is UNSET else [wanted_budget],
        categories_wanted=[] if wanted_category in (UNSET, None) else [wanted_category],
        budgets_found=lock_budgets(user=user, ids=budgets),
        categories_found=lock_categories(user=user, ids=categories),
    )
    return dict(found.errors) if found is not None else {}


@retry_on_conflict
def recurring_rule_create(
    *,
    user,
    budget: int,
    amount: Decimal,
    start_date: dt.date,
    frequency: str,
    interval: int = 1,
    category: int | None = None,
    description: str = "",
    end_date: dt.date | None = None,
    today: dt.date | None = None,
) -> RecurringRule:
    """A new rule; its occurrences up to today are posted by the next poster."""
    today = today or timezone.localdate()
    with transaction.atomic():
        _lock_user(user)
        errors = _locked_references(
            user=user,
            budgets=[budget],
            categories=[category],
            wanted_budget=budget,
            wanted_category=category,
        )
        rule = RecurringRule(
            budget_id=budget,
            category_id=category,
            amount=amount,
            description=description,
            start_date=start_date,
            end_date=end_date,
            frequency=frequency,
            interval=interval,
        )
        _check_and_schedule(rule, errors=errors, today=today)
        rule.save()
        _refresh_user_next_due(user)
    return rule


@retry_on_conflict
def recurring_rule_update(
    *,
    user,
    rule_id: int,
    budget: int | Unset = UNSET,
    amount: Decimal | Unset = UNSET,
    category: int | Unset | None = UNSET,
    description: str | Unset = UNSET,
    start_date: dt.date | Unset = UNSET,
    end_date: dt.date | Unset | None = UNSET,
    frequency: str | Unset = UNSET,
    interval: int | Unset = UNSET,
    today: dt.date | None = None,
    precondition: Precondition | None = None,
) -> RecurringRule:
    """PUT passes every field, PATCH those sent. Only occurrences after the rule's
    ``last_posted_date`` follow the change; posted transactions stay as they are.
    ``precondition`` (If-Match) runs on the locked rule before anything changes."""
    today = today or timezone.localdate()
    with transaction.atomic():
        _lock_user(user)  # no other rule write or poster of this user runs meanwhile
        current = get_or_not_found(RecurringRule.objects.for_user(user), rule_id)
        errors = _locked_references(
            user=user,
            budgets=[current.budget_id, *([] if budget is UNSET else [budget])],
            categories=[current.category_id, *([] if category is UNSET else [category])],
            wanted_budget=budget,
            wanted_category=category,
        )
        locked = RecurringRule.objects.for_user(user).select_for_update(of=("self",))
        rule = locked.filter(pk=rule_id).first()
        if rule is None:  # its budget was deleted meanwhile
            raise NotFound
        # Checked on the rule as it is now, but answered after the input checks below:
        # invalid input is a 400 whatever the If-Match.
        stale = _failed(precondition, rule)
        changed = assign(
            rule,
            budget_id=budget,
            category_id=category,
            amount=amount,
            description=description,
            start_date=start_date,
            end_date=end_date,
            frequency=frequency,
            interval=interval,
        )
        if changed:
            _check_and_schedule(rule, errors=errors, today=today)
        if stale is not None:
            raise stale
        if changed:
            rule.save(update_fields=[*changed, "next_due_date", "updated_at"])
            _refresh_user_next_due(user)
    return rule


def _failed(precondition: Precondition | None, rule: RecurringRule) -> PreconditionFailed | None:
    if precondition is not None:
        try:
            precondition(rule)
        except PreconditionFailed as exc:
            return exc
    return None


@retry_on_conflict
def recurring_rule_delete(*, user, rule_id: int, precondition: Precondition | None = None) -> None:
    """Deletes the rule; the transactions it posted stay, unlinked. ``precondition``
    (If-Match) runs on the rule once it is locked."""
    with transaction.atomic():
        _lock_user(user)
        rule = get_or_not_found(RecurringRule.objects.for_user(user), rule_id)
        lock_budgets(user=user, ids=[rule.budget_id])  # the parent before the rule
        if precondition is not None:
            rule = RecurringRule.objects.select_for_update().filter(pk=rule.pk).first()
            if rule is None:  # its budget was deleted meanwhile
                raise NotFound
            precondition(rule)
        rule.delete()
        _refresh_user_next_due(user)


@retry_on_conflict
def recurring_rule_reschedule(*, rule_id: int) -> None:
    """After a write that bypassed the services (the admin): set the rule's next due
    date from its cursor and its owner's cached one, like an edit through the API."""
    with transaction.atomic():
        rule = RecurringRule.objects.select_related("budget__user").filter(pk=rule_id).first()
        if rule is None:
            return
        owner = rule.budget.user
        _lock_user(owner)
        rule.next_due_date = rule.schedule.next_after(rule.last_posted_date)
        rule.save(update_fields=["next_due_date"])
        _refresh_user_next_due(owner)


@dataclass
class PostResult:
    posted: list[Transaction] = field(default_factory=list)
    rules: dict[int, RecurringRule] = field(default_factory=dict)
    # Whether occurrences dated up to ``today`` are still waiting (past the limit).
    more_due: bool = False


def _insert_exactly_once(*, user, rows: list[NewTransaction]) -> list[Transaction]:
    """Insert the occurrences; any the unique (rule, date) constraint refuses has
    already been posted (by a poster that got there first) and is left out."""
    try:
        with transaction.atomic():
            return transaction_bulk_create(user=user, rows=rows)
    except IntegrityError:
        pass  # one at a time now, to learn which ones were posted already
    posted: list[Transaction] = []
    for row in rows:
        try:
            with transaction.atomic():
                posted += transaction_bulk_create(user=user, rows=[row])
        except IntegrityError:
            if not _already_posted(row):
                raise
    return posted


def _already_posted(row: NewTransaction) -> bool:
    return Transaction.objects.filter(
        recurring_rule_id=row.recurring_rule, recurring_date=row.recurring_date
    ).exists()


@retry_on_conflict
def recurring_post_due(*, user, today: dt.date | None = None, limit: int) -> PostResult:
    """Post the user's occurrences dated up to ``today``, at most ``limit`` of them
    (earliest first); ``more_due`` says whether some are left for the next call."""
    today = today or timezone.localdate()
    result = PostResult()
    with transaction.atomic():
        if not _lock_user(user):
            return result
        due = RecurringRule.objects.for_user(user).filter(next_due_date__lte=today)
        # Whose category the rule names: the API only lets a rule name the owner's own,
        # but a write past it (the admin, a shell) may not have. Such a category is
        # left out (posted uncategorised, as after a category is deleted) rather than
        # failing every poster of this user for ever.
        due = due.annotate(category_owner=F("category__user_id"))
        rows: list[NewTransaction] = []
        for rule in due.order_by("next_due_date", "id")[:limit]:
            category = rule.category_id if rule.category_owner == user.pk else None
            dates = rule.schedule.between(
                after=rule.last_posted_date, through=today, limit=limit - len(rows)
            )
            rows += [
                NewTransaction(
                    budget=rule.budget_id,
                    amount=rule.amount,
                    date=day,
                    category=category,
                    description=rule.description,
                    recurring_rule=rule.pk,
                    recurring_date=day,
                )
                for day in dates
            ]
            rule.last_posted_date = dates[-1] if dates else rule.last_posted_date
            rule.next_due_date = rule.schedule.next_after(rule.last_posted_date)
            result.rules[rule.pk] = rule
            if len(rows) >= limit:
                break
        try:
            result.posted = _insert_exactly_once(user=user, rows=rows)
        except FieldError as exc:
            # A budget or category was deleted after the rules were read: read again.
            raise Retry from exc
        # Moving the cursor is bookkeeping, not an edit: ``updated_at`` stays.
        RecurringRule.objects.bulk_update(
            list(result.rules.values()), ["last_posted_date", "next_due_date"]
        )
        next_due = _refresh_user_next_due(user)
    result.more_due = next_due is not None and next_due <= today
    return result


def recurring_catch_up(*, user, today: dt.date | None = None) -> None:
    """Before a read: post the caller's due occurrences, at most
    ``RECURRING_POST_PER_REQUEST`` (the rest on later reads or by ``post_recurring``).
    Costs no query when nothing is due: the user row is already loaded."""
    today = today or timezone.localdate()
    due = getattr(user, "recurring_next_due", None)
    if due is None or due > today:
        return
    recurring_post_due(user=user, today=today, limit=settings.RECURRING_POST_PER_REQUEST)
