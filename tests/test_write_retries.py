"""Writes that lose to concurrent ones: ``retry_on_conflict`` runs them again, and a
write that keeps losing is a clean 503 with ``Retry-After``, never a 500.

Real deadlocks are produced over HTTP in ``tests/test_concurrency.py``; here the
database error is raised on purpose, to test every branch on both databases.
"""

import psycopg.errors
import pytest
from django.db import OperationalError

from budgets.models import Budget
from project import errors
from project import services as project_services
from project.errors import DatabaseBusy
from project.services import ATTEMPTS, UNSET, Retry, assign, retry_on_conflict
from tests.conftest import ApiClient, bearer, make_budget


def _database_error(cause: Exception) -> OperationalError:
    """What Django raises for a psycopg error: the driver's error is the cause."""
    try:
        raise cause
    except psycopg.Error as exc:
        try:
            raise OperationalError(str(exc)) from exc
        except OperationalError as wrapped:
            return wrapped


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(project_services, "BACKOFF_SECONDS", 0)


def _failing(times: int, error):
    calls = []

    @retry_on_conflict
    def write(*, value):
        calls.append(value)
        if len(calls) <= times:
            raise error() if callable(error) else error
        return value

    return write, calls


@pytest.mark.parametrize(
    "error",
    [
        lambda: _database_error(psycopg.errors.DeadlockDetected("deadlock detected")),
        lambda: _database_error(psycopg.errors.SerializationFailure("could not serialize")),
        Retry,
    ],
    ids=["deadlock", "serialization-failure", "rows-changed"],
)
def test_a_write_that_loses_is_run_again(error):
    write, calls = _failing(ATTEMPTS - 1, error)

    assert write(value=7) == 7
    assert calls == [7] * ATTEMPTS


def test_a_write_that_keeps_losing_gives_up_as_database_busy():
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    write, calls = _failing(ATTEMPTS, lambda: _database_error(deadlock))

    with pytest.raises(DatabaseBusy) as excinfo:
        write(value=1)

    assert len(calls) == ATTEMPTS
    assert isinstance(excinfo.value.__cause__, OperationalError)


@pytest.mark.parametrize(
    "error",
    [
        _database_error(psycopg.errors.UniqueViolation("duplicate key")),
        OperationalError("database is locked"),  # SQLite: no SQLSTATE, not retried here
        ValueError("a bug"),
    ],
)
def test_other_errors_are_not_retried(error):
    write, calls = _failing(1, error)

    with pytest.raises(type(error)):
        write(value=1)

    assert calls == [1]


def test_busy_write_answers_503_with_retry_after_and_changes_nothing(user, monkeypatch):
    budget = make_budget(user, title="Before")
    save = Budget.save
    tries = []

    def save_then_deadlock(self, *args, **kwargs):
        save(self, *args, **kwargs)  # written, then the database picks us as the victim
        tries.append(self.title)
        raise _database_error(psycopg.errors.DeadlockDetected("deadlock detected"))

    monkeypatch.setattr(Budget, "save", save_then_deadlock)
    client = ApiClient(bearer(user))

    response = client.patch(f"/api/budgets/{budget.pk}/", {"title": "After"})

    assert response.status_code == 503
    assert response.json() == {"detail": errors.DATABASE_BUSY}
    assert response["Retry-After"] == errors.DATABASE_BUSY_RETRY_AFTER
    assert tries == ["After"] * ATTEMPTS
    assert Budget.objects.get().title == "Before"


def test_assign_sets_only_the_values_sent(user):
    budget = make_budget(user, title="Old", description="Kept")

    changed = assign(budget, title="New", description=UNSET)

    assert changed == ["title"]
    assert (budget.title, budget.description) == ("New", "Kept")
