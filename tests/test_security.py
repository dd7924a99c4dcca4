"""Security headers, CORS, HTTPS behind a proxy, and mass assignment of read-only fields."""

import pytest
from django.test import Client, override_settings

ALLOWED_ORIGIN = "http://localhost:5173"


@pytest.fixture
def prod_client(db):
    with override_settings(DEBUG=False):
        yield Client()


@pytest.mark.parametrize("path", ["/up", "/api/health/", "/api/docs", "/api/budgets/"])
def test_security_headers_with_debug_off(prod_client, path):
    response = prod_client.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response  # plain HTTP: no HSTS


def test_hsts_when_served_over_https_behind_a_proxy(db):
    with override_settings(
        DEBUG=False,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    ):
        response = Client().get("/up", HTTP_X_FORWARDED_PROTO="https")

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_unhandled_error_with_debug_off_is_json_not_a_debug_page(db, monkeypatch):
    monkeypatch.setattr("project.health.database_is_up", lambda: 1 / 0)
    with override_settings(DEBUG=False):
        client = Client(raise_request_exception=False)
        response = client.get("/api/health/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Internal server error."}


def test_cors_allows_configured_origin_only(db):
    client = Client()
    preflight = {
        "HTTP_ORIGIN": ALLOWED_ORIGIN,
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization,content-type",
    }

    allowed = client.options("/api/budgets/", **preflight)
    denied = client.options("/api/budgets/", **{**preflight, "HTTP_ORIGIN": "https://evil.test"})

    assert allowed["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "authorization" in allowed["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in denied


def test_cors_exposes_headers_clients_need(db):
    response = Client().get("/up", HTTP_ORIGIN=ALLOWED_ORIGIN)

    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"retry-after", "content-disposition", "x-request-id"} <= exposed
    assert {"etag", "idempotent-replayed"} <= exposed


def test_cors_lets_browsers_send_the_optional_client_headers(db):
    preflight = Client().options(
        "/api/budgets/1/",
        HTTP_ORIGIN=ALLOWED_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,idempotency-key,if-match,if-none-match",
    )

    allowed = {h.strip().lower() for h in preflight["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "idempotency-key", "if-match", "if-none-match"} <= allowed


# --- Mass assignment: read-only fields cannot be set through any writable schema ---------
# (budgets, categories and transactions: test_read_only_and_unknown_fields_are_ignored in
# tests/budgets/test_api_*.py)

FOREIGN_TIME = "2001-01-01T00:00:00Z"


def test_me_read_only_fields_cannot_be_set(auth_client, user):
    body = {
        "id": 99999,
        "username": "admin",
        "is_staff": True,
        "is_superuser": True,
        "password": "x",
        "date_joined": FOREIGN_TIME,
        "first_name": "Al",
    }

    response = auth_client.patch("/api/users/me/", body)

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.pk, user.username, user.is_staff, user.is_superuser) == (
        response.json()["id"],
        "alice",
        False,
        False,
    )
    assert user.first_name == "Al"
    assert user.check_password("x") is False
