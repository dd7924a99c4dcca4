"""``manage.py migrate``, serialised across processes on PostgreSQL.

Several containers may run ``migrate`` at the same moment (a one-shot job started twice,
replicas that still migrate on start). Django's migrate is not safe against itself: two
runs on a fresh database both try to create the same tables and one dies half-way
(``IntegrityError`` on ``pg_type``). Here every run first takes a session-level
PostgreSQL advisory lock, so a second run waits for the first and then finds nothing
left to apply. SQLite needs no lock: its writers are serialised by the database file.
"""

import time

from django.core.management.commands import migrate
from django.db import connections

# Any fixed 64-bit number that no other advisory lock user of the database picks.
MIGRATE_LOCK_ID = 7_362_948_105_526_411
POLL_SECONDS = 0.5


class Command(migrate.Command):
    help = migrate.Command.help + " Concurrent runs on PostgreSQL wait for each other."

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(*args, **options)
        # Polled rather than a blocking pg_advisory_lock(): each try returns at once, so the
        # wait is never cut short by DB_STATEMENT_TIMEOUT, however long the other run takes.
        waiting = False
        while True:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_ID])
                if cursor.fetchone()[0]:
                    break
            if not waiting and options["verbosity"] >= 1:
                self.stdout.write("Another migrate is running; waiting for it to finish.")
                self.stdout.flush()
            waiting = True
            time.sleep(POLL_SECONDS)
        try:
            return super().handle(*args, **options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_ID])
