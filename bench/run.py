"""Load benchmark of the API: seed, serve under gunicorn (DEBUG off), hit it with wrk.

    python bench/run.py                                   # standard size, SQLite, + reference
    python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/bench_std
    python bench/run.py --size million --database-url ... --keep-db   # then --reuse-db
    python bench/run.py --compare main HEAD               # two revisions, interleaved A/B
    python bench/run.py --smoke                           # CI: tiny, fast, fails on non-2xx

Every scenario (bench/scenarios.py) runs against every target -- the app (or the two
revisions of --compare) and the minimal raw-SQL reference app (bench/reference_app.py),
all under the same gunicorn settings -- alternating targets within each round, so slow
phases of a shared machine hit all of them alike. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import filecmp
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from scenarios import SCENARIOS, Scenario, select  # noqa: E402

HOST = "127.0.0.1"
SECRET_KEY = "bench-only-secret-key-3f9a1c27e5b84d6f0a2c9e7b1d5f3a8c"
WRK_TIMEOUT = "30s"
STARTUP_TIMEOUT = 60


def log(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


class BenchError(Exception):
    """A failure the harness reports in one line and exits non-zero for."""


# --- Databases ---------------------------------------------------------------------------


class Database:
    """A benchmark database: a SQLite file or a PostgreSQL database on a server."""

    def __init__(self, url: str):
        self.url = url
        parts = urlsplit(url)
        self.postgres = parts.scheme in ("postgres", "postgresql")
        if not self.postgres and parts.scheme != "sqlite":
            raise BenchError(f"--database-url must be sqlite:///path or postgres://..., got {url}")
        self.name = parts.path.lstrip("/") if self.postgres else parts.path
        if self.postgres and not self.name:
            raise BenchError("--database-url must name the database to create: .../bench_std")

    def _admin(self):
        import psycopg

        admin = urlunsplit(urlsplit(self.url)._replace(path="/postgres"))
        return psycopg.connect(admin, autocommit=True)

    def exists(self) -> bool:
        if not self.postgres:
            return Path(self.name).exists()
        with self._admin() as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.name,))
            return row.fetchone() is not None

    def create(self) -> None:
        if self.postgres:
            with self._admin() as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        else:
            Path(self.name).parent.mkdir(parents=True, exist_ok=True)

    def drop(self) -> None:
        if self.postgres:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)

    def active_queries(self) -> int:
        """Statements running right now in this database (PostgreSQL; 0 for SQLite)."""
        if not self.postgres:
            return 0
        with self._admin() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND state = 'active' AND pid <> pg_backend_pid()",
                (self.name,),
            ).fetchone()
            return row[0]

    def variant(self, suffix: str) -> Database:
        if self.postgres:
            return Database(urlunsplit(urlsplit(self.url)._replace(path=f"/{self.name}_{suffix}")))
        path = Path(self.name)
        return Database(f"sqlite:///{path.with_name(f'{path.stem}_{suffix}{path.suffix}')}")


# --- Checkouts (the current one, or revisions in temporary worktrees) ---------------------


@dataclass
class Checkout:
    label: str
    path: Path
    python: Path
    revision: str
    temporary: bool = False

    @property
    def bin(self) -> Path:
        return self.python.parent


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def current_checkout() -> Checkout:
    try:
        revision = git("rev-parse", "--short", "HEAD")
        if git("status", "--porcelain", "--untracked-files=no"):
            revision += "+changes"
    except (subprocess.CalledProcessError, FileNotFoundError):
        revision = "unknown"
    return Checkout("app", ROOT, Path(sys.executable), revision)


def checkout_revision(label: str, rev: str, workdir: Path, fresh_venv: bool) -> Checkout:
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    path = workdir / f"{label}-{sha[:10]}"
    git("worktree", "add", "--detach", str(path), sha)
    python = Path(sys.executable)
    same_deps = filecmp.cmp(path / "pyproject.toml", ROOT / "pyproject.toml", shallow=False)
    if fresh_venv or not same_deps:
        why = "--fresh-venv" if fresh_venv else "its pyproject.toml differs"
        log(f"  {label} = {rev} ({sha[:10]}): own virtualenv ({why}), installing...")
        venv.create(path / ".venv", with_pip=True)
        python = path / ".venv" / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", "."], cwd=path, check=True)
    else:
        log(f"  {label} = {rev} ({sha[:10]}): same dependencies, sharing this virtualenv")
    return Checkout(label, path, python, f"{rev} ({sha[:10]})", temporary=True)


def remove_checkout(checkout: Checkout) -> None:
    if checkout.temporary:
        with contextlib.suppress(subprocess.CalledProcessError):
            git("worktree", "remove", "--force", str(checkout.path))


def migrations_differ(a: Checkout, b: Checkout) -> bool:
    def files(c: Checkout) -> dict[str, bytes]:
        return {
            str(p.relative_to(c.path)): p.read_bytes()
            for p in sorted(c.path.glob("*/migrations/*.py"))
        }

    return files(a) != files(b)


# --- Preparing data ---------------------------------------------------------------------


def app_env(db: Database, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DEBUG="false",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=db.url,
        ALLOWED_HOSTS=f"{HOST},localhost",
        LOG_LEVEL="WARNING",
        # Tokens minted for the run must outlive the longest run.
        ACCESS_TOKEN_LIFETIME="86400",
        PYTHONWARNINGS="ignore::UserWarning",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra or {})
    return env


def run_step(what: str, cmd: list[str], *, cwd: Path, env: dict) -> str:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"{what} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    for line in proc.stderr.splitlines():
        if line.startswith("  "):
            log(line)
    log(f"  {what}: {time.perf_counter() - started:.1f} s")
    return proc.stdout


def prepare(checkout: Checkout, db: Database, size: str, *, reuse: bool, workdir: Path) -> dict:
    """Create, migrate and seed the database (or reuse a seeded one); describe it."""
    env = app_env(db)
    seed = str(HERE / "seed.py")
    out = workdir / f"seeded-{checkout.label}.json"
    if reuse and db.exists():
        log(f"  reusing {db.url}")
        run_step(
            "migrate",
            [str(checkout.python), "manage.py", "migrate", "-v0"],
            cwd=checkout.path,
            env=env,
        )
        run_step(
            "cleanup of earlier POST rows",
            [str(checkout.python), seed, "--cleanup", "--out", str(out)],
            cwd=checkout.path,
            env=env,
        )
    else:
        if db.exists():
            raise BenchError(
                f"{db.url} already exists. Pass --reuse-db to use its data, or --recreate-db."
            )
        db.create()
        run_step(
            "migrate",
            [str(checkout.python), "manage.py", "migrate", "-v0"],
            cwd=checkout.path,
            env=env,
        )
        run_step(
            f"seed '{size}'",
            [str(checkout.python), seed, "--size", size, "--out", str(out)],
            cwd=checkout.path,
            env=env,
        )
    seeded = json.loads(out.read_text())
    seeded["seeded_file"] = str(out)
    log(
        f"  data: {seeded['budgets']} budgets for {seeded['username']}, "
        f"{seeded['transactions_in_budget']:,} transactions in budget {seeded['budget_id']}, "
        f"{seeded['transactions']:,} in all"
    )
    return seeded


def count_queries(checkout: Checkout, db: Database, seeded: dict, scenarios, reference: bool):
    cmd = [
        str(checkout.python),
        str(HERE / "queries.py"),
        "--seeded",
        seeded["seeded_file"],
        "--scenarios",
        ",".join(s.name for s in scenarios),
    ]
    if not reference:
        cmd.append("--no-reference")
    return json.loads(
        run_step(f"query count ({checkout.label})", cmd, cwd=checkout.path, env=app_env(db))
    )


# --- Servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    label: str
    command: list[str]
    cwd: Path
    env: dict
    log_path: Path
    seeded: dict
    database: Database
    workers: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            [*self.command, "--bind", f"{HOST}:{self.port}"],
            cwd=self.cwd,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.label} exited on start:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                self.request("GET", "/up")
                return
            time.sleep(0.2)
        raise BenchError(
            f"{self.label} did not answer within {STARTUP_TIMEOUT} s:\n{self.log_tail()}"
        )

    def request(
        self,
        method: str,
        path: str,
        body: str | None = None,
        token: str | None = None,
        timeout: float = 60,
    ):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        headers = {"Host": HOST}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) used so far by the gunicorn master and its workers,
        from /proc (Linux); None elsewhere. Per request, it is the app's own cost, much
        less sensitive than req/s to other load on the machine."""
        if self.process is None or not Path("/proc/self/stat").exists():
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                pid, ppid = int(stat.parent.name), int(fields[1])
                if self.process.pid in (pid, ppid):
                    total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def settle(self, timeout: float = 600) -> None:
        """Wait until the requests a finished wrk run left behind are done: wrk stops
        counting at its deadline, but requests already queued in gunicorn still run and
        would eat into the next run (the other target's, when they alternate)."""
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(self.workers) as pool:  # drains the accept queue
            probes = [
                pool.submit(self.request, "GET", "/up", None, None, timeout)
                for _ in range(self.workers)
            ]
            for probe in probes:
                probe.result()
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = self.cpu_seconds()
            idle = last is None or now - last < 0.005
            last = now
            if idle and not self.database.active_queries():
                return
        log(f"  {self.label} still busy after {timeout:.0f} s; measuring anyway")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "log_file", None):
            self.log_file.close()

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "<no log>"

    def errors_logged(self) -> list[str]:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line]


def gunicorn_command(python: Path, app: str, args) -> list[str]:
    gunicorn = python.parent / "gunicorn"
    if not gunicorn.exists():
        raise BenchError(f"gunicorn not found next to {python}; install the project first.")
    cmd = [
        str(gunicorn),
        app,
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    return cmd


# --- wrk -----------------------------------------------------------------------------------


def wrk(server: Server, scenario: Scenario, seconds: float, args) -> dict:
    seeded = server.seeded
    cmd = [
        "wrk",
        "-t",
        str(args.wrk_threads),
        "-c",
        str(args.connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(HERE / "wrk.lua"),
        f"http://{HOST}:{server.port}{scenario.url_path(seeded)}",
        "--",
        scenario.method,
        seeded["token"],
        scenario.body(seeded) or "",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line.removeprefix("BENCH_JSON "))
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            result["errors"] = sum(
                result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
            )
            return result
    raise BenchError(
        f"wrk gave no result for {scenario.name} on {server.label}:\n{proc.stdout}\n{proc.stderr}"
    )


# --- Checks ---------------------------------------------------------------------------------

VOLATILE = {"id", "created_at", "updated_at"}


def check_responses(servers: list[Server], scenarios: list[Scenario]) -> list[str]:
    """Every target answers every scenario with the expected status and the same JSON
    (POST: the same body apart from the new id and timestamps)."""
    problems = []
    for scenario in scenarios:
        bodies = {}
        for server in servers:
            seeded = server.seeded
            status, body = server.request(
                scenario.method, scenario.url_path(seeded), scenario.body(seeded), seeded["token"]
            )
            if status != scenario.status:
                problems.append(
                    f"{scenario.name}: {server.label} answered {status}: {body[:300]!r}"
                )
                continue
            try:
                data = json.loads(body)
            except ValueError:
                problems.append(f"{scenario.name}: {server.label} did not answer JSON")
                continue
            if scenario.method == "POST":
                data = {k: v for k, v in data.items() if k not in VOLATILE}
            bodies[server.label] = data
        if len(set(map(lambda d: json.dumps(d, sort_keys=True), bodies.values()))) > 1:
            first, *others = bodies
            for other in others:
                if bodies[other] != bodies[first]:
                    problems.append(
                        f"{scenario.name}: {other}'s body differs from {first}'s: "
                        f"{_first_difference(bodies[first], bodies[other])}"
                    )
    return problems


def _first_difference(a, b, where="") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key, "<missing>") != b.get(key, "<missing>"):
                return _first_difference(
                    a.get(key, "<missing>"), b.get(key, "<missing>"), f"{where}.{key}"
                )
        if list(a) != list(b):
            return f"{where or 'body'}: key order {list(a)} vs {list(b)}"
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    return f"{where or 'body'}: {a!r} vs {b!r}"


# --- The run ----------------------------------------------------------------------------------


def measure(servers: list[Server], scenarios: list[Scenario], args) -> dict:
    """For each scenario: warm every target up, then ``rounds`` rounds of one wrk run per
    target, targets alternating (A, B, ref, A, B, ref, ...)."""
    results: dict[str, dict[str, list[dict]]] = {}
    for scenario in scenarios:
        results[scenario.name] = {s.label: [] for s in servers}
        if args.warmup > 0:
            for server in servers:
                wrk(server, scenario, args.warmup, args)
                server.settle()
        for round_no in range(args.rounds):
            order = servers if round_no % 2 == 0 or not args.swap else servers[::-1]
            for server in order:
                cpu_before = server.cpu_seconds()
                result = wrk(server, scenario, args.duration, args)
                result["load_average"] = round(os.getloadavg()[0], 2)
                if cpu_before is not None and result["requests"]:
                    used = server.cpu_seconds() - cpu_before
                    result["cpu_ms_per_request"] = used * 1000 / result["requests"]
                results[scenario.name][server.label].append(result)
                server.settle()
                log(
                    f"  {scenario.name:<17} {server.label:<4} round {round_no + 1}: "
                    f"{result['rps']:8.1f} req/s  p50 {result['p50_us'] / 1000:7.2f} ms  "
                    f"p99 {result['p99_us'] / 1000:7.2f} ms  non-2xx {result['non_2xx']}"
                    + (f"  socket errors {result['errors']}" if result["errors"] else "")
                    + f"  (load {result['load_average']:.1f})"
                )
                if not server.alive():
                    raise BenchError(
                        f"{server.label} died during {scenario.name}:\n{server.log_tail()}"
                    )
    return results


def summarise(runs: list[dict]) -> dict:
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
        "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "rounds": [round(r["rps"], 1) for r in runs],
        "cpu_ms": (
            statistics.median(r["cpu_ms_per_request"] for r in runs)
            if all("cpu_ms_per_request" in r for r in runs)
            else None
        ),
    }


def _ratio(a: dict, b: dict, label: str) -> str:
    """``label`` req/s ratio a/b, and how many times b's CPU per request a spends."""
    text = f"{label} {a['rps'] / b['rps']:.2f}" if b["rps"] else f"{label} -"
    if a["cpu_ms"] and b["cpu_ms"]:
        text += f" (CPU x{a['cpu_ms'] / b['cpu_ms']:.1f})"
    return text


def print_table(results: dict, queries: dict, labels: list[str], args) -> dict:
    table = {}
    base = labels[0]
    cmp_label = labels[1] if args.compare else None
    headers = [
        "scenario", "target", "req/s", "p50 ms", "p99 ms", "non-2xx", "queries", "CPU ms/req",
        "ratio",
    ]  # fmt: skip
    rows = []
    for name, per_target in results.items():
        table[name] = {}
        for label in labels:
            stats = summarise(per_target[label])
            stats["queries"] = queries.get(label, {}).get(name)
            table[name][label] = stats
        for label in labels:
            stats = table[name][label]
            if label == "ref":
                ratio = "  ".join(
                    _ratio(table[name][other], stats, f"{other}/ref") for other in labels[:-1]
                )
            elif cmp_label and label == cmp_label:
                ratio = _ratio(stats, table[name][base], f"{cmp_label}/{base}")
            else:
                ratio = ""
            q = stats["queries"]
            rows.append(
                [
                    name if label == labels[0] else "",
                    label,
                    f"{stats['rps']:,.1f}",
                    f"{stats['p50_ms']:.2f}",
                    f"{stats['p99_ms']:.2f}",
                    f"{stats['non_2xx']}"
                    + (f" (+{stats['errors']} socket)" if stats["errors"] else ""),
                    "-" if q is None else str(q),
                    "-" if stats["cpu_ms"] is None else f"{stats['cpu_ms']:.2f}",
                    ratio.strip(),
                ]
            )
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row).rstrip())
    return table


def parse_args(argv=None):
    from seed import SIZES  # the harness's own module; imports no application code

    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument(
        "--size",
        choices=SIZES,
        default="standard",
        help="Data set (default: %(default)s; see bench/seed.py).",
    )
    p.add_argument(
        "--database-url",
        help="sqlite:///path or postgres://.../bench_name "
        "(created fresh; default: a SQLite file in a temporary directory).",
    )
    p.add_argument(
        "--reuse-db",
        action="store_true",
        help="Use the database as it is if it exists (seeded earlier with --keep-db).",
    )
    p.add_argument("--recreate-db", action="store_true", help="Drop it first if it exists.")
    p.add_argument("--keep-db", action="store_true", help="Do not drop the database at the end.")
    p.add_argument(
        "--seed-only",
        action="store_true",
        help="Create, migrate and seed the database, keep it, and stop.",
    )
    p.add_argument(
        "--scenarios",
        help=f"Comma-separated subset of: {', '.join(s.name for s in SCENARIOS)} (default: all).",
    )
    p.add_argument("--duration", type=float, default=10, help="Seconds per wrk run (10).")
    p.add_argument("--warmup", type=float, default=2, help="Seconds of warm-up per target (2).")
    p.add_argument(
        "--rounds",
        type=int,
        help="wrk runs per target and scenario, alternating targets (default 1; 2 with --compare).",
    )
    p.add_argument(
        "--swap",
        action="store_true",
        help="Reverse the target order every other round (A B ref, ref B A, ...).",
    )
    p.add_argument("--connections", type=int, default=16, help="wrk connections (16).")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2).")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (2).")
    p.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync).")
    p.add_argument("--threads", type=int, default=0, help="gunicorn --threads (gthread).")
    p.add_argument("--no-reference", action="store_true", help="Skip the reference app.")
    p.add_argument(
        "--compare",
        nargs=2,
        metavar=("REV_A", "REV_B"),
        help="Benchmark two git revisions side by side (each in a temporary worktree).",
    )
    p.add_argument(
        "--fresh-venv",
        action="store_true",
        help="With --compare: give each revision its own virtualenv even when its "
        "dependencies match this checkout's.",
    )
    p.add_argument(
        "--smoke",
        action="store_true",
        help="CI: --size smoke, 1 s per scenario, exit 1 on any non-2xx, socket "
        "error, failed check or server error.",
    )
    p.add_argument("--json", help="Also write every figure to this JSON file.")
    args = p.parse_args(argv)
    if args.smoke:
        args.size, args.duration, args.warmup = "smoke", 1, 0
        args.rounds = args.rounds or 1
    args.rounds = args.rounds or (2 if args.compare else 1)
    args.keep_db = args.keep_db or args.seed_only
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        log(
            "wrk is not installed. It is the load generator of this benchmark: "
            "install it with `apt-get install wrk` (Debian/Ubuntu) or from "
            "https://github.com/wg/wrk, then run again."
        )
        return 2
    scenarios = select(args.scenarios)
    workdir = Path(tempfile.mkdtemp(prefix="budget-bench-"))
    servers: list[Server] = []
    checkouts: list[Checkout] = []
    databases: list[Database] = []
    created: list[Database] = []
    failures: list[str] = []
    try:
        db = Database(args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}")
        log(
            f"== Budget Tracker API benchmark, {dt.datetime.now():%Y-%m-%d %H:%M}, "
            f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs"
        )
        if args.compare:
            checkouts = [
                checkout_revision(label, rev, workdir, args.fresh_venv)
                for label, rev in zip(("A", "B"), args.compare, strict=True)
            ]
            if migrations_differ(*checkouts):
                log("  the revisions' migrations differ: one database each, seeded alike")
                databases = [db.variant("a"), db.variant("b")]
            else:
                databases = [db, db]
        else:
            checkouts = [current_checkout()]
            databases = [db]

        seeded_by_label, queries, extras = {}, {}, {}
        for checkout, database in zip(checkouts, databases, strict=True):
            log(f"== {checkout.label}: {checkout.revision} on {database.url}")
            if database in created:
                seeded_by_label[checkout.label] = prepare(
                    checkout, database, args.size, reuse=True, workdir=workdir
                )
            else:
                if args.recreate_db:
                    database.drop()
                if not database.exists():
                    created.append(database)  # dropped at the end, also if seeding fails
                seeded_by_label[checkout.label] = prepare(
                    checkout, database, args.size, reuse=args.reuse_db, workdir=workdir
                )
            if args.seed_only:
                continue
            q = count_queries(
                checkout,
                database,
                seeded_by_label[checkout.label],
                scenarios,
                reference=not args.no_reference,
            )
            queries[checkout.label] = {k: v["queries"] for k, v in q["scenarios"].items()}
            if q["per_request_extra"]:
                extras[checkout.label] = q["per_request_extra"]
            if not args.no_reference and "ref" not in queries:
                queries["ref"] = {k: v["reference_queries"] for k, v in q["scenarios"].items()}

        if args.seed_only:
            log("== Seeded; the database is kept. Run again with --reuse-db to measure.")
            return 0
        log(
            "== Starting gunicorn "
            f"({args.workers} workers, {args.worker_class}, DEBUG off) for every target"
        )
        static = workdir / "static"
        static.mkdir()
        for checkout, database in zip(checkouts, databases, strict=True):
            servers.append(
                Server(
                    checkout.label,
                    gunicorn_command(checkout.python, "project.wsgi:application", args),
                    checkout.path,
                    app_env(database, {"STATIC_ROOT": str(static)}),
                    workdir / f"gunicorn-{checkout.label}.log",
                    seeded_by_label[checkout.label],
                    database,
                    args.workers,
                )
            )
        if not args.no_reference:
            servers.append(
                Server(
                    "ref",
                    [
                        *gunicorn_command(Path(sys.executable), "reference_app:application", args),
                        *("--pythonpath", str(HERE)),
                    ],
                    ROOT,
                    app_env(databases[0]),
                    workdir / "gunicorn-ref.log",
                    seeded_by_label[checkouts[0].label],
                    databases[0],
                    args.workers,
                )
            )
        for server in servers:
            server.start()
            log(f"  {server.label}: http://{HOST}:{server.port}")

        log("== Checking every target answers every scenario alike")
        problems = check_responses(servers, scenarios)
        for problem in problems:
            log(f"  MISMATCH {problem}")
        if not problems:
            log("  same statuses and bodies everywhere")
        failures += [p for p in problems if " answered " in p or "did not answer" in p]

        log(
            f"== Load: {args.connections} connections, {args.wrk_threads} wrk threads, "
            f"{args.duration:g} s per run, {args.rounds} round(s), targets alternating"
        )
        results = measure(servers, scenarios, args)
        labels = [s.label for s in servers]
        print()
        print(
            f"size={args.size} db={'postgresql' if db.postgres else 'sqlite'} "
            f"workers={args.workers} worker_class={args.worker_class} "
            f"connections={args.connections} duration={args.duration:g}s rounds={args.rounds} "
            + " ".join(f"{c.label}={c.revision}" for c in checkouts)
        )
        table = print_table(results, queries, labels, args)
        print(
            "queries: per request, counted in-process with Django's test client and "
            "CaptureQueriesContext (ref: statements the reference app sent)"
        )
        for label, extra in extras.items():
            print(f"  {label} also pays, under a real server: {extra}")
        for name, per_target in table.items():
            for label, stats in per_target.items():
                if stats["non_2xx"] or stats["errors"]:
                    failures.append(
                        f"{name} on {label}: {stats['non_2xx']} non-2xx, "
                        f"{stats['errors']} socket errors"
                    )
        for server in servers:
            if not server.alive():
                failures.append(f"{server.label} is no longer running")
            for line in server.errors_logged()[:5]:
                failures.append(f"{server.label} logged: {line}")
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "size": args.size,
                        "database": "postgresql" if db.postgres else "sqlite",
                        "workers": args.workers,
                        "worker_class": args.worker_class,
                        "connections": args.connections,
                        "duration": args.duration,
                        "revisions": {c.label: c.revision for c in checkouts},
                        "seeded": {
                            k: {x: y for x, y in v.items() if x != "token"}
                            for k, v in seeded_by_label.items()
                        },
                        "results": table,
                        "per_request_extra": extras,
                    },
                    indent=2,
                )
            )
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        for server in servers:
            server.stop()
        if not args.keep_db:
            for database in created:
                with contextlib.suppress(Exception):
                    database.drop()
        for checkout in checkouts:
            remove_checkout(checkout)
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        log("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
