"""``manage.py purge_idempotency_keys``: delete every expired Idempotency-Key answer.

Not required: each request sent with a key also deletes a bounded batch of expired
keys. Operators may run this from cron to keep the table small between bursts.
"""

from django.core.management.base import BaseCommand

from project.idempotency.services import key_purge_expired


class Command(BaseCommand):
    help = "Delete every expired Idempotency-Key answer."

    def handle(self, *args, **options):
        deleted = key_purge_expired(limit=None)
        self.stdout.write(f"Deleted {deleted} expired idempotency keys.")
