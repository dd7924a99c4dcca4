"""Settings parsing: DATABASE_URL, the SECRET_KEY rule, rates, caches."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from project import config

ROOT = Path(__file__).resolve().parent.parent


def test_database_defaults_to_sqlite_file_in_project_dir(tmp_path):
    db = config.database(url="", base_dir=tmp_path)

    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "db.sqlite3")
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert db["OPTIONS"]["timeout"] >= 5
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_url_uses_postgresql_backend_with_reused_connections(scheme):
    db = config.database(url=f"{scheme}://bob:s3cret@db.internal:6543/money", base_dir=ROOT)

    assert db["ENGINE"] == "project.postgresql"  # Django's, with client-side deadlines
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "bob",
        "s3cret",
        "db.internal",
        6543,
        "money",
    )
    assert db["CONN_MAX_AGE"] > 0
    assert db["CONN_HEALTH_CHECKS"] is True
    assert (db["OPTIONS"]["connect_timeout"], db["STATEMENT_TIMEOUT"]) == (3, 10)


def test_database_timeouts_are_configurable():
    db = config.database(
        url="postgres://x@h/d", base_dir=ROOT, connect_timeout=7, statement_timeout=2.5
    )

    assert (db["OPTIONS"]["connect_timeout"], db["STATEMENT_TIMEOUT"]) == (7, 2.5)
    with pytest.raises(config.ConfigurationError, match="DB_CONNECT_TIMEOUT"):
        config.database(url="postgres://x@h/d", base_dir=ROOT, connect_timeout=0)


def test_unsupported_database_url_is_refused():
    with pytest.raises(config.ConfigurationError):
        config.database(url="mysql://x@y/z", base_dir=ROOT)


def test_secret_key_rules():
    assert config.secret_key(value="abc", debug=False) == "abc"
    assert config.secret_key(value="", debug=True) == config.DEV_SECRET_KEY
    with pytest.raises(config.ConfigurationError, match="SECRET_KEY"):
        config.secret_key(value="", debug=False)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("20/min", "20/min"), ("5/s", "5/s"), (" 100 / 2h ", "100/2h"), ("3/day", "3/day")],
)
def test_rate_limit_accepts_known_forms(raw, normalised):
    assert config.rate_limit(raw) == normalised


@pytest.mark.parametrize("raw", ["", "20", "0/min", "ten/min", "5/fortnight"])
def test_rate_limit_rejects_malformed(raw):
    with pytest.raises(config.ConfigurationError, match="AUTH_RATE_LIMIT"):
        config.rate_limit(raw)


def test_cache_url_selects_redis_or_the_database():
    assert config.cache("") == {
        "BACKEND": "project.cache.DatabaseCache",
        "LOCATION": config.CACHE_TABLE,
    }
    redis = config.cache("redis://127.0.0.1:6379/0")
    assert "redis" in redis["BACKEND"].lower()
    assert "127.0.0.1:6379" in str(redis["LOCATION"])


CONFIG_VARS = {
    "DATABASE_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CORS_ALLOWED_ORIGINS",
    "ACCESS_TOKEN_LIFETIME",
    "REFRESH_TOKEN_LIFETIME",
    "AUTH_RATE_LIMIT",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with only ``env`` as configuration."""
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _run_django(env: dict[str, str]) -> subprocess.CompletedProcess:
    return _manage("check", env=env)


def test_debug_off_without_secret_key_refuses_to_start_with_one_line():
    result = _run_django({"DEBUG": "false"})

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY must be set" in lines[0]


def test_debug_off_with_secret_key_starts():
    result = _run_django({"DEBUG": "false", "SECRET_KEY": "x" * 50})

    assert result.returncode == 0, result.stderr


PRINT_SETTINGS = (
    "from django.conf import settings as s;"
    "print(s.ALLOWED_HOSTS, s.CORS_ALLOWED_ORIGINS, s.AUTH_RATE_LIMIT,"
    " s.NINJA_JWT['ACCESS_TOKEN_LIFETIME'].total_seconds(),"
    " s.NINJA_JWT['REFRESH_TOKEN_LIFETIME'].total_seconds(), s.DEBUG,"
    " s.NINJA_JWT['ROTATE_REFRESH_TOKENS'], s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
)


def _print_settings(env: dict[str, str]) -> str:
    result = _manage("shell", "-v", "0", "-c", PRINT_SETTINGS, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_settings_read_from_environment():
    output = _print_settings(
        {
            "DEBUG": "false",
            "SECRET_KEY": "k" * 50,
            "ALLOWED_HOSTS": "api.example.com,localhost",
            "CORS_ALLOWED_ORIGINS": "https://app.example.com",
            "AUTH_RATE_LIMIT": "5/s",
            "ACCESS_TOKEN_LIFETIME": "60",
            "REFRESH_TOKEN_LIFETIME": "3600",
            "CACHE_URL": "redis://127.0.0.1:6379/0",
        }
    )

    assert output == (
        "['api.example.com', 'localhost'] ['https://app.example.com'] 5/s 60.0 3600.0 False"
        " False RedisCache"
    )


def test_defaults_match_the_contract():
    assert _print_settings({}) == (
        "['localhost', '127.0.0.1', '[::1]'] "
        "['http://localhost:5173', 'http://127.0.0.1:5173', 'http://localhost:3000'] "
        "20/min 900.0 604800.0 True False DatabaseCache"
    )


@pytest.mark.parametrize("value", ["CHANGE-ME-to-a-random-string", "django-insecure-abc"])
def test_placeholder_secret_key_refused_when_debug_off(value):
    with pytest.raises(config.ConfigurationError, match="placeholder"):
        config.secret_key(value=value, debug=False)
    assert config.secret_key(value=value, debug=True) == value
