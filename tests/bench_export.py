"""Benchmark: the CSV export streams in constant memory.

Not collected by pytest. Run it as a whole process and compare peak memory for small and
large exports with a public tool, for example:

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py seed_demo \
        --transactions 100000 --reset
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 /usr/bin/time -v \
        .venv/bin/python tests/bench_export.py --limit 100000

It logs in as the demo user and reads GET /api/transactions/export/ through Django's
test client chunk by chunk, the way a server would send it, discarding the bytes.
"""

import argparse
import os
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--username", default="demo")
    parser.add_argument("--limit", type=int, default=0, help="export at most N rows (0: all)")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.test import Client
    from ninja_jwt.tokens import AccessToken

    from budgets.models import Transaction
    from users.models import User

    user = User.objects.get(username=args.username)
    query = {}
    if args.limit:
        rows = Transaction.objects.for_user(user).order_by("-date", "-created_at", "-id")
        cutoff = rows.values_list("date", flat=True)[args.limit - 1]
        query["date_from"] = cutoff.isoformat()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    response = client.get("/api/transactions/export/", query)
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    print(f"exported {lines - 1} rows")


if __name__ == "__main__":
    main()
