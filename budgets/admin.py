from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from budgets import messages, services
from budgets.models import (
    Budget,
    Category,
    RecurringRule,
    SpendingLimit,
    Transaction,
    Transfer,
)
from budgets.services.recurring import recurring_rule_reschedule


class BudgetOwnerColumn:
    """The ``owner`` column of a row that belongs to a budget: the budget's user."""

    @admin.display(description="owner", ordering="budget__user__username")
    def owner(self, obj: Transaction | SpendingLimit | RecurringRule) -> str:
        return obj.budget.user.username


class SameOwnerForm(forms.ModelForm):
    """The API's rule that a row's category is its budget owner's own, for the admin (a
    transaction or recurring rule under another user's category would show up in that
    user's reports, or be refused when the rule posts)."""

    def clean(self):
        cleaned = super().clean()
        budget, category = cleaned.get("budget"), cleaned.get("category")
        if budget is not None and category is not None and budget.user_id != category.user_id:
            self.add_error("category", messages.CATEGORY_OF_ANOTHER_USER)
        return cleaned


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "date", "initial_amount", "created_at")
    list_filter = (("date", admin.DateFieldListFilter), "created_at")
    search_fields = ("title", "description", "user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "date"
    ordering = ("-date", "-created_at", "-id")

    def get_readonly_fields(self, request: HttpRequest, obj: Budget | None = None):
        # A budget never changes owner: its transactions, categories and stored totals
        # are that user's (and locked as that user's by every write).
        return ("user",) if obj is not None else ()

    def get_deleted_objects(self, objs, request: HttpRequest):
        # The budget's transfer legs go with it (the Transaction admin refuses to delete
        # a leg on its own, which Django would otherwise report as a missing permission).
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if self.has_delete_permission(request):
            perms_needed.discard(Transaction._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    # Through the service, like the API: its transfers end and the other legs stay.
    def delete_model(self, request: HttpRequest, obj: Budget) -> None:
        services.budget_delete(user=obj.user, budget_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Budget]) -> None:
        for budget in queryset.select_related("user"):
            services.budget_delete(user=budget.user, budget_id=budget.pk)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "created_at")
    search_fields = ("name", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)

    # Through the service, like the API: its month totals join the uncategorised ones.
    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        services.category_delete(user=obj.user, category_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        for category in queryset.select_related("user"):
            services.category_delete(user=category.user, category_id=category.pk)


@admin.register(Transaction)
class TransactionAdmin(BudgetOwnerColumn, admin.ModelAdmin):
    form = SameOwnerForm
    list_display = ("date", "amount", "budget", "category", "description", "transfer", "owner")
    list_filter = (
        ("date", admin.DateFieldListFilter),
        ("category", admin.EmptyFieldListFilter),
        ("transfer", admin.EmptyFieldListFilter),
    )
    search_fields = ("description", "budget__title", "category__name", "budget__user__username")
    list_select_related = ("budget__user", "category")
    raw_id_fields = ("budget", "category")
    # Set by the recurring poster only: relinking a posting (to another user's rule,
    # say) would take that rule's (rule, date) slot and its occurrence would never post.
    readonly_fields = ("recurring_rule", "recurring_date", "transfer")
    date_hierarchy = "date"

    # A transfer's leg changes only with its transfer (see the Transfer admin).
    def has_change_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return super().has_change_permission(request, obj) and not (obj and obj.transfer_id)

    def has_delete_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.transfer_id)

    # Through the write path, like the API: the budgets' stored totals follow.
    def save_model(self, request: HttpRequest, obj: Transaction, form, change: bool) -> None:
        services.transaction_save_any(obj)

    def delete_model(self, request: HttpRequest, obj: Transaction) -> None:
        services.transactions_delete_any(Transaction.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        # A transfer's legs go with their transfer (the Transfer admin), never alone.
        services.transactions_delete_any(queryset.filter(transfer__isnull=True))


class LegInline(admin.TabularInline):
    model = Transaction
    fields = ("budget", "amount", "date", "description")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    """Read and delete only: a transfer and its two legs are written together by the
    transfer services (the API); a delete here goes through them too."""

    list_display = ("date", "amount", "from_budget", "to_budget", "description", "owner")
    list_filter = (("date", admin.DateFieldListFilter),)
    search_fields = ("description", "from_budget__title", "to_budget__title")
    list_select_related = ("from_budget__user", "to_budget")
    date_hierarchy = "date"
    inlines = (LegInline,)

    @admin.display(description="owner", ordering="from_budget__user__username")
    def owner(self, obj: Transfer) -> str:
        return obj.from_budget.user.username

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Transfer | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Transfer) -> None:
        services.transfer_delete(user=obj.from_budget.user, transfer_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Transfer]) -> None:
        for transfer in queryset.select_related("from_budget__user"):
            services.transfer_delete(user=transfer.from_budget.user, transfer_id=transfer.pk)


@admin.register(SpendingLimit)
class SpendingLimitAdmin(BudgetOwnerColumn, admin.ModelAdmin):
    list_display = ("month", "category", "amount", "budget", "owner")
    list_filter = (("month", admin.DateFieldListFilter),)
    search_fields = ("category__name", "budget__title", "budget__user__username")
    list_select_related = ("budget__user", "category")
    raw_id_fields = ("budget", "category")
    date_hierarchy = "month"


@admin.register(RecurringRule)
class RecurringRuleAdmin(BudgetOwnerColumn, admin.ModelAdmin):
    form = SameOwnerForm
    list_display = (
        "description",
        "amount",
        "frequency",
        "interval",
        "budget",
        "start_date",
        "end_date",
        "next_due_date",
        "owner",
    )
    list_filter = ("frequency", ("next_due_date", admin.EmptyFieldListFilter))
    search_fields = ("description", "budget__title", "budget__user__username")
    list_select_related = ("budget__user", "category")
    raw_id_fields = ("budget", "category")
    readonly_fields = ("last_posted_date", "next_due_date")
    date_hierarchy = "start_date"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The posting cursor and the owner's next due date follow the new schedule.
        recurring_rule_reschedule(rule_id=obj.pk)
