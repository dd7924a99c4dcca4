"""Headers clients rely on: a 204 has no body and no Content-Type, no empty body claims to
be JSON, and answers under /api/ are not stored by caches (except the docs and schema)."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from budgets.services.limits import spending_limit_create
from budgets.services.recurring import recurring_rule_create
from budgets.services.transfers import transfer_create
from tests.conftest import PASSWORD, make_budget, make_category, make_transaction
from tests.live import live_server
from tests.test_concurrency import _login

ALLOWED_ORIGIN = "http://localhost:5173"
NEW_PASSWORD = "An0ther-Long-Passphrase"


def _no_content_routes(user) -> list[tuple[str, str, dict | None]]:
    """(method, path, body) of every route that answers 204, on fresh objects of ``user``."""
    budget = make_budget(user)
    rule = recurring_rule_create(
        user=user,
        budget=budget.id,
        amount=Decimal("-5.00"),
        start_date=dt.date.today() + dt.timedelta(days=30),
        frequency="monthly",
    )
    transfer = transfer_create(
        user=user,
        from_budget=budget.id,
        to_budget=make_budget(user, title="Savings").id,
        amount=Decimal("5.00"),
        date=dt.date(2026, 2, 1),
    )
    limit = spending_limit_create(
        user=user,
        budget_id=budget.id,
        category=make_category(user, name="Groceries").id,
        month=dt.date(2026, 2, 1),
        amount=Decimal("100.00"),
    )
    return [
        ("delete", f"/api/recurring/{rule.id}/", None),
        ("delete", f"/api/transfers/{transfer.id}/", None),
        ("delete", f"/api/budgets/{budget.id}/limits/{limit.id}/", None),
        ("delete", f"/api/transactions/{make_transaction(budget).id}/", None),
        ("delete", f"/api/categories/{make_category(user).id}/", None),
        ("delete", f"/api/budgets/{budget.id}/", None),
        (
            "post",
            "/api/users/me/password/",
            {
                "old_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
        ),
    ]


def test_every_no_content_answer_has_no_body_and_no_content_headers(auth_client, user):
    for method, path, body in _no_content_routes(user):
        response = getattr(auth_client, method)(path, body)

        assert response.status_code == 204, (path, response.content)
        assert response.content == b"", path
        assert "Content-Type" not in response, path
        assert "Content-Length" not in response, path


def test_the_204_routes_are_all_the_routes_documented_as_204():
    from project.api import api

    documented = {
        (method, path)
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method, operation in operations.items()
        if 204 in operation["responses"]
    }

    assert documented == {
        ("delete", "/api/recurring/{rule_id}/"),
        ("delete", "/api/transfers/{transfer_id}/"),
        ("delete", "/api/budgets/{budget_id}/limits/{limit_id}/"),
        ("delete", "/api/transactions/{transaction_id}/"),
        ("delete", "/api/categories/{category_id}/"),
        ("delete", "/api/budgets/{budget_id}/"),
        ("post", "/api/users/me/password/"),
    }


def test_a_cors_preflight_has_an_empty_body_and_no_content_type(db, client):
    response = client.options(
        "/api/budgets/",
        HTTP_ORIGIN=ALLOWED_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="DELETE",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert (response.content, response.get("Content-Type")) == (b"", None)


def test_a_not_modified_answer_is_bodiless_too(rf):
    # No route answers 304 yet; the rule is central, so a future one is covered.
    from django.http import JsonResponse

    from project.middleware import BodilessResponseMiddleware

    middleware = BodilessResponseMiddleware(lambda request: JsonResponse({}, status=304))
    response = middleware(rf.get("/api/budgets/1/"))

    assert response.content == b""
    assert "Content-Type" not in response
    assert "Content-Length" not in response


# --- Cache-Control ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/budgets/", 200),
        ("get", "/api/budgets/999999/", 404),
        ("get", "/api/users/me/", 200),
        ("get", "/api/health/", 200),
        ("post", "/api/token/", 400),
        ("get", "/api/nothing-here/", 404),
        ("put", "/api/health/", 405),
    ],
)
def test_api_answers_are_not_stored_by_caches(auth_client, method, path, status):
    response = getattr(auth_client, method)(path)

    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"


def test_unauthenticated_api_answers_are_not_stored_either(api_client):
    response = api_client.get("/api/budgets/")

    assert (response.status_code, response["Cache-Control"]) == (401, "no-store")


@pytest.mark.parametrize("path", ["/api/docs", "/api/openapi.json", "/up"])
def test_docs_schema_and_liveness_may_be_cached(db, client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "Cache-Control" not in response


# --- Over HTTP, gunicorn with DEBUG off ---------------------------------------------------


def test_no_content_over_http_has_no_content_headers(tmp_path):
    with live_server(tmp_path) as server:
        token = _login(server, "headers")

        def create(path, payload):
            status, _, raw = server.exchange("POST", path, payload, token)
            assert status == 201, raw
            return json.loads(raw)["id"]

        budget = create(
            "/api/budgets/", {"title": "B", "date": "2026-01-01", "initial_amount": "1"}
        )
        savings = create(
            "/api/budgets/", {"title": "S", "date": "2026-01-01", "initial_amount": "1"}
        )
        transaction = create(
            "/api/transactions/", {"budget": budget, "amount": "-1", "date": "2026-01-02"}
        )
        category = create("/api/categories/", {"name": "Food"})
        rule = create(
            "/api/recurring/",
            {"budget": budget, "amount": "-1", "start_date": "2099-01-01", "frequency": "daily"},
        )
        transfer = create(
            "/api/transfers/",
            {"from_budget": budget, "to_budget": savings, "amount": "1", "date": "2026-01-03"},
        )
        limit = create(
            f"/api/budgets/{budget}/limits/",
            {"category": category, "month": "2026-01", "amount": "5"},
        )
        password = {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        }
        # Every route documented as 204 (see the test above that lists them).
        calls = [
            ("DELETE", f"/api/recurring/{rule}/", None),
            ("DELETE", f"/api/transfers/{transfer}/", None),
            ("DELETE", f"/api/budgets/{budget}/limits/{limit}/", None),
            ("DELETE", f"/api/transactions/{transaction}/", None),
            ("DELETE", f"/api/categories/{category}/", None),
            ("DELETE", f"/api/budgets/{budget}/", None),
            ("POST", "/api/users/me/password/", password),
        ]
        answers = [
            (path, *server.exchange(method, path, body, token)) for method, path, body in calls
        ]

    for path, status, headers, body in answers:
        assert (status, body) == (204, b""), path
        assert headers.get("Content-Type") is None, path
        assert headers.get("Content-Length") is None, path
        assert headers.get("Cache-Control") == "no-store", path
