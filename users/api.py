"""Routers for accounts and tokens: HTTP in, one service call, schema out."""

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.responses import Status

from project import conditional
from project.conditional import IfMatch, IfNoneMatch
from project.openapi import errors
from project.throttling import AuthEndpointThrottle
from users import messages, services
from users.schemas import (
    AccessOut,
    DetailOut,
    EmptyOut,
    LogoutIn,
    MeOut,
    MePatch,
    PasswordChangeIn,
    RegisterIn,
    TokenObtainIn,
    TokenPairOut,
    TokenRefreshIn,
    TokenVerifyIn,
    UserOut,
)

users_router = Router(tags=["users"])
token_router = Router(tags=["auth"], auth=None)


@users_router.post(
    "/register/",
    auth=None,
    throttle=[AuthEndpointThrottle()],
    response={201: UserOut, **errors(400, 413, 429)},
    summary="Create an account",
    description=(
        "Usernames and emails are unique regardless of case; the password must pass the "
        "server's password validators. Rate limited per client IP (`AUTH_RATE_LIMIT`)."
    ),
)
def register(request: HttpRequest, payload: RegisterIn):
    return Status(201, services.user_register(**payload.dict()))


@users_router.get(
    "/me/",
    response={200: MeOut, 304: None, **errors(401)},
    summary="Read my profile",
    description=(
        "The answer carries an `ETag`; send it back as `If-None-Match` to get a 304 with no "
        "body while the profile is unchanged, or as `If-Match` on PATCH."
    ),
)
def me(request: HttpRequest, response: HttpResponse, if_none_match: IfNoneMatch = None):
    return conditional.read(response, MeOut, request.auth, if_none_match)


@users_router.patch(
    "/me/",
    response={200: MeOut, **errors(400, 401, 412, 413)},
    summary="Update my profile",
    description=(
        "Any of `email`, `first_name`, `last_name`; other fields are ignored. With "
        "`If-Match`, only if the profile's current `ETag` is one named there; else 412 and "
        "nothing changes. The answer carries the new `ETag`."
    ),
)
def me_update(
    request: HttpRequest, payload: MePatch, response: HttpResponse, if_match: IfMatch = None
):
    return conditional.write(
        response,
        MeOut,
        if_match,
        services.user_update,
        user=request.auth,
        **payload.dict(exclude_unset=True),
    )


@users_router.post(
    "/me/password/",
    response={204: None, **errors(400, 401, 413)},
    summary="Change my password",
    description=(
        "Ends every session: revokes every refresh token I hold and refuses every access "
        "token issued until now (this one included). Log in again afterwards."
    ),
)
def password_change(request: HttpRequest, payload: PasswordChangeIn):
    services.password_change(user=request.auth, **payload.dict())
    return Status(204, None)


@users_router.post(
    "/logout/",
    response={200: DetailOut, **errors(400, 401, 413)},
    summary="Log out",
    description=(
        "Blacklists the given refresh token (`refresh_token`, or `refresh`): it can no longer "
        "be used at `/api/token/refresh/`. Another user's token or a non-refresh token is a 400."
    ),
)
def logout(request: HttpRequest, payload: LogoutIn):
    services.logout(user=request.auth, **payload.dict())
    return {"detail": messages.LOGGED_OUT}


@users_router.post(
    "/logout-all/",
    response={200: DetailOut, **errors(401)},
    summary="Log out of every session",
    description=(
        "Ends every session of the caller at once, on every device: every refresh token is "
        "blacklisted, and every access token issued until now (this one included) is "
        "refused with 401 from the next request on. Log in again afterwards. A password "
        "change does the same."
    ),
)
def logout_all(request: HttpRequest):
    services.logout_all(user=request.auth)
    return {"detail": messages.LOGGED_OUT_EVERYWHERE}


@token_router.post(
    "/",
    throttle=[AuthEndpointThrottle()],
    response={200: TokenPairOut, **errors(400, 401, 413, 429)},
    summary="Log in: obtain an access and a refresh token",
    description=(
        "Wrong username or password answers 401 the same way whether or not the user exists. "
        "Rate limited per client IP (`AUTH_RATE_LIMIT`)."
    ),
)
def token_obtain(request: HttpRequest, payload: TokenObtainIn):
    return services.token_obtain(**payload.dict())


@token_router.post(
    "/refresh/",
    response={200: AccessOut, **errors(400, 401, 413)},
    exclude_unset=True,
    summary="Get a new access token",
    description=(
        "By default the refresh token is not rotated: the answer is `{access}` and you keep "
        "using the refresh token you have. When the server runs with "
        "`ROTATE_REFRESH_TOKENS=true` the answer is `{access, refresh}`: use the new refresh "
        "token from now on; the one you sent is blacklisted, and presenting it again is "
        "taken as theft and ends every session of the user. Send an `Idempotency-Key` so a "
        "retried refresh gets the same answer instead."
    ),
)
def token_refresh(request: HttpRequest, payload: TokenRefreshIn):
    return services.token_refresh(**payload.dict())


@token_router.post(
    "/verify/",
    response={200: EmptyOut, **errors(400, 401, 413)},
    summary="Check that a token is valid",
    description=(
        "200 only for a token the API would accept: a good signature, not expired, not "
        "blacklisted, and its user still exists and is active; 401 otherwise."
    ),
)
def token_verify(request: HttpRequest, payload: TokenVerifyIn):
    services.token_verify(**payload.dict())
    return {}
