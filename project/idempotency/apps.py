from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "project.idempotency"
    # The label the app had as a top-level package: its migrations, its table
    # (idempotency_idempotencykey) and its content type keep their names.
    label = "idempotency"
    verbose_name = "idempotency keys"
