"""Start the app's HTTP server for a test and talk to it: the one place for that.

Used by the test suite (``tests/test_concurrency.py``), the CI checks under
``.ci/checks/`` and, through the command line, by the CI shell scripts::

    python tests/support/servers.py free-port

Standard library only at import time (psycopg is imported when a PostgreSQL
database is created), so shell scripts can run it with any Python 3.11.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, for assertion messages."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


class Response:
    """Status, headers (case-insensitive, ``http.client.HTTPMessage``) and raw body of one
    HTTP exchange."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, raw: bytes):
        self.status, self.headers, self.raw = status, headers, raw

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")

    def json(self) -> object:
        try:
            return json.loads(self.raw)
        except ValueError:
            return None

    def __repr__(self) -> str:
        return f"<{self.status} {self.headers.get('content-type')} {self.text[:200]!r}>"


def http_request(
    port: int,
    method: str,
    path: str,
    payload: object = None,
    *,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = REQUEST_TIMEOUT,
    host: str = HOST,
) -> Response:
    """One request on a fresh connection; ``payload`` is sent as JSON."""
    sent = {"Accept": "application/json", **(headers or {})}
    if payload is not None:
        body = json.dumps(payload).encode()
        sent.setdefault("Content-Type", "application/json")
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        return Response(response.status, response.headers, raw)
    finally:
        conn.close()


def wait_for_up(
    port: int,
    *,
    process: subprocess.Popen | None = None,
    timeout: float = 30.0,
    log_path: Path | None = None,
    host: str = HOST,
) -> None:
    """Poll ``GET /up`` until it answers 200 ``{"status": "ok"}``.

    Raises ``RuntimeError`` (with the end of the log) when ``process`` exits first or
    the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"server exited with status {process.returncode} before answering /up\n"
                f"{tail(log_path) if log_path else ''}"
            )
        try:
            response = http_request(port, "GET", "/up", timeout=2, host=host)
        except OSError as exc:
            last = repr(exc)
        else:
            if response.status == 200 and response.json() == {"status": "ok"}:
                return
            last = repr(response)
        time.sleep(0.1)
    raise RuntimeError(
        f"/up on {host}:{port} did not answer 200 within {timeout:g}s (last: {last})\n"
        f"{tail(log_path) if log_path else ''}"
    )


def gunicorn_command(
    port: int,
    *,
    workers: int = 2,
    worker_class: str = "sync",
    threads: int = 1,
    timeout: int = 60,
    extra: Sequence[str] = (),
    bin_dir: Path | None = None,
    app: str = "project.wsgi:application",
) -> list[str]:
    """``gunicorn project.wsgi:application`` (or ``app``) bound to 127.0.0.1:port."""
    gunicorn = Path(bin_dir or Path(sys.executable).parent) / "gunicorn"
    return [
        str(gunicorn),
        app,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        "5",
        *extra,
    ]


class AppServer:
    """The app over HTTP on 127.0.0.1: gunicorn, or any command (e.g. the Docker
    entrypoint) that serves ``/up`` on ``port``.

    Started in its own session, so ``stop()`` and ``kill()`` reach the workers too.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        log_path: Path,
        port: int | None = None,
        command: Sequence[str] | None = None,
        workers: int = 2,
        worker_class: str = "sync",
        threads: int = 1,
        timeout: int = 60,
        startup_timeout: float = 30.0,
        cwd: Path = PROJECT_DIR,
    ):
        self.port = port or free_port()
        self.log_path = Path(log_path)
        self.env = dict(env)
        self.command = (
            list(command)
            if command
            else gunicorn_command(
                self.port,
                workers=workers,
                worker_class=worker_class,
                threads=threads,
                timeout=timeout,
            )
        )
        self.startup_timeout = startup_timeout
        self.cwd = cwd
        self.process: subprocess.Popen | None = None
        self._log = None

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """``python manage.py ARGS`` with this server's environment."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def migrate(self) -> None:
        result = self.manage("migrate", "--noinput")
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> AppServer:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_up(
                self.port,
                process=self.process,
                timeout=self.startup_timeout,
                log_path=self.log_path,
            )
        except RuntimeError:
            self.stop()
            raise
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the server and its workers at once (a crashed replica)."""
        if self.process is not None:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit status."""
        if self.process is not None:
            if self.process.poll() is None:
                self._signal_group(signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    self.process.wait(timeout=10)
            # Workers that outlived their master (they should not) go too.
            self._signal_group(signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.process.returncode if self.process is not None else None

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def request(
        self,
        method: str,
        path: str,
        payload: object = None,
        token: str | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> tuple[int, object]:
        """(status, parsed JSON body or text or None)."""
        response = http_request(self.port, method, path, payload, token=token, timeout=timeout)
        if not response.raw:
            return response.status, None
        body = response.json()
        return response.status, body if body is not None else response.text


class PostgresDatabase:
    """A uniquely named database on the server of a PostgreSQL URL (CREATEDB needed)."""

    def __init__(self, server_url: str, prefix: str = "budget_test"):
        self.server_url = server_url
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.url = urlunsplit(urlsplit(server_url)._replace(path=f"/{self.name}"))

    def _admin(self):
        import psycopg

        # The maintenance database named in the URL (e.g. "postgres").
        return psycopg.connect(self.server_url, autocommit=True)

    def create(self) -> PostgresDatabase:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _main(argv: Sequence[str]) -> int:
    if list(argv) == ["free-port"]:
        print(free_port())
        return 0
    if len(argv) >= 2 and argv[0] == "wait-for-up":
        try:
            wait_for_up(int(argv[1]), timeout=float(argv[2]) if len(argv) > 2 else 30.0)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    print("usage: servers.py free-port | wait-for-up PORT [TIMEOUT]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
