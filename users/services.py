"""Every users use case: registration, tokens, profile, password, logout."""

from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from ninja_jwt import settings as jwt_settings
from ninja_jwt.exceptions import TokenError
from ninja_jwt.settings import api_settings
from ninja_jwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from ninja_jwt.tokens import RefreshToken, UntypedToken
from ninja_jwt.utils import datetime_from_epoch

from project.errors import AuthFailed, FieldError, Precondition, constraint_as_field_error
from project.services import UNSET, Unset, assign
from users import messages
from users.auth import token_user
from users.models import RotatedRefreshToken, User, identity_key
from users.tokens import SessionRefreshToken

EMAIL_MAX_LENGTH = 254


def _check_email(email: str, *, exclude_user_id: int | None = None) -> str:
    # Normalising the domain ("İ") or folding the key can lengthen an address.
    if len(email) > EMAIL_MAX_LENGTH or len(identity_key(email)) > EMAIL_MAX_LENGTH:
        raise FieldError.single("email", messages.EMAIL_TOO_LONG)
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise FieldError.single("email", messages.EMAIL_INVALID) from exc
    taken = User.objects.filter(email_key=identity_key(email))
    if exclude_user_id is not None:
        taken = taken.exclude(pk=exclude_user_id)
    if taken.exists():
        raise FieldError.single("email", messages.EMAIL_TAKEN)
    return email


def _check_password(password: str, *, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise FieldError({field: list(exc.messages)}) from exc


def user_register(*, username: str, email: str, password: str, password_confirm: str) -> User:
    """Create an account. The checks below give friendly messages; the unique
    constraints on the stored keys decide, so of two racing registrations of the same
    name one gets the same 400 as if it had come second."""
    username = User.normalize_username(username)
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username_key=identity_key(username)).exists():
        errors["username"] = [messages.USERNAME_TAKEN]
    try:
        email = User.objects.normalize_email(email)
        _check_email(email)
    except FieldError as exc:
        errors.update(exc.errors)
    user = User(username=username, email=email)
    if password != password_confirm:
        errors["password_confirm"] = [messages.PASSWORDS_DO_NOT_MATCH]
    else:
        try:
            _check_password(password, user=user, field="password")
        except FieldError as exc:
            errors.update(exc.errors)
    if errors:
        raise FieldError(errors)
    user.set_password(password)  # slow on purpose: outside any transaction or lock
    # Two registrations may race past the checks above; the constraints on the keys decide.
    with constraint_as_field_error(lambda: _already_taken(user)):
        user.save()
    return user


def _already_taken(user: User) -> FieldError:
    """Which key a lost race collided on (the winner has committed by now)."""
    errors = {}
    if User.objects.filter(username_key=user.username_key).exists():
        errors["username"] = [messages.USERNAME_TAKEN]
    if user.email_key and User.objects.filter(email_key=user.email_key).exists():
        errors["email"] = [messages.EMAIL_TAKEN]
    return FieldError(errors or {"username": [messages.USERNAME_TAKEN]})


def token_obtain(*, username: str, password: str) -> dict[str, str]:
    # authenticate() hashes the password even for unknown usernames, so a miss
    # takes as long as a wrong password and reveals nothing.
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise AuthFailed(messages.BAD_CREDENTIALS)
    refresh = SessionRefreshToken.for_user(user)
    if api_settings.UPDATE_LAST_LOGIN:
        update_last_login(None, user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def rotation_enabled() -> bool:
    # Looked up on each call: ninja-jwt rebuilds its settings object when NINJA_JWT changes.
    return jwt_settings.api_settings.ROTATE_REFRESH_TOKENS


def token_refresh(*, refresh: str) -> dict[str, str]:
    """A new access token; with rotation on, also a new refresh token for the old one."""
    try:
        token = SessionRefreshToken(refresh)
    except TokenError as exc:
        _revoke_on_reuse(refresh)
        raise AuthFailed(messages.TOKEN_INVALID) from exc
    user = token_user(token)  # also refuses a token of an ended session
    if user is None:
        raise AuthFailed(messages.TOKEN_INVALID)
    if not rotation_enabled():
        return {"access": str(token.access_token)}
    rotated = _rotate(token, raw=refresh, user=user)
    if rotated is None:
        raise AuthFailed(messages.TOKEN_INVALID)
    return {"access": str(rotated.access_token), "refresh": str(rotated)}


@transaction.atomic
def _rotate(token: RefreshToken, *, raw: str, user: User) -> RefreshToken | None:
    """Blacklist ``token``, remember it was rotated, issue its successor.

    The outstanding-token row is locked first, so two refreshes of the same token are
    serialised: the second finds it already rotated, which is reuse (None; every session
    of the user has then been ended).
    """
    jti = token[api_settings.JTI_CLAIM]
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={"user": user, "token": raw, "expires_at": datetime_from_epoch(token["exp"])},
    )
    outstanding = OutstandingToken.objects.select_for_update().get(pk=outstanding.pk)
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        if RotatedRefreshToken.objects.filter(token=outstanding).exists():
            sessions_end_all(user=user)
        return None
    BlacklistedToken.objects.create(token=outstanding)
    RotatedRefreshToken.objects.create(token=outstanding)
    return SessionRefreshToken.for_user(user)


def _revoke_on_reuse(raw: str) -> None:
    """A genuine, unexpired refresh token that was already rotated is being presented
    again: someone holds a copy. End every session of its user."""
    try:
        claims = UntypedToken(raw)  # signature and expiry; not type, not blacklist
    except TokenError:
        return
    if claims.get(api_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type:
        return
    rotated = (
        RotatedRefreshToken.objects.filter(token__jti=claims.get(api_settings.JTI_CLAIM))
        .select_related("token__user")
        .first()
    )
    if rotated is not None and rotated.token.user is not None:
        sessions_end_all(user=rotated.token.user)


def token_verify(*, token: str) -> None:
    """A token verifies when it would be accepted where it is used: a good signature,
    not expired, not blacklisted, and its user still exists and is active."""
    try:
        validated = UntypedToken(token)
    except TokenError as exc:
        raise AuthFailed(messages.TOKEN_INVALID) from exc
    jti = validated.get(api_settings.JTI_CLAIM)
    if BlacklistedToken.objects.filter(token__jti=jti).exists() or token_user(validated) is None:
        raise AuthFailed(messages.TOKEN_INVALID)


def user_update(
    *,
    user: User,
    email: str | Unset = UNSET,
    first_name: str | Unset = UNSET,
    last_name: str | Unset = UNSET,
    precondition: Precondition | None = None,
) -> User:
    """PATCH of the profile: the fields passed are written, ``UNSET`` ones left alone.
    ``precondition`` (If-Match) runs on the user row, locked, before anything changes;
    invalid input is a 400 before it."""
    if email is not UNSET:
        email = _check_email(User.objects.normalize_email(email), exclude_user_id=user.pk)
    if precondition is None:
        return _profile_write(user, email=email, first_name=first_name, last_name=last_name)
    with transaction.atomic():
        locked = User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
        if locked is None or not locked.is_active:  # deleted or deactivated meanwhile
            raise AuthFailed(messages.TOKEN_INVALID)
        precondition(locked)
        return _profile_write(locked, email=email, first_name=first_name, last_name=last_name)


def _profile_write(user: User, **fields: str | Unset) -> User:
    changed = assign(user, **fields)
    if changed:
        with constraint_as_field_error(FieldError.single("email", messages.EMAIL_TAKEN)):
            user.save(update_fields=changed)
    return user


def _revoke_all_refresh_tokens(user: User) -> int:
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


@transaction.atomic
def password_change(
    *, user: User, old_password: str, new_password: str, new_password_confirm: str
) -> None:
    if not user.check_password(old_password):
        raise FieldError.single("old_password", messages.OLD_PASSWORD_WRONG)
    if new_password != new_password_confirm:
        raise FieldError.single("new_password_confirm", messages.PASSWORDS_DO_NOT_MATCH)
    _check_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    sessions_end_all(user=user)


@transaction.atomic
def sessions_end_all(*, user: User) -> None:
    """End every session of the user at once: every refresh token is blacklisted and
    every token issued so far (access tokens included) is refused from now on."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    _revoke_all_refresh_tokens(user)


def logout_all(*, user: User) -> None:
    sessions_end_all(user=user)


def logout(*, user: User, refresh_token: str | None, refresh: str | None) -> None:
    field = "refresh_token" if refresh_token else "refresh"
    raw = refresh_token or refresh
    if not raw:
        raise FieldError.single("refresh_token", messages.REFRESH_REQUIRED)
    try:
        token = RefreshToken(raw)
    except TokenError as exc:
        raise FieldError.single(field, messages.TOKEN_INVALID) from exc
    if token.get(api_settings.USER_ID_CLAIM) != user.pk:
        raise FieldError.single(field, messages.TOKEN_NOT_YOURS)
    token.blacklist()
