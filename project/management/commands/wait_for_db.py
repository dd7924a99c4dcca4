"""``manage.py wait_for_db``: wait (bounded) until every configured database answers.

Used by ``docker-entrypoint.sh`` before it migrates or serves, so a container started
together with its database does not crash-loop while PostgreSQL initialises, and gives
up with a clear one-line error when the database never comes.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.utils import OperationalError


class Command(BaseCommand):
    help = "Wait until every configured database accepts connections (at most --timeout s)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=60.0, help="seconds before giving up (default 60)"
        )

    def handle(self, *args, timeout: float, **options):
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                for alias in connections:
                    connections[alias].ensure_connection()
            except OperationalError as exc:
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CommandError(
                        f"database still unreachable after {timeout:g}s "
                        f"({attempt} attempts): {reason}"
                    ) from exc
                self.stderr.write(f"database not ready (attempt {attempt}): {reason}")
                time.sleep(min(1.0 + attempt * 0.5, 5.0, remaining))
            else:
                self.stderr.write(f"database is up (attempt {attempt})")
                return
            finally:
                connections.close_all()
