"""Transfers and spending limits under concurrent requests, over real HTTP.

The same gunicorn setup as ``tests/test_concurrency.py`` (several sync workers, a
database of its own: SQLite file or a fresh PostgreSQL database). Every request must
succeed or fail cleanly (never a 5xx), and balances must be exact afterwards.
"""

from decimal import Decimal

from budgets import messages
from tests.test_concurrency import (
    Server,
    _all_at_once,
    _balance,
    _create_budget,
    _login,
    _tail,
    assert_stored_totals_exact,
    server,  # noqa: F401 - the module-scoped gunicorn fixture
)

PAIRS = 20  # transfers each way
DELETE_RACE_ROUNDS = 8
TRANSFERS_PER_ROUND = 11
LIMIT_RACERS = 12


def _transfer(srv: Server, token: str, source: int, target: int, amount: str):
    payload = {"from_budget": source, "to_budget": target, "amount": amount, "date": "2026-02-20"}
    return srv.request("POST", "/api/transfers/", payload, token)


def _problems(results, expected) -> list:
    return [(n, r) for n, r in enumerate(results) if not expected(r)]


def _assert_no_deadlock(srv: Server) -> None:
    """Not even one that a retry hid (``retry_on_conflict`` logs each lost try): the
    lock order makes them impossible."""
    assert "deadlock" not in srv.log_path.read_text(errors="replace").lower(), _tail(srv.log_path)


def test_opposite_transfers_at_once_keep_both_balances_exact(server):  # noqa: F811
    """A->B and B->A at the same moment: both lock the two budgets in ascending id
    order, so nothing deadlocks, every transfer lands and both balances are exact.
    Then half of them change amount and the other half are deleted, at once."""
    token = _login(server, "transfer-racer")
    a = _create_budget(server, token, "A", "1000.00")
    b = _create_budget(server, token, "B", "1000.00")
    there = [f"{n + 1}.{(n * 7) % 100:02d}" for n in range(PAIRS)]
    back = [f"{n + 2}.{(n * 13 + 5) % 100:02d}" for n in range(PAIRS)]
    jobs = [lambda x=x: _transfer(server, token, a, b, x) for x in there]
    jobs += [lambda x=x: _transfer(server, token, b, a, x) for x in back]

    created = _all_at_once(jobs)

    failures = _problems(created, lambda r: r[0] == 201)
    assert not failures, f"{failures[:5]}\n{_tail(server.log_path)}"
    moved = sum(map(Decimal, there)) - sum(map(Decimal, back))
    assert _balance(server, token, a) == Decimal("1000.00") - moved
    assert _balance(server, token, b) == Decimal("1000.00") + moved

    # At once: every even transfer gets a new amount, every odd one is deleted.
    jobs, net_a = [], Decimal("0")
    for n, (_, body) in enumerate(created):
        path = f"/api/transfers/{body['id']}/"
        sign = -1 if body["from_budget"] == a else 1
        if n % 2 == 0:
            amount = Decimal(f"{n + 3}.33")
            net_a += sign * amount
            jobs.append(
                lambda p=path, x=amount: server.request("PATCH", p, {"amount": str(x)}, token)
            )
        else:
            jobs.append(lambda p=path: server.request("DELETE", p, token=token))

    changed = _all_at_once(jobs)

    failures = _problems(changed, lambda r: r[0] in (200, 204))
    assert not failures, f"{failures[:5]}\n{_tail(server.log_path)}"
    assert _balance(server, token, a) == Decimal("1000.00") + net_a
    assert _balance(server, token, b) == Decimal("1000.00") - net_a
    status, summary = server.request("GET", f"/api/budgets/{a}/summary/", token=token)
    assert status == 200
    assert summary["transfers_count"] == PAIRS
    assert Decimal(summary["transfers_in"]) - Decimal(summary["transfers_out"]) == net_a
    _assert_no_deadlock(server)


def test_transfers_while_one_budget_is_deleted_never_fail(server):  # noqa: F811
    """New transfers both ways, edits and deletes of existing ones, and the DELETE of one
    of the two budgets, all at once. A transfer lands first (and then ends with the
    budget, its other leg staying) or finds the budget gone (400); an edit lands first
    or finds the transfer gone (404). Nothing answers 5xx, no half transfer is left,
    and the kept budget's balance is exact."""
    token = _login(server, "transfer-deleter")
    problems = []
    for round_ in range(DELETE_RACE_ROUNDS):
        keep = _create_budget(server, token, f"Keep {round_}", "100.00")
        doomed = _create_budget(server, token, f"Doomed {round_}", "100.00")
        existing = [_transfer(server, token, keep, doomed, "1.00")[1]["id"] for _ in range(3)]
        jobs = []
        for n in range(TRANSFERS_PER_ROUND):
            source, target = (keep, doomed) if n % 2 else (doomed, keep)
            jobs.append(
                lambda s=source, t=target, n=n: _transfer(server, token, s, t, f"{n + 1}.10")
            )
        edited, removed_id = existing[0], existing[1]
        jobs.append(
            lambda e=edited: server.request(
                "PATCH", f"/api/transfers/{e}/", {"amount": "7.00"}, token
            )
        )
        jobs.append(
            lambda r=removed_id: server.request("DELETE", f"/api/transfers/{r}/", token=token)
        )
        where = round_ * 3 % (len(jobs) + 1)
        jobs.insert(
            where, lambda d=doomed: server.request("DELETE", f"/api/budgets/{d}/", token=token)
        )

        results = _all_at_once(jobs)
        deleted = results.pop(where)
        posts, (patched, removed) = results[:TRANSFERS_PER_ROUND], results[TRANSFERS_PER_ROUND:]

        if deleted[0] != 204:
            problems.append((round_, "DELETE budget", deleted))
        gone = {
            (400, ("from_budget",)): {"from_budget": [messages.BUDGET_NOT_FOUND]},
            (400, ("to_budget",)): {"to_budget": [messages.BUDGET_NOT_FOUND]},
        }
        for r in posts:
            if r[0] != 201 and (r[0], tuple(r[1] or ())) not in gone:
                problems.append((round_, "POST", r))
        if patched[0] not in (200, 404) or removed[0] not in (204, 404):
            problems.append((round_, "edit", patched, removed))

        # The kept budget's balance is what its own legs say, every one still there.
        status, txs = server.request(
            "GET", f"/api/transactions/?budget={keep}&page_size=100", token=token
        )
        legs = [Decimal(t["amount"]) for t in txs["results"]]
        if any(t["transfer"] is not None for t in txs["results"]):
            problems.append((round_, "half a transfer left", txs["results"]))
        if _balance(server, token, keep) != Decimal("100.00") + sum(legs):
            problems.append((round_, "balance", _balance(server, token, keep), legs))
        status, left = server.request("GET", f"/api/transfers/?budget={keep}", token=token)
        if (status, left["count"]) != (200, 0):
            problems.append((round_, "transfers left", left))

    assert not problems, f"{problems[:6]}\n{_tail(server.log_path, 30)}"
    _assert_no_deadlock(server)


def test_racing_duplicate_limits_make_one_and_clean_400s(server):  # noqa: F811
    token = _login(server, "limit-racer")
    budget = _create_budget(server, token, "Household", "100.00")
    status, category = server.request("POST", "/api/categories/", {"name": "Food"}, token)
    assert status == 201
    payload = {"category": category["id"], "month": "2026-02", "amount": "300.00"}
    path = f"/api/budgets/{budget}/limits/"

    results = _all_at_once([lambda: server.request("POST", path, payload, token)] * LIMIT_RACERS)

    statuses = sorted(r[0] for r in results)
    assert statuses == [201] + [400] * (LIMIT_RACERS - 1), f"{results}\n{_tail(server.log_path)}"
    assert all(r[1] == {"month": [messages.LIMIT_EXISTS]} for r in results if r[0] == 400)
    status, listed = server.request("GET", path, token=token)
    assert (status, listed["count"]) == (200, 1)
    _assert_no_deadlock(server)


def test_zz_stored_totals_are_exact_after_every_race_above(server):  # noqa: F811
    """Runs last in this module, on the server every race above wrote to."""
    assert_stored_totals_exact(server)
