"""Bearer-token authentication: ``request.auth`` becomes the active ``User``.

Every authenticated request runs this, so it is kept lean (bench/README.md measures it):
the token is checked by PyJWT through ninja_jwt's own token backend (same key, algorithm,
leeway, audience and issuer) with the claims ``AccessToken`` requires checked here, and
the user is read with one statement compiled once per database connection
(``project.prepared``) instead of building and compiling the same queryset on every
request.
"""

import time

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja_jwt import state as jwt_state
from ninja_jwt.exceptions import TokenBackendError
from ninja_jwt.settings import api_settings
from ninja_jwt.tokens import AccessToken, Token

from project.errors import AuthFailed
from project.prepared import PreparedQuery
from users import messages
from users.models import User
from users.tokens import session_is_current

_USER_CACHE_ATTR = "_budget_token_user"
# Compiled once per connection (project.prepared), not on every request.
_ACTIVE_USER = PreparedQuery(
    lambda user_id: User.objects.filter(pk=user_id, is_active=True).order_by("pk")[:1]
)


def active_user(user_id: int) -> User | None:
    """The active user with this id, or None: one query."""
    return _ACTIVE_USER.first(user_id=user_id)


def _user_for_claims(claims) -> User | None:
    user_id = claims.get(api_settings.USER_ID_CLAIM)
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = active_user(user_id)
    # Issued before the user's last logout-all or password change: that session is over.
    if user is None or not session_is_current(claims, user):
        return None
    return user


def token_user(token: Token) -> User | None:
    """The user a validly signed, unexpired token may act for, or None.

    The one place for the rules every token must pass beyond its signature: bearer
    authentication, refresh and verify all call it, so they can never disagree.
    """
    return _user_for_claims(token)


# Access tokens this process has verified, by their exact text: a client sends the same
# one with every request for its whole lifetime, and its signature and fixed claims cannot
# change. The times (exp, iat, nbf) are checked again on every use. Bounded: when full, it
# starts over (a token missing here is simply verified again).
_VERIFIED: dict[str, dict] = {}
_VERIFIED_MAX = 10_000


@receiver(setting_changed)
def _forget_verified_tokens(*, setting: str, **kwargs) -> None:
    """A new signing key or token rule must judge every token afresh (tests change them;
    a deployment restarts)."""
    if setting in ("NINJA_JWT", "SECRET_KEY"):
        _VERIFIED.clear()


def access_claims(raw: str) -> dict | None:
    """The claims of a valid, unexpired *access* token, or None.

    What ``ninja_jwt.tokens.AccessToken(raw)`` accepts, without building the token object:
    the signature, ``exp`` (required), the ``jti`` and the token type claims. A token
    verified before is only checked for its times again (``_in_time``), as PyJWT checks
    them."""
    claims = _VERIFIED.get(raw)
    if claims is not None:
        return claims if _in_time(claims) else None
    try:
        claims = jwt_state.token_backend.decode(raw)
    except TokenBackendError:
        return None
    if "exp" not in claims:
        return None
    if api_settings.JTI_CLAIM is not None and api_settings.JTI_CLAIM not in claims:
        return None
    if (
        api_settings.TOKEN_TYPE_CLAIM is not None
        and claims.get(api_settings.TOKEN_TYPE_CLAIM) != AccessToken.token_type
    ):
        return None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[raw] = claims
    return claims


def _in_time(claims: dict) -> bool:
    """PyJWT's time rules with ninja_jwt's leeway: not expired (``exp``), not issued
    (``iat``) or valid (``nbf``) only in the future. The values are numbers: the first
    decode checked that."""
    now = time.time()
    leeway = jwt_state.token_backend.get_leeway().total_seconds()
    if int(claims["exp"]) <= now - leeway:
        return False
    return all(int(claims[name]) <= now + leeway for name in ("iat", "nbf") if name in claims)


class JWTAuth(HttpBearer):
    """Accepts only valid, unexpired *access* tokens of an existing, active user.

    Anything else raises ``AuthFailed`` with the reason (no credentials, or credentials
    that are not a valid token), which ``project.errors`` answers with a 401. Only token
    errors are caught: anything else is a bug and surfaces as a 500.
    """

    def __call__(self, request: HttpRequest) -> User:
        if not request.headers.get(self.header):
            raise AuthFailed(messages.NOT_AUTHENTICATED)
        user = super().__call__(request)
        if user is None:
            raise AuthFailed(messages.TOKEN_INVALID)
        return user

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        # Remembered per request: the Idempotency-Key middleware asks first (for the key's
        # scope), and the route's auth must not read the user row a second time.
        cached = getattr(request, _USER_CACHE_ATTR, None)
        if cached is not None and cached[0] == token:
            return cached[1]
        user = user_for_access_token(token)
        setattr(request, _USER_CACHE_ATTR, (token, user))
        return user


def user_for_access_token(raw: str) -> User | None:
    """The user a valid, unexpired access token may act for, or None."""
    claims = access_claims(raw.strip())
    return None if claims is None else _user_for_claims(claims)


def bearer_user(request: HttpRequest) -> User | None:
    """The user the request's ``Authorization: Bearer`` header authenticates, or None."""
    try:
        return JWTAuth()(request)
    except AuthFailed:
        return None
