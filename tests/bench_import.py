"""Benchmark: a large CSV import runs in bounded memory.

Not collected by pytest. It writes a CSV file of ``--rows`` transactions in the export's
columns, then sends it to ``POST /api/transactions/import/`` through Django's own WSGI
handler, the body streamed from a file on disk exactly as a server hands it over (no test
client holding the body in memory), and prints the answer and the time the request took.
Measure the whole process with a public tool and compare row counts, for example:

    export DATABASE_URL=sqlite:////tmp/bench-import.sqlite3
    rm -f /tmp/bench-import.sqlite3 && .venv/bin/python manage.py migrate -v0
    /usr/bin/time -v .venv/bin/python tests/bench_import.py --rows 100000
    /usr/bin/time -v .venv/bin/python tests/bench_import.py --rows 10000

Each run imports into a fresh budget of the user ``bench`` (created on first use), so the
duplicate check finds nothing; ``--again`` re-imports into the previous run's budget
instead, where every row is a duplicate (the other expensive path). ``--dry-run`` only
validates.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

BOUNDARY = "bench-import-boundary-7d1f"
DESCRIPTIONS = ("Supermarket", "Bakery", "Bus ticket", "Coffee", "Rent", "Salary, ACME Ltd")
CATEGORIES = ("Groceries", "Transport", "Eating out", "Rent", "Salary", "")


def write_csv(path: Path, *, rows: int, budget: str, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("date,budget,category,description,amount\r\n")
        for _ in range(rows):
            day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            cents = rng.randint(1, 99_999) * rng.choice((-1, -1, -1, 1))
            amount = f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
            category = rng.choice(CATEGORIES)
            description = rng.choice(DESCRIPTIONS)
            out.write(f'{day},{budget},{category},"{description}",{amount}\r\n')


def write_body(csv_path: Path, body_path: Path, fields: dict[str, str]) -> int:
    """A multipart/form-data body with the CSV as the ``file`` part, copied in chunks."""
    with body_path.open("wb") as out:
        for name, value in fields.items():
            out.write(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{csv_path.name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        )
        with csv_path.open("rb") as source:
            while chunk := source.read(64 * 1024):
                out.write(chunk)
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return body_path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--again", action="store_true", help="re-import the previous file")
    parser.add_argument("--allow-duplicates", action="store_true", help="skip the duplicate check")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    # As in production: with DEBUG on, Django keeps every query's SQL in memory.
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from ninja_jwt.tokens import AccessToken

    from budgets.models import Budget, Transaction
    from users.models import User

    user, _ = User.objects.get_or_create(username="bench", defaults={"email": ""})
    previous = Budget.objects.for_user(user).order_by("-id").first()
    if args.again and previous is not None:
        title = previous.title
    else:
        title = f"Bench {Budget.objects.for_user(user).count() + 1}"
        Budget.objects.create(user=user, title=title, date="2026-01-01", initial_amount=1000)
    before = Transaction.objects.for_user(user).count()

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    csv_path, body_path = work / "transactions.csv", work / "body"
    write_csv(csv_path, rows=args.rows, budget=title, seed=args.seed)
    fields = {
        "create_categories": "true",
        "dry_run": "true" if args.dry_run else "false",
        "allow_duplicates": "true" if args.allow_duplicates else "false",
    }
    size = write_body(csv_path, body_path, fields)

    statuses: list[str] = []
    with body_path.open("rb") as body:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/transactions/import/",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "wsgi.url_scheme": "http",
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "CONTENT_LENGTH": str(size),
            "HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}",
        }
        started = time.perf_counter()
        chunks = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
        answer = b"".join(chunks)
        elapsed = time.perf_counter() - started

    after = Transaction.objects.for_user(user).count()
    report = json.loads(answer)
    if isinstance(report.get("errors"), list):
        report["errors"] = report["errors"][:3]
    print(f"file: {args.rows} rows, {csv_path.stat().st_size / 2**20:.2f} MiB")
    print(f"answer: {statuses[0]} {json.dumps(report)[:400]}")
    print(f"request: {elapsed:.2f} s; transactions stored: {before} -> {after}")
    for path in (csv_path, body_path):
        path.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
