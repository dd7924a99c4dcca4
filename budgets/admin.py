from django.contrib import admin

from budgets.models import Budget, Category, Transaction


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
    raw_id_fields = ("budget", "category")
    date_hierarchy = "date"

    @admin.display(description="owner", ordering="budget__user__username")
    def owner(self, obj: Transaction) -> str:
        return obj.budget.user.username
