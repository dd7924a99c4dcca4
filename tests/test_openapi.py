"""The published OpenAPI schema tells the truth: every contract route, its shapes, its errors."""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from project.api import api

# As clients see it: JSON (status codes become string keys).
SCHEMA = json.loads(json.dumps(api.get_openapi_schema(), cls=DjangoJSONEncoder))
PATHS = SCHEMA["paths"]

CONTRACT_ROUTES = [
    ("post", "/api/users/register/"),
    ("post", "/api/token/"),
    ("post", "/api/token/refresh/"),
    ("post", "/api/token/verify/"),
    ("get", "/api/users/me/"),
    ("patch", "/api/users/me/"),
    ("post", "/api/users/me/password/"),
    ("post", "/api/users/logout/"),
    ("get", "/api/budgets/"),
    ("post", "/api/budgets/"),
    ("get", "/api/budgets/{budget_id}/"),
    ("put", "/api/budgets/{budget_id}/"),
    ("patch", "/api/budgets/{budget_id}/"),
    ("delete", "/api/budgets/{budget_id}/"),
    ("get", "/api/budgets/{budget_id}/summary/"),
    ("get", "/api/categories/"),
    ("post", "/api/categories/"),
    ("get", "/api/categories/{category_id}/"),
    ("put", "/api/categories/{category_id}/"),
    ("patch", "/api/categories/{category_id}/"),
    ("delete", "/api/categories/{category_id}/"),
    ("get", "/api/transactions/"),
    ("post", "/api/transactions/"),
    ("get", "/api/transactions/export/"),
    ("get", "/api/transactions/{transaction_id}/"),
    ("put", "/api/transactions/{transaction_id}/"),
    ("patch", "/api/transactions/{transaction_id}/"),
    ("delete", "/api/transactions/{transaction_id}/"),
    ("get", "/api/health/"),
    # Additions: transfers and spending limits.
    ("get", "/api/transfers/"),
    ("post", "/api/transfers/"),
    ("get", "/api/transfers/{transfer_id}/"),
    ("patch", "/api/transfers/{transfer_id}/"),
    ("delete", "/api/transfers/{transfer_id}/"),
    ("get", "/api/budgets/{budget_id}/limits/"),
    ("post", "/api/budgets/{budget_id}/limits/"),
    ("get", "/api/budgets/{budget_id}/limits/{limit_id}/"),
    ("put", "/api/budgets/{budget_id}/limits/{limit_id}/"),
    ("patch", "/api/budgets/{budget_id}/limits/{limit_id}/"),
    ("delete", "/api/budgets/{budget_id}/limits/{limit_id}/"),
]
PUBLIC = {
    ("post", "/api/users/register/"),
    ("post", "/api/token/"),
    ("post", "/api/token/refresh/"),
    ("post", "/api/token/verify/"),
    ("get", "/api/health/"),
}


@pytest.mark.parametrize(("method", "path"), CONTRACT_ROUTES)
def test_every_contract_route_is_documented_with_summary_and_errors(method, path):
    operation = PATHS[path][method]

    assert operation.get("summary")
    responses = operation["responses"]
    assert any(code.startswith("2") for code in responses)
    if (method, path) in PUBLIC:
        assert "security" not in operation
    else:
        assert operation["security"] == [{"JWTAuth": []}]
        assert "401" in responses
    assert "405" in responses
    if "{" in path:
        assert "404" in responses
    if "requestBody" in operation or any(
        p["in"] == "query" for p in operation.get("parameters", [])
    ):
        assert "400" in responses


def test_money_is_a_string_in_responses():
    budget = SCHEMA["components"]["schemas"]["BudgetOut"]["properties"]
    assert budget["balance"]["type"] == "string"
    assert budget["initial_amount"]["type"] == "string"


def test_transfers_and_limits_are_documented_in_their_outputs():
    schemas = SCHEMA["components"]["schemas"]
    assert schemas["TransferOut"]["properties"]["amount"]["type"] == "string"
    assert schemas["SpendingLimitOut"]["properties"]["month"]["pattern"] == r"^\d{4}-\d{2}$"
    assert schemas["TransactionOut"]["properties"]["transfer"]["description"]
    summary = schemas["SummaryOut"]["properties"]
    for field in ("transfers_in", "transfers_out", "transfers_count", "limits"):
        assert summary[field]["description"]
    limit = schemas["LimitSummaryOut"]["properties"]
    assert {"category", "name", "month", "limit", "spent", "remaining"} <= set(limit)


def test_no_route_exposes_password_or_other_users():
    assert not [p for p in PATHS if p.startswith("/api/users/") and "{" in p]
    for name, component in SCHEMA["components"]["schemas"].items():
        if name.endswith("Out"):
            assert "password" not in component.get("properties", {}), name


def test_throttled_routes_declare_429():
    assert "429" in PATHS["/api/token/"]["post"]["responses"]
    assert "429" in PATHS["/api/users/register/"]["post"]["responses"]


def test_list_routes_declare_the_page_shape():
    for path in ("/api/budgets/", "/api/categories/", "/api/transactions/"):
        ref = PATHS[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        name = ref["$ref"].rsplit("/", 1)[-1]
        properties = SCHEMA["components"]["schemas"][name]["properties"]
        assert set(properties) == {"count", "next", "previous", "results"}
