"""Recurring occurrences are posted exactly once when several posters run at the same
moment, over real HTTP and real processes.

Like ``test_concurrency``: gunicorn (several worker processes) on a database of its own
(a temporary SQLite file, or a fresh PostgreSQL database when the run's ``DATABASE_URL``
points at PostgreSQL). Posters are ``manage.py post_recurring`` processes and reads of
transactions, budgets and summaries (which post what is due first, a few at a time), all
released together. Afterwards every occurrence must exist exactly once.
"""

import datetime as dt
import functools
import subprocess
import sys
from collections import Counter

import pytest

from budgets.recurrence import Schedule
from tests.test_concurrency import (
    PROJECT_DIR,
    REQUEST_TIMEOUT,
    Server,
    _all_at_once,
    _create_budget,
    _login,
    _tail,
    assert_stored_totals_exact,
    running_server,
)

# Lazy posting takes this many occurrences per request, so many reads share the work.
POST_PER_REQUEST = 7
READERS = 24


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("recurring")
    with running_server(tmp_path, RECURRING_POST_PER_REQUEST=str(POST_PER_REQUEST)) as srv:
        yield srv


def _post_recurring(server: Server, *args: str):
    """Run the command as its own process; return (exit status, output)."""

    def job():
        result = subprocess.run(
            [sys.executable, "manage.py", "post_recurring", *args],
            cwd=PROJECT_DIR,
            env=server.env,
            capture_output=True,
            text=True,
            timeout=REQUEST_TIMEOUT * 2,
            check=False,
        )
        return result.returncode, result.stdout + result.stderr

    return job


def _create_rules(server: Server, token: str, budget: int) -> dict[int, list[str]]:
    """A few rules with many occurrences due; returns rule id -> every due date."""
    today = dt.date.today()
    specs = [
        ("daily", 1, today - dt.timedelta(days=45)),
        ("daily", 2, today - dt.timedelta(days=60)),
        ("daily", 1, today - dt.timedelta(days=30)),
        ("weekly", 1, today - dt.timedelta(days=200)),
        ("monthly", 1, dt.date(today.year - 2, 1, 31)),
        ("yearly", 1, dt.date(2016, 2, 29)),
    ]
    expected = {}
    for n, (frequency, interval, start) in enumerate(specs):
        payload = {
            "budget": budget,
            "amount": f"-{n + 1}.{n:02d}",
            "description": f"Rule {n}",
            "start_date": start.isoformat(),
            "frequency": frequency,
            "interval": interval,
        }
        status, body = server.request("POST", "/api/recurring/", payload, token)
        assert status == 201, body
        schedule = Schedule(start=start, frequency=frequency, interval=interval)
        dates = schedule.between(after=None, through=today, limit=10_000)
        expected[body["id"]] = [day.isoformat() for day in dates]
    return expected


def _posted(server: Server, token: str) -> Counter:
    """(rule, date) of every transaction of the caller, counted."""
    seen: Counter = Counter()
    page = 1
    while True:
        path = f"/api/transactions/?page_size=100&page={page}&ordering=date"
        status, body = server.request("GET", path, token=token)
        assert status == 200, body
        seen.update((t["recurring_rule"], t["date"]) for t in body["results"])
        if body["next"] is None:
            return seen
        page += 1


def _assert_exactly_once(server: Server, token: str, expected: dict[int, list[str]]) -> None:
    posted = _posted(server, token)
    twice = [key for key, count in posted.items() if count > 1]
    wanted = Counter((rule, day) for rule, days in expected.items() for day in days)
    assert not twice, f"posted more than once: {twice[:10]}"
    assert posted == wanted, (
        f"missing {sorted(wanted - posted)[:10]}, unexpected {sorted(posted - wanted)[:10]}"
    )


def test_two_commands_at_once_post_each_occurrence_once(server):
    token = _login(server, "two-crons")
    budget = _create_budget(server, token, "Bills", "5000.00")
    expected = _create_rules(server, token, budget)
    total = sum(len(days) for days in expected.values())
    assert total > 150

    results = _all_at_once([_post_recurring(server, "--batch", "9") for _ in range(2)])

    assert [code for code, _ in results] == [0, 0], results
    _assert_exactly_once(server, token, expected)
    # Between them the two runs reported every occurrence, and none twice.
    lines = [line for _, out in results for line in out.splitlines() if "(rule " in line]
    assert len(lines) == total
    assert sum(int(out.split("Posted ")[1].split()[0]) for _, out in results) == total


def test_reads_and_commands_at_once_post_each_occurrence_once(server):
    token = _login(server, "busy-reader")
    budget = _create_budget(server, token, "Household", "5000.00")
    expected = _create_rules(server, token, budget)
    reads = [
        "/api/transactions/",
        "/api/budgets/",
        f"/api/budgets/{budget}/",
        f"/api/budgets/{budget}/summary/",
    ]
    jobs = [
        functools.partial(server.request, "GET", reads[i % len(reads)], token=token)
        for i in range(READERS)
    ]
    jobs[5:5] = [_post_recurring(server, "--batch", "4")]
    jobs[17:17] = [_post_recurring(server, "--batch", "11")]

    results = _all_at_once(jobs)

    commands = [results.pop(17), results.pop(5)]
    assert [code for code, _ in commands] == [0, 0], commands
    failures = [r for r in results if r[0] != 200]
    assert not failures, f"{failures[:5]}\n{_tail(server.log_path)}"
    _assert_exactly_once(server, token, expected)
    # The budget's balance counts every occurrence once.
    status, body = server.request("GET", f"/api/budgets/{budget}/", token=token)
    spent = sum(
        (n + 1 + n / 100) * len(days) for n, (_, days) in enumerate(sorted(expected.items()))
    )
    assert status == 200
    assert abs(float(body["balance"]) - (5000 - spent)) < 0.005


def test_many_readers_alone_post_each_occurrence_once(server):
    token = _login(server, "readers-only")
    budget = _create_budget(server, token, "Flat", "5000.00")
    expected = _create_rules(server, token, budget)
    total = sum(len(days) for days in expected.values())

    # Enough reads at once and after to post everything, POST_PER_REQUEST at a time.
    rounds = 0
    while sum(_posted(server, token).values()) < total and rounds < 10:
        results = _all_at_once(
            [lambda: server.request("GET", "/api/transactions/", token=token)] * READERS
        )
        assert all(status == 200 for status, _ in results), results[:3]
        rounds += 1

    _assert_exactly_once(server, token, expected)


def test_zz_stored_totals_are_exact_after_every_race_above(server):
    """Runs last in this module, on the server every race above wrote to."""
    assert_stored_totals_exact(server)
