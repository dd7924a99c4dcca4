from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_tables(using, **kwargs):
    """Without CACHE_URL the rate-limit counters live in a table of the app's database
    (``project.cache``); ``migrate`` creates it, so no install needs an extra command."""
    call_command("createcachetable", database=using, verbosity=0)


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "users"

    def ready(self):
        post_migrate.connect(create_cache_tables, sender=self)
