"""When the database cannot answer in time: deadlines for database calls, the 503's wording.

A stopped server refuses connections at once, but a hung one (overloaded, frozen, behind a
dead network path) can leave a worker waiting for ever, long after gunicorn's timeout has
killed it and sent an HTML 500. So every database call has a deadline: the server's own
``statement_timeout`` first, then a client-side one in ``project.postgresql`` that fires even
when the server is too stuck to enforce its own. ``deadline()`` tightens it for a block of
code (the health check answers within about two seconds whatever the database does).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

UNAVAILABLE = "The database is not available. Try again shortly."
RETRY_AFTER_SECONDS = 5

_deadline: ContextVar[float | None] = ContextVar("database_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Database calls made inside give up ``seconds`` from now (or earlier)."""
    ends = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(ends if outer is None else min(ends, outer))
    try:
        yield
    finally:
        _deadline.reset(token)


def seconds_left() -> float | None:
    """Seconds until the innermost ``deadline()`` ends; None outside one."""
    ends = _deadline.get()
    return None if ends is None else ends - time.monotonic()
