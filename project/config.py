"""Pure helpers that turn environment values into settings.

Kept apart from ``settings.py`` so the rules (the SECRET_KEY requirement, rate
format, SQLite tuning) can be unit-tested without reloading Django settings.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

DEV_SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"
SECRET_KEY_MISSING = "SECRET_KEY must be set when DEBUG is off (export SECRET_KEY=<random string>)."
RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|m|min|h|hour|d|day)\s*$")


class ConfigurationError(ImproperlyConfigured):
    """A setting read from the environment is missing or malformed."""


SECRET_KEY_PLACEHOLDER = (
    "SECRET_KEY is a placeholder; set a random value when DEBUG is off "
    "(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')."
)
_PLACEHOLDER_PREFIXES = ("change-me", "changeme", "django-insecure")


def secret_key(*, value: str, debug: bool) -> str:
    if not value:
        if debug:
            return DEV_SECRET_KEY
        raise ConfigurationError(SECRET_KEY_MISSING)
    if not debug and value.lower().startswith(_PLACEHOLDER_PREFIXES):
        raise ConfigurationError(SECRET_KEY_PLACEHOLDER)
    return value


def refuse_placeholder_passwords(*, debug: bool, **urls: str) -> None:
    """With DEBUG off, refuse a DATABASE_URL or CACHE_URL whose password is still a
    placeholder from .env.example (``CHANGE-ME...``), as SECRET_KEY is refused."""
    if debug:
        return
    for name, url in urls.items():
        try:
            password = urlsplit(url or "").password or ""
        except ValueError:
            continue  # malformed URLs are reported by the parser of that setting
        if password.lower().startswith(_PLACEHOLDER_PREFIXES):
            raise ConfigurationError(
                f"{name} holds a placeholder password; set a real one when DEBUG is off "
                "(e.g. POSTGRES_PASSWORD in .env)."
            )


def rate_limit(value: str) -> str:
    """Validate a throttle rate like ``20/min`` or ``5/s``; return it normalised."""
    match = RATE_PATTERN.match(value or "")
    if not match or int(match.group(1)) < 1:
        raise ConfigurationError(
            f"AUTH_RATE_LIMIT must look like '20/min' or '5/s', got {value!r}."
        )
    count, multiplier, unit = match.groups()
    return f"{count}/{multiplier}{unit}"


_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


def rate_window(value: str) -> tuple[int, int]:
    """``'20/min'`` -> (20 requests, 60 seconds); ``'100/2h'`` -> (100, 7200)."""
    count, multiplier, unit = RATE_PATTERN.match(rate_limit(value)).groups()
    return int(count), int(multiplier or 1) * _UNIT_SECONDS[unit]


def database(
    *,
    url: str | None,
    base_dir: Path,
    connect_timeout: int = 3,
    statement_timeout: float = 10,
) -> dict:
    """Django DATABASES['default'] from a DATABASE_URL (default: SQLite in base_dir).

    PostgreSQL: ``connect_timeout`` seconds to connect; ``statement_timeout`` seconds per
    statement, enforced by the server and, a little later, by the client
    (``project.postgresql``); 0 turns the statement limit off."""
    if not url:
        url = f"sqlite:///{base_dir / 'db.sqlite3'}"
    try:
        config = environ.Env.db_url_config(url)
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(f"DATABASE_URL is not a valid database URL: {exc}") from exc
    engine = config.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        # WAL lets readers run beside one writer; IMMEDIATE takes the write lock
        # when a transaction starts, so concurrent writers queue on the busy
        # timeout instead of failing with "database is locked" on upgrade.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            ),
            **config.get("OPTIONS", {}),
        }
    elif engine.endswith("postgresql"):
        if connect_timeout < 1 or statement_timeout < 0:
            raise ConfigurationError(
                "DB_CONNECT_TIMEOUT must be at least 1 and DB_STATEMENT_TIMEOUT at least 0."
            )
        # Every wait for the server has a deadline (project/postgresql/base.py).
        config["ENGINE"] = "project.postgresql"
        config["OPTIONS"] = {"connect_timeout": connect_timeout, **config.get("OPTIONS", {})}
        config["STATEMENT_TIMEOUT"] = statement_timeout
        # Reuse connections across requests, but check them before use.
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ConfigurationError(
            f"DATABASE_URL must be sqlite:// or postgres://, got engine {engine or 'unknown'}."
        )
    return config


CACHE_TABLE = "cache_entries"


def cache(url: str | None) -> dict:
    """The default cache. Without a URL: a table in the app's own database, shared by all
    worker processes on the machine (created by ``migrate``); ``redis://...`` shares it
    between machines too."""
    if not url:
        return {"BACKEND": "project.cache.DatabaseCache", "LOCATION": CACHE_TABLE}
    try:
        return environ.Env.cache_url_config(url)
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(f"CACHE_URL is not a valid cache URL: {exc}") from exc
