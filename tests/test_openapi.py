"""The published OpenAPI schema tells the truth: every contract route, its shapes, its errors."""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from project.api import api
from tests.conftest import make_budget, make_category

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
    # Additions (second wave).
    ("get", "/api/recurring/"),
    ("post", "/api/recurring/"),
    ("get", "/api/recurring/{rule_id}/"),
    ("put", "/api/recurring/{rule_id}/"),
    ("patch", "/api/recurring/{rule_id}/"),
    ("delete", "/api/recurring/{rule_id}/"),
    ("get", "/api/recurring/{rule_id}/upcoming/"),
    ("post", "/api/transactions/import/"),
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
    for path in ("/api/budgets/", "/api/categories/", "/api/transactions/", "/api/recurring/"):
        ref = PATHS[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        name = ref["$ref"].rsplit("/", 1)[-1]
        properties = SCHEMA["components"]["schemas"][name]["properties"]
        assert set(properties) == {"count", "next", "previous", "results"}


def test_the_import_documents_its_multipart_body_and_answers():
    operation = PATHS["/api/transactions/import/"]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]

    assert body["required"] == ["file"]
    assert body["properties"]["file"] == {"format": "binary", "title": "File", "type": "string"}
    assert {"dry_run", "create_categories", "allow_duplicates"} <= set(body["properties"])
    assert {"200", "201", "400", "401", "413"} <= set(operation["responses"])
    rejected = operation["responses"]["400"]["content"]["application/json"]["schema"]
    refs = json.dumps(rejected)
    assert "TransactionImportRejectedOut" in refs


def test_recurring_rules_and_transactions_show_their_link():
    rule = SCHEMA["components"]["schemas"]["RecurringRuleOut"]["properties"]
    transaction = SCHEMA["components"]["schemas"]["TransactionOut"]["properties"]

    assert rule["amount"]["type"] == "string"
    assert rule["frequency"]["enum"] == ["daily", "weekly", "monthly", "yearly"]
    assert "recurring_rule" in transaction


def _request_schema(method: str, path: str) -> dict:
    ref = PATHS[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/api/users/register/"), ("patch", "/api/users/me/")]
)
def test_email_inputs_are_published_as_emails(method, path):
    assert _request_schema(method, path)["properties"]["email"]["format"] == "email"


def _integer_schemas(prop: dict) -> list[dict]:
    return [s for s in prop.get("anyOf", [prop]) if s.get("type") == "integer"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/transactions/"),
        ("put", "/api/transactions/{transaction_id}/"),
        ("patch", "/api/transactions/{transaction_id}/"),
    ],
)
@pytest.mark.parametrize("field", ["budget", "category"])
def test_ids_in_bodies_publish_the_range_the_server_accepts(method, path, field):
    (integer,) = _integer_schemas(_request_schema(method, path)["properties"][field])

    assert (integer["minimum"], integer["maximum"]) == (1, 2**63 - 1)


ID_FIELDS = {"budget", "category", "from_budget", "to_budget"}


def _json_request_bodies() -> list[tuple[str, str, dict]]:
    bodies = []
    for path, item in PATHS.items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                ref = content["application/json"]["schema"]["$ref"]
                bodies.append((method, path, SCHEMA["components"]["schemas"][ref.split("/")[-1]]))
    return bodies


def test_every_id_in_every_body_publishes_the_range_the_server_accepts():
    """Every route, present and later: transactions, recurring rules, transfers, limits."""
    seen = set()
    for method, path, body in _json_request_bodies():
        for field in ID_FIELDS & set(body["properties"]):
            (integer,) = _integer_schemas(body["properties"][field])
            assert (integer.get("minimum"), integer.get("maximum")) == (1, 2**63 - 1), (
                method,
                path,
                field,
            )
            seen.add((path.split("/")[2], field))
    assert {("recurring", "budget"), ("transfers", "to_budget"), ("budgets", "category")} <= seen


def test_every_integer_in_a_body_is_bounded():
    for method, path, body in _json_request_bodies():
        for field, prop in body["properties"].items():
            for integer in _integer_schemas(prop):
                assert {"minimum", "maximum"} <= set(integer), (method, path, field)


def test_no_schema_carries_pydantic_constraint_names():
    """A constraint declared after a validator once came out as ``ge``/``le``, which JSON
    Schema does not know: clients and fuzzers then saw an unbounded integer."""
    leaked = []

    def walk(node, where):
        if isinstance(node, dict):
            leaked.extend(f"{where}/{key}" for key in ("ge", "le", "gt", "lt") if key in node)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    walk(SCHEMA, "")
    assert not leaked


def test_ids_outside_the_published_range_are_refused(auth_client, user):
    budget = make_budget(user)
    for bad in (0, -1, 2**63):
        response = auth_client.post(
            "/api/transactions/", {"budget": bad, "amount": "1.00", "date": "2026-01-01"}
        )
        assert response.status_code == 400, bad
        assert list(response.json()) == ["budget"]
    ok = auth_client.post(
        "/api/transactions/", {"budget": budget.id, "amount": "1.00", "date": "2026-01-01"}
    )
    assert ok.status_code == 201


@pytest.mark.parametrize("bad", [0, -1, 2**63])
def test_ids_outside_the_range_are_refused_by_the_later_routes_too(auth_client, user, bad):
    budget, category = make_budget(user), make_category(user)
    calls = [
        (
            "/api/recurring/",
            {"amount": "-1.00", "start_date": "2026-01-01", "frequency": "monthly"},
            {"budget": budget.id, "category": category.id},
        ),
        (
            "/api/transfers/",
            {"amount": "1.00", "date": "2026-01-01"},
            {"from_budget": budget.id, "to_budget": make_budget(user, title="Other").id},
        ),
        (
            f"/api/budgets/{budget.id}/limits/",
            {"month": "2026-01", "amount": "1.00"},
            {"category": category.id},
        ),
    ]
    for path, body, ids in calls:
        for field in ids:
            response = auth_client.post(path, {**body, **ids, field: bad})
            assert response.status_code == 400, (path, field, response.content)
            assert field in response.json(), (path, field, response.content)
