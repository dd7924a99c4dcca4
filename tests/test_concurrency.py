"""Balances under concurrent writes, over real HTTP.

The app runs under gunicorn (several sync worker processes) against a database
this test creates for itself: a temporary SQLite file, or, when the test run's
``DATABASE_URL`` points at PostgreSQL, a fresh database on that server. Many
threads then write to one budget at the same moment; every request must succeed
(no 5xx, no "database is locked") and the balance must be exact.
"""

import contextlib
import http.client
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

# Re-exported for the test modules that build on this one.
from tests.support.servers import PROJECT_DIR as PROJECT_DIR
from tests.support.servers import AppServer, PostgresDatabase, http_request
from tests.support.servers import tail as _tail

HOST = "127.0.0.1"
WORKERS = 3
THREADS = 40
STARTUP_TIMEOUT = 20
REQUEST_TIMEOUT = 30
PASSWORD = "Corr3ct-Horse-Battery"


class Server(AppServer):
    """``gunicorn project.wsgi:application`` (WORKERS sync workers) on its own database,
    spoken to over HTTP; ``env`` may be extended before ``start()``."""

    def __init__(self, database_url: str, log_dir: Path):
        super().__init__(
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "project.settings",
                "DATABASE_URL": database_url,
                "DEBUG": "false",
                "SECRET_KEY": "test",
                "AUTH_RATE_LIMIT": "1000/min",
                "ALLOWED_HOSTS": HOST,
                "PYTHONUNBUFFERED": "1",
            },
            log_path=log_dir / "gunicorn.log",
            workers=WORKERS,
            timeout=60,
            startup_timeout=STARTUP_TIMEOUT,
        )

    def exchange(
        self,
        method: str,
        path: str,
        payload: dict | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One HTTP request: status, response headers and raw body."""
        response = http_request(
            self.port, method, path, payload, token=token, headers=headers, timeout=timeout
        )
        return response.status, response.headers, response.raw


@contextlib.contextmanager
def running_server(tmp_path: Path, **env: str) -> Iterator[Server]:
    """gunicorn on a database of its own (SQLite in ``tmp_path``, or a fresh database on
    the PostgreSQL server of the run's DATABASE_URL), with ``env`` added to its settings."""
    run_url = os.environ.get("DATABASE_URL", "")
    postgres = PostgresDatabase(run_url) if run_url.startswith("postgres") else None
    if postgres is not None:
        postgres.create()
        database_url = postgres.url
    else:
        database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    srv = Server(database_url, tmp_path)
    srv.env.update(env)
    try:
        srv.migrate()
        srv.start()
        yield srv
    finally:
        srv.stop()
        if postgres is not None:
            postgres.drop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One gunicorn for this module; each test works as its own user."""
    with running_server(tmp_path_factory.mktemp("concurrency")) as srv:
        yield srv


def _login(server: Server, username: str) -> str:
    status, body = server.request(
        "POST",
        "/api/users/register/",
        {
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert status == 201, body
    status, body = server.request(
        "POST", "/api/token/", {"username": username, "password": PASSWORD}
    )
    assert status == 200, body
    return body["access"]


def _create_budget(server: Server, token: str, title: str, initial: str) -> int:
    payload = {"title": title, "date": "2026-02-01", "initial_amount": initial}
    status, body = server.request("POST", "/api/budgets/", payload, token)
    assert status == 201, body
    return body["id"]


def _balance(server: Server, token: str, budget_id: int) -> Decimal:
    status, body = server.request("GET", f"/api/budgets/{budget_id}/", token=token)
    assert status == 200, body
    return Decimal(body["balance"])


def _all_at_once(jobs: list) -> list[tuple[int, object]]:
    """Run every job in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        barrier.wait()
        try:
            results[index] = job()
        except Exception as exc:  # reported below as a failed request
            results[index] = (None, repr(exc))

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "some requests never finished"
    return results


def _amount(i: int) -> str:
    """Incomes and expenses with cents: 12.34, -8.04, 14.48, -10.10, ..."""
    if i % 2 == 0:
        return f"{12 + i}.{(34 + i * 7) % 100:02d}"
    return f"-{7 + i}.{(1 + i * 3) % 100:02d}"


def _assert_all(results, expected_status: int, server: Server) -> None:
    failures = [(i, r) for i, r in enumerate(results) if r[0] != expected_status]
    locked = [r for r in results if "database is locked" in str(r[1]).lower()]
    assert not failures and not locked, (
        f"{len(failures)} of {len(results)} requests failed: {failures[:5]}\n"
        f"{_tail(server.log_path)}"
    )


def test_concurrent_writes_keep_the_balance_exact(server):
    token = _login(server, "racer")
    main = _create_budget(server, token, "Shared", "1000.00")
    other = _create_budget(server, token, "Other", "500.00")
    amounts = [_amount(i) for i in range(THREADS)]
    assert len({Decimal(a) > 0 for a in amounts}) == 2  # both incomes and expenses

    # 1. 40 transactions posted to one budget at the same moment.
    def post(amount):
        payload = {"budget": main, "amount": amount, "date": "2026-02-15"}
        return lambda: server.request("POST", "/api/transactions/", payload, token)

    created = _all_at_once([post(a) for a in amounts])

    _assert_all(created, 201, server)
    assert sorted(Decimal(body["amount"]) for _, body in created) == sorted(
        Decimal(a) for a in amounts
    )
    expected_main = Decimal("1000.00") + sum(Decimal(a) for a in amounts)
    assert _balance(server, token, main) == expected_main
    status, listed = server.request(
        "GET", f"/api/transactions/?budget={main}&page_size=100", token=token
    )
    assert status == 200
    assert listed["count"] == len(listed["results"]) == THREADS
    summary = _summary(server, token, main)
    incomes = sum(Decimal(a) for a in amounts if Decimal(a) > 0)
    assert (summary["transactions_count"], Decimal(summary["income_total"])) == (THREADS, incomes)
    assert Decimal(summary["income_total"]) - Decimal(summary["expense_total"]) == (
        expected_main - Decimal("1000.00")
    )

    # 2. At once: a third change their amount, a third move to the other budget,
    #    a third are deleted.
    ids = [body["id"] for _, body in created]
    by_id = {body["id"]: Decimal(body["amount"]) for _, body in created}
    jobs, patched, moved = [], Decimal("0"), Decimal("0")
    for n, tx_id in enumerate(ids):
        path = f"/api/transactions/{tx_id}/"
        if n % 3 == 0:
            new_amount = Decimal(f"-{n + 1}.{n:02d}")
            patched += new_amount
            jobs.append(
                lambda p=path, a=new_amount: server.request("PATCH", p, {"amount": str(a)}, token)
            )
        elif n % 3 == 1:
            moved += by_id[tx_id]
            jobs.append(lambda p=path: server.request("PATCH", p, {"budget": other}, token))
        else:
            jobs.append(lambda p=path: server.request("DELETE", p, token=token))

    changed = _all_at_once(jobs)

    failures = [(n, r) for n, r in enumerate(changed) if r[0] != (204 if n % 3 == 2 else 200)]
    assert not failures, f"{failures[:5]}\n{_tail(server.log_path)}"
    assert _balance(server, token, main) == Decimal("1000.00") + patched
    assert _balance(server, token, other) == Decimal("500.00") + moved
    for budget, net, count in ((main, patched, THREADS - THREADS * 2 // 3), (other, moved, 13)):
        summary = _summary(server, token, budget)
        assert summary["transactions_count"] == count
        assert Decimal(summary["income_total"]) - Decimal(summary["expense_total"]) == net


def _summary(server: Server, token: str, budget_id: int) -> dict:
    status, body = server.request("GET", f"/api/budgets/{budget_id}/summary/", token=token)
    assert status == 200, body
    return body


def assert_stored_totals_exact(server: Server) -> None:
    """Every budget's stored balance, count and month totals on the server's database
    equal what its transactions add up to (``manage.py totals_verify --check``)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "totals_verify", "--check"],
        cwd=PROJECT_DIR,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 differed." in result.stdout


DELETE_RACE_ROUNDS = 8
POSTS_PER_ROUND = 19


def _race_posts_with_a_delete(server: Server, round_: int, post, delete):
    """POSTS_PER_ROUND posts and one delete at once; the delete's place varies by round.
    Returns (delete result, post results)."""
    where = round_ * 2 % POSTS_PER_ROUND
    jobs = [post] * POSTS_PER_ROUND
    jobs.insert(where, delete)
    results = _all_at_once(jobs)
    return results.pop(where), results


def test_posting_to_a_budget_while_it_is_deleted_never_fails(server):
    """A transaction posted while its budget is being deleted either lands first (and
    goes with the budget) or finds the budget gone (400 "Budget not found."); the
    DELETE itself succeeds. Nothing answers 500 and nothing is left behind."""
    token = _login(server, "budget-deleter")
    not_found = (400, {"budget": ["Budget not found."]})
    problems = []
    for round_ in range(DELETE_RACE_ROUNDS):
        doomed = _create_budget(server, token, f"Doomed {round_}", "10.00")
        payload = {"budget": doomed, "amount": "1.00", "date": "2026-02-15"}

        deleted, posted = _race_posts_with_a_delete(
            server,
            round_,
            post=lambda p=payload: server.request("POST", "/api/transactions/", p, token),
            delete=lambda d=doomed: server.request("DELETE", f"/api/budgets/{d}/", token=token),
        )

        problems += [(round_, "POST", r) for r in posted if r[0] != 201 and r != not_found]
        if deleted[0] != 204:
            problems.append((round_, "DELETE", deleted))
            continue
        status, left = server.request("GET", f"/api/transactions/?budget={doomed}", token=token)
        if status != 200 or left["count"] != 0:
            problems.append((round_, "left behind", status, left.get("count", left)))

    assert not problems, f"{problems[:6]}\n{_tail(server.log_path, 30)}"


def test_posting_with_a_category_while_it_is_deleted_never_fails(server):
    """Same race for a category: a transaction that lands first keeps existing with
    ``category: null``; one that comes later gets 400 "Category not found."."""
    token = _login(server, "category-deleter")
    budget = _create_budget(server, token, "Groceries", "100.00")
    not_found = (400, {"category": ["Category not found."]})
    problems, landed = [], 0
    for round_ in range(DELETE_RACE_ROUNDS):
        status, body = server.request("POST", "/api/categories/", {"name": f"C{round_}"}, token)
        assert status == 201, body
        doomed = body["id"]
        payload = {"budget": budget, "category": doomed, "amount": "-1.00", "date": "2026-02-15"}

        deleted, posted = _race_posts_with_a_delete(
            server,
            round_,
            post=lambda p=payload: server.request("POST", "/api/transactions/", p, token),
            delete=lambda d=doomed: server.request("DELETE", f"/api/categories/{d}/", token=token),
        )

        problems += [(round_, "POST", r) for r in posted if r[0] != 201 and r != not_found]
        landed += sum(1 for r in posted if r[0] == 201)
        if deleted[0] != 204:
            problems.append((round_, "DELETE", deleted))
        status, left = server.request("GET", f"/api/transactions/?category={doomed}", token=token)
        if deleted[0] == 204 and (status != 200 or left["count"] != 0):
            problems.append((round_, "still in the deleted category", left.get("count", left)))

    assert not problems, f"{problems[:6]}\n{_tail(server.log_path, 30)}"
    # Every transaction that was created is still there (uncategorised).
    status, listed = server.request("GET", f"/api/transactions/?budget={budget}", token=token)
    assert (status, listed["count"]) == (200, landed)


EDIT_RACE_TRIES = 60


def _create(server: Server, token: str, path: str, payload: dict) -> dict:
    status, body = server.request("POST", path, payload, token)
    assert status == 201, body
    return body


def _race_an_edit_with_a_delete(server: Server, token: str, tries: int, deleted: str):
    """For each try: a budget, a category and a transaction in both; then at the same
    moment a PUT naming that budget and category and a DELETE of ``deleted`` (either
    "budget" or "category"). Returns [(put, delete, ids, new amount)] per try."""
    outcomes = []
    for n in range(tries):
        budget = _create(
            server,
            token,
            "/api/budgets/",
            {"title": f"B{n}", "date": "2026-02-01", "initial_amount": "100.00"},
        )["id"]
        category = _create(server, token, "/api/categories/", {"name": f"{deleted}-{n}"})["id"]
        tx = _create(
            server,
            token,
            "/api/transactions/",
            {"budget": budget, "category": category, "amount": "-1.00", "date": "2026-02-02"},
        )["id"]
        amount = f"-{n + 2}.25"
        put = {"budget": budget, "category": category, "amount": amount, "date": "2026-02-03"}
        target = (
            f"/api/budgets/{budget}/" if deleted == "budget" else f"/api/categories/{category}/"
        )
        jobs = [
            lambda p=put, t=tx: server.request("PUT", f"/api/transactions/{t}/", p, token),
            lambda t=target: server.request("DELETE", t, token=token),
        ]
        if n % 2:  # vary which thread starts first
            jobs.reverse()
        results = _all_at_once(jobs)
        if n % 2:
            results.reverse()
        outcomes.append((results[0], results[1], (budget, category, tx), amount))
    return outcomes


def _assert_no_problems(problems: list, outcomes: list, server: Server) -> None:
    server_errors = sum(1 for put, delete, *_ in outcomes if put[0] >= 500 or delete[0] >= 500)
    assert not problems, (
        f"{server_errors} of {len(outcomes)} tries answered 5xx; {len(problems)} problems: "
        f"{problems[:6]}\n{_tail(server.log_path, 30)}"
    )
    # Not even a deadlock that a retry hid: the lock order makes them impossible.
    assert "deadlock" not in server.log_path.read_text(errors="replace").lower()


def test_editing_a_transaction_while_its_budget_is_deleted_never_fails(server):
    """The PUT locks the budget before the transaction, like the DELETE: no deadlock.
    Either the edit lands first and the transaction then goes with its budget, or the
    budget is gone first and the edit finds nothing (404)."""
    token = _login(server, "tx-mover")
    problems = []
    outcomes = _race_an_edit_with_a_delete(server, token, EDIT_RACE_TRIES, "budget")
    for n, (put, delete, (budget, _, tx), _) in enumerate(outcomes):
        if put[0] not in (200, 404) or delete[0] != 204:
            problems.append((n, "responses", put, delete))
        for path in (f"/api/budgets/{budget}/", f"/api/transactions/{tx}/"):
            status, body = server.request("GET", path, token=token)
            if status != 404:
                problems.append((n, "left behind", path, status, body))

    _assert_no_problems(problems, outcomes, server)


def test_editing_a_transaction_while_its_category_is_deleted_never_fails(server):
    """Either the edit lands first (and the delete then uncategorises it) or the
    category is gone first (400 "Category not found.", nothing changed). Either way
    the transaction survives with ``category: null`` and the balance matches it."""
    token = _login(server, "tx-editor")
    not_found = (400, {"category": ["Category not found."]})
    problems = []
    outcomes = _race_an_edit_with_a_delete(server, token, EDIT_RACE_TRIES, "category")
    for n, (put, delete, (budget, _, tx), amount) in enumerate(outcomes):
        if (put[0] != 200 and put != not_found) or delete[0] != 204:
            problems.append((n, "responses", put, delete))
            continue
        expected = Decimal(amount) if put[0] == 200 else Decimal("-1.00")
        status, body = server.request("GET", f"/api/transactions/{tx}/", token=token)
        if status != 200 or body["category"] is not None or Decimal(body["amount"]) != expected:
            problems.append((n, "transaction", status, body))
        if _balance(server, token, budget) != Decimal("100.00") + expected:
            problems.append((n, "balance", _balance(server, token, budget)))

    _assert_no_problems(problems, outcomes, server)


def test_zz_stored_totals_are_exact_after_every_race_above(server):
    """Runs last in this module, on the server every race above wrote to."""
    assert_stored_totals_exact(server)
