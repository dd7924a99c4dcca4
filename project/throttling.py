"""Per-IP rate limit for the unauthenticated auth endpoints (login, registration)."""

from django.conf import settings
from ninja.throttling import SimpleRateThrottle


class AuthEndpointThrottle(SimpleRateThrottle):
    """Counts every request to a throttled auth route per client IP.

    The rate is read from ``settings.AUTH_RATE_LIMIT`` on each request (so tests
    and operators can change it without re-importing routers). Counters live in
    the default cache: with ``CACHE_URL=redis://...`` every worker and replica
    shares them.
    """

    scope = "auth_ip"

    def __init__(self) -> None:
        super().__init__(rate=settings.AUTH_RATE_LIMIT)

    def get_cache_key(self, request) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request) -> bool:
        if self.rate != settings.AUTH_RATE_LIMIT:
            self.rate = settings.AUTH_RATE_LIMIT
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def wait(self) -> float:
        # Until the oldest counted request leaves the window.
        if not self.history:
            return float(self.duration)
        return max(1.0, self.duration - (self.now - self.history[-1]))
