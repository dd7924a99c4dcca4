"""Bearer-token authentication: ``request.auth`` becomes the active ``User``."""

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja_jwt.exceptions import TokenError
from ninja_jwt.settings import api_settings
from ninja_jwt.tokens import AccessToken, Token

from users import messages
from users.models import User

_AUTH_ERROR_ATTR = "_budget_auth_error"


def token_user(token: Token) -> User | None:
    """The user a validly signed, unexpired token may act for, or None.

    The one place for the rules every token must pass beyond its signature: bearer
    authentication, refresh and verify all call it, so they can never disagree.
    """
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


class JWTAuth(HttpBearer):
    """Accepts only valid, unexpired *access* tokens of an existing, active user.

    Only token errors are caught: anything else is a bug and surfaces as a 500.
    """

    def __call__(self, request: HttpRequest):
        if not request.headers.get(self.header):
            setattr(request, _AUTH_ERROR_ATTR, messages.NOT_AUTHENTICATED)
            return None
        setattr(request, _AUTH_ERROR_ATTR, messages.TOKEN_INVALID)
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        try:
            validated = AccessToken(token.strip())
        except TokenError:
            return None
        return token_user(validated)


def auth_failure_message(request: HttpRequest) -> str:
    return getattr(request, _AUTH_ERROR_ATTR, messages.NOT_AUTHENTICATED)
