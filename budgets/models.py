"""Budgets, categories and transactions. Invariants live here and in the database."""

import unicodedata
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Length, Round, Trim, TruncMonth
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from budgets import messages
from budgets.months import month_key
from budgets.recurrence import Frequency, Schedule

BUDGET_AMOUNT_DIGITS = 9  # up to 999,999,999.99
TRANSACTION_AMOUNT_DIGITS = 10  # up to 9,999,999,999.99
BUDGET_AMOUNT_MAX = Decimal(10) ** BUDGET_AMOUNT_DIGITS - Decimal("0.01")
TRANSACTION_AMOUNT_MAX = Decimal(10) ** TRANSACTION_AMOUNT_DIGITS - Decimal("0.01")
TITLE_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 5000
CATEGORY_NAME_MAX_LENGTH = 100
TRANSACTION_DESCRIPTION_MAX_LENGTH = 255


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def cents_sum(condition: Q | None = None) -> Coalesce:
    """The exact sum of ``amount`` in integer cents (0 when there are no rows).

    SQLite keeps decimals as binary floating point and would add them up inexactly;
    each amount is turned into whole cents first (exact for 12-digit amounts), and
    integers add up exactly on every database.
    """
    cents = Cast(Round(F("amount") * 100), models.BigIntegerField())
    return Coalesce(Sum(cents, filter=condition), Value(0), output_field=models.BigIntegerField())


def cents_to_money(cents: int) -> Decimal:
    """Whole cents to a two-place Decimal: 12345 -> Decimal("123.45"); no float involved."""
    return Decimal(cents).scaleb(-2)


def signed_amount_condition() -> Q:
    """A transaction's amount (and a recurring rule's): signed, never 0, in range."""
    return (
        ~Q(amount=0)
        & Q(amount__gte=-TRANSACTION_AMOUNT_MAX)
        & Q(amount__lte=TRANSACTION_AMOUNT_MAX)
    )


def _not_blank(field: str):
    return GreaterThan(Length(Trim(field)), 0)


class BudgetQuerySet(models.QuerySet):
    def for_user(self, user) -> "BudgetQuerySet":
        return self.filter(user=user)


class Budget(TimestampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="budgets"
    )
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    date = models.DateField(help_text="The budget's start or period date.")
    initial_amount = models.DecimalField(max_digits=11, decimal_places=2)
    # Stored totals of the budget's transactions, kept exact by the transactions write
    # path (``budgets.services.totals``) in the same database transaction as every
    # write, under the budget's row lock; ``manage.py totals_verify`` checks and repairs
    # them. Whole cents: integers add up exactly on every database.
    transactions_cents = models.BigIntegerField(default=0, editable=False)
    transactions_count = models.BigIntegerField(default=0, editable=False)

    objects = BudgetQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-date", "-created_at"], name="budget_user_date_idx"),
            models.Index(fields=["user", "created_at"], name="budget_user_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(initial_amount__gt=0) & Q(initial_amount__lte=BUDGET_AMOUNT_MAX),
                name="budget_initial_amount_range",
            ),
            models.CheckConstraint(condition=_not_blank("title"), name="budget_title_not_blank"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), DESCRIPTION_MAX_LENGTH),
                name="budget_description_max_length",
            ),
            models.CheckConstraint(
                condition=Q(transactions_count__gte=0), name="budget_transactions_count_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # Written only by ``budgets.services.totals`` (an UPDATE that adds to them); a save
    # of an object read earlier must not put back the figures it read.
    STORED_TOTALS = frozenset({"transactions_cents", "transactions_count"})

    def save(self, *args, **kwargs):
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.STORED_TOTALS
            ]
        super().save(*args, **kwargs)

    @property
    def balance(self) -> Decimal:
        """``initial_amount`` + every transaction (the stored total)."""
        return self.balance_of(self.initial_amount, self.transactions_cents)

    @staticmethod
    def balance_of(initial_amount: Decimal, transactions_cents: int) -> Decimal:
        """The balance from a budget's columns (for rows read as values, not objects)."""
        return initial_amount + cents_to_money(transactions_cents)


def category_name_key(name: str) -> str:
    """What makes two category names "the same": Unicode case folding (É = é, ß = ss)
    after compatibility normalisation. SQLite's LOWER() folds ASCII only, so the key is
    computed here and the database enforces uniqueness on it."""
    return unicodedata.normalize("NFKC", name).casefold()


class CategoryQuerySet(models.QuerySet):
    def for_user(self, user) -> "CategoryQuerySet":
        return self.filter(user=user)


class Category(TimestampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField(max_length=CATEGORY_NAME_MAX_LENGTH)
    # Derived from `name` on every save; casefolding can lengthen a name (ß -> ss).
    # Unbounded: NFKC can expand one character to eighteen.
    name_key = models.TextField(editable=False)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name_key", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name_key"],
                name="category_user_name_key_unique",
                violation_error_message=messages.CATEGORY_EXISTS,
            ),
            models.CheckConstraint(condition=_not_blank("name"), name="category_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Keep the derived key in step with the name, whoever saves (API, admin, shell).
        self.name_key = category_name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def validate_constraints(self, exclude=None):
        # Forms (the admin) leave out `name_key`, which is not a form field, and Django
        # then skips the unique constraint on it. Check it whenever `name` is checked,
        # so a duplicate is a form error with the constraint's message, not a 500.
        if exclude is None or "name" not in exclude:
            self.name_key = category_name_key(self.name or "")
            exclude = set(exclude or ()) - {"name_key"}
        super().validate_constraints(exclude=exclude)


class TransactionQuerySet(models.QuerySet):
    def for_user(self, user) -> "TransactionQuerySet":
        return self.filter(budget__user=user)

    def month_sums(self, *fields: str) -> "TransactionQuerySet":
        """The rows added up per ``fields``, category, calendar month and kind, as
        tuples ``(*fields, category_id, month, leg, income_cents, expense_cents, count)``
        (``leg``: transfer legs; expenses negative): what ``MonthTotal`` stores."""
        return (
            self.order_by()
            .annotate(
                month=TruncMonth("date"),
                leg=ExpressionWrapper(Q(transfer__isnull=False), output_field=BooleanField()),
            )
            .values_list(*fields, "category_id", "month", "leg")
            .annotate(
                income=cents_sum(Q(amount__gt=0)),
                spent=cents_sum(Q(amount__lt=0)),
                rows=Count("id"),
            )
        )


class TransferQuerySet(models.QuerySet):
    def for_user(self, user) -> "TransferQuerySet":
        # Both budgets are always the same user's (the service checks it on create).
        return self.filter(from_budget__user=user)


class Transfer(TimestampedModel):
    """Money moved between two budgets of one user: an expense leg (-amount) in
    ``from_budget`` and an income leg (+amount) in ``to_budget``, both ``Transaction``
    rows pointing here. Neither income nor expense in reports."""

    from_budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="transfers_out")
    to_budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="transfers_in")
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Always > 0.")
    description = models.CharField(
        max_length=TRANSACTION_DESCRIPTION_MAX_LENGTH, blank=True, default=""
    )
    date = models.DateField()

    objects = TransferQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["from_budget", "-date"], name="transfer_from_date_idx"),
            models.Index(fields=["to_budget", "-date"], name="transfer_to_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=TRANSACTION_AMOUNT_MAX),
                name="transfer_amount_positive_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(from_budget=F("to_budget")), name="transfer_budgets_differ"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount} #{self.from_budget_id} -> #{self.to_budget_id}"


class Transaction(TimestampedModel):
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="transactions")
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transactions",
    )
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Income > 0, expense < 0."
    )
    description = models.CharField(
        max_length=TRANSACTION_DESCRIPTION_MAX_LENGTH, blank=True, default=""
    )
    date = models.DateField()
    # Set when a recurring rule posted this transaction: the rule (null once the rule is
    # deleted) and the occurrence it stands for, posted at most once per rule.
    recurring_rule = models.ForeignKey(
        "RecurringRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transactions",
        db_index=False,  # the unique (rule, occurrence) index below serves lookups
    )
    recurring_date = models.DateField(null=True, blank=True, editable=False)
    # Set on the two legs of a transfer. SET_NULL: when one budget of a transfer is
    # deleted, the transfer goes and the leg in the other budget stays, as an ordinary
    # transaction (that budget's balance does not change).
    transfer = models.ForeignKey(
        Transfer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="legs",
    )

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["budget", "-date", "-created_at"], name="tx_budget_date_idx"),
            models.Index(fields=["budget", "amount"], name="tx_budget_amount_idx"),
            models.Index(fields=["category", "date"], name="tx_category_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=signed_amount_condition(), name="transaction_amount_nonzero_in_range"
            ),
            models.UniqueConstraint(
                fields=["recurring_rule", "recurring_date"],
                condition=Q(recurring_rule__isnull=False),
                name="transaction_recurring_occurrence_unique",
            ),
            models.CheckConstraint(
                condition=Q(recurring_rule__isnull=True) | Q(recurring_date__isnull=False),
                name="transaction_recurring_has_date",
            ),
            # One expense leg (amount < 0) and one income leg (> 0) per transfer. The
            # NOT NULL keeps the (small) indexes out of plans for ordinary transactions.
            models.UniqueConstraint(
                fields=["transfer"],
                condition=Q(transfer__isnull=False, amount__lt=0),
                name="transfer_one_out_leg",
            ),
            models.UniqueConstraint(
                fields=["transfer"],
                condition=Q(transfer__isnull=False, amount__gt=0),
                name="transfer_one_in_leg",
            ),
            # A recurring rule posts ordinary transactions, never transfer legs.
            models.CheckConstraint(
                condition=Q(recurring_rule__isnull=True) | Q(transfer__isnull=True),
                name="transaction_not_leg_and_posting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"


RECURRING_INTERVAL_MAX = 1000


class RecurringRuleQuerySet(models.QuerySet):
    def for_user(self, user) -> "RecurringRuleQuerySet":
        return self.filter(budget__user=user)


class RecurringRule(TimestampedModel):
    """A transaction that repeats: occurrence ``n`` falls on ``start_date`` moved by
    ``n * interval`` days, weeks, months or years (see ``budgets.recurrence``).

    ``last_posted_date`` and ``next_due_date`` are the posting cursor, kept by the
    recurring services: occurrences up to ``last_posted_date`` have been posted as
    transactions, ``next_due_date`` is the first one not posted yet (null once the rule
    has ended). Posting resumes after the cursor whatever the rule is edited to, so an
    edit never posts a date a second time.
    """

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="recurring_rules")
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recurring_rules",
    )
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Income > 0, expense < 0."
    )
    description = models.CharField(
        max_length=TRANSACTION_DESCRIPTION_MAX_LENGTH, blank=True, default=""
    )
    start_date = models.DateField(help_text="The first occurrence; later ones are counted from it.")
    end_date = models.DateField(null=True, blank=True, help_text="No occurrence after this day.")
    frequency = models.CharField(max_length=7, choices=Frequency.choices)
    interval = models.PositiveIntegerField(default=1, help_text="Every `interval` days/weeks/...")
    last_posted_date = models.DateField(null=True, blank=True, editable=False)
    next_due_date = models.DateField(null=True, blank=True, editable=False)

    objects = RecurringRuleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["budget", "-created_at"], name="rule_budget_created_idx"),
            models.Index(fields=["next_due_date"], name="rule_next_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=signed_amount_condition(), name="rule_amount_nonzero_in_range"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="rule_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(interval__gte=1) & Q(interval__lte=RECURRING_INTERVAL_MAX),
                name="rule_interval_range",
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="rule_frequency_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description or self.amount} ({self.get_frequency_display().lower()})"

    @property
    def schedule(self) -> Schedule:
        return Schedule(
            start=self.start_date,
            frequency=self.frequency,
            interval=self.interval,
            end=self.end_date,
        )


class SpendingLimitQuerySet(models.QuerySet):
    def for_user(self, user) -> "SpendingLimitQuerySet":
        return self.filter(budget__user=user)


class SpendingLimit(TimestampedModel):
    """How much a budget may spend in one category in one calendar month."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="limits")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="limits")
    month = models.DateField(help_text="The month's first day.")
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Always > 0.")

    objects = SpendingLimitQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "category", "month"], name="limit_budget_category_month_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=TRANSACTION_AMOUNT_MAX),
                name="limit_amount_positive_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{month_key(self.month)} {self.amount}"

    def clean(self):
        # The API only ever stores a month's first day; keep admin writes to that too,
        # or one month could hold two limits.
        errors = {}
        if self.month is not None and self.month.day != 1:
            errors["month"] = messages.LIMIT_MONTH_NOT_FIRST_DAY
        if self.budget_id and self.category_id and self.budget.user_id != self.category.user_id:
            errors["category"] = messages.CATEGORY_OF_ANOTHER_USER
        if errors:
            raise ValidationError(errors)


class MonthTotal(models.Model):
    """The sums of one budget's transactions in one calendar month and one category
    (``category_key`` 0: uncategorised), transfer legs (``transfer``) apart from the
    rest: what reports read instead of the transactions themselves.

    Kept exact by the transactions write path (``budgets.services.totals``) in the same
    database transaction as every write, under the budget's row lock, and checked and
    repaired by ``manage.py totals_verify``. No CHECK on the signs: an upsert that takes
    figures out must be able to propose a negative row before it meets the one it
    changes. ``category_key`` is not a foreign key, so
    that the uncategorised rows can be unique too (NULLs never clash in a unique index);
    deleting a category folds its rows into 0. A row whose ``count`` falls to 0 is
    removed."""

    # A row's key within its budget, and the figures summed under it.
    KEY_COLUMNS = ("category_key", "month", "transfer")
    FIGURE_COLUMNS = ("income_cents", "expense_cents", "count")

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="month_totals")
    category_key = models.BigIntegerField(help_text="The category's id; 0 when uncategorised.")
    month = models.DateField(help_text="The month's first day.")
    transfer = models.BooleanField(help_text="Transfer legs, kept apart from the rest.")
    income_cents = models.BigIntegerField(default=0)
    expense_cents = models.BigIntegerField(default=0, help_text="The negative amounts' sum.")
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "category_key", "month", "transfer"],
                name="month_total_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{month_key(self.month)} #{self.category_key} {self.count}"
