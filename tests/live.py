"""The app under gunicorn with DEBUG off, spoken to over real HTTP.

Builds on the ``Server`` and ``PostgresDatabase`` of ``tests/test_concurrency.py``: a test
that needs real processes (several workers, a database that goes away, raw headers) starts
one with ``live_server(...)``; ``PrivateCluster`` is a PostgreSQL server such a test may
stop or freeze. Not a test module itself.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.test_concurrency import HOST, PostgresDatabase, Server


class LiveServer(Server):
    """``Server`` with extra environment variables and its whole log at hand."""

    def __init__(self, database_url: str, log_dir: Path, **env: str):
        super().__init__(database_url, log_dir)
        self.env.update(env)

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


def _postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: Debian's /usr/lib/postgresql/<version>/bin (newest)
    or the PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if candidates and (candidates[-1] / "pg_ctl").exists():
        return candidates[-1]
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


POSTGRES_BIN = _postgres_bin_dir()


class PrivateCluster:
    """A throwaway PostgreSQL cluster of the test's own: initdb into a temporary
    directory, its own port, started, stopped, frozen (SIGSTOP) and thawed by the test,
    removed afterwards. Never the shared server of the test run."""

    def __init__(self) -> None:
        if POSTGRES_BIN is None:
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="budget-test-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@{HOST}:{self.port}/postgres"
        # initdb and postgres refuse to run as root: use the postgres account then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            self.dir.chmod(0o755)
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._frozen: list[int] = []

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self._as, str(POSTGRES_BIN / tool), *args],
            cwd="/",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{tool} failed:\n{result.stdout}\n{result.stderr}"

    def start(self) -> None:
        # stop() crashes the server (immediate mode): commits must reach the WAL before
        # they return, as in production, or a committed row (the test's user) can vanish
        # in crash recovery. fsync stays off: the operating system does not crash here.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses={HOST} -c fsync=off "
            "-c full_page_writes=off"
        )
        log = str(self.dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _processes(self) -> list[int]:
        """The postmaster and its children (each backend runs in its own session)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(entry.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        """SIGSTOP every process of the cluster: the kernel still accepts and
        acknowledges TCP connections, but nothing ever answers."""
        self._frozen = self._processes()
        for pid in self._frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._frozen = []

    def destroy(self) -> None:
        self.thaw()
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError):
                self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
