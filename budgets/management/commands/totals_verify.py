"""``manage.py totals_verify``: check every budget's stored totals against its transactions.

    python manage.py totals_verify              # report and repair what differs
    python manage.py totals_verify --check      # report only; exit status 1 if anything differs
    python manage.py totals_verify --budget 12 --budget 40

Each budget's balance, transaction count and month totals are stored and kept exact by
every write the API makes. Rows written another way (a bulk load, SQL by hand, a restore
of part of a table) leave them behind: this command adds every budget's transactions up
again, prints one line per budget that differed and, unless ``--check``, stores the right
figures. Each batch of budgets is locked while it is compared, so it is safe to run while
the API serves writes.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from budgets.models import Budget
from budgets.services.totals import totals_rebuild, totals_verify

DEFAULT_BATCH = 200


class Command(BaseCommand):
    help = (
        "Compare every budget's stored balance, count and month totals with its "
        "transactions, and repair what differs (--check: report only, exit 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Report only; exit status 1 on any difference."
        )
        parser.add_argument(
            "--budget",
            type=int,
            action="append",
            metavar="ID",
            help="Only this budget (repeatable). Default: every budget.",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=DEFAULT_BATCH,
            metavar="N",
            help="Budgets compared per database transaction. Default: %(default)s",
        )

    def handle(self, *args, **options) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        budgets = Budget.objects.order_by("pk")
        if options["budget"]:
            budgets = budgets.filter(pk__in=options["budget"])
        ids = list(budgets.values_list("pk", flat=True))
        size = options["batch"]
        drifts = []
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            if options["check"]:
                with transaction.atomic():
                    drifts += totals_verify(budget_ids=batch, repair=False)
            else:
                drifts += totals_rebuild(budget_ids=batch)
        for drift in drifts:
            parts = ["balance and count"] if drift.balance else []
            parts += [f"{drift.months} month total(s)"] if drift.months else []
            self.stdout.write(f"budget {drift.budget}: {' and '.join(parts)} differed")
        verb = "differed" if options["check"] else "repaired"
        self.stdout.write(f"{len(ids)} budget(s) checked, {len(drifts)} {verb}.")
        if drifts and options["check"]:
            raise CommandError(f"{len(drifts)} budget(s) have stored totals that differ.")
