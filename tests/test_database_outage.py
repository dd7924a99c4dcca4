"""When the database cannot be reached in time, the API answers 503 quickly, in JSON.

The PostgreSQL tests run the app under gunicorn (DEBUG off, several workers) against a
private throwaway cluster which they stop, or freeze with SIGSTOP: a frozen server never
enforces its statement_timeout and its kernel still acknowledges TCP, so only the
client-side deadline of ``project.postgresql`` gets the workers out.
"""

import json
import time

import psycopg
import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from project import database
from project.postgresql.base import DatabaseTimeout, DeadlineConnection
from tests.conftest import ApiClient, bearer, make_user
from tests.live import PrivateCluster, live_server
from tests.test_concurrency import PASSWORD, _login

UNAVAILABLE = (503, {"detail": database.UNAVAILABLE})
# Its own fields, plus the contract's ``detail`` that every 503 carries.
HEALTH_DOWN = (503, {"status": "error", "database": "unavailable", "detail": database.UNAVAILABLE})
# Seconds: the statement limit under test; the client gives up 2 s (grace) after it.
STATEMENT_TIMEOUT = 1
OPERATION_DEADLINE = STATEMENT_TIMEOUT + 2
CONNECT_TIMEOUT = 2


# --- In process: the mapping to 503, on either database ------------------------------------


def test_an_unreachable_database_is_a_503_with_retry_after(user, monkeypatch):
    def unreachable(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("budgets.selectors.budget_listing", unreachable)

    response = ApiClient(bearer(user)).get("/api/budgets/")

    assert (response.status_code, response.json()) == UNAVAILABLE
    assert response["Retry-After"] == str(database.RETRY_AFTER_SECONDS)


def test_outside_the_api_too_it_is_a_json_503(db, monkeypatch):
    staff = make_user("root", is_staff=True, is_superuser=True)

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.contrib.admin.sites.AdminSite.get_app_list", unreachable)
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    with override_settings(DEBUG=False):
        response = client.get("/admin/")

    assert (response.status_code, response.json()) == UNAVAILABLE
    assert response["Retry-After"] == str(database.RETRY_AFTER_SECONDS)


# --- A private PostgreSQL cluster that stops and freezes -----------------------------------


@pytest.fixture(scope="module")
def cluster():
    pg = PrivateCluster()
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


def test_a_frozen_server_costs_one_deadline_not_a_hung_worker(cluster):
    conn = DeadlineConnection.connect(cluster.url, autocommit=True)
    conn.operation_timeout = OPERATION_DEADLINE
    try:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        cluster.freeze()
        started = time.monotonic()
        with pytest.raises(DatabaseTimeout):
            conn.execute("SELECT 1")
        waited = time.monotonic() - started
    finally:
        cluster.thaw()
        conn.close()

    assert OPERATION_DEADLINE <= waited < OPERATION_DEADLINE + 1
    assert conn.broken


def test_a_shorter_deadline_block_wins(cluster):
    conn = DeadlineConnection.connect(cluster.url, autocommit=True)
    conn.operation_timeout = 30
    try:
        cluster.freeze()
        started = time.monotonic()
        with database.deadline(0.5), pytest.raises(DatabaseTimeout):
            conn.execute("SELECT 1")
        waited = time.monotonic() - started
    finally:
        cluster.thaw()
        conn.close()

    assert 0.5 <= waited < 1.5


@pytest.fixture(scope="module")
def server(cluster, tmp_path_factory):
    with live_server(
        tmp_path_factory.mktemp("outage"),
        database_url=cluster.url,
        DB_STATEMENT_TIMEOUT=str(STATEMENT_TIMEOUT),
        DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        CACHE_URL="",
    ) as srv:
        srv.token = _login(srv, "outage")
        yield srv


def _timed(server, method, path, payload=None, token=None):
    started = time.monotonic()
    status, headers, raw = server.exchange(method, path, payload, token, timeout=60)
    return status, headers, json.loads(raw) if raw else None, time.monotonic() - started


def _wait_until_healthy(server, seconds=20):
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if server.request("GET", "/api/health/", timeout=5)[0] == 200:
            return
        time.sleep(0.2)
    pytest.fail(f"the API did not recover:\n{server.log()[-3000:]}")


def _assert_down(server, health_budget: float, request_budget: float) -> None:
    """Every kind of request answers a JSON 503 with Retry-After, in time."""
    # Several times: requests land on different workers, with and without a connection.
    for _ in range(3):
        status, headers, body, took = _timed(server, "GET", "/api/health/")
        assert (status, body) == HEALTH_DOWN
        assert headers["Retry-After"] == str(database.RETRY_AFTER_SECONDS)
        assert took < health_budget, took
    for method, path, payload, token in [
        ("GET", "/api/budgets/", None, server.token),
        (
            "POST",
            "/api/budgets/",
            {"title": "T", "date": "2026-01-01", "initial_amount": "1"},
            server.token,
        ),
        ("POST", "/api/token/", {"username": "outage", "password": PASSWORD}, None),
    ]:
        status, headers, body, took = _timed(server, method, path, payload, token)
        assert (status, body) == UNAVAILABLE, (method, path)
        assert headers["Content-Type"].startswith("application/json")
        assert headers["Retry-After"] == str(database.RETRY_AFTER_SECONDS)
        assert took < request_budget, (method, path, took)
    status, _, body, took = _timed(server, "GET", "/up")
    assert (status, body) == (200, {"status": "ok"})
    assert took < 2


def _assert_back(server) -> None:
    _wait_until_healthy(server)
    assert server.request("GET", "/api/budgets/", token=server.token)[0] == 200
    log = server.log()
    assert "WORKER TIMEOUT" not in log
    assert "Internal Server Error" not in log
    # Django logged each 503 on django.request, with the request's id (not "-").
    logged = [line for line in log.splitlines() if " django.request: Service Unavailable" in line]
    assert logged
    assert not [line for line in logged if "[-]" in line], logged


def test_a_frozen_database_is_a_quick_503_and_the_api_recovers(server, cluster):
    server.request("GET", "/api/budgets/", token=server.token)  # workers hold connections
    cluster.freeze()
    try:
        # Health: about 2 s at most whatever the database does. Others: one operation
        # deadline, plus a connect timeout when the worker has to reconnect.
        _assert_down(
            server, health_budget=3, request_budget=OPERATION_DEADLINE + CONNECT_TIMEOUT + 1
        )
    finally:
        cluster.thaw()
    _assert_back(server)


def test_a_stopped_database_is_a_quick_503_and_the_api_recovers(server, cluster):
    server.request("GET", "/api/budgets/", token=server.token)
    cluster.stop()
    try:
        _assert_down(server, health_budget=2, request_budget=2)  # refused at once
    finally:
        cluster.start()
    _assert_back(server)


def test_a_slow_statement_is_cancelled_by_the_server_and_the_connection_survives(cluster):
    conn = DeadlineConnection.connect(
        cluster.url, autocommit=True, options=f"-c statement_timeout={STATEMENT_TIMEOUT * 1000}"
    )
    conn.operation_timeout = OPERATION_DEADLINE
    try:
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(5)")
        assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        conn.close()
