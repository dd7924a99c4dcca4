"""Helpers shared by the services of every app.

- ``UNSET``: the default of an optional keyword argument of an update service, so
  "not sent" (leave alone) differs from "sent" (even as ``None``).
- ``assign``: copy the sent values onto a model instance; the caller names each field.
- ``retry_on_conflict``: run a write service again when the database chose it as a
  deadlock or serialization victim, or when it raised ``Retry``; give up as
  ``DatabaseBusy`` (a 503) after a few tries.
"""

import enum
import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.db import OperationalError

from project.errors import DatabaseBusy

logger = logging.getLogger("project.services")

# SQLSTATE of psycopg's DeadlockDetected and SerializationFailure.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 4
BACKOFF_SECONDS = 0.02


class Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET


def assign(obj: Any, **values: Any) -> list[str]:
    """Set every value that is not ``UNSET`` on ``obj``; return the names set (for
    ``save(update_fields=...)``). Callers pass named fields only, never a request dict."""
    sent = {name: value for name, value in values.items() if value is not UNSET}
    for name, value in sent.items():
        setattr(obj, name, value)
    return list(sent)


class Retry(Exception):
    """Raised inside a ``@retry_on_conflict`` service when rows it read without a lock
    changed before it could lock them: its transaction is rolled back and it runs again."""


def is_conflict(exc: BaseException) -> bool:
    """Whether the database aborted the statement to break a deadlock or a
    serialization conflict (a fresh try may succeed)."""
    return getattr(exc.__cause__, "sqlstate", None) in CONFLICT_SQLSTATES


P = ParamSpec("P")
R = TypeVar("R")


def retry_on_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` (which opens its own ``transaction.atomic()``) up to ``ATTEMPTS``
    times while it loses to concurrent writes; then raise ``DatabaseBusy``.

    Lock ordering makes deadlocks between our own requests impossible; this is the
    safety net for what ordering cannot cover (admin, shell, future code)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if not is_conflict(exc):
                    raise
                cause: Exception = exc
            except Retry as exc:
                cause = exc
            logger.warning(
                "%s: try %d of %d lost to a concurrent write: %s",
                func.__name__,
                attempt + 1,
                ATTEMPTS,
                cause.__class__.__name__ if isinstance(cause, Retry) else cause,
            )
            if attempt + 1 < ATTEMPTS:
                time.sleep(BACKOFF_SECONDS * 2**attempt * (1 + random.random()))  # noqa: S311
        raise DatabaseBusy(f"{func.__name__} gave up after {ATTEMPTS} tries") from cause

    return wrapper
