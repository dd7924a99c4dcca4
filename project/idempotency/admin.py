from django.contrib import admin

from project.idempotency.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the middleware and expire on their own."""

    list_display = ("key", "scope", "path", "status", "created_at", "expires_at")
    list_filter = ("status", "created_at")
    search_fields = ("key", "scope", "path")
    ordering = ("-created_at", "-id")
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
