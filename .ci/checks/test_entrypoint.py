"""What the image runs, on the host: docker-entrypoint.sh and gunicorn with DEBUG off."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import time
import uuid
from pathlib import Path

import pytest
from checks_support import check_docs_assets, roundtrip
from conftest import ENTRYPOINT, entrypoint_migrate, run

from tests.support.servers import free_port, http_request


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == str(pid) and fields[0] != "Z":
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_collectstatic_runs_with_debug_off(collected_static):
    assert any(collected_static.rglob("*.js"))


def test_arguments_replace_the_server(base_env, fresh_database):
    env = {**base_env, "DATABASE_URL": fresh_database.url}
    result = run(
        [str(ENTRYPOINT), "python", "manage.py", "check", "--deploy", "--fail-level", "ERROR"], env
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_database_wait_is_bounded(base_env):
    env = {
        **base_env,
        "DB_WAIT_TIMEOUT": "3",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/nothing",
    }
    started = time.monotonic()
    result = run([str(ENTRYPOINT)], env, timeout=60)
    elapsed = time.monotonic() - started

    assert result.returncode != 0
    assert "database still unreachable after 3s" in result.stderr
    assert elapsed < 20


def test_migrate_argument_migrates_and_exits(base_env, fresh_database):
    env = {**base_env, "DATABASE_URL": fresh_database.url}
    first = entrypoint_migrate(env)
    again = entrypoint_migrate(env)

    assert first.returncode == 0, first.stdout + first.stderr
    assert "Apply all migrations" in first.stdout
    assert again.returncode == 0 and "No migrations to apply." in again.stdout


def test_by_default_the_server_does_not_migrate(entrypoint_server, fresh_database):
    server = entrypoint_server("no-migrate", DATABASE_URL=fresh_database.url, WEB_CONCURRENCY="1")
    log = server.log_path.read_text()

    assert "not migrating (MIGRATE_ON_START=false" in log
    assert "Apply all migrations" not in log


def test_migrate_on_start_then_gunicorn_serves_and_stops_gracefully(
    entrypoint_server, fresh_database
):
    server = entrypoint_server(
        "migrate-on-start",
        DATABASE_URL=fresh_database.url,
        MIGRATE_ON_START="true",
        WEB_CONCURRENCY="2",
        GUNICORN_GRACEFUL_TIMEOUT="10",
    )
    assert "Apply all migrations" in server.log_path.read_text()
    assert "Using worker: project.gunicorn_workers.SyncWorker" in server.log_path.read_text()
    cmdline = Path(f"/proc/{server.pid}/cmdline").read_text().replace("\0", " ")
    assert "gunicorn" in cmdline, "the entrypoint must exec gunicorn (PID 1 in the container)"
    workers = _children(server.pid)
    assert len(workers) == 2

    roundtrip(server.port)
    unknown = http_request(server.port, "GET", f"/no-such-page-{uuid.uuid4().hex[:8]}")
    assert unknown.status == 404 and "URLconf" not in unknown.text  # DEBUG is off
    health = http_request(server.port, "GET", "/api/health/")
    assert (health.status, health.json()) == (200, {"status": "ok", "database": "ok"})
    cors = http_request(
        server.port, "GET", "/api/health/", headers={"Origin": "http://localhost:5173"}
    )
    assert cors.headers.get("access-control-allow-origin") == "http://localhost:5173"
    schema = http_request(server.port, "GET", "/api/openapi.json").json()
    assert str(schema["openapi"]).startswith("3") and "/api/budgets/" in schema["paths"]
    check_docs_assets(server.port)
    assert re.search(r'"GET /up HTTP/1\.1" 200', server.log_path.read_text()), "access log"

    # SIGTERM with a request in flight: it is still answered, then gunicorn exits 0.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(f"GET /up HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode())
    time.sleep(1.0)  # a worker has accepted the connection and waits for the rest
    os.kill(server.pid, signal.SIGTERM)
    time.sleep(1.0)
    sock.sendall(b"Connection: close\r\n\r\n")
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    sock.close()
    assert response.status == 200, body

    assert server.process.wait(timeout=20) == 0
    time.sleep(0.2)
    assert [w for w in workers if _alive(w)] == [], "a worker outlived the master"


@pytest.mark.parametrize(
    ("worker_class", "threads"), [("gthread", "2"), ("sync", "2"), ("gthread", "1")]
)
def test_threaded_workers_are_the_one_write_kind_too(
    entrypoint_server, fresh_database, worker_class, threads
):
    """gthread, and sync with threads (which gunicorn runs as gthread), get the worker
    that sends each answer in one write (project/gunicorn_workers.py)."""
    env = {"DATABASE_URL": fresh_database.url, "MIGRATE_ON_START": "true"}
    server = entrypoint_server(
        f"{worker_class}-{threads}",
        **env,
        WEB_CONCURRENCY="1",
        GUNICORN_WORKER_CLASS=worker_class,
        GUNICORN_THREADS=threads,
    )

    assert "Using worker: project.gunicorn_workers.ThreadWorker" in server.log_path.read_text()
    roundtrip(server.port)
