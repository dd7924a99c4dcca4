"""The app under gunicorn with DEBUG off, spoken to over real HTTP.

Builds on the ``Server`` and ``PostgresDatabase`` of ``tests/test_concurrency.py``: a test
that needs real processes (several workers, a database that goes away, raw headers) starts
one with ``live_server(...)``. Not a test module itself.
"""

import http.client
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.test_concurrency import HOST, REQUEST_TIMEOUT, PostgresDatabase, Server


class LiveServer(Server):
    """``Server`` plus raw exchanges: any headers in, status, headers and body out."""

    def __init__(self, database_url: str, log_dir: Path, **env: str):
        super().__init__(database_url, log_dir)
        self.env.update(env)

    def exchange(
        self,
        method: str,
        path: str,
        payload: dict | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        sent = {"Accept": "application/json", **(headers or {})}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            sent["Content-Type"] = "application/json"
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def live_server(
    tmp_path: Path, database_url: str | None = None, **env: str
) -> Iterator[LiveServer]:
    """gunicorn on a fresh, migrated database: ``database_url`` when given, else a new
    database on the test run's PostgreSQL server (``DATABASE_URL``), else a SQLite file."""
    postgres = None
    if database_url is None:
        run_url = os.environ.get("DATABASE_URL", "")
        if run_url.startswith("postgres"):
            postgres = PostgresDatabase(run_url)
            postgres.create()
            database_url = postgres.url
        else:
            database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    server = LiveServer(database_url, tmp_path, **env)
    try:
        server.migrate()
        server.start()
        yield server
    finally:
        server.stop()
        if postgres is not None:
            postgres.drop()
