"""users.services called directly: registration, tokens, password change, logout.

Each rule on its own, so a failure names the rule, not a router; the HTTP behaviour is in
test_api_auth.py and test_sessions.py. (``user_update``: test_user_services.py.)
"""

import pytest
from django.conf import settings
from django.test import override_settings
from ninja_jwt.token_blacklist.models import BlacklistedToken
from ninja_jwt.tokens import AccessToken, RefreshToken

from project.errors import AuthFailed, FieldError
from tests.conftest import PASSWORD
from users import messages, services
from users.models import User

NEW_PASSWORD = "An0ther-Long-Passphrase"
ROTATION = {**settings.NINJA_JWT, "ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True}


def register(**overrides) -> User:
    fields = {
        "username": "bob",
        "email": "bob@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        **overrides,
    }
    return services.user_register(**fields)


def refused(call, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(FieldError) as raised:
        call(*args, **kwargs)
    return raised.value.errors


def unauthenticated(call, **kwargs) -> str:
    with pytest.raises(AuthFailed) as raised:
        call(**kwargs)
    return raised.value.message


# --- user_register -------------------------------------------------------------------


@pytest.mark.django_db
def test_register_stores_a_hashed_password_and_a_normalised_email():
    user = register(email="Bob@EXAMPLE.com")

    stored = User.objects.get(pk=user.pk)
    assert (stored.username, stored.email) == ("bob", "Bob@example.com")
    assert stored.password != PASSWORD and stored.check_password(PASSWORD)


def test_register_refuses_a_username_taken_in_another_case(user):
    assert refused(register, username="ALICE") == {"username": [messages.USERNAME_TAKEN]}
    assert User.objects.count() == 1


def test_register_refuses_an_email_taken_in_another_case(user):
    errors = refused(register, email="ALICE@Example.com")

    assert errors == {"email": [messages.EMAIL_TAKEN]}
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_register_refuses_an_invalid_email():
    assert refused(register, email="not-an-address") == {"email": [messages.EMAIL_INVALID]}


@pytest.mark.django_db
def test_register_refuses_passwords_that_differ():
    errors = refused(register, password_confirm=PASSWORD + "x")

    assert errors == {"password_confirm": [messages.PASSWORDS_DO_NOT_MATCH]}
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_applies_the_password_validators():
    errors = refused(register, password="bob", password_confirm="bob")

    assert list(errors) == ["password"] and errors["password"]
    assert not User.objects.exists()


def test_register_reports_every_broken_rule_at_once(user):
    errors = refused(register, username="alice", email="alice@example.com", password_confirm="")

    assert set(errors) == {"username", "email", "password_confirm"}


# --- token_obtain / token_verify -----------------------------------------------------


def test_token_obtain_returns_an_access_and_a_refresh_token_for_the_user(user):
    tokens = services.token_obtain(username="alice", password=PASSWORD)

    assert set(tokens) == {"access", "refresh"}
    assert AccessToken(tokens["access"])["user_id"] == user.pk
    assert RefreshToken(tokens["refresh"])["user_id"] == user.pk


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong"), ("nobody", PASSWORD)])
def test_token_obtain_refuses_bad_credentials_alike(user, username, password):
    message = unauthenticated(services.token_obtain, username=username, password=password)

    assert message == messages.BAD_CREDENTIALS


def test_token_obtain_refuses_an_inactive_user(user):
    User.objects.filter(pk=user.pk).update(is_active=False)

    message = unauthenticated(services.token_obtain, username="alice", password=PASSWORD)

    assert message == messages.BAD_CREDENTIALS


def test_token_verify_accepts_a_fresh_token(user):
    tokens = services.token_obtain(username="alice", password=PASSWORD)

    services.token_verify(token=tokens["access"])
    services.token_verify(token=tokens["refresh"])


def test_token_verify_refuses_garbage_a_blacklisted_token_and_a_deleted_users(user, other_user):
    blacklisted = RefreshToken.for_user(user)
    blacklisted.blacklist()
    orphan = str(RefreshToken.for_user(other_user).access_token)
    other_user.delete()

    for token in ("not.a.token", str(blacklisted), orphan):
        assert unauthenticated(services.token_verify, token=token) == messages.TOKEN_INVALID


# --- token_refresh -------------------------------------------------------------------


def test_token_refresh_without_rotation_returns_only_an_access_token(user):
    refresh = services.token_obtain(username="alice", password=PASSWORD)["refresh"]

    tokens = services.token_refresh(refresh=refresh)

    assert set(tokens) == {"access"}
    assert AccessToken(tokens["access"])["user_id"] == user.pk


def test_token_refresh_refuses_an_access_token_and_an_ended_session(user):
    tokens = services.token_obtain(username="alice", password=PASSWORD)
    assert unauthenticated(services.token_refresh, refresh=tokens["access"]) == (
        messages.TOKEN_INVALID
    )

    services.logout_all(user=user)

    assert unauthenticated(services.token_refresh, refresh=tokens["refresh"]) == (
        messages.TOKEN_INVALID
    )


@override_settings(NINJA_JWT=ROTATION)
def test_token_refresh_with_rotation_replaces_the_refresh_token_once(user):
    first = services.token_obtain(username="alice", password=PASSWORD)["refresh"]

    rotated = services.token_refresh(refresh=first)

    assert set(rotated) == {"access", "refresh"} and rotated["refresh"] != first
    # The old one again is reuse: refused, and every session of the user ends.
    assert unauthenticated(services.token_refresh, refresh=first) == messages.TOKEN_INVALID
    assert unauthenticated(services.token_refresh, refresh=rotated["refresh"]) == (
        messages.TOKEN_INVALID
    )


# --- password_change -----------------------------------------------------------------


def change_password(user, **overrides) -> None:
    fields = {
        "old_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
        **overrides,
    }
    services.password_change(user=user, **fields)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"old_password": "wrong"}, "old_password", messages.OLD_PASSWORD_WRONG),
        (
            {"new_password_confirm": "different"},
            "new_password_confirm",
            messages.PASSWORDS_DO_NOT_MATCH,
        ),
    ],
)
def test_password_change_refusals_change_nothing(user, overrides, field, message):
    refresh = RefreshToken.for_user(user)

    assert refused(change_password, user, **overrides) == {field: [message]}

    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()


def test_password_change_applies_the_password_validators(user):
    errors = refused(change_password, user, new_password="alice", new_password_confirm="alice")

    assert list(errors) == ["new_password"] and errors["new_password"]


def test_password_change_sets_the_password_and_ends_every_session(user):
    before = services.token_obtain(username="alice", password=PASSWORD)

    change_password(user)

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert unauthenticated(services.token_verify, token=before["access"]) == (
        messages.TOKEN_INVALID
    )
    assert unauthenticated(services.token_refresh, refresh=before["refresh"]) == (
        messages.TOKEN_INVALID
    )


# --- logout / logout_all -------------------------------------------------------------


def test_logout_blacklists_the_given_refresh_token_under_either_name(user):
    for name in ("refresh_token", "refresh"):
        token = RefreshToken.for_user(user)
        other = {"refresh_token": None, "refresh": None}
        services.logout(user=user, **{**other, name: str(token)})

        assert BlacklistedToken.objects.filter(token__jti=token["jti"]).exists()


def test_logout_needs_a_token(user):
    errors = refused(services.logout, user=user, refresh_token=None, refresh=None)

    assert errors == {"refresh_token": [messages.REFRESH_REQUIRED]}


def test_logout_names_the_field_that_held_a_bad_token(user):
    access = str(RefreshToken.for_user(user).access_token)

    assert refused(services.logout, user=user, refresh_token=None, refresh=access) == {
        "refresh": [messages.TOKEN_INVALID]
    }
    assert refused(services.logout, user=user, refresh_token="garbage", refresh=None) == {
        "refresh_token": [messages.TOKEN_INVALID]
    }


def test_logout_refuses_another_users_token_and_leaves_it_valid(user, other_user):
    theirs = RefreshToken.for_user(other_user)

    errors = refused(services.logout, user=user, refresh_token=str(theirs), refresh=None)

    assert errors == {"refresh_token": [messages.TOKEN_NOT_YOURS]}
    assert not BlacklistedToken.objects.filter(token__jti=theirs["jti"]).exists()


def test_logout_all_ends_every_session_of_that_user_only(user, other_user):
    mine = [services.token_obtain(username="alice", password=PASSWORD) for _ in range(2)]
    theirs = services.token_obtain(username="mallory", password=PASSWORD)

    services.logout_all(user=user)

    for tokens in mine:
        assert unauthenticated(services.token_verify, token=tokens["access"]) == (
            messages.TOKEN_INVALID
        )
        assert unauthenticated(services.token_verify, token=tokens["refresh"]) == (
            messages.TOKEN_INVALID
        )
    services.token_verify(token=theirs["access"])
    services.token_refresh(refresh=theirs["refresh"])
