"""``manage.py post_recurring``: post every recurring occurrence that is due.

    python manage.py post_recurring                 # everything due up to today
    python manage.py post_recurring --date 2026-03-01

Schedule it (cron, a systemd timer, a Kubernetes CronJob) as often as you like, e.g.
hourly: each occurrence is posted exactly once, however often the command runs and even
while another run, or the API's posting before reads, is at work on the same rules (the
database refuses a second transaction for the same rule and date). It prints one line per
transaction it posted, then a total. A user whose postings keep losing to concurrent
writes is skipped (the others are still posted) and the command then exits non-zero.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from budgets.models import Budget, RecurringRule
from budgets.services.recurring import recurring_post_due
from project.errors import DatabaseBusy

DEFAULT_BATCH = 500


class Command(BaseCommand):
    help = (
        "Post every recurring occurrence due up to today (or --date) as a transaction, "
        "exactly once. Safe to run often and concurrently."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            help="Post what is due up to this day (YYYY-MM-DD, not after today). Default: today.",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=DEFAULT_BATCH,
            metavar="N",
            help="Occurrences posted per database transaction. Default: %(default)s",
        )

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        day = today
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date must be a date like 2026-03-01.") from exc
            if day > today:
                raise CommandError("--date must not be after today: nothing is due yet.")
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1.")

        due = RecurringRule.objects.filter(next_due_date__lte=day)
        user_ids = sorted(set(due.values_list("budget__user_id", flat=True)))
        total, skipped = 0, []
        for user in get_user_model().objects.filter(pk__in=user_ids).order_by("pk"):
            try:
                total += self._post_for(user, day, options["batch"])
            except DatabaseBusy as exc:
                # Other users' postings must not wait for this one's (it stays due).
                skipped.append(user.username)
                self.stderr.write(f"User {user.username}: {exc}; skipped.")
        self.stdout.write(self.style.SUCCESS(f"Posted {total} transactions due up to {day}."))
        if skipped:
            raise CommandError(
                f"The database stayed busy for {len(skipped)} user(s) "
                f"({', '.join(skipped)}); run the command again."
            )

    def _post_for(self, user, day: dt.date, batch: int) -> int:
        posted = 0
        while True:
            result = recurring_post_due(user=user, today=day, limit=batch)
            posted += len(result.posted)
            self._report(user, result.posted)
            if not result.more_due or not result.rules:
                return posted

    def _report(self, user, posted) -> None:
        titles = dict(
            Budget.objects.filter(pk__in={tx.budget_id for tx in posted}).values_list("pk", "title")
        )
        for tx in posted:
            self.stdout.write(
                f"{tx.date}  {tx.amount:>12}  {tx.description or '-'}  "
                f"-> {titles.get(tx.budget_id, tx.budget_id)} "
                f"(rule {tx.recurring_rule_id}, user {user.username})"
            )
