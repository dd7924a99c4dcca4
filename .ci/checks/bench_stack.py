"""Measure gunicorn worker classes and static-file serving behind the stack's nginx, with wrk.

Not part of CI (timings need a quiet machine). Runs what .ci/checks/test_proxy.py runs:
the repository's nginx template in front of two replicas on PostgreSQL, for each worker
class in turn, and prints a Markdown table for the README. Loopback only, bounded runs.

    sudo apt-get install wrk nginx gettext-base      # Debian packages
    .venv/bin/pip install uvicorn-worker              # only to measure the ASGI worker
    PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres PYTHONPATH=. \\
        .venv/bin/python .ci/checks/bench_stack.py

Env: BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 16), BENCH_WORKERS (per
replica, default 2), BENCH_THREADS (gthread, default 4), BENCH_CLASSES (which of CLASSES,
comma-separated; default all).
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from checks_support import register_and_login
from conftest import start_nginx

from tests.support.servers import (
    AppServer,
    PostgresDatabase,
    free_port,
    gunicorn_command,
    http_request,
)

SECONDS = os.environ.get("BENCH_SECONDS", "8")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "16")
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
# gunicorn's own classes, and the entrypoint's sync worker (project/gunicorn_workers.py:
# the same worker, each answer in one write). BENCH_CLASSES=sync,sync-whole runs only those.
CLASSES = {
    "sync": ("project.wsgi:application", ["--worker-class", "sync"]),
    "sync-whole": (
        "project.wsgi:application",
        ["--worker-class", "project.gunicorn_workers.SyncWorker"],
    ),
    "gthread": (
        "project.wsgi:application",
        ["--worker-class", "gthread", "--threads", str(THREADS)],
    ),
    "asgi": (
        "project.asgi:application",
        ["--worker-class", "uvicorn_worker.UvicornWorker"],
    ),
}
SELECTED = os.environ.get("BENCH_CLASSES", ",".join(CLASSES)).split(",")


def wrk(url: str, *headers: str) -> tuple[float, str, str]:
    """(requests/s, p50, p99) of one bounded wrk run."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s", "--latency"]
    command.append(url)
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if errors:
        raise RuntimeError(f"wrk saw errors on {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    return rate, p50, p99


def seed(port: int) -> tuple[str, int]:
    """A user with 3 budgets and 300 transactions; returns (token, a budget id)."""
    _, token = register_and_login(port, prefix="bench")
    budgets = []
    for n in range(3):
        body = {"title": f"Bench {n}", "date": "2026-01-01", "initial_amount": "1000.00"}
        budgets.append(http_request(port, "POST", "/api/budgets/", body, token=token).json()["id"])
    for n in range(300):
        body = {
            "budget": budgets[n % 3],
            "amount": f"{(n % 50) - 25 or 1}.{n % 100:02d}",
            "date": str(date(2026, 1, 1) + timedelta(days=n % 200)),
        }
        assert http_request(port, "POST", "/api/transactions/", body, token=token).status == 201
    return token, budgets[0]


def main() -> int:
    admin_url = os.environ["PG_ADMIN_URL"]
    work = Path(tempfile.mkdtemp(prefix="bench-stack."))
    work.chmod(0o755)  # nginx's workers (nobody) read STATIC_ROOT below it
    database = PostgresDatabase(admin_url, prefix="bench").create()
    static_root = work / "static"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database.url,
        "NUM_PROXIES": "1",
        "AUTH_RATE_LIMIT": "100000/min",
        "STATIC_ROOT": str(static_root),
    }
    rows = []
    try:
        setup = AppServer(env=env, log_path=work / "setup.log")
        setup.migrate()
        setup.manage("collectstatic", "--noinput")
        bundle = next(static_root.rglob("swagger-ui-bundle.*.js")).relative_to(static_root)
        token = whitenoise = None
        for name in SELECTED:
            app, options = CLASSES[name]
            worker = options[1] if len(options) > 1 else "sync"
            if "." in worker and importlib.util.find_spec(worker.split(".")[0]) is None:
                print(f"skipping {name}: pip install uvicorn-worker", file=sys.stderr)
                continue
            replicas = []
            for n in (1, 2):
                port = free_port()
                command = gunicorn_command(port, workers=WORKERS, app=app, extra=options)
                replicas.append(
                    AppServer(env=env, log_path=work / f"{n}.log", port=port, command=command)
                )
            nginx = None
            try:
                for replica in replicas:
                    replica.start()
                upstreams = " ".join(f"127.0.0.1:{r.port}" for r in replicas)
                nginx = start_nginx(work, name.split()[0], upstreams=upstreams)
                if token is None:
                    token, budget = seed(nginx.port)
                base = f"http://127.0.0.1:{nginx.port}"
                auth = f"Authorization: Bearer {token}"
                up = wrk(f"{base}/up")
                listed = wrk(f"{base}/api/budgets/", auth)
                summary = wrk(f"{base}/api/budgets/{budget}/summary/", auth)
                rows.append((name, up, listed, summary))
                print(name, up, listed, summary, file=sys.stderr)
                if whitenoise is None:  # static files: the same for every worker class
                    whitenoise = wrk(f"{base}/static/{bundle}", "Accept-Encoding: gzip")
            finally:
                if nginx is not None:
                    nginx.stop()
                for replica in replicas:
                    replica.stop()
        # Static files straight from nginx (an alias on STATIC_ROOT) for comparison.
        nginx = start_nginx(work, "static", upstreams="127.0.0.1:9")
        conf = nginx.directory / "conf.d" / "default.conf"
        conf.write_text(
            conf.read_text().replace(
                "    location / {",
                f"    location /static/ {{ alias {static_root}/; gzip_static on; }}\n"
                "    location / {",
                1,
            )
        )
        prefix = ["-p", str(nginx.directory), "-c", str(nginx.directory / "nginx.conf")]
        subprocess.run(["nginx", *prefix, "-s", "reload"], check=True)
        time.sleep(1)
        direct = wrk(f"http://127.0.0.1:{nginx.port}/static/{bundle}", "Accept-Encoding: gzip")
        nginx.stop()
    finally:
        database.drop()

    print(f"\nwrk -t2 -c{CONNECTIONS} -d{SECONDS}s through nginx, 2 replicas x {WORKERS} workers")
    print("| worker class | GET /up | GET /api/budgets/ | GET .../summary/ |")
    print("|---|---|---|---|")
    for name, *results in rows:
        cells = [f"{rate:.0f} req/s, p50 {p50}, p99 {p99}" for rate, p50, p99 in results]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nstatic {bundle} (gzip):")
    print(
        f"| WhiteNoise behind nginx | {whitenoise[0]:.0f} req/s, p50 {whitenoise[1]}, "
        f"p99 {whitenoise[2]} |"
    )
    print(f"| nginx from STATIC_ROOT | {direct[0]:.0f} req/s, p50 {direct[1]}, p99 {direct[2]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
