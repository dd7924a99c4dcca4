"""Idempotency keys: claim, replay, store, purge. HTTP-free; the middleware calls these.

Follows the IETF httpapi draft "The Idempotency-Key HTTP Header Field" and Stripe's
behaviour. A key belongs to a *scope* (the authenticated user, or the client IP) and a
path. ``key_claim`` must run inside the ``transaction.atomic()`` block that also wraps the
request's own writes, so the key row and those writes commit or roll back together.
"""

import datetime as dt
import hashlib
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: threads of one process only
    fcntl = None

from project.idempotency.models import IdempotencyKey

KEY_MAX_LENGTH = 255
# Printable ASCII (RFC 9110 field values; the draft's sf-string characters), spaces only
# inside: HTTP strips them around a field value anyway.
KEY_PATTERN = rf"[\x21-\x7e](?:[\x20-\x7e]{{0,{KEY_MAX_LENGTH - 2}}}[\x21-\x7e])?"
_KEY_RE = re.compile(KEY_PATTERN)
PURGE_BATCH = 100
# First half of PostgreSQL's two-part advisory lock key: this feature's namespace.
_ADVISORY_NAMESPACE = 0x1DE4


class KeyInProgress(Exception):
    """Another request with the same key is running right now (409)."""


class KeyReused(Exception):
    """The key was used before with a different request (422)."""


def key_is_valid(value: str) -> bool:
    return _KEY_RE.fullmatch(value) is not None


def ttl() -> dt.timedelta:
    return dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)


def key_digest(*, scope: str, path: str, key: str) -> str:
    raw = "\x00".join((scope, path, key)).encode("utf-8", "surrogateescape")
    return hashlib.sha256(raw).hexdigest()


def request_fingerprint(*, method: str, full_path: str, body: Iterable[bytes]) -> str:
    """What makes two requests "the same": method, path with query string, body bytes
    (given in chunks, so a large upload need not be in memory at once).

    Keyed with the SECRET_KEY: bodies can hold passwords, and a plain hash of a body of
    known shape could be brute-forced from a copy of the database.
    """
    head = f"{method}\n{full_path}\n".encode("utf-8", "surrogateescape")
    mac = salted_hmac("idempotency.fingerprint", head, algorithm="sha256")
    for chunk in body:
        mac.update(chunk)
    return mac.hexdigest()


def _try_lock(digest: str) -> bool:
    """PostgreSQL: take a transaction-scoped advisory lock on the key without waiting.

    A second request with the same key while the first is still running gets False at
    once (409) instead of queueing behind the first one's uncommitted row. On SQLite,
    ``key_running`` has already made sure of that before the transaction began.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", [_ADVISORY_NAMESPACE, _lock_id(digest)]
        )
        return bool(cursor.fetchone()[0])


def _lock_id(digest: str) -> int:
    """32 bits of the key's digest: the second half of its advisory lock key."""
    return int.from_bytes(bytes.fromhex(digest[:8]), "big", signed=True)


# --- SQLite: "a request with this key is running", across the processes of one machine ----
#
# SQLite runs one write transaction at a time (BEGIN IMMEDIATE), so a duplicate cannot
# see the first request's claim: it would queue behind it for the database's write lock
# and then replay. The draft and the contract want a 409 at once instead (and a worker not
# tied up for as long as the first request runs). Every worker that shares the SQLite file
# runs on the machine that holds it, so a lock on one byte of a file beside it, at an
# offset taken from the key's digest, tells them apart: POSIX record locks are per process
# and vanish with it (a crashed worker leaves nothing stale), and a set guards the threads
# of one process. Offsets span 60 bits: two running keys practically never share one.

_running_here: set[str] = set()
_running_here_lock = threading.Lock()
_lock_files: dict[str, int] = {}


def sqlite_lock_path(database_name: str) -> Path | None:
    """The lock file beside a SQLite database file, or None for an in-memory one."""
    name = str(database_name)
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return Path(f"{name}-idempotency.lock")


def lock_offset(digest: str) -> int:
    return int(digest[:15], 16)


def _lock_file(path: Path) -> int | None:
    """The process's descriptor of the lock file (call with ``_running_here_lock`` held),
    or None when it cannot be opened: then the database answers (a 503 if it cannot be
    opened either). Opened once per process and never closed: closing any descriptor of
    the file would drop every lock the process holds on it."""
    key = str(path)
    if key not in _lock_files:
        try:
            _lock_files[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
    return _lock_files[key]


@contextmanager
def key_running(digest: str) -> Iterator[bool]:
    """Around the whole keyed request, transaction and commit included: yields False when
    another request with this key is running right now (SQLite; on PostgreSQL
    ``key_claim``'s advisory lock answers that, and this always yields True)."""
    path = None
    if connection.vendor == "sqlite":
        path = sqlite_lock_path(connection.settings_dict["NAME"])
    if path is None:
        yield True
        return
    with _running_here_lock:
        if digest in _running_here:  # another thread of this process
            free = False
        else:
            _running_here.add(digest)
            free = True
            fd = _lock_file(path) if fcntl is not None else None
    if not free:
        yield False
        return
    locked_fd = None
    try:
        if fd is not None:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, lock_offset(digest))
                locked_fd = fd
            except OSError:  # another process holds it
                free = False
        yield free
    finally:
        if locked_fd is not None:
            fcntl.lockf(locked_fd, fcntl.LOCK_UN, 1, lock_offset(digest))
        with _running_here_lock:
            _running_here.discard(digest)


def key_purge_expired(*, now: dt.datetime | None = None, limit: int | None = PURGE_BATCH) -> int:
    """Delete expired keys, at most ``limit`` (None: all). Rows another transaction is
    deleting right now are skipped (PostgreSQL), so purges never wait on each other."""
    now = now or timezone.now()
    expired = IdempotencyKey.objects.expired(now)
    if limit is None:
        return expired.delete()[0]
    batch = expired.order_by().select_for_update(skip_locked=True).values("pk")[:limit]
    # The outer filter repeats the condition: PostgreSQL re-checks it on rows that
    # changed meanwhile, so a key just renewed by another request is not deleted.
    return expired.filter(pk__in=batch).delete()[0]


def key_claim(*, scope: str, path: str, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Claim ``key`` for a request about to run, or find the answer it already got.

    Returns ``(row, replay)``: ``replay`` True means the request ran before and ``row``
    holds its answer; False means this request runs now and must end with ``key_store``
    or ``key_release``. Raises KeyInProgress or KeyReused. Purges a batch of expired keys.
    Must run inside ``transaction.atomic()``.
    """
    now = timezone.now()
    digest = key_digest(scope=scope, path=path, key=key)
    if not _try_lock(digest):
        raise KeyInProgress
    key_purge_expired(now=now)
    existing = IdempotencyKey.objects.filter(digest=digest).first()
    if existing is not None and existing.expires_at > now:
        if existing.fingerprint != fingerprint:
            raise KeyReused
        return existing, True
    if existing is not None:
        existing.delete()
    row = IdempotencyKey(
        digest=digest,
        scope=scope,
        path=path,
        key=key,
        fingerprint=fingerprint,
        created_at=now,
        expires_at=now + ttl(),
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError as exc:
        # Only reachable without the advisory lock: the unique digest made us wait for
        # a concurrent first request, which has now committed its row.
        raise KeyInProgress from exc
    return row, False


def key_store(row: IdempotencyKey, *, status: int, headers: dict[str, str], body: bytes) -> None:
    row.status = status
    row.headers = headers
    row.body = body
    row.save(update_fields=["status", "headers", "body"])


def key_release(row: IdempotencyKey) -> None:
    """Forget a claim whose answer is not to be repeated (the client may retry)."""
    row.delete()
