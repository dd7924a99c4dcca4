import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction as db_transaction
from django.test import Client
from model_bakery import baker
from ninja_jwt.tokens import RefreshToken

from budgets.models import Budget, Category, Transaction
from budgets.services.transactions import NewTransaction, transactions_insert

PASSWORD = "Corr3ct-Horse-Battery"
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


class _Timestamp:
    """Equal to any ISO 8601 UTC timestamp string (``2026-02-15T20:32:00.123Z``)."""

    def __eq__(self, other):
        return isinstance(other, str) and TIMESTAMP_RE.match(other) is not None

    def __repr__(self):
        return "<ISO 8601 UTC timestamp>"


TIMESTAMP = _Timestamp()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _stored_totals_stay_exact(request):
    """After every test that used the database, each budget's stored balance, count and
    month totals must equal what its transactions add up to: every write the test made
    (through the API or the services) kept them exact. A test that breaks them on
    purpose is marked ``stored_totals_drift``."""
    if "db" not in request.fixturenames or request.node.get_closest_marker("stored_totals_drift"):
        yield
        return
    request.getfixturevalue("db")  # set up before this check runs, torn down after it
    yield
    from django.db import connection

    from budgets.models import Budget
    from budgets.services.totals import totals_verify

    if connection.needs_rollback:  # the test ended on a database error: nothing to read
        return
    with db_transaction.atomic():
        ids = list(Budget.objects.values_list("pk", flat=True))
        assert totals_verify(budget_ids=ids, repair=False) == []


def make_user(username: str, **extra):
    from users.models import User

    user = User(username=username, email=extra.pop("email", f"{username}@example.com"), **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def user(db):
    return make_user("alice")


@pytest.fixture
def other_user(db):
    return make_user("mallory")


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}


class ApiClient(Client):
    """Django's test client (real URLconf and middleware) speaking JSON."""

    def __init__(self, headers: dict[str, str] | None = None):
        super().__init__()
        self._auth = headers or {}

    def _json(self, method, path, data=None, **extra):
        kwargs = {**self._auth, **extra}
        if data is not None:
            kwargs.setdefault("content_type", "application/json")
        return getattr(super(), method)(path, data=data, **kwargs)

    def get(self, path, data=None, **extra):
        return super().get(path, data=data, **{**self._auth, **extra})

    def post(self, path, data=None, **extra):
        return self._json("post", path, data, **extra)

    def put(self, path, data=None, **extra):
        return self._json("put", path, data, **extra)

    def patch(self, path, data=None, **extra):
        return self._json("patch", path, data, **extra)

    def delete(self, path, data=None, **extra):
        return self._json("delete", path, data, **extra)


@pytest.fixture
def api_client(db):
    return ApiClient()


@pytest.fixture
def auth_client(user):
    return ApiClient(bearer(user))


@pytest.fixture
def other_client(other_user):
    return ApiClient(bearer(other_user))


def make_budget(user, **fields) -> Budget:
    defaults = {
        "title": "Household",
        "description": "",
        "date": dt.date(2026, 1, 1),
        "initial_amount": Decimal("1000.00"),
    }
    return baker.make(Budget, user=user, **{**defaults, **fields})


def make_category(user, name="Food", **fields) -> Category:
    return baker.make(Category, user=user, name=name, **fields)


def make_transaction(budget, amount="-10.00", **fields) -> Transaction:
    """A transaction written through the one write path, so the budget's stored
    totals follow, as they do for every row the API writes."""
    values = {"date": dt.date(2026, 1, 15), "description": "", "category": None, **fields}
    # Related rows by id, as the write path takes them.
    values = {name: getattr(value, "pk", value) for name, value in values.items()}
    row = NewTransaction(budget=budget.pk, amount=Decimal(amount), **values)
    with db_transaction.atomic():
        return transactions_insert(rows=[row])[0]


@pytest.fixture
def budget(user):
    return make_budget(user)


@pytest.fixture
def category(user):
    return make_category(user)


@pytest.fixture
def transaction(budget, category):
    return make_transaction(budget, category=category)
