"""``manage.py seed_demo``: a demo account with a year of realistic budget data.

    python manage.py seed_demo                        # user "demo", ~1,500 transactions
    python manage.py seed_demo --transactions 100000 --seed 42 --reset

Money is built from whole cents (``cents_to_money``), never from floats.
Transactions are written through the transactions service's bulk write path in batches,
the monthly transfers (two legs each), a few spending limits and recurring rules through
the services, all inside one transaction, so a failed run leaves nothing behind; it works
the same on SQLite and PostgreSQL. The recurring rules carry the monthly items on from
tomorrow.
"""

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from budgets import services
from budgets.models import Budget, Category, cents_to_money
from budgets.recurrence import Frequency, Schedule
from budgets.services.recurring import recurring_rule_create
from budgets.services.transactions import NewTransaction, transaction_bulk_create
from users.models import identity_key

DEFAULT_USERNAME = "demo"
DEFAULT_PASSWORD = "demo-password-123"
DEFAULT_TRANSACTIONS = 1500
BATCH_SIZE = 5000
MONTHS = 12
DOCS_URL = "http://localhost:8000/api/docs"

HOUSEHOLD, HOLIDAYS, SAVINGS = "household", "holidays", "savings"
# key -> (title, description, initial amount in cents)
BUDGETS = {
    HOUSEHOLD: ("Household", "Day-to-day income and spending.", 250_000),
    HOLIDAYS: ("Holidays", "Put money aside every month, spend it on trips.", 80_000),
    SAVINGS: ("Savings", "The rainy-day fund.", 500_000),
}
SALARY, RENT, UTILITIES, GROCERIES = "Salary", "Rent", "Utilities", "Groceries"
TRANSPORT, EATING_OUT, ENTERTAINMENT, TRAVEL = "Transport", "Eating out", "Entertainment", "Travel"
CATEGORIES = [
    SALARY,
    RENT,
    UTILITIES,
    GROCERIES,
    TRANSPORT,
    EATING_OUT,
    ENTERTAINMENT,
    TRAVEL,
]

BASE_SALARY = 380_000  # cents per month; raised when the generated spending needs more
RENT_CENTS = 115_000
SAVINGS_TRANSFER = 30_000
MIN_HOLIDAY_TRANSFER = 25_000


@dataclass(frozen=True)
class Kind:
    """One kind of everyday transaction, picked at random by weight."""

    weight: int
    budget: str
    category: str | None
    descriptions: tuple[str, ...]
    min_cents: int
    max_cents: int
    sign: int = -1


EVERYDAY = [
    Kind(34, HOUSEHOLD, GROCERIES, ("Supermarket", "Bakery", "Farmers market"), 300, 9_000),
    Kind(16, HOUSEHOLD, TRANSPORT, ("Bus ticket", "Fuel", "Train ticket", "Taxi"), 200, 4_000),
    Kind(14, HOUSEHOLD, EATING_OUT, ("Coffee", "Lunch", "Pizza night", "Dinner out"), 300, 4_500),
    Kind(9, HOUSEHOLD, ENTERTAINMENT, ("Cinema", "Concert", "Books", "Streaming"), 500, 4_500),
    Kind(3, HOLIDAYS, TRAVEL, ("Train to the coast", "Hotel", "Museum tickets"), 1_500, 45_000),
    Kind(8, HOUSEHOLD, None, ("Cash withdrawal", "Pharmacy", "Gift", "Haircut"), 500, 6_000),
    Kind(3, HOUSEHOLD, None, ("Refund", "Sold on the marketplace", "Cashback"), 300, 6_000, +1),
    Kind(1, SAVINGS, None, ("Interest",), 50, 1_500, +1),
]

# A spec is everything a transaction needs, kept light so 100,000 of them are cheap:
# (date, budget key, category name or None, description, signed cents).
Spec = tuple[dt.date, str, str | None, str, int]
# A transfer: (date, from budget key, to budget key, description, cents moved).
TransferSpec = tuple[dt.date, str, str, str, int]
# A monthly spending limit: (category name, month's first day, cents).
LimitSpec = tuple[str, dt.date, int]
LIMITED_CATEGORIES = (GROCERIES, EATING_OUT, ENTERTAINMENT)
LIMITED_MONTHS = 3
MIN_LIMIT = 5_000


def round_up(cents: int, step: int) -> int:
    return -(-cents // step) * step


def month_starts(today: dt.date, count: int) -> list[dt.date]:
    """The first day of the last ``count`` months, the current one included, oldest first."""
    year, month = today.year, today.month
    starts = []
    for _ in range(count):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def everyday_specs(rng: random.Random, count: int, start: dt.date, end: dt.date) -> list[Spec]:
    days = (end - start).days + 1
    kinds = rng.choices(EVERYDAY, weights=[kind.weight for kind in EVERYDAY], k=count)
    return [
        (
            start + dt.timedelta(days=rng.randrange(days)),
            kind.budget,
            kind.category,
            rng.choice(kind.descriptions),
            kind.sign * rng.randint(kind.min_cents, kind.max_cents),
        )
        for kind in kinds
    ]


def monthly_specs(
    everyday: list[Spec], months: list[dt.date], utilities: list[int], today: dt.date
) -> tuple[list[Spec], list[TransferSpec]]:
    """Salary, rent and bills, and transfers from Household to Holidays and Savings, on
    fixed days of every month (none in the future).

    The monthly amounts cover the generated spending, so balances stay plausible
    whether there are 1,500 or 100,000 everyday transactions.
    """
    spent = Counter()
    for _, budget, _, _, cents in everyday:
        spent[budget] -= cents
    holiday_transfer = max(
        MIN_HOLIDAY_TRANSFER, round_up(spent[HOLIDAYS] * 11 // 10 // len(months), 5_000)
    )
    household_out = (
        spent[HOUSEHOLD]
        + (RENT_CENTS + holiday_transfer + SAVINGS_TRANSFER) * len(months)
        + sum(utilities)
    )
    salary = max(BASE_SALARY, round_up(household_out * 108 // 100 // len(months), 10_000))

    specs: list[Spec] = []
    transfers: list[TransferSpec] = []
    for first, utility in zip(months, utilities, strict=True):
        specs += [
            (first, HOUSEHOLD, RENT, "Rent", -RENT_CENTS),
            (first.replace(day=12), HOUSEHOLD, UTILITIES, "Electricity and water", -utility),
            (first.replace(day=25), HOUSEHOLD, SALARY, "Salary, ACME Ltd", salary),
        ]
        transfers += [
            (first.replace(day=26), HOUSEHOLD, HOLIDAYS, "Holiday savings", holiday_transfer),
            (first.replace(day=26), HOUSEHOLD, SAVINGS, "Rainy-day savings", SAVINGS_TRANSFER),
        ]
    return [spec for spec in specs if spec[0] <= today], [t for t in transfers if t[0] <= today]


def limit_specs(specs: list[Spec], months: list[dt.date]) -> list[LimitSpec]:
    """Household's limits for its everyday categories over the last three months, at
    about the average monthly spending: some months end up over the limit."""
    spent = Counter()
    for _, budget, category, _, cents in specs:
        if budget == HOUSEHOLD and category in LIMITED_CATEGORIES and cents < 0:
            spent[category] -= cents
    return [
        (category, month, max(MIN_LIMIT, round_up(spent[category] // len(months), 1_000)))
        for month in months[-LIMITED_MONTHS:]
        for category in LIMITED_CATEGORIES
    ]


def demo_specs(
    rng: random.Random, count: int, today: dt.date
) -> tuple[dt.date, list[Spec], list[TransferSpec], list[LimitSpec]]:
    """Exactly ``count`` transactions between the first day of 11 months ago and today;
    each transfer is two of them (its legs)."""
    months = month_starts(today, MONTHS)
    utilities = [rng.randint(7_000, 16_000) for _ in months]
    # How many monthly items there are, to know how many everyday ones make up the rest.
    singles, transfers = monthly_specs([], months, utilities, today)
    fixed_count = len(singles) + 2 * len(transfers)
    everyday = everyday_specs(rng, max(0, count - fixed_count), months[0], today)
    singles, transfers = monthly_specs(everyday, months, utilities, today)
    specs = sorted(singles + everyday, key=lambda spec: spec[0])
    if fixed_count > count:
        specs, transfers = _oldest(rng, count, specs, transfers, months[0], today)
    return months[0], specs, transfers, limit_specs(specs, months)


def _oldest(
    rng: random.Random,
    count: int,
    specs: list[Spec],
    transfers: list[TransferSpec],
    start: dt.date,
    today: dt.date,
) -> tuple[list[Spec], list[TransferSpec]]:
    """Fewer transactions than monthly items: keep the oldest, a transfer only whole;
    a last free slot that only a transfer could have taken gets an everyday item."""
    timeline = sorted(
        [(s[0], 1, s) for s in specs] + [(t[0], 2, t) for t in transfers],
        key=lambda entry: entry[0],
    )
    kept_specs: list[Spec] = []
    kept_transfers: list[TransferSpec] = []
    room = count
    for _, size, item in timeline:
        if size <= room:
            (kept_transfers if size == 2 else kept_specs).append(item)
            room -= size
    kept_specs += everyday_specs(rng, room, start, today)
    return sorted(kept_specs, key=lambda spec: spec[0]), kept_transfers


def next_on_day(today: dt.date, day: int) -> dt.date:
    """The first date after ``today`` that falls on ``day`` of its month (a rule
    anchored there: on the 31st it shows the month-end fallback from then on)."""
    monthly = Schedule(start=dt.date(2000, 1, day), frequency=Frequency.MONTHLY)
    return next(d for d in monthly.occurrences(after=today) if d.day == day)


def recurring_specs(today: dt.date) -> list[tuple]:
    """(budget, category, description, signed cents, frequency, first date) of the
    demo's recurring rules, all starting after ``today``."""
    return [
        (HOUSEHOLD, RENT, "Rent", -RENT_CENTS, Frequency.MONTHLY, next_on_day(today, 1)),
        (
            HOUSEHOLD,
            SALARY,
            "Salary, ACME Ltd",
            BASE_SALARY,
            Frequency.MONTHLY,
            next_on_day(today, 25),
        ),
        (HOUSEHOLD, ENTERTAINMENT, "Streaming", -1_299, Frequency.MONTHLY, next_on_day(today, 31)),
        (HOUSEHOLD, None, "Gym", -990, Frequency.WEEKLY, today + dt.timedelta(days=1)),
        # Money between budgets moves by transfers (not rules): Savings earns interest.
        (SAVINGS, None, "Interest", 1_250, Frequency.MONTHLY, next_on_day(today, 28)),
        (
            HOUSEHOLD,
            None,
            "Car insurance",
            -48_000,
            Frequency.YEARLY,
            dt.date(today.year + 1, 1, 15),
        ),
    ]


class _ProgressFile:
    """Hands tqdm the command's stderr as a plain stream: ``OutputWrapper.write`` would
    add a newline (and error colours) to every redraw of the bar."""

    def __init__(self, wrapper: OutputWrapper):
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self._wrapper.flush()

    def isatty(self) -> bool:
        return self._wrapper.isatty()


class Command(BaseCommand):
    help = (
        "Create a demo user with a few budgets, categories and a year of realistic "
        "transactions, so the API docs show real reports at once. The user's password is "
        "set to --password. Refuses if the user already has data, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=DEFAULT_USERNAME, help="Default: %(default)s")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="Default: %(default)s")
        parser.add_argument(
            "--transactions",
            type=int,
            default=DEFAULT_TRANSACTIONS,
            metavar="N",
            help="How many transactions over the last 12 months. Default: %(default)s",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Seed the random generator (repeatable data)."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the user's budgets, categories and transactions first.",
        )

    def handle(self, *args, **options) -> None:
        username: str = options["username"]
        password: str = options["password"]
        count: int = options["transactions"]
        if count < 0:
            raise CommandError("--transactions must be 0 or more.")

        user_model = get_user_model()
        try:
            user_model.username_validator(username)
        except ValidationError as exc:
            raise CommandError(f"Invalid --username: {' '.join(exc.messages)}") from exc

        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not security
        today = timezone.localdate()
        start, specs, transfers, limits = demo_specs(rng, count, today)

        with transaction.atomic():
            user = user_model.objects.filter(username_key=identity_key(username)).first()
            if user is None:
                email = f"{username}@example.com"
                if user_model.objects.filter(email_key=identity_key(email)).exists():
                    email = ""
                user = user_model(username=username, email=email)
            elif Budget.objects.for_user(user).exists() or Category.objects.for_user(user).exists():
                if not options["reset"]:
                    raise CommandError(
                        f'User "{user.username}" already has budgets. Run again with --reset '
                        "to delete them and create fresh demo data."
                    )
                # Their transactions, transfers and limits go with them.
                Budget.objects.for_user(user).delete()
                Category.objects.for_user(user).delete()
            try:
                password_validation.validate_password(password, user=user)
            except ValidationError as exc:
                raise CommandError(f"Invalid --password: {' '.join(exc.messages)}") from exc
            user.set_password(password)
            user.save()
            self._create_data(user, start, specs, transfers, limits)

        self.stdout.write(self.style.SUCCESS(f'Demo data ready for "{user.username}".'))
        self.stdout.write(
            f"  {len(BUDGETS)} budgets, {len(CATEGORIES)} categories, "
            f"{len(specs) + 2 * len(transfers)} transactions from {start} to {today} "
            f"({len(transfers)} transfers between budgets), {len(limits)} spending limits, "
            f"{len(recurring_specs(today))} recurring rules from tomorrow on"
        )
        self.stdout.write(f"  username: {user.username}")
        self.stdout.write(f"  password: {password}")
        self.stdout.write(
            f"Run the server and open {DOCS_URL}: get a token from POST /api/token/, "
            "press Authorize, then try GET /api/budgets/{id}/summary/."
        )

    def _create_data(
        self,
        user,
        start: dt.date,
        specs: list[Spec],
        transfers: list[TransferSpec],
        limits: list[LimitSpec],
    ) -> None:
        budgets = {
            key: Budget.objects.create(
                user=user,
                title=title,
                description=description,
                date=start,
                initial_amount=cents_to_money(initial),
            )
            for key, (title, description, initial) in BUDGETS.items()
        }
        categories = {name: Category.objects.create(user=user, name=name) for name in CATEGORIES}
        categories[None] = None

        with tqdm(
            total=len(specs) + 2 * len(transfers),
            desc="Transactions",
            unit="tx",
            file=_ProgressFile(self.stderr),
            disable=None,  # no bar when stderr is not a terminal
        ) as progress:
            for offset in range(0, len(specs), BATCH_SIZE):
                batch = specs[offset : offset + BATCH_SIZE]
                transaction_bulk_create(
                    user=user,
                    rows=[
                        NewTransaction(
                            budget=budgets[budget].pk,
                            category=categories[category] and categories[category].pk,
                            description=description,
                            amount=cents_to_money(cents),
                            date=day,
                        )
                        for day, budget, category, description, cents in batch
                    ],
                )
                progress.update(len(batch))
            # Few enough to go through the services, which write both legs of each.
            for day, source, target, description, cents in transfers:
                services.transfer_create(
                    user=user,
                    from_budget=budgets[source].pk,
                    to_budget=budgets[target].pk,
                    amount=cents_to_money(cents),
                    date=day,
                    description=description,
                )
                progress.update(2)
        for category, month, cents in limits:
            services.spending_limit_create(
                user=user,
                budget_id=budgets[HOUSEHOLD].pk,
                category=categories[category].pk,
                month=month,
                amount=cents_to_money(cents),
            )
        self._create_recurring_rules(user, budgets, categories)

    def _create_recurring_rules(self, user, budgets, categories) -> None:
        """Rules that carry the monthly items on from tomorrow (nothing is posted now,
        so the history keeps exactly --transactions rows; reads post them as they fall
        due). Rules post ordinary transactions; the monthly transfers are not rules."""
        today = timezone.localdate()
        for budget, category, description, cents, frequency, first in recurring_specs(today):
            recurring_rule_create(
                user=user,
                budget=budgets[budget].pk,
                category=categories[category] and categories[category].pk,
                description=description,
                amount=cents_to_money(cents),
                frequency=frequency,
                start_date=first,
                today=today,
            )
