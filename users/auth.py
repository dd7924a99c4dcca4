"""Bearer-token authentication: ``request.auth`` becomes the active ``User``."""

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja_jwt.exceptions import TokenError
from ninja_jwt.settings import api_settings
from ninja_jwt.tokens import AccessToken, Token

from project.errors import AuthFailed
from users import messages
from users.models import User
from users.tokens import session_is_current

_USER_CACHE_ATTR = "_budget_token_user"


def token_user(token: Token) -> User | None:
    """The user a validly signed, unexpired token may act for, or None.

    The one place for the rules every token must pass beyond its signature: bearer
    authentication, refresh and verify all call it, so they can never disagree.
    """
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    # Issued before the user's last logout-all or password change: that session is over.
    if user is None or not session_is_current(token, user):
        return None
    return user


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
    try:
        validated = AccessToken(raw.strip())
    except TokenError:
        return None
    return token_user(validated)


def bearer_user(request: HttpRequest) -> User | None:
    """The user the request's ``Authorization: Bearer`` header authenticates, or None."""
    try:
        return JWTAuth()(request)
    except AuthFailed:
        return None
