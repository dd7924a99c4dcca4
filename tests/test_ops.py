"""Operations: placeholder passwords refused, the bounded database wait, migrate's lock."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from project import config
from project.management.commands.migrate import MIGRATE_LOCK_ID

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "url",
    [
        "postgres://budget_tracker:CHANGE-ME-db-password@db:5432/budget_tracker",
        "postgres://budget_tracker:change-me@db:5432/budget_tracker",
        "redis://:CHANGEME@redis:6379/0",
    ],
)
def test_placeholder_passwords_are_refused_with_debug_off(url):
    with pytest.raises(config.ConfigurationError, match="placeholder password"):
        config.refuse_placeholder_passwords(debug=False, DATABASE_URL=url)


@pytest.mark.parametrize(
    "url",
    [
        "postgres://budget_tracker:s3cret-Value@db:5432/budget_tracker",
        "postgres://postgres@127.0.0.1:5432/postgres",
        "sqlite:////tmp/db.sqlite3",
        "",
    ],
)
def test_real_or_absent_passwords_pass(url):
    config.refuse_placeholder_passwords(debug=False, DATABASE_URL=url, CACHE_URL=url)


def test_placeholders_are_allowed_for_local_debug_runs():
    config.refuse_placeholder_passwords(debug=True, DATABASE_URL="postgres://u:CHANGE-ME@h/d")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_app_refuses_to_start_with_the_env_example_database_password():
    result = _manage(
        "check",
        DEBUG="false",
        SECRET_KEY="k" * 50,
        DATABASE_URL="postgres://budget_tracker:CHANGE-ME-db-password@127.0.0.1:1/x",
    )

    assert result.returncode != 0
    assert "DATABASE_URL holds a placeholder password" in result.stderr


def test_wait_for_db_returns_once_the_database_answers(db):
    call_command("wait_for_db", "--timeout", "5")


def test_wait_for_db_gives_up_after_its_timeout():
    result = _manage(
        "wait_for_db",
        "--timeout",
        "1",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing",
        PGCONNECT_TIMEOUT="1",
    )

    assert result.returncode == 1
    assert "database still unreachable after 1s" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_migrate_waits_for_a_running_migrate_on_postgresql():
    """While another session holds the migrate lock, migrate blocks, then finishes."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the lock is PostgreSQL's; SQLite serialises writers by itself")
    import psycopg

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_ID])
        waiting = subprocess.Popen(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": url,
                # The wait outlasts the statement timeout (and its client-side grace of 2 s).
                "DB_STATEMENT_TIMEOUT": "1",
                "PYTHONUNBUFFERED": "1",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Its first line says it found the lock taken (however slow it is to start).
        first_line = waiting.stdout.readline()
        assert first_line == "Another migrate is running; waiting for it to finish.\n"
        time.sleep(4)
        assert waiting.poll() is None, "migrate must wait while the lock is held"
        holder.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_ID])
        output, _ = waiting.communicate(timeout=60)

    assert waiting.returncode == 0, output
    assert "No migrations to apply." in output
