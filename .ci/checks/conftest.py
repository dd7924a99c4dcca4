"""Fixtures for the deployment checks: what the image and the compose stack run, on the host.

Environment (set by .ci/stack.sh):
  PG_ADMIN_URL      a PostgreSQL superuser URL; every check gets fresh databases on it
  STACK_SERVER_BIN  bin/ of a venv with the runtime dependencies only (as in the image);
                    default: this interpreter's
  NGINX_BIN         nginx (default: /usr/sbin/nginx), REDIS_SERVER_BIN (default: redis-server)
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.servers import PROJECT_DIR, AppServer, PostgresDatabase, free_port

ENTRYPOINT = PROJECT_DIR / "docker-entrypoint.sh"


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("PG_ADMIN_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("PG_ADMIN_URL must name a PostgreSQL superuser URL (set by .ci/stack.sh)")
    return url


@pytest.fixture
def fresh_database(pg_admin_url) -> Iterator[PostgresDatabase]:
    database = PostgresDatabase(pg_admin_url, prefix="stack_ci").create()
    yield database
    database.drop()


@pytest.fixture(scope="session")
def server_bin() -> Path:
    return Path(os.environ.get("STACK_SERVER_BIN") or Path(sys.executable).parent)


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def base_env(server_bin, work_dir) -> dict[str, str]:
    """A container-like environment: nothing from the CI shell leaks in."""
    return {
        "PATH": f"{server_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(work_dir),
        "LANG": "C.UTF-8",
        "DEBUG": "false",
        "STATIC_ROOT": str(work_dir / "staticfiles"),
        "BIND_HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PYTHONUNBUFFERED": "1",
    }


def run(
    command: list[str], env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def collected_static(base_env) -> Path:
    """The Dockerfile's build step: collectstatic with DEBUG off and a throwaway key."""
    env = {**base_env, "SECRET_KEY": "collectstatic-build-step-only"}
    result = run(["python", "manage.py", "collectstatic", "--noinput"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    return Path(base_env["STATIC_ROOT"])


def entrypoint(base_env: Mapping[str, str], log_dir: Path, name: str, **env: str) -> AppServer:
    """docker-entrypoint.sh (not started yet) serving on a free port, ``env`` on top."""
    port = free_port()
    return AppServer(
        env={**base_env, "PORT": str(port), **env},
        log_path=log_dir / f"{name}-{port}.log",
        port=port,
        command=[str(ENTRYPOINT)],
        startup_timeout=90,
    )


@pytest.fixture
def entrypoint_server(base_env, collected_static, work_dir):
    """Factory: start docker-entrypoint.sh with ``env``; stopped after the test."""
    started: list[AppServer] = []

    def start(name: str, **env: str) -> AppServer:
        server = entrypoint(base_env, work_dir, name, **env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def entrypoint_migrate(env: Mapping[str, str]) -> subprocess.CompletedProcess:
    """`docker-entrypoint.sh migrate`: the compose stack's one-shot migrate service."""
    return run([str(ENTRYPOINT), "migrate"], env, timeout=300)


@pytest.fixture(scope="session")
def redis_url(work_dir) -> Iterator[str]:
    binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed (.ci/stack.sh installs it from Debian)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=work_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "redis-server did not answer PING"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


class Nginx:
    """nginx running the repository's template, rendered as the official image does."""

    def __init__(self, directory: Path, port: int):
        self.directory, self.port = directory, port
        self.log_path = directory / "nginx.log"
        self.process: subprocess.Popen | None = None

    @property
    def config(self) -> str:
        return (self.directory / "conf.d" / "default.conf").read_text()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_nginx(
    work_dir: Path,
    name: str,
    *,
    upstreams: str,
    read_timeout: int = 60,
    max_body: int = 65536,
    import_max: int = 5 * 1024 * 1024,
) -> Nginx:
    """Render deploy/nginx/ with the variables docker-compose.yml gives the proxy, check the
    result with ``nginx -t``, start it on a free port and wait until it accepts."""
    binary = os.environ.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx"
    nginx = Nginx(work_dir / f"nginx-{name}", free_port())
    variables = {
        "API_UPSTREAMS": upstreams,
        "MAX_BODY_BYTES": str(max_body),
        "IMPORT_MAX_BYTES": str(import_max),
        "PROXY_PORT": str(nginx.port),
        "PROXY_READ_TIMEOUT": str(read_timeout),
    }
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", **variables}
    rendered = run([str(PROJECT_DIR / ".ci" / "render-nginx.sh"), str(nginx.directory)], env)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    prefix = ["-p", str(nginx.directory), "-c", str(nginx.directory / "nginx.conf")]
    checked = run([binary, "-t", *prefix], env)
    assert checked.returncode == 0, f"nginx -t failed:\n{checked.stderr}"
    with nginx.log_path.open("ab") as log:
        nginx.process = subprocess.Popen(
            [binary, *prefix, "-g", "daemon off;"],
            cwd=nginx.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 15
    while True:
        assert nginx.process.poll() is None, nginx.log_path.read_text()
        try:
            socket.create_connection(("127.0.0.1", nginx.port), timeout=1).close()
            return nginx
        except OSError:
            assert time.monotonic() < deadline, "nginx did not start listening"
            time.sleep(0.1)
