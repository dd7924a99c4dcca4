"""JWTs stamped with the user's session generation.

Every refresh token carries the generation its user had when it was issued (claim
``SESSION_CLAIM``), and every access token made from it inherits the claim. Ending all
sessions (``POST /api/users/logout-all/``, a password change, a reused rotated refresh
token) bumps ``User.session_generation``: from the next request on, every token with an
older generation is refused. The check needs only the user row, which authentication
reads anyway, and unlike a comparison of ``iat`` (whole seconds) against a "valid after"
timestamp it cannot be fooled by two events in the same second or by clocks that
disagree between servers.
"""

from collections.abc import Mapping
from typing import Any

from ninja_jwt.tokens import RefreshToken, Token

SESSION_CLAIM = "sgen"


def session_is_current(token: Token | Mapping[str, Any], user) -> bool:
    """Whether the token (or its claims) was issued in the user's current session generation.

    Tokens issued before generations existed carry no claim: they count as generation 0,
    the generation every user starts with.
    """
    return token.get(SESSION_CLAIM, 0) == user.session_generation


class _SessionStamp(Token):
    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[SESSION_CLAIM] = user.session_generation
        return token


class SessionRefreshToken(RefreshToken, _SessionStamp):
    """A refresh token stamped with the session generation.

    The method order puts the stamp before ``RefreshToken``'s blacklist bookkeeping, so the
    outstanding-token record holds the token exactly as the client receives it.
    """
