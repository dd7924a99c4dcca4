"""Per-IP rate limit for the log-in and registration endpoints (API and admin).

A fixed window per client: it opens with the client's first counted request and lasts the
rate's period; at most N requests are allowed in it. The count is one atomic increment in
the default cache (``add`` then ``incr``), so it stays exact however many worker processes
share the cache: Redis with ``CACHE_URL``, otherwise the database cache of
``project.cache`` (one table all workers of a machine see). Ninja's own throttle keeps a
list of timestamps and writes it back (read, modify, write), which lets concurrent requests
in other processes through.
"""

import math
import re
import threading
import time

from django.conf import settings
from django.core.cache import cache
from ninja.throttling import BaseThrottle

from project.config import rate_window

SCOPE = "auth_ip"


def count_request(key: str, duration: int) -> tuple[int, float]:
    """Count one request under ``key``; return (requests counted in the current window
    including this one, seconds until that window ends)."""
    ends_key = f"{key}:ends"
    for _ in range(3):
        now = time.time()
        # Opens a window unless one is running (add is atomic: one opener wins).
        cache.add(ends_key, now + duration, timeout=duration)
        cache.add(key, 0, timeout=duration)
        try:
            count = cache.incr(key)
        except ValueError:  # the window closed between add and incr: open the next one
            continue
        if count == 1:
            # Redis's INCR on a key that expired a moment ago creates it without a TTL.
            cache.touch(key, duration)
        ends = cache.get(ends_key, now + duration)
        return count, max(0.0, ends - now)
    raise RuntimeError(f"Rate-limit window for {key!r} kept closing")  # pragma: no cover


CLIENT_IDENT_MAX_LENGTH = 64
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")


def client_ident(request) -> str:
    """The client IP: REMOTE_ADDR, or the X-Forwarded-For entry ``NUM_PROXIES`` says.

    Bounded and printable: if ``NUM_PROXIES`` counts more proxies than there are, the
    picked entry is whatever the client wrote, and it ends up in cache keys (rate limits)
    and rows (anonymous Idempotency-Key scopes).
    """
    ident = BaseThrottle().get_ident(request) or "unknown"
    return _UNPRINTABLE.sub("?", ident)[:CLIENT_IDENT_MAX_LENGTH]


def auth_attempt_allowed(request) -> tuple[bool, int]:
    """Count one log-in or registration attempt of this client against
    ``AUTH_RATE_LIMIT``; return (allowed, seconds to wait when not)."""
    num_requests, duration = rate_window(settings.AUTH_RATE_LIMIT)
    count, remaining = count_request(f"throttle:{SCOPE}:{client_ident(request)}", duration)
    return count <= num_requests, max(1, math.ceil(remaining))


class AuthEndpointThrottle(BaseThrottle):
    """Ninja throttle for the API's log-in and registration routes.

    The rate is read from ``settings.AUTH_RATE_LIMIT`` on each request (so tests and
    operators can change it without re-importing routers). Ninja keeps one instance per
    route and asks ``wait()`` right after ``allow_request()``; the answer is kept per thread.
    """

    def __init__(self) -> None:
        self._last = threading.local()

    def allow_request(self, request) -> bool:
        allowed, self._last.wait = auth_attempt_allowed(request)
        return allowed

    def wait(self) -> float:
        return float(getattr(self._last, "wait", 1))
