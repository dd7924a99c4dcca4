from django.contrib import admin

from budgets.models import Budget, Category, RecurringRule, Transaction
from budgets.services.recurring import recurring_rule_reschedule


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "date", "initial_amount", "created_at")
    list_filter = (("date", admin.DateFieldListFilter), "created_at")
    search_fields = ("title", "description", "user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "date"
    ordering = ("-date", "-created_at", "-id")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "created_at")
    search_fields = ("name", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ("date", "amount", "budget", "category", "description", "owner")
    list_filter = (("date", admin.DateFieldListFilter), ("category", admin.EmptyFieldListFilter))
    search_fields = ("description", "budget__title", "category__name", "budget__user__username")
    list_select_related = ("budget__user", "category")
    raw_id_fields = ("budget", "category", "recurring_rule")
    readonly_fields = ("recurring_date",)
    date_hierarchy = "date"

    @admin.display(description="owner", ordering="budget__user__username")
    def owner(self, obj: Transaction) -> str:
        return obj.budget.user.username


@admin.register(RecurringRule)
class RecurringRuleAdmin(admin.ModelAdmin):
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

    @admin.display(description="owner", ordering="budget__user__username")
    def owner(self, obj: RecurringRule) -> str:
        return obj.budget.user.username

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The posting cursor and the owner's next due date follow the new schedule.
        recurring_rule_reschedule(rule_id=obj.pk)
