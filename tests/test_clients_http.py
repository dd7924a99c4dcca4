"""Idempotency keys, sessions that end and ETag preconditions over real HTTP: gunicorn
workers on their own database with DEBUG off, like production.

Uses the gunicorn harness of tests/test_concurrency.py (SQLite file, or a fresh database
on the PostgreSQL server of the run's DATABASE_URL); one server for the whole module.
"""

import fcntl
import http.client
import json
import os
import sqlite3
import time
import uuid
from typing import NamedTuple

import pytest

from project.errors import PRECONDITION_FAILED
from project.idempotency import messages
from project.idempotency.services import (
    _ADVISORY_NAMESPACE,
    _lock_id,
    key_digest,
    lock_offset,
    sqlite_lock_path,
)
from tests.test_concurrency import (
    PASSWORD,
    THREADS,
    _all_at_once,
    _login,
    _tail,
    running_server,
    server,  # noqa: F401 - the module's gunicorn fixture
)

BUDGET = {"title": "Rent", "date": "2026-03-01", "initial_amount": "750.00"}


class Reply(NamedTuple):
    status: int
    headers: http.client.HTTPMessage  # names compare case-insensitively
    body: bytes

    def json(self):
        return json.loads(self.body)


def call(srv, method, path, payload=None, token=None, headers=None) -> Reply:
    return Reply(*srv.exchange(method, path, payload, token, headers))


def keyed(key: str) -> dict[str, str]:
    return {messages.HEADER: key}


def server_database(srv):
    """A DB-API connection to the database the server uses."""
    url = srv.env["DATABASE_URL"]
    if url.startswith("postgres"):
        import psycopg

        return psycopg.connect(url, autocommit=True)
    return sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)


def is_postgres(srv) -> bool:
    return srv.env["DATABASE_URL"].startswith("postgres")


def budget_count(srv, token) -> int:
    reply = call(srv, "GET", "/api/budgets/?page_size=100", token=token)
    assert reply.status == 200, reply
    return reply.json()["count"]


def test_replay_and_mismatch(server):  # noqa: F811
    token = _login(server, "idem-replay")
    key = str(uuid.uuid4())

    first = call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))
    again = call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))
    other = call(server, "POST", "/api/budgets/", {**BUDGET, "title": "Food"}, token, keyed(key))

    assert first.status == 201, first
    assert "idempotent-replayed" not in first.headers
    assert (again.status, again.body) == (201, first.body)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert (other.status, other.json()) == (422, {"detail": messages.KEY_REUSED})
    assert budget_count(server, token) == 1


def test_forty_concurrent_requests_with_one_key_create_exactly_one_row(server):  # noqa: F811
    token = _login(server, "idem-race")
    key = str(uuid.uuid4())

    replies = _all_at_once(
        [
            lambda: call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))
            for _ in range(THREADS)
        ]
    )

    broken = [r for r in replies if not isinstance(r, Reply)]
    assert not broken, f"{broken[:3]}\n{_tail(server.log_path)}"
    originals = [r for r in replies if r.status == 201 and "idempotent-replayed" not in r.headers]
    replays = [r for r in replies if r.headers.get("idempotent-replayed") == "true"]
    conflicts = [r for r in replies if r.status == 409]
    assert len(originals) == 1, [r.status for r in replies]
    assert len(originals) + len(replays) + len(conflicts) == THREADS
    assert all((r.status, r.body) == (201, originals[0].body) for r in replays)
    assert all(r.json() == {"detail": messages.IN_PROGRESS} for r in conflicts)
    assert budget_count(server, token) == 1


def test_keys_are_isolated_between_users(server):  # noqa: F811
    alice, bob = _login(server, "idem-alice"), _login(server, "idem-bob")
    key = "shared-key-1"

    first = call(server, "POST", "/api/budgets/", BUDGET, alice, keyed(key))
    second = call(server, "POST", "/api/budgets/", BUDGET, bob, keyed(key))

    assert (first.status, second.status) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert (budget_count(server, alice), budget_count(server, bob)) == (1, 1)


def test_an_expired_key_runs_the_request_again(server):  # noqa: F811
    token = _login(server, "idem-expiry")
    key = str(uuid.uuid4())
    assert call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key)).status == 201
    replay = call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))
    assert replay.headers.get("idempotent-replayed") == "true"

    db = server_database(server)
    try:
        placeholder = "%s" if is_postgres(server) else "?"
        db.execute(
            "UPDATE idempotency_idempotencykey SET expires_at = created_at "
            f"WHERE key = {placeholder}",
            [key],
        )
    finally:
        db.close()
    after = call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))

    assert after.status == 201
    assert "idempotent-replayed" not in after.headers
    assert budget_count(server, token) == 2


def test_a_key_in_use_by_a_running_request_is_a_409_without_waiting(server):  # noqa: F811
    """While the first request's transaction holds the key (here: another session holds
    its lock), a duplicate is answered 409 at once. On SQLite the lock is another one
    (next test)."""
    if not is_postgres(server):
        pytest.skip("PostgreSQL: the key's advisory lock")
    token = _login(server, "idem-busy")
    me = call(server, "GET", "/api/users/me/", token=token).json()
    key = str(uuid.uuid4())
    digest = key_digest(scope=f"user:{me['id']}", path="/api/budgets/", key=key)
    db = server_database(server)
    try:
        with db.transaction():
            db.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_ADVISORY_NAMESPACE, _lock_id(digest)]
            )
            started = time.monotonic()
            busy = call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))
            elapsed = time.monotonic() - started
    finally:
        db.close()

    assert (busy.status, busy.json()) == (409, {"detail": messages.IN_PROGRESS})
    assert elapsed < 5
    assert budget_count(server, token) == 0
    assert call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key)).status == 201
    assert budget_count(server, token) == 1


def test_on_sqlite_too_a_key_in_use_is_a_409_without_waiting(server):  # noqa: F811
    """SQLite runs one write transaction at a time, so a duplicate cannot see the first
    request's claim in the database; the lock every worker takes on the key (a byte of a
    file beside the database) answers 409 instead of queueing it behind the first. Here
    the test process holds that lock, as a running first request does."""
    if is_postgres(server):
        pytest.skip("SQLite: the key's file lock")
    token = _login(server, "idem-sqlite-busy")
    me = call(server, "GET", "/api/users/me/", token=token).json()
    key = str(uuid.uuid4())
    digest = key_digest(scope=f"user:{me['id']}", path="/api/budgets/", key=key)
    lock_path = sqlite_lock_path(server.env["DATABASE_URL"].removeprefix("sqlite:///"))
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, lock_offset(digest))
        started = time.monotonic()
        busy = call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))
        elapsed = time.monotonic() - started
    finally:
        os.close(fd)  # the lock goes with it

    assert (busy.status, busy.json()) == (409, {"detail": messages.IN_PROGRESS})
    assert elapsed < 5
    assert budget_count(server, token) == 0
    first = call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))
    replay = call(server, "POST", "/api/budgets/", BUDGET, token, keyed(key))
    assert first.status == 201
    assert (replay.status, replay.body) == (201, first.body)
    assert replay.headers["idempotent-replayed"] == "true"
    assert budget_count(server, token) == 1


# --- Sessions ---------------------------------------------------------------------------


def test_logout_all_ends_sessions_in_every_worker(server):  # noqa: F811
    first_access = _login(server, "sessions-http")
    pair = call(
        server, "POST", "/api/token/", {"username": "sessions-http", "password": PASSWORD}
    ).json()
    # Several requests, so that more than one worker has served each token.
    for access in (first_access, pair["access"]) * 3:
        assert call(server, "GET", "/api/users/me/", token=access).status == 200

    ended = call(server, "POST", "/api/users/logout-all/", token=first_access)

    assert ended.status == 200
    for access in (first_access, pair["access"]) * 3:
        me = call(server, "GET", "/api/users/me/", token=access)
        assert (me.status, me.json()) == (401, {"detail": "Token is invalid or expired."})
    assert call(server, "POST", "/api/token/refresh/", {"refresh": pair["refresh"]}).status == 401
    again = call(
        server, "POST", "/api/token/", {"username": "sessions-http", "password": PASSWORD}
    ).json()
    assert call(server, "GET", "/api/users/me/", token=again["access"]).status == 200


# --- ETag / If-Match -----------------------------------------------------------------------

EDIT_ROUNDS = 4
EDITORS = 8


def _create_all(srv, token) -> dict[str, str]:
    def create(path, payload):
        reply = call(srv, "POST", path, payload, token)
        assert reply.status == 201, reply
        return reply.json()["id"]

    budget = create("/api/budgets/", BUDGET)
    savings = create("/api/budgets/", {**BUDGET, "title": "Savings"})
    category = create("/api/categories/", {"name": "Rent"})
    tx = create(
        "/api/transactions/",
        {"budget": budget, "category": category, "amount": "-1.00", "date": "2026-03-02"},
    )
    rule = create(
        "/api/recurring/",
        {"budget": budget, "amount": "-1.00", "start_date": "2099-01-01", "frequency": "daily"},
    )
    transfer = create(
        "/api/transfers/",
        {"from_budget": budget, "to_budget": savings, "amount": "1.00", "date": "2026-03-03"},
    )
    limit = create(
        f"/api/budgets/{budget}/limits/", {"category": category, "month": "2026-03", "amount": "9"}
    )
    return {
        "budget": f"/api/budgets/{budget}/",
        "category": f"/api/categories/{category}/",
        "transaction": f"/api/transactions/{tx}/",
        "rule": f"/api/recurring/{rule}/",
        "transfer": f"/api/transfers/{transfer}/",
        "limit": f"/api/budgets/{budget}/limits/{limit}/",
        "profile": "/api/users/me/",
    }


def _edit(kind: str, n: int) -> dict:
    return {
        "budget": {"title": f"Edit {n}"},
        "category": {"name": f"Edit {n}"},
        "transaction": {"description": f"Edit {n}"},
        "rule": {"description": f"Edit {n}"},
        "transfer": {"description": f"Edit {n}"},
        "limit": {"amount": f"{n + 1}.00"},
        "profile": {"first_name": f"Edit {n}"},
    }[kind]


@pytest.mark.parametrize(
    "kind", ["budget", "category", "transaction", "rule", "transfer", "limit", "profile"]
)
def test_clients_editing_the_same_copy_at_once_get_one_success_and_412s(server, kind):  # noqa: F811
    """Every round, EDITORS clients PATCH with the ETag they all read: the check runs
    under the row lock, so exactly one wins and the others learn their copy is stale."""
    token = _login(server, f"etag-race-{kind}")
    path = _create_all(server, token)[kind]
    for round_ in range(EDIT_ROUNDS):
        etag = call(server, "GET", path, token=token).headers["etag"]
        edits = [_edit(kind, round_ * EDITORS + n) for n in range(EDITORS)]
        replies = _all_at_once(
            [
                lambda body=body, tag=etag: call(
                    server, "PATCH", path, body, token, {"If-Match": tag}
                )
                for body in edits
            ]
        )

        broken = [r for r in replies if not isinstance(r, Reply)]
        assert not broken, f"{broken[:3]}\n{_tail(server.log_path)}"
        winners = [r for r in replies if r.status == 200]
        losers = [r for r in replies if r.status == 412]
        assert (len(winners), len(losers)) == (1, EDITORS - 1), [r.status for r in replies]
        current = call(server, "GET", path, token=token)
        assert current.body == winners[0].body
        assert current.headers["etag"] == winners[0].headers["etag"] != etag


def test_a_stale_delete_is_refused_over_http(server):  # noqa: F811
    token = _login(server, "etag-delete")
    path = _create_all(server, token)["budget"]
    etag = call(server, "GET", path, token=token).headers["etag"]
    assert call(server, "PATCH", path, {"title": "Changed"}, token).status == 200

    refused = call(server, "DELETE", path, token=token, headers={"If-Match": etag})
    not_modified = call(server, "GET", path, token=token, headers={"If-None-Match": etag})

    assert (refused.status, refused.json()["detail"]) == (412, PRECONDITION_FAILED)
    assert not_modified.status == 200
    fresh = not_modified.headers["etag"]
    unchanged = call(server, "GET", path, token=token, headers={"If-None-Match": fresh})
    assert (unchanged.status, unchanged.body) == (304, b"")
    assert "content-type" not in unchanged.headers
    assert call(server, "DELETE", path, token=token, headers={"If-Match": fresh}).status == 204


# --- Refresh rotation ------------------------------------------------------------------------

REFRESHERS = 8


@pytest.fixture(scope="module")
def rotating_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("rotation"), ROTATE_REFRESH_TOKENS="true") as srv:
        yield srv


def test_rotation_over_http_keeps_one_live_successor(rotating_server):
    """Refreshing the same token from several places at once: exactly one refresh
    rotates it; the others present a token that is already rotated, which is reuse, so
    every session of the user ends, the winner's new tokens included. Never two live
    successors, never a 5xx."""
    srv = rotating_server
    _login(srv, "rotator")
    pair = call(srv, "POST", "/api/token/", {"username": "rotator", "password": PASSWORD}).json()

    single = call(srv, "POST", "/api/token/refresh/", {"refresh": pair["refresh"]})
    assert single.status == 200
    assert set(single.json()) == {"access", "refresh"}
    assert call(srv, "POST", "/api/token/refresh/", {"refresh": pair["refresh"]}).status == 401
    # That reuse ended every session: the successor is dead too.
    assert call(srv, "POST", "/api/token/refresh/", single.json()).status == 401

    fresh = call(srv, "POST", "/api/token/", {"username": "rotator", "password": PASSWORD}).json()
    replies = _all_at_once(
        [
            lambda: call(srv, "POST", "/api/token/refresh/", {"refresh": fresh["refresh"]})
            for _ in range(REFRESHERS)
        ]
    )

    assert all(isinstance(r, Reply) for r in replies), f"{replies[:3]}\n{_tail(srv.log_path)}"
    assert sorted(r.status for r in replies) == [200] + [401] * (REFRESHERS - 1)
    [winner] = [r.json() for r in replies if r.status == 200]
    assert call(srv, "POST", "/api/token/refresh/", {"refresh": winner["refresh"]}).status == 401
    assert call(srv, "GET", "/api/users/me/", token=winner["access"]).status == 401
    again = call(srv, "POST", "/api/token/", {"username": "rotator", "password": PASSWORD})
    assert call(srv, "GET", "/api/users/me/", token=again.json()["access"]).status == 200
