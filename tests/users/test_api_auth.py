"""Registration, tokens, profile, password change and logout over HTTP."""

import datetime as dt
import hashlib

import pytest
from django.test import override_settings
from ninja_jwt.token_blacklist.models import BlacklistedToken
from ninja_jwt.tokens import AccessToken, RefreshToken

from project.errors import PRECONDITION_FAILED, AuthFailed
from tests.conftest import PASSWORD, ApiClient, bearer
from users import messages
from users.auth import JWTAuth, bearer_user
from users.models import User

NEW_PASSWORD = "An0ther-Long-Passphrase"


def register_body(**overrides):
    body = {
        "username": "bob",
        "email": "bob@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    return {**body, **overrides}


def login(client, username="alice", password=PASSWORD):
    return client.post("/api/token/", {"username": username, "password": password})


# --- Registration ----------------------------------------------------------------------


def test_register_creates_user_and_hides_password(api_client):
    response = api_client.post("/api/users/register/", register_body())

    assert response.status_code == 201
    user = User.objects.get(username="bob")
    assert response.json() == {"id": user.id, "username": "bob", "email": "bob@example.com"}
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"password_confirm": "different-Passw0rd"},
            {"password_confirm": ["Passwords do not match."]},
        ),
        ({"username": "bad name!"}, {"username": [messages.USERNAME_INVALID]}),
        ({"username": "x" * 151}, {"username": ["Username must have at most 150 characters."]}),
        ({"username": ""}, {"username": ["Username may not be blank."]}),
        ({"email": "not-an-email"}, {"email": [messages.EMAIL_INVALID]}),
        ({"password": "123", "password_confirm": "123"}, None),
    ],
)
def test_register_rejects_bad_input_and_stores_nothing(api_client, overrides, expected):
    response = api_client.post("/api/users/register/", register_body(**overrides))

    assert response.status_code == 400
    if expected is not None:
        assert response.json() == expected
    else:
        assert set(response.json()) == {"password"}
        assert all(m.endswith(".") for m in response.json()["password"])
    assert User.objects.count() == 0


def test_register_missing_fields_are_named(api_client):
    response = api_client.post("/api/users/register/", {})

    assert response.status_code == 400
    assert response.json() == {
        "username": ["Username is required."],
        "email": ["Email is required."],
        "password": ["Password is required."],
        "password_confirm": ["Password confirm is required."],
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "ALICE"}, "username", messages.USERNAME_TAKEN),
        ({"email": "Alice@EXAMPLE.com"}, "email", messages.EMAIL_TAKEN),
    ],
)
def test_register_username_and_email_unique_case_insensitively(
    api_client, user, overrides, field, message
):
    response = api_client.post("/api/users/register/", register_body(**overrides))

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert User.objects.count() == 1


def test_register_ignores_unknown_and_privileged_fields(api_client):
    body = register_body(is_staff=True, is_superuser=True, id=999, extra="x")
    response = api_client.post("/api/users/register/", body)

    assert response.status_code == 201
    user = User.objects.get(username="bob")
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert response.json()["id"] == user.id != 999


# --- Tokens ----------------------------------------------------------------------------


def test_login_returns_working_token_pair(api_client, user):
    response = login(api_client)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    me = ApiClient({"HTTP_AUTHORIZATION": f"Bearer {response.json()['access']}"}).get(
        "/api/users/me/"
    )
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_login_username_is_case_insensitive(api_client, user):
    assert login(api_client, username="ALICE").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong-password"), ("nobody", PASSWORD)]
)
def test_login_failure_is_the_same_for_unknown_user_and_wrong_password(
    api_client, user, username, password
):
    response = login(api_client, username, password)

    assert response.status_code == 401
    assert response.json() == {"detail": messages.BAD_CREDENTIALS}
    assert response["WWW-Authenticate"] == "Bearer"


def test_login_refuses_inactive_user(api_client, user):
    user.is_active = False
    user.save()

    assert login(api_client).status_code == 401


def test_refresh_gives_new_access_and_does_not_rotate(api_client, user):
    refresh = login(api_client).json()["refresh"]

    response = api_client.post("/api/token/refresh/", {"refresh": refresh})

    assert response.status_code == 200
    assert set(response.json()) == {"access"}
    assert AccessToken(response.json()["access"])["user_id"] == user.id
    # The same refresh token keeps working: no rotation.
    assert api_client.post("/api/token/refresh/", {"refresh": refresh}).status_code == 200


@pytest.mark.parametrize("kind", ["garbage", "access", "expired"])
def test_refresh_rejects_invalid_tokens(api_client, user, kind):
    token = {
        "garbage": "not.a.token",
        "access": str(RefreshToken.for_user(user).access_token),
        "expired": _expired_refresh(user),
    }[kind]

    response = api_client.post("/api/token/refresh/", {"refresh": token})

    assert response.status_code == 401
    assert response.json() == {"detail": messages.TOKEN_INVALID}


def test_refresh_rejects_token_of_deleted_user(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    user.delete()

    assert api_client.post("/api/token/refresh/", {"refresh": refresh}).status_code == 401


def _expired_refresh(user) -> str:
    token = RefreshToken.for_user(user)
    token.set_exp(from_time=token.current_time - dt.timedelta(days=30))
    return str(token)


def test_verify_accepts_valid_and_rejects_invalid(api_client, user):
    access = str(RefreshToken.for_user(user).access_token)

    ok = api_client.post("/api/token/verify/", {"token": access})
    bad = api_client.post("/api/token/verify/", {"token": access[:-2] + "xx"})

    assert (ok.status_code, ok.json()) == (200, {})
    assert (bad.status_code, bad.json()) == (401, {"detail": messages.TOKEN_INVALID})


def test_verify_rejects_blacklisted_refresh(auth_client, user):
    refresh = str(RefreshToken.for_user(user))
    auth_client.post("/api/users/logout/", {"refresh_token": refresh})

    assert auth_client.post("/api/token/verify/", {"token": refresh}).status_code == 401


@pytest.mark.parametrize("kind", ["access", "refresh"])
@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_verify_rejects_tokens_of_deactivated_or_deleted_users(api_client, user, kind, change):
    """Verify applies the rules of authentication: a token its user can no longer use
    does not verify."""
    refresh = RefreshToken.for_user(user)
    token = str(refresh.access_token if kind == "access" else refresh)
    if change == "deactivate":
        user.is_active = False
        user.save()
    else:
        user.delete()

    response = api_client.post("/api/token/verify/", {"token": token})

    assert (response.status_code, response.json()) == (401, {"detail": messages.TOKEN_INVALID})


# --- Bearer authentication -------------------------------------------------------------


def _header_for(user, kind: str) -> str:
    refresh = RefreshToken.for_user(user)
    access = refresh.access_token
    if kind == "expired":
        access.set_exp(from_time=access.current_time - dt.timedelta(hours=1))
    if kind == "refresh-as-access":
        return f"Bearer {refresh}"
    if kind == "wrong-signature":
        return f"Bearer {str(access)[:-3]}abc"
    if kind == "wrong-scheme":
        return f"Token {access}"
    if kind == "empty":
        return "Bearer "
    return f"Bearer {access}"


@pytest.mark.parametrize(
    "kind", ["expired", "refresh-as-access", "wrong-signature", "wrong-scheme", "empty"]
)
def test_bad_bearer_tokens_are_401_with_detail_only(api_client, user, kind):
    response = api_client.get("/api/users/me/", HTTP_AUTHORIZATION=_header_for(user, kind))

    assert response.status_code == 401
    assert list(response.json()) == ["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The tokens PyJWT decodes (through ninja_jwt's backend) during the test."""
    from ninja_jwt import state as jwt_state

    calls: list[str] = []
    real_decode = jwt_state.token_backend.decode
    monkeypatch.setattr(
        jwt_state.token_backend, "decode", lambda raw: calls.append(raw) or real_decode(raw)
    )
    return calls


def test_a_token_is_verified_once_and_its_times_on_every_use(
    api_client, user, monkeypatch, decoded
):
    access = RefreshToken.for_user(user).access_token
    access.set_exp(lifetime=dt.timedelta(minutes=5))
    header = {"HTTP_AUTHORIZATION": f"Bearer {access}"}

    assert api_client.get("/api/users/me/", **header).status_code == 200
    assert api_client.get("/api/users/me/", **header).status_code == 200
    assert len(decoded) == 1  # the second request did not decode it again
    # Once its exp has passed (leeway 0), the remembered token is refused like any other.
    later = access["exp"] + 1
    monkeypatch.setattr("users.auth.time.time", lambda: later)
    response = api_client.get("/api/users/me/", **header)
    assert response.status_code == 401
    assert response.json() == {"detail": messages.TOKEN_INVALID}


def test_a_token_not_valid_yet_is_refused_even_when_remembered(api_client, user, monkeypatch):
    access = RefreshToken.for_user(user).access_token
    header = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    assert api_client.get("/api/users/me/", **header).status_code == 200

    earlier = access["iat"] - 60  # a clock now before the token's issue time
    monkeypatch.setattr("users.auth.time.time", lambda: earlier)

    assert api_client.get("/api/users/me/", **header).status_code == 401


@pytest.mark.parametrize("change", ["logout-all", "deactivate"])
def test_a_remembered_token_still_ends_with_its_session(api_client, user, decoded, change):
    header = bearer(user)
    assert api_client.get("/api/users/me/", **header).status_code == 200
    assert api_client.get("/api/users/me/", **header).status_code == 200
    assert len(decoded) == 1  # remembered from here on

    if change == "logout-all":
        assert api_client.post("/api/users/logout-all/", **header).status_code == 200
    else:
        User.objects.filter(pk=user.pk).update(is_active=False)

    assert api_client.get("/api/users/me/", **header).status_code == 401


def test_a_new_signing_key_or_token_rule_forgets_the_remembered_tokens(api_client, user, settings):
    from users import auth

    assert api_client.get("/api/users/me/", **bearer(user)).status_code == 200
    assert auth._VERIFIED

    settings.NINJA_JWT = {**settings.NINJA_JWT, "LEEWAY": 0}

    assert auth._VERIFIED == {}


def test_tokens_that_fail_verification_are_never_remembered(api_client, user, decoded):
    header = {"HTTP_AUTHORIZATION": _header_for(user, "wrong-signature")}

    assert api_client.get("/api/users/me/", **header).status_code == 401
    assert api_client.get("/api/users/me/", **header).status_code == 401
    assert len(decoded) == 2


def test_missing_token_is_401(api_client):
    response = api_client.get("/api/budgets/")

    assert response.status_code == 401
    assert response.json() == {"detail": messages.NOT_AUTHENTICATED}
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_token_of_deactivated_or_deleted_user_is_401(api_client, user, change):
    header = bearer(user)
    if change == "deactivate":
        user.is_active = False
        user.save()
    else:
        user.delete()

    assert api_client.get("/api/users/me/", **header).status_code == 401


# --- Me --------------------------------------------------------------------------------


def test_me_shows_only_my_profile(auth_client, user, other_user):
    response = auth_client.get("/api/users/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "",
        "last_name": "",
    }


def test_me_patch_updates_allowed_fields_and_ignores_read_only(auth_client, user):
    response = auth_client.patch(
        "/api/users/me/",
        {"first_name": " Alice ", "email": "new@example.com", "username": "root", "id": 1234},
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": "alice",
        "email": "new@example.com",
        "first_name": "Alice",
        "last_name": "",
    }
    user.refresh_from_db()
    assert (user.username, user.email) == ("alice", "new@example.com")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "MALLORY@example.com"}, {"email": [messages.EMAIL_TAKEN]}),
        ({"email": "nope"}, {"email": [messages.EMAIL_INVALID]}),
        ({"email": None}, {"email": ["Email must be a string."]}),
        ({"last_name": "x" * 151}, {"last_name": ["Last name must have at most 150 characters."]}),
    ],
)
def test_me_patch_rejects_bad_input(auth_client, user, other_user, body, expected):
    response = auth_client.patch("/api/users/me/", body)

    assert response.status_code == 400
    assert response.json() == expected
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_me_patch_keeps_own_email_in_other_case(auth_client, user):
    response = auth_client.patch("/api/users/me/", {"email": "ALICE@example.com"})

    assert response.status_code == 200


# The profile is a single object like a budget: ETag, If-None-Match, If-Match.


def _body_etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def test_me_carries_an_etag_and_answers_304_at_no_extra_query(
    auth_client, user, django_assert_num_queries
):
    first = auth_client.get("/api/users/me/")
    assert first["ETag"] == _body_etag(first.content)

    with django_assert_num_queries(1):  # the user row, read by authentication anyway
        again = auth_client.get("/api/users/me/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert (again.status_code, again.content, again["ETag"]) == (304, b"", first["ETag"])
    assert "Content-Type" not in again


def test_me_patch_under_a_stale_if_match_is_a_412_and_changes_nothing(auth_client, user):
    etag = auth_client.get("/api/users/me/")["ETag"]
    # Another tab changes the profile in between.
    assert auth_client.patch("/api/users/me/", {"first_name": "Tab"}).status_code == 200

    stale = auth_client.patch("/api/users/me/", {"email": "stale@example.com"}, HTTP_IF_MATCH=etag)

    assert (stale.status_code, stale.json()) == (412, {"detail": PRECONDITION_FAILED})
    assert User.objects.get(pk=user.pk).email == "alice@example.com"


@pytest.mark.parametrize("email", ["0", "mallory@example.com"], ids=["malformed", "taken"])
def test_me_patch_with_an_invalid_email_is_a_400_whatever_if_match_says(
    auth_client, user, other_user, email
):
    response = auth_client.patch("/api/users/me/", {"email": email}, HTTP_IF_MATCH='"0123"')

    assert response.status_code == 400
    assert list(response.json()) == ["email"]


def test_me_patch_under_the_current_if_match_writes_and_answers_the_new_etag(auth_client, user):
    etag = auth_client.get("/api/users/me/")["ETag"]

    response = auth_client.patch("/api/users/me/", {"last_name": "Liddell"}, HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] == _body_etag(response.content) != etag
    assert auth_client.get("/api/users/me/")["ETag"] == response["ETag"]
    assert User.objects.get(pk=user.pk).last_name == "Liddell"


# --- Password change and logout -------------------------------------------------------


def test_password_change_revokes_every_refresh_token(api_client, auth_client, user):
    first = login(api_client).json()["refresh"]
    second = login(api_client).json()["refresh"]

    response = auth_client.post(
        "/api/users/me/password/",
        {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )

    assert response.status_code == 204
    assert response.content == b""
    for refresh in (first, second):
        assert api_client.post("/api/token/refresh/", {"refresh": refresh}).status_code == 401
    assert login(api_client).status_code == 401
    assert login(api_client, password=NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_password": "wrong", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "aliceXYZ"}, "new_password"),
    ],
)
def test_password_change_rejections_change_nothing(api_client, auth_client, user, body, field):
    refresh = login(api_client).json()["refresh"]
    body = {**body, "new_password_confirm": body["new_password"]}

    response = auth_client.post("/api/users/me/password/", body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert api_client.post("/api/token/refresh/", {"refresh": refresh}).status_code == 200


def test_password_change_confirmation_must_match(auth_client):
    response = auth_client.post(
        "/api/users/me/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": "x"},
    )

    assert response.status_code == 400
    assert response.json() == {"new_password_confirm": [messages.PASSWORDS_DO_NOT_MATCH]}


@pytest.mark.parametrize("field", ["refresh_token", "refresh"])
def test_logout_blacklists_the_refresh_token(api_client, auth_client, user, field):
    refresh = login(api_client).json()["refresh"]

    response = auth_client.post("/api/users/logout/", {field: refresh})

    assert response.status_code == 200
    assert response.json() == {"detail": "Successfully logged out."}
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    after = api_client.post("/api/token/refresh/", {"refresh": refresh})
    assert after.status_code == 401


def test_logout_with_someone_elses_token_is_400_and_revokes_nothing(auth_client, other_user):
    foreign = str(RefreshToken.for_user(other_user))

    response = auth_client.post("/api/users/logout/", {"refresh_token": foreign})

    assert response.status_code == 400
    assert response.json() == {"refresh_token": [messages.TOKEN_NOT_YOURS]}
    assert BlacklistedToken.objects.count() == 0


@pytest.mark.parametrize("token_kind", ["access", "garbage", "missing"])
def test_logout_with_non_refresh_token_is_400(auth_client, user, token_kind):
    body = {
        "access": {"refresh_token": str(RefreshToken.for_user(user).access_token)},
        "garbage": {"refresh_token": "abc"},
        "missing": {},
    }[token_kind]

    response = auth_client.post("/api/users/logout/", body)

    assert response.status_code == 400
    assert list(response.json()) == ["refresh_token"]


def test_logout_requires_authentication(api_client, user):
    response = api_client.post(
        "/api/users/logout/", {"refresh_token": str(RefreshToken.for_user(user))}
    )

    assert response.status_code == 401


# --- Rate limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/token/", {"username": "alice", "password": "wrong"}),
        ("/api/users/register/", register_body(password_confirm="mismatch")),
    ],
)
def test_auth_endpoints_are_throttled_per_ip(api_client, user, path, body):
    with override_settings(AUTH_RATE_LIMIT="3/min"):
        statuses = [api_client.post(path, body).status_code for _ in range(3)]
        blocked = api_client.post(path, body)
        other_ip = api_client.post(path, body, REMOTE_ADDR="10.9.8.7")

    assert 429 not in statuses
    assert blocked.status_code == 429
    assert list(blocked.json()) == ["detail"]
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert other_ip.status_code != 429


def test_forged_forwarded_for_does_not_dodge_the_limit(api_client, user):
    body = {"username": "alice", "password": "wrong"}
    with override_settings(AUTH_RATE_LIMIT="2/min"):
        for n in range(2):
            api_client.post("/api/token/", body, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")
        blocked = api_client.post("/api/token/", body, HTTP_X_FORWARDED_FOR="5.6.7.8")

    assert blocked.status_code == 429


def test_no_route_lists_or_reads_other_users(auth_client, other_user):
    for path in ("/api/users/", f"/api/users/{other_user.id}/"):
        assert auth_client.get(path).status_code == 404


def test_username_is_checked_after_unicode_normalisation(api_client):
    # U+FDFA becomes an Arabic phrase with spaces under NFKC, which Django applies on save.
    response = api_client.post("/api/users/register/", register_body(username="\ufdfa"))

    assert response.status_code == 400
    assert response.json() == {"username": [messages.USERNAME_INVALID]}
    assert User.objects.count() == 0


def test_email_that_grows_when_normalised_is_a_400(api_client):
    email = "a@" + ".".join(["İ" * 30] * 5) + ".com"  # "İ".lower() is two characters

    response = api_client.post("/api/users/register/", register_body(email=email))

    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, messages.NOT_AUTHENTICATED),
        ("", messages.NOT_AUTHENTICATED),
        ("Bearer not-a-token", messages.TOKEN_INVALID),
        ("Basic dXNlcjpwYXNz", messages.TOKEN_INVALID),
    ],
)
def test_bearer_auth_raises_the_reason_the_handlers_answer(rf, authorization, message):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    request = rf.get("/api/budgets/", **headers)

    with pytest.raises(AuthFailed) as failed:
        JWTAuth()(request)

    assert failed.value.message == message
    assert bearer_user(request) is None


def test_bearer_auth_answers_the_tokens_user(rf, user):
    request = rf.get("/api/budgets/", **bearer(user))

    assert JWTAuth()(request) == user
    assert bearer_user(request) == user
