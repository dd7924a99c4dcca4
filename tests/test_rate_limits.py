"""Log-in rate limits: per client IP, shared by every worker process, exact under
concurrency, and on the admin's log-in page too."""

import datetime as dt
from contextlib import ExitStack
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings

from project.config import CACHE_TABLE
from project.throttling import count_request
from tests.conftest import PASSWORD, make_user
from tests.live import live_server
from tests.test_concurrency import _all_at_once, _tail

DATABASE_CACHE = {"default": {"BACKEND": "project.cache.DatabaseCache", "LOCATION": CACHE_TABLE}}


# --- The admin's log-in page ----------------------------------------------------------------


@pytest.fixture
def staff(db):
    return make_user("root", is_staff=True, is_superuser=True)


def _admin_login(client, password, **extra):
    return client.post("/admin/login/", {"username": "root", "password": password}, **extra)


def test_admin_login_is_rate_limited_per_ip(client, staff):
    with override_settings(AUTH_RATE_LIMIT="3/min"):
        wrong = [_admin_login(client, "wrong").status_code for _ in range(3)]
        blocked = _admin_login(client, PASSWORD)  # even the right password
        logged_in_after_block = "_auth_user_id" in client.session
        other_ip = _admin_login(client, PASSWORD, REMOTE_ADDR="10.9.8.7")

    assert wrong == [200, 200, 200]  # the form again, with its error
    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert "Too many log-in attempts" in blocked.content.decode()
    assert not logged_in_after_block
    assert other_ip.status_code == 302  # logged in: other clients are not affected


def test_admin_login_page_views_are_not_counted(client, staff):
    with override_settings(AUTH_RATE_LIMIT="1/min"):
        views = [client.get("/admin/login/").status_code for _ in range(3)]
        login = _admin_login(client, PASSWORD)

    assert views == [200, 200, 200]
    assert login.status_code == 302


def test_admin_and_api_log_ins_share_one_count_per_ip(client, api_client, staff):
    with override_settings(AUTH_RATE_LIMIT="2/min"):
        _admin_login(client, "wrong")
        api_client.post("/api/token/", {"username": "root", "password": "wrong"})
        blocked = api_client.post("/api/token/", {"username": "root", "password": PASSWORD})

    assert blocked.status_code == 429


# --- The database cache: atomic add and incr that keep the expiry -----------------------


@pytest.fixture
def db_cache(db):
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)
        yield caches["default"]


def test_incr_counts_and_keeps_the_expiry(db_cache):
    assert db_cache.add("k", 0, timeout=60) is True
    assert db_cache.add("k", 0, timeout=60) is False  # a running window is not reset

    counts = [db_cache.incr("k") for _ in range(3)]

    assert counts == [1, 2, 3]
    assert db_cache.get("k") == 3
    with db_cache._entry_locked(db_cache.make_and_validate_key("k")) as (_, cursor):
        cursor.execute(f"SELECT expires FROM {CACHE_TABLE}")
        (expires,) = cursor.fetchone()
    if isinstance(expires, str):  # SQLite may hand back text
        expires = dt.datetime.fromisoformat(expires)
    if expires.tzinfo is None:  # stored in UTC
        expires = expires.replace(tzinfo=dt.UTC)
    remaining = (expires - dt.datetime.now(dt.UTC)).total_seconds()
    assert 50 < remaining <= 60  # not reset to the default 300 s by incr


def test_incr_of_a_missing_or_expired_key_raises_and_add_restarts_it(db_cache):
    with pytest.raises(ValueError):
        db_cache.incr("missing")
    db_cache.add("k", 5, timeout=60)
    db_cache.touch("k", timeout=-1)  # expire it

    with pytest.raises(ValueError):
        db_cache.incr("k")
    assert db_cache.add("k", 0, timeout=60) is True
    assert db_cache.incr("k") == 1


# --- Over HTTP: several gunicorn workers, the default cache, many attempts at once --------

LIMIT, ATTEMPTS = 5, 15


def test_the_limit_is_exact_across_workers_without_a_cache_server(tmp_path):
    """AUTH_RATE_LIMIT=5/min, no CACHE_URL, 3 workers, 15 log-ins at the same moment from
    one address: exactly 5 get through, 10 get 429 with Retry-After."""
    with live_server(
        tmp_path, AUTH_RATE_LIMIT=f"{LIMIT}/min", CACHE_URL="", NUM_PROXIES="1"
    ) as server:
        # Registered from another address (X-Forwarded-For, one trusted proxy), so the
        # registration does not count against the log-ins below.
        status, _, raw = server.exchange(
            "POST",
            "/api/users/register/",
            {
                "username": "limited",
                "email": "limited@example.com",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            },
            headers={"X-Forwarded-For": "10.0.0.1"},
        )
        assert status == 201, raw

        def attempt():
            status, headers, _ = server.exchange(
                "POST",
                "/api/token/",
                {"username": "limited", "password": PASSWORD},
                headers={"X-Forwarded-For": "10.0.0.2"},
            )
            return status, headers.get("Retry-After")

        results = _all_at_once([attempt] * ATTEMPTS)
        log = _tail(server.log_path, 30)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * LIMIT + [429] * (ATTEMPTS - LIMIT), f"{results}\n{log}"
    assert all(1 <= int(wait) <= 60 for status, wait in results if status == 429), results


def test_a_window_that_ended_within_the_current_second_opens_again(db_cache):
    """Django's database cache rounds "now" down to the second when it adds an entry but
    not when it reads one: in the second after a window ends, ``add`` kept the old entry
    while ``get`` no longer returned it, and counting failed (a 500 at log-in)."""
    start = 1_900_000_000.0  # a whole second

    def clock(epoch: float) -> ExitStack:
        moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
        stack = ExitStack()
        stack.enter_context(mock.patch("time.time", return_value=epoch))
        stack.enter_context(mock.patch("django.core.cache.backends.db.tz_now", return_value=moment))
        stack.enter_context(mock.patch("project.cache.tz_now", return_value=moment))
        return stack

    for epoch, expected in ((start, 1), (start + 1, 2), (start + 60.5, 1)):
        with clock(epoch):
            assert count_request("throttle:test", 60)[0] == expected, epoch
