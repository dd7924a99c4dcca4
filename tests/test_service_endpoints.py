"""/up, /api/health/, /api/docs and /api/openapi.json."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent


def test_up_needs_no_auth_and_no_database(client):
    # No `db` fixture: pytest-django fails the test if /up touches the database.
    response = client.get("/up")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_up_answers_head_like_get_without_a_body(client):
    response = client.head("/up")

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_up_refuses_other_methods_with_json_405(client, method):
    # No `db` fixture either: refusing touches no database (and no CSRF check runs).
    response = getattr(client, method)("/up")

    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
    assert response["Allow"] == "GET, HEAD"


def test_up_is_served_whatever_the_host(client):
    # Before host validation: a container healthcheck on 127.0.0.1 works whatever
    # ALLOWED_HOSTS says; and it is wired once, so the URLconf does not know it.
    response = client.get("/up", HTTP_HOST="not-an-allowed-host.example")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    with pytest.raises(Resolver404):
        resolve("/up")


def test_health_reports_database_ok(db, client):
    response = client.get("/api/health/")

    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


UNREACHABLE_CHECK = (
    "import django, json; django.setup();"
    "from django.test import Client; c = Client(raise_request_exception=False);"
    "r = [c.get('/api/health/'), c.post('/api/token/', {'username': 'a', 'password': 'b'},"
    " content_type='application/json')];"
    "print(json.dumps([[x.status_code, json.loads(x.content), x.get('Retry-After')]"
    " for x in r]))"
)


def _health_and_login_with(database_url: str) -> list:
    """GET /api/health/ and POST /api/token/ in a fresh process (DEBUG off) whose database
    is ``database_url``: [[status, body, Retry-After], [status, body, Retry-After]]."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "ALLOWED_HOSTS": "testserver",
        "CACHE_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", UNREACHABLE_CHECK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


UNAVAILABLE = [503, {"detail": "The database is not available. Try again shortly."}, "5"]
# Its own fields, and the ``detail`` of every other 503 (the contract's one error shape).
HEALTH_DOWN = [503, {"status": "error", "database": "unavailable", **UNAVAILABLE[1]}, "5"]


@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://nobody:x@127.0.0.1:1/none",  # a real PostgreSQL URL; nothing listens
        "sqlite:////nonexistent-directory/db.sqlite3",  # a file that cannot be opened
    ],
    ids=["postgresql", "sqlite"],
)
def test_an_unreachable_database_is_a_503_with_retry_after(database_url):
    health, login = _health_and_login_with(database_url)

    assert health == HEALTH_DOWN
    assert login == UNAVAILABLE  # its rate limit already needs the database


def test_docs_render_from_local_static_files(db, client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert assets, "the docs page should load Swagger UI from our own /static/"
    assert not re.search(r'(?:src|href)="https?://', html), "no assets from the internet"
    for asset in assets:
        assert Client().get(asset).status_code == 200, asset


def test_openapi_schema_is_served(db, client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_up_answers_whatever_the_host_header(client, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]

    up = client.get("/up", HTTP_HOST="127.0.0.1:8000")
    other = client.get("/api/health/", HTTP_HOST="127.0.0.1:8000")

    assert (up.status_code, up.json()) == (200, {"status": "ok"})
    assert other.status_code == 400
