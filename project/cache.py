"""The default cache when ``CACHE_URL`` is not set: Django's database cache, made exact for
counters shared by several processes.

Every worker of a machine sees the same table, so rate limits hold across gunicorn workers
with no extra server (Redis, via ``CACHE_URL``, remains the choice for several machines).
Django's ``DatabaseCache.incr`` is a read followed by a write, and its ``add`` on an expired
entry can succeed twice; under concurrent requests a limit of 5 then lets more through.
Here both run in one transaction that holds the entry's row lock (PostgreSQL:
``SELECT ... FOR UPDATE``; SQLite: the settings' ``IMMEDIATE`` transactions already take
the database's write lock at ``BEGIN``), so each increment sees the one before it.
"""

import base64
import pickle
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now


class DatabaseCache(DjangoDatabaseCache):
    @contextmanager
    def _entry_locked(self, key: str) -> Iterator:
        """A transaction holding the lock on ``key``'s row (if it exists), with a cursor."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        with transaction.atomic(using=db), connection.cursor() as cursor:
            if connection.features.has_select_for_update:
                quote = connection.ops.quote_name
                cursor.execute(  # identifiers quoted, values bound
                    f"SELECT 1 FROM {quote(self._table)} WHERE {quote('cache_key')} = %s "  # noqa: S608
                    "FOR UPDATE",
                    [key],
                )
            yield connection, cursor

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        made_key = self.make_and_validate_key(key, version=version)
        with self._entry_locked(made_key) as (connection, cursor):
            # Django's add treats an entry as live until the end of the second it expires
            # in (it rounds "now" down), its get only until that instant: in between, add
            # would keep an entry get no longer returns. Drop it first, as get would.
            quote = connection.ops.quote_name
            cursor.execute(  # identifiers quoted, values bound
                f"DELETE FROM {quote(self._table)} WHERE {quote('cache_key')} = %s "  # noqa: S608
                f"AND {quote('expires')} < %s",
                [made_key, connection.ops.adapt_datetimefield_value(tz_now())],
            )
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        """Add ``delta`` to the value; the entry keeps its expiry (Django's resets it)."""
        made_key = self.make_and_validate_key(key, version=version)
        with self._entry_locked(made_key) as (connection, cursor):
            value = self.get(key, self._missing_key, version=version)
            if value is self._missing_key:
                raise ValueError(f"Key '{key}' not found")
            value += delta
            quote = connection.ops.quote_name
            cursor.execute(  # identifiers quoted, values bound
                f"UPDATE {quote(self._table)} SET {quote('value')} = %s "  # noqa: S608
                f"WHERE {quote('cache_key')} = %s AND {quote('expires')} > %s",
                [
                    # How DatabaseCache stores values (see its _base_set).
                    base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1"),
                    made_key,
                    connection.ops.adapt_datetimefield_value(tz_now()),
                ],
            )
            if cursor.rowcount != 1:  # it expired a moment ago
                raise ValueError(f"Key '{key}' not found")
        return value
