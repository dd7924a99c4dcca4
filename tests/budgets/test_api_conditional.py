"""ETag, If-None-Match and If-Match on every single object (budgets, categories,
transactions, recurring rules, transfers, spending limits) over HTTP.

The concurrent case (two clients sending the same ETag at once) runs over real HTTP in
tests/test_clients_http.py.
"""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import Budget, Category, RecurringRule, SpendingLimit, Transaction, Transfer
from budgets.services.limits import spending_limit_create
from budgets.services.recurring import recurring_rule_create
from budgets.services.transfers import transfer_create
from project.errors import PRECONDITION_FAILED
from tests.conftest import make_budget, make_category, make_transaction

KINDS = ["budget", "category", "transaction", "rule", "transfer", "limit"]
MODELS = {
    "budget": Budget,
    "category": Category,
    "transaction": Transaction,
    "rule": RecurringRule,
    "transfer": Transfer,
    "limit": SpendingLimit,
}
PATCHES = {
    "budget": {"title": "Renamed"},
    "category": {"name": "Renamed"},
    "transaction": {"description": "Renamed"},
    "rule": {"description": "Renamed"},
    "transfer": {"description": "Renamed"},
    "limit": {"amount": "42.00"},
}
# Every (kind, method) that replaces or updates: a transfer has no PUT.
WRITES = [(k, m) for k in KINDS for m in ("put", "patch") if (k, m) != ("transfer", "put")]
FUTURE = dt.date.today() + dt.timedelta(days=30)


@pytest.fixture
def objects(user):
    budget = make_budget(user)
    category = make_category(user)
    return {
        "budget": budget,
        "category": category,
        "transaction": make_transaction(budget, category=category),
        # Starts in the future: nothing is posted, so reads post nothing either.
        "rule": recurring_rule_create(
            user=user,
            budget=budget.id,
            amount=Decimal("-5.00"),
            start_date=FUTURE,
            frequency="monthly",
        ),
        "transfer": transfer_create(
            user=user,
            from_budget=budget.id,
            to_budget=make_budget(user, title="Savings").id,
            amount=Decimal("5.00"),
            date=dt.date(2026, 2, 1),
        ),
        "limit": spending_limit_create(
            user=user,
            budget_id=budget.id,
            category=category.id,
            month=dt.date(2026, 2, 1),
            amount=Decimal("100.00"),
        ),
    }


def path(kind, obj) -> str:
    if kind == "limit":
        return f"/api/budgets/{obj.budget_id}/limits/{obj.id}/"
    plural = {
        "budget": "budgets",
        "category": "categories",
        "transaction": "transactions",
        "rule": "recurring",
        "transfer": "transfers",
    }
    return f"/api/{plural[kind]}/{obj.id}/"


def put_body(kind, objects) -> dict:
    return {
        "budget": {"title": "Replaced", "date": "2026-02-01", "initial_amount": "10.00"},
        "category": {"name": "Replaced"},
        "transaction": {
            "budget": objects["budget"].id,
            "amount": "-3.00",
            "date": "2026-02-02",
            "category": None,
        },
        "rule": {
            "budget": objects["budget"].id,
            "amount": "-7.00",
            "start_date": FUTURE.isoformat(),
            "frequency": "weekly",
        },
        "limit": {"category": objects["category"].id, "month": "2026-03", "amount": "50.00"},
    }[kind]


def write_body(kind, method, objects) -> dict:
    return put_body(kind, objects) if method == "put" else PATCHES[kind]


def body_etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def model_state(kind, obj):
    return MODELS[kind].objects.filter(pk=obj.pk).values().first()


# --- ETag and If-None-Match --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_get_carries_a_strong_etag_of_the_body(auth_client, objects, kind):
    response = auth_client.get(path(kind, objects[kind]))

    assert response.status_code == 200
    assert response["ETag"] == body_etag(response.content)
    assert not response["ETag"].startswith("W/")
    assert auth_client.get(path(kind, objects[kind]))["ETag"] == response["ETag"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "header",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
    ids=["exact", "weak", "in-a-list", "star"],
)
def test_if_none_match_with_the_current_etag_is_a_304_without_body(
    auth_client, objects, kind, header
):
    etag = auth_client.get(path(kind, objects[kind]))["ETag"]

    response = auth_client.get(
        path(kind, objects[kind]), HTTP_IF_NONE_MATCH=header.format(etag=etag)
    )

    assert response.status_code == 304
    assert response.content == b""
    assert not response.has_header("Content-Type")
    assert response["ETag"] == etag


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "header", ['"0123"', "not-an-etag", ""], ids=["other", "malformed", "empty"]
)
def test_if_none_match_with_another_etag_is_a_full_answer(auth_client, objects, kind, header):
    response = auth_client.get(path(kind, objects[kind]), HTTP_IF_NONE_MATCH=header)

    assert response.status_code == 200
    assert response["ETag"] == body_etag(response.content)


@pytest.mark.parametrize("kind", KINDS)
def test_the_etag_changes_with_the_representation(auth_client, objects, kind):
    before = auth_client.get(path(kind, objects[kind]))["ETag"]
    auth_client.patch(path(kind, objects[kind]), PATCHES[kind])

    after = auth_client.get(path(kind, objects[kind]), HTTP_IF_NONE_MATCH=before)

    assert after.status_code == 200
    assert after["ETag"] != before


def test_a_budget_etag_covers_its_balance(auth_client, objects):
    budget = objects["budget"]
    before = auth_client.get(path("budget", budget))

    make_transaction(budget, "-1.00")  # the budget's own row is untouched
    after = auth_client.get(path("budget", budget), HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after.json()["balance"] != before.json()["balance"]
    assert after["ETag"] != before["ETag"]


@pytest.mark.parametrize("kind", KINDS)
def test_reads_cost_the_same_queries_with_or_without_if_none_match(
    auth_client, objects, kind, django_assert_num_queries
):
    etag = auth_client.get(path(kind, objects[kind]))["ETag"]

    # 1 user lookup for the token, 1 row (a budget's balance comes in the same query).
    with django_assert_num_queries(2):
        assert (
            auth_client.get(path(kind, objects[kind]), HTTP_IF_NONE_MATCH=etag).status_code == 304
        )


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_read_costs_two_queries(auth_client, objects, kind, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert auth_client.get(path(kind, objects[kind])).status_code == 200


# --- If-Match on writes --------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "method"), WRITES)
def test_writes_answer_the_new_etag(auth_client, objects, kind, method):
    body = write_body(kind, method, objects)

    response = getattr(auth_client, method)(path(kind, objects[kind]), body)

    assert response.status_code == 200
    assert response["ETag"] == body_etag(response.content)
    assert auth_client.get(path(kind, objects[kind]))["ETag"] == response["ETag"]


@pytest.mark.parametrize(("kind", "method"), WRITES)
@pytest.mark.parametrize(
    "header", ["{etag}", '"other", {etag}', "*"], ids=["exact", "list", "star"]
)
def test_if_match_with_the_current_etag_writes(auth_client, objects, kind, method, header):
    etag = auth_client.get(path(kind, objects[kind]))["ETag"]
    body = write_body(kind, method, objects)

    response = getattr(auth_client, method)(
        path(kind, objects[kind]), body, HTTP_IF_MATCH=header.format(etag=etag)
    )

    assert response.status_code == 200
    assert response["ETag"] != etag


@pytest.mark.parametrize(("kind", "method"), [*WRITES, *((k, "delete") for k in KINDS)])
@pytest.mark.parametrize(
    "header", ['"0123"', "W/{etag}", "{bare}", ""], ids=["stale", "weak", "unquoted", "empty"]
)
def test_if_match_with_a_stale_etag_is_a_412_and_changes_nothing(
    auth_client, objects, kind, method, header
):
    etag = auth_client.get(path(kind, objects[kind]))["ETag"]
    before = model_state(kind, objects[kind])
    body = None if method == "delete" else write_body(kind, method, objects)

    response = getattr(auth_client, method)(
        path(kind, objects[kind]),
        body,
        HTTP_IF_MATCH=header.format(etag=etag, bare=etag.strip('"')),
    )

    assert response.status_code == 412
    assert response.json() == {"detail": PRECONDITION_FAILED}
    assert model_state(kind, objects[kind]) == before


INVALID_PATCHES = {
    "budget": ({"title": ""}, "title"),
    "category": ({"name": ""}, "name"),
    # Ids the database must look up: the service's check, still before the precondition.
    "transaction": ({"category": 0}, "category"),
    "rule": ({"category": 0}, "category"),
    "transfer": ({"amount": "0"}, "amount"),
    "limit": ({"category": 0}, "category"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_input_is_a_400_whatever_if_match_says(auth_client, objects, kind):
    body, field = INVALID_PATCHES[kind]
    before = model_state(kind, objects[kind])

    response = auth_client.patch(path(kind, objects[kind]), body, HTTP_IF_MATCH='"0123"')

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert model_state(kind, objects[kind]) == before


def test_a_budget_edited_after_a_new_transaction_is_a_412(auth_client, objects):
    budget = objects["budget"]
    etag = auth_client.get(path("budget", budget))["ETag"]
    auth_client.post(
        "/api/transactions/", {"budget": budget.id, "amount": "5.00", "date": "2026-01-20"}
    )

    response = auth_client.patch(path("budget", budget), {"title": "Mine"}, HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    assert Budget.objects.get(pk=budget.pk).title == "Household"


@pytest.mark.parametrize("kind", KINDS)
def test_if_match_with_the_current_etag_deletes(auth_client, objects, kind):
    etag = auth_client.get(path(kind, objects[kind]))["ETag"]

    response = auth_client.delete(path(kind, objects[kind]), HTTP_IF_MATCH=etag)

    assert response.status_code == 204
    assert model_state(kind, objects[kind]) is None


@pytest.mark.parametrize("kind", KINDS)
def test_the_second_of_two_edits_from_the_same_copy_is_a_412(auth_client, objects, kind):
    etag = auth_client.get(path(kind, objects[kind]))["ETag"]
    first = auth_client.patch(path(kind, objects[kind]), PATCHES[kind], HTTP_IF_MATCH=etag)

    second = auth_client.patch(path(kind, objects[kind]), {}, HTTP_IF_MATCH=etag)

    assert (first.status_code, second.status_code) == (200, 412)


@pytest.mark.parametrize("kind", KINDS)
def test_another_users_object_is_a_404_whatever_if_match_says(other_client, objects, kind):
    for header in ("*", '"0123"'):
        response = other_client.patch(
            path(kind, objects[kind]), PATCHES[kind], HTTP_IF_MATCH=header
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_a_transaction_moved_under_if_match_checks_the_version_it_moves(auth_client, objects, user):
    other_budget = make_budget(user, title="Other")
    tx = objects["transaction"]
    etag = auth_client.get(path("transaction", tx))["ETag"]
    auth_client.patch(path("transaction", tx), {"amount": "-9.00"})

    stale = auth_client.patch(
        path("transaction", tx), {"budget": other_budget.id}, HTTP_IF_MATCH=etag
    )

    assert stale.status_code == 412
    assert Transaction.objects.get(pk=tx.pk).budget_id == objects["budget"].id


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("budget", 0),
        ("category", 0),
        ("transaction", 0),
        ("rule", 0),
        ("transfer", 1),
        ("limit", 0),
    ],
)
def test_if_match_costs_a_query_only_where_the_locked_row_is_not_the_representation(
    auth_client, objects, kind, extra
):
    """A transfer's legs are read again under the lock; every other locked row is the
    whole representation (a budget's balance is stored on it)."""
    plain = _queries(lambda: auth_client.patch(path(kind, objects[kind]), PATCHES[kind]))
    etag = auth_client.get(path(kind, objects[kind]))["ETag"]

    checked = _queries(
        lambda: auth_client.patch(path(kind, objects[kind]), PATCHES[kind], HTTP_IF_MATCH=etag)
    )

    assert checked == plain + extra


def _queries(request) -> int:
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        assert request().status_code == 200
    return len(queries)


# --- OpenAPI ---------------------------------------------------------------------------------


SINGLE_OBJECT_PATHS = [
    "/api/budgets/{budget_id}/",
    "/api/categories/{category_id}/",
    "/api/transactions/{transaction_id}/",
    "/api/recurring/{rule_id}/",
    "/api/transfers/{transfer_id}/",
    "/api/budgets/{budget_id}/limits/{limit_id}/",
]


@pytest.mark.parametrize("template", SINGLE_OBJECT_PATHS)
def test_conditional_headers_and_answers_are_documented(template):
    from tests.test_openapi import PATHS

    item = PATHS[template]
    get = item["get"]
    assert _header_params(get) == {"If-None-Match"}
    assert "304" in get["responses"] and "content" not in get["responses"]["304"]
    assert "ETag" in get["responses"]["200"]["headers"]
    assert "ETag" in get["responses"]["304"]["headers"]
    writes = {"put", "patch"} & set(item)
    for method in (*writes, "delete"):
        assert _header_params(item[method]) == {"If-Match"}
        assert item[method]["responses"]["412"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
    for method in writes:
        assert item[method]["responses"]["200"]["headers"]["ETag"]["required"] is True


def test_every_single_object_route_is_conditional():
    """Routes added later take the headers too: a PUT, PATCH or DELETE that ignored
    If-Match would silently overwrite what the client has not seen (RFC 9110 §13.1.1)."""
    from tests.test_openapi import PATHS

    for template, item in PATHS.items():
        for method in {"put", "patch", "delete"} & set(item):
            assert "If-Match" in _header_params(item[method]), (method, template)
    assert {t for t, item in PATHS.items() if "delete" in item} == set(SINGLE_OBJECT_PATHS)


def _header_params(operation) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
