"""Django's PostgreSQL backend (psycopg 3) with a deadline on every wait for the server.

``statement_timeout`` is enforced by the server, so a server that is stopped with SIGSTOP,
swapping to death or cut off behind a half-open TCP path never enforces it; and as long as
its kernel still acknowledges our packets, TCP keepalives and ``tcp_user_timeout`` see
nothing wrong either. The client has to give up on its own.

psycopg runs every operation of a connection (execute, fetch, commit, rollback, the
``SELECT 1`` of Django's health checks) through ``Connection.wait()``, so that is where the
deadline is armed: a watchdog thread shuts down the connection's socket
(``pgconn.socket``) when the deadline passes, the blocked read fails at once, and psycopg
raises ``OperationalError`` with the connection marked broken. Django then discards the
connection and the request answers 503 (``project.database``). Connecting is bounded by
libpq's ``connect_timeout`` (psycopg enforces at least 2 seconds).

The deadline of each operation is ``STATEMENT_TIMEOUT`` plus a grace period, so a slow but
alive server cancels the statement itself first and the connection survives; inside
``project.database.deadline()`` it is the time left, when that is shorter.
"""

import datetime as dt
import itertools
import math
import os
import select
import socket
import threading
import time

import psycopg
from django.db.backends.postgresql import base
from psycopg.adapt import Loader
from psycopg.types.datetime import TimestamptzLoader

from project.database import seconds_left

# Beyond the server's statement_timeout, before the client gives up on its own.
GRACE_SECONDS = 2.0


class DatabaseTimeout(psycopg.OperationalError):
    """The server did not answer within the client-side deadline."""


class _Watchdog:
    """One daemon thread per process that severs connections whose wait overran."""

    TICK = 0.05

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # threads do not survive fork

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, int]] = {}  # token -> (deadline, socket fd)
        self._fired: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, fd: int, seconds: float) -> int:
        with self._lock:
            token = next(self._tokens)
            self._armed[token] = (time.monotonic() + seconds, fd)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="db-deadline-watchdog", daemon=True
                )
                self._thread.start()
        return token

    def disarm(self, token: int) -> bool:
        """Stop watching; True when the deadline had passed and the socket was severed."""
        with self._lock:
            self._armed.pop(token, None)
            fired = token in self._fired
            self._fired.discard(token)
        return fired

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:  # the fd stays open while armed: disarm needs this lock
                for token, (ends, fd) in list(self._armed.items()):
                    if ends <= now:
                        del self._armed[token]
                        self._fired.add(token)
                        _sever(fd)


def _sever(fd: int) -> None:
    """Shut the connection's socket down in both directions; psycopg keeps its fd."""
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


_watchdog = _Watchdog()


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server has a deadline."""

    operation_timeout: float | None = None  # seconds; None: no client-side deadline

    def wait(self, gen, *args, **kwargs):
        limit = self.operation_timeout
        left = seconds_left()
        if left is not None:
            limit = left if limit is None else min(limit, left)
        if limit is None:
            return super().wait(gen, *args, **kwargs)
        if limit <= 0:
            gen.close()
            raise DatabaseTimeout("No time left to wait for the database.")
        token = _watchdog.arm(self.pgconn.socket, limit)
        try:
            return super().wait(gen, *args, **kwargs)
        except psycopg.OperationalError as exc:
            if _watchdog.disarm(token):
                raise DatabaseTimeout(
                    f"The database did not answer within {limit:.1f} seconds."
                ) from exc
            raise
        finally:
            _watchdog.disarm(token)


class _Psycopg:
    """psycopg as Django's backend uses it, except that it connects DeadlineConnections."""

    connect = staticmethod(DeadlineConnection.connect)

    def __getattr__(self, name):
        return getattr(psycopg, name)


def _quiet(connection: psycopg.Connection) -> bool:
    """Whether an idle connection looks alive without asking the server: open, not in a
    transaction, and nothing arrived on its socket since the last answer was read.

    A server that ends a session (restart, shutdown, ``pg_terminate_backend``, an idle
    timeout) sends a FATAL message and closes the socket, which makes it readable; so
    does a reset connection. Only then is the ``SELECT 1`` round trip worth paying.
    """
    if connection.closed or connection.broken:
        return False
    if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    try:
        readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError):
        return False
    return not readable


class _UtcTimestamptzLoader(Loader):
    """Django's ``timestamptz`` loader for a UTC session, at the speed of psycopg's C one.

    Django registers a pure-Python loader (parse, then ``replace(tzinfo=...)``) that costs
    about 4 µs a value: 40 timestamps in a page of 20 transactions. When the session's
    TimeZone is UTC, psycopg's own (C) loader gives the very same values (aware, in
    ``datetime.timezone.utc``), so this one hands each value to it; ``timezone`` is what
    Django's ``create_cursor`` compares to decide that no loader of its own is needed."""

    timezone = dt.UTC

    def __init__(self, oid: int, context=None) -> None:
        super().__init__(oid, context)
        # The optimised class psycopg registers for timestamptz (C when installed).
        optimised = psycopg.adapters.get_loader(self.oid, psycopg.pq.Format.TEXT)
        self._loader = (optimised or TimestamptzLoader)(oid, context)
        self.load = self._loader.load  # called directly, without a frame of this class

    def load(self, data):  # the class's answer; each instance uses its loader's own
        return self._loader.load(data)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Psycopg()

    def init_connection_state(self):
        super().init_connection_state()  # the session's TimeZone is settled by now
        if self.timezone == dt.UTC and self.connection.info.parameter_status("TimeZone") == "UTC":
            self.connection.adapters.register_loader("timestamptz", _UtcTimestamptzLoader)

    def close_if_health_check_failed(self):
        """``CONN_HEALTH_CHECKS`` without a round trip per request when nothing says the
        connection died: Django's check (``SELECT 1``) runs only when the socket is not
        quiet (see ``_quiet``). A server that stopped answering without closing anything
        (frozen, cut off) is caught by the deadline on the request's own first query."""
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and _quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    @property
    def _statement_timeout(self) -> float:
        return float(self.settings_dict.get("STATEMENT_TIMEOUT") or 0)

    def get_connection_params(self):
        params = super().get_connection_params()
        if self._statement_timeout:
            option = f"-c statement_timeout={math.ceil(self._statement_timeout * 1000)}"
            params["options"] = f"{params.get('options', '')} {option}".strip()
        return params

    def get_new_connection(self, conn_params):
        left = seconds_left()
        if left is not None:
            if left <= 0:
                raise DatabaseTimeout("No time left to connect to the database.")
            # psycopg enforces at least 2 seconds.
            connect_timeout = int(conn_params.get("connect_timeout") or 0) or math.inf
            conn_params = {**conn_params, "connect_timeout": min(connect_timeout, math.ceil(left))}
        connection = super().get_new_connection(conn_params)
        if self._statement_timeout:
            connection.operation_timeout = self._statement_timeout + GRACE_SECONDS
        return connection
