"""/up, /api/health/, /api/docs and /api/openapi.json."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def test_up_needs_no_auth_and_no_database(client):
    # No `db` fixture: pytest-django fails the test if /up touches the database.
    response = client.get("/up")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_health_reports_database_ok(db, client):
    response = client.get("/api/health/")

    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_health_is_503_when_database_is_unreachable():
    # A real, unreachable PostgreSQL server: nothing listens on port 1.
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/api/health/');"
        "print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": "postgres://nobody:x@127.0.0.1:1/none",
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '503 {"status": "error", "database": "unavailable"}'


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
