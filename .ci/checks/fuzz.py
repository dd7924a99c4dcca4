"""Fuzz every operation of the app's own OpenAPI schema with Schemathesis.

The app runs under gunicorn with DEBUG off and a real token; the server log must stay
free of tracebacks. Run through .ci/fuzz.sh. Env: DATABASE_URL (default: a temporary
SQLite file), FUZZ_EXAMPLES (default 100), FUZZ_SEED (default 20261121).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from checks_support import register_and_login

from tests.support.servers import PROJECT_DIR, AppServer, free_port, gunicorn_command, http_request

# Schemathesis closes with a pytest-shaped banner (`=== 3 warnings in 73.65s ===`) that
# counts no passed test. CI reads the last such line to learn how many tests ran, so the
# banners are printed as plain lines; the real pytest summary comes after everything.
BANNER = re.compile(r"^=+ (?P<text>.*?) =+$", re.MULTILINE)


def without_banners(output: str) -> str:
    return BANNER.sub(lambda match: f"-- schemathesis: {match['text']}", output)


def main() -> int:
    examples = os.environ.get("FUZZ_EXAMPLES", "100")
    seed = os.environ.get("FUZZ_SEED", "20261121")
    with tempfile.TemporaryDirectory(prefix="budget-fuzz.") as work:
        work_dir = Path(work)
        port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DEBUG": "false",
            "SECRET_KEY": f"fuzz-{secrets.token_hex(24)}",
            "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{work_dir}/fuzz.db",
            "AUTH_RATE_LIMIT": "100000/min",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        server = AppServer(
            env=env,
            log_path=work_dir / "gunicorn.log",
            port=port,
            # No request-line limit: in the stack nginx answers an over-long URL (JSON 414)
            # before gunicorn sees it; here the fuzzer talks to gunicorn directly, and its
            # HTML 414 would stand in for the API's own validation of long query values.
            command=gunicorn_command(
                port, workers=2, extra=["--log-level", "warning", "--limit-request-line", "0"]
            ),
        )
        server.migrate()
        with server:
            _, access = register_and_login(port, prefix="fuzzer")
            # Budgets, a category, a transfer and a spending limit, so that ids 1 (and
            # budget 2) exist and links have something to find.
            budget = {"date": "2026-01-01", "initial_amount": "10"}
            for path, body in (
                ("/api/budgets/", {**budget, "title": "Fuzz"}),
                ("/api/budgets/", {**budget, "title": "Fuzz 2"}),
                ("/api/categories/", {"name": "Fuzz"}),
                (
                    "/api/transfers/",
                    {"from_budget": 1, "to_budget": 2, "amount": "1", "date": "2026-01-02"},
                ),
                ("/api/budgets/1/limits/", {"category": 1, "month": "2026-01", "amount": "5"}),
            ):
                created = http_request(port, "POST", path, body, token=access)
                assert created.status == 201, (path, created)
            print(f"-- schemathesis against 127.0.0.1:{port} (seed {seed}, {examples} examples)")
            fuzzer = subprocess.run(
                [
                    str(Path(sys.executable).parent / "schemathesis"),
                    "--config-file",
                    str(PROJECT_DIR / ".ci" / "schemathesis.toml"),
                    "run",
                    f"http://127.0.0.1:{port}/api/openapi.json",
                    "--header",
                    f"Authorization: Bearer {access}",
                    "--checks",
                    "all",
                    "--max-examples",
                    examples,
                    "--seed",
                    seed,
                    "--generation-database",
                    "none",
                    "--request-timeout",
                    "20",
                    "--no-color",
                    "--report",
                    "junit",
                    "--report-dir",
                    str(work_dir / "report"),
                ],
                check=False,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
            print(without_banners(fuzzer.stdout), end="", flush=True)
            status = fuzzer.returncode
        log = server.log_path.read_text(errors="replace")
        if "Traceback" in log or "Internal Server Error" in log:
            print(f"FAIL: the server logged errors:\n{log}", file=sys.stderr)
            status = status or 1
        return status


if __name__ == "__main__":
    sys.exit(main())
