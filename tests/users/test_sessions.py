"""Sessions that end: logout-all, password change, opt-in refresh rotation with reuse
detection. Over HTTP through Django's client."""

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings
from ninja_jwt.token_blacklist.models import BlacklistedToken
from ninja_jwt.tokens import AccessToken, RefreshToken

from tests.conftest import PASSWORD, ApiClient, bearer
from tests.test_settings import _manage
from users import messages
from users.models import RotatedRefreshToken, User
from users.tokens import SESSION_CLAIM

NEW_PASSWORD = "An0ther-Long-Passphrase"
ROTATION = {**settings.NINJA_JWT, "ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True}


def log_in(client, password=PASSWORD) -> dict[str, str]:
    response = client.post("/api/token/", {"username": "alice", "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def as_user(access: str) -> ApiClient:
    return ApiClient({"HTTP_AUTHORIZATION": f"Bearer {access}"})


def refresh(client, token: str, **extra):
    return client.post("/api/token/refresh/", {"refresh": token}, **extra)


def verify(client, token: str) -> int:
    return client.post("/api/token/verify/", {"token": token}).status_code


def assert_session_dead(client, pair: dict[str, str]) -> None:
    me = as_user(pair["access"]).get("/api/users/me/")
    assert me.status_code == 401
    assert me.json() == {"detail": messages.TOKEN_INVALID}
    assert me["WWW-Authenticate"] == "Bearer"
    assert refresh(client, pair["refresh"]).status_code == 401
    assert verify(client, pair["access"]) == 401
    assert verify(client, pair["refresh"]) == 401


def assert_session_alive(client, pair: dict[str, str]) -> None:
    assert as_user(pair["access"]).get("/api/users/me/").status_code == 200
    assert refresh(client, pair["refresh"]).status_code == 200
    assert verify(client, pair["access"]) == 200


# --- logout-all -------------------------------------------------------------------------


def test_logout_all_ends_every_session_at_once(api_client, user, other_user):
    phone, laptop = log_in(api_client), log_in(api_client)
    refreshed_access = refresh(api_client, laptop["refresh"]).json()["access"]
    theirs = api_client.post("/api/token/", {"username": "mallory", "password": PASSWORD}).json()

    response = as_user(phone["access"]).post("/api/users/logout-all/")

    assert response.status_code == 200
    assert response.json() == {"detail": messages.LOGGED_OUT_EVERYWHERE}
    assert_session_dead(api_client, phone)
    assert_session_dead(api_client, laptop)
    assert as_user(refreshed_access).get("/api/users/me/").status_code == 401
    assert_session_alive(api_client, theirs)  # another user's sessions are untouched
    assert_session_alive(api_client, log_in(api_client))  # logging in again works


def test_logout_all_needs_a_valid_access_token(api_client, user):
    assert api_client.post("/api/users/logout-all/").status_code == 401
    pair = log_in(api_client)
    assert as_user(pair["refresh"]).post("/api/users/logout-all/").status_code == 401
    assert_session_alive(api_client, pair)


def test_tokens_from_before_generations_work_until_the_first_logout_all(api_client, user):
    legacy = RefreshToken.for_user(user)  # no session claim, as issued before this feature
    assert SESSION_CLAIM not in legacy.payload
    pair = {"access": str(legacy.access_token), "refresh": str(legacy)}
    assert_session_alive(api_client, pair)

    as_user(log_in(api_client)["access"]).post("/api/users/logout-all/")

    assert_session_dead(api_client, pair)


def test_a_token_issued_in_the_same_second_as_logout_all(api_client, user):
    """``iat`` has whole seconds: with every token issued at the same instant, a token
    from just before logout-all is refused and one from just after is accepted."""
    frozen = dt.datetime.now(dt.UTC).replace(microsecond=500000)
    with mock.patch("ninja_jwt.tokens.aware_utcnow", return_value=frozen):
        before = log_in(api_client)
        as_user(before["access"]).post("/api/users/logout-all/")
        after = log_in(api_client)

    assert AccessToken(before["access"])["iat"] == AccessToken(after["access"])["iat"]
    assert_session_dead(api_client, before)
    assert_session_alive(api_client, after)


def test_a_refresh_token_that_escaped_the_blacklist_is_still_refused(api_client, user):
    """A log-in racing with logout-all may store its refresh token after the blacklist
    pass; the token's session generation still gives it away."""
    pair = log_in(api_client)
    as_user(pair["access"]).post("/api/users/logout-all/")
    jti = RefreshToken(pair["refresh"], verify=False)["jti"]
    BlacklistedToken.objects.filter(token__jti=jti).delete()

    assert refresh(api_client, pair["refresh"]).status_code == 401
    assert verify(api_client, pair["refresh"]) == 401


def test_authentication_still_reads_one_row(api_client, user, django_assert_num_queries):
    client = as_user(log_in(api_client)["access"])
    with django_assert_num_queries(1):  # the user, with its session generation
        assert client.get("/api/users/me/").status_code == 200


# --- password change ----------------------------------------------------------------------


def test_a_password_change_ends_every_session(api_client, user):
    phone, laptop = log_in(api_client), log_in(api_client)

    response = as_user(phone["access"]).post(
        "/api/users/me/password/",
        {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )

    assert response.status_code == 204
    assert_session_dead(api_client, phone)
    assert_session_dead(api_client, laptop)
    assert_session_alive(api_client, log_in(api_client, NEW_PASSWORD))


def test_a_rejected_password_change_ends_nothing(api_client, user):
    pair = log_in(api_client)
    response = as_user(pair["access"]).post(
        "/api/users/me/password/",
        {
            "old_password": "wrong",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )

    assert response.status_code == 400
    assert User.objects.get(pk=user.pk).session_generation == 0
    assert_session_alive(api_client, pair)


# --- refresh rotation ---------------------------------------------------------------------


def test_without_rotation_refresh_answers_only_an_access_token(api_client, user):
    pair = log_in(api_client)

    answers = [refresh(api_client, pair["refresh"]) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(list(a.json()) == ["access"] for a in answers)
    assert BlacklistedToken.objects.count() == 0
    assert as_user(answers[-1].json()["access"]).get("/api/users/me/").status_code == 200


@override_settings(NINJA_JWT=ROTATION)
def test_with_rotation_each_refresh_returns_a_new_refresh_token(api_client, user):
    first = log_in(api_client)

    response = refresh(api_client, first["refresh"])

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != first["refresh"]
    assert as_user(body["access"]).get("/api/users/me/").status_code == 200
    second = refresh(api_client, body["refresh"])
    assert second.status_code == 200
    assert set(second.json()) == {"access", "refresh"}
    assert RotatedRefreshToken.objects.count() == 2


@override_settings(NINJA_JWT=ROTATION)
def test_reusing_a_rotated_refresh_token_ends_every_session(api_client, user):
    stolen = log_in(api_client)
    other_device = log_in(api_client)
    rotated = refresh(api_client, stolen["refresh"]).json()

    reuse = refresh(api_client, stolen["refresh"])

    assert reuse.status_code == 401
    assert reuse.json() == {"detail": messages.TOKEN_INVALID}
    assert_session_dead(api_client, rotated)
    assert_session_dead(api_client, other_device)
    assert User.objects.get(pk=user.pk).session_generation == 1


@override_settings(NINJA_JWT=ROTATION)
def test_a_logged_out_refresh_token_is_refused_without_ending_other_sessions(api_client, user):
    one, two = log_in(api_client), log_in(api_client)
    as_user(one["access"]).post("/api/users/logout/", {"refresh_token": one["refresh"]})

    assert refresh(api_client, one["refresh"]).status_code == 401
    assert_session_alive(api_client, two)


@override_settings(NINJA_JWT=ROTATION)
def test_a_retried_refresh_with_an_idempotency_key_is_not_taken_for_reuse(api_client, user):
    pair = log_in(api_client)
    key = {"HTTP_IDEMPOTENCY_KEY": "refresh-1"}

    first = refresh(api_client, pair["refresh"], **key)
    retry = refresh(api_client, pair["refresh"], **key)

    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert_session_alive(api_client, first.json())


@override_settings(NINJA_JWT=ROTATION)
def test_rotation_keeps_the_session_generation(api_client, user):
    pair = log_in(api_client)
    as_user(pair["access"]).post("/api/users/logout-all/")
    fresh = log_in(api_client)

    rotated = refresh(api_client, fresh["refresh"]).json()

    assert RefreshToken(rotated["refresh"])[SESSION_CLAIM] == 1
    assert_session_alive(api_client, rotated)


def test_conftest_bearer_tokens_still_work(auth_client):
    assert auth_client.get("/api/users/me/").status_code == 200


def test_rotation_is_read_from_the_environment():
    code = (
        "from django.conf import settings as s;"
        " print(s.NINJA_JWT['ROTATE_REFRESH_TOKENS'], s.NINJA_JWT['BLACKLIST_AFTER_ROTATION'])"
    )
    on = _manage("shell", "-v", "0", "-c", code, env={"ROTATE_REFRESH_TOKENS": "true"})
    off = _manage("shell", "-v", "0", "-c", code, env={})

    assert (on.stdout.strip(), off.stdout.strip()) == ("True True", "False False")


@pytest.mark.parametrize("path", ["/api/users/logout-all/"])
def test_logout_all_is_documented(path):
    from tests.test_openapi import PATHS

    operation = PATHS[path]["post"]
    assert operation["security"] == [{"JWTAuth": []}]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DetailOut"
    }
    assert "401" in operation["responses"]


def test_bearer_helper_issues_claimless_tokens(user):
    assert SESSION_CLAIM not in AccessToken(bearer(user)["HTTP_AUTHORIZATION"].split()[1]).payload
