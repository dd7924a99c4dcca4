"""Queries per request, counted in-process on the benchmark's database.

Each scenario goes once through Django's test client (full middleware stack and URL
resolution, ``DEBUG`` off, ``Host: 127.0.0.1``) inside ``CaptureQueriesContext``, after
one warm-up request, exactly as ``django_assert_num_queries`` counts them in the tests
(``BEGIN``/``COMMIT`` of write transactions included). The reference app is called as a
WSGI callable in the same process and counts the statements it sends the same way.

Run from the application checkout's root (the harness does):
    python <harness>/bench/queries.py --seeded seeded.json --scenarios me,create
Prints JSON: {"scenarios": {name: {"status", "queries", "reference_queries", ...}},
"per_request_extra": what a real server adds per request that no query log shows}.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scenarios import select  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeded", required=True)
    parser.add_argument("--scenarios")
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    seeded = json.loads(Path(args.seeded).read_text())

    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {seeded['token']}")
    reference = None
    if not args.no_reference:
        import reference_app as reference

    out = {}
    for scenario in select(args.scenarios):
        path, body = scenario.url_path(seeded), scenario.body(seeded)

        def call(path=path, body=body, scenario=scenario):
            if body is None:
                return client.get(path)
            return client.post(path, data=body, content_type="application/json")

        call()  # warm: imports, caches, first-use work
        with CaptureQueriesContext(connection) as captured:
            response = call()
        out[scenario.name] = {"status": response.status_code, "queries": len(captured)}
        if reference is not None:
            _, status, count = _call_reference(reference, scenario.method, path, body, seeded)
            out[scenario.name]["reference_queries"] = count
            out[scenario.name]["reference_status"] = status
    # What a real server adds per request and the test client does not show: a new
    # connection when CONN_MAX_AGE is 0, or a "SELECT 1" health check before the first
    # query when connections persist with CONN_HEALTH_CHECKS (both bypass the query log).
    db = connection.settings_dict
    if not db.get("CONN_MAX_AGE"):
        note = "+ a new database connection per request (CONN_MAX_AGE=0)"
    elif db.get("CONN_HEALTH_CHECKS") and not _quiet_health_checks(connection):
        note = '+ one "SELECT 1" health check per request (CONN_HEALTH_CHECKS)'
    else:
        note = ""
    print(json.dumps({"scenarios": out, "per_request_extra": note}))
    return 0


def _quiet_health_checks(connection) -> bool:
    """Whether the backend skips the health check's round trip while the connection's
    socket is quiet (project/postgresql since issue 15) instead of Django's SELECT 1."""
    from django.db import connections
    from django.db.backends.base.base import BaseDatabaseWrapper

    own = type(connections[connection.alias]).close_if_health_check_failed
    return own is not BaseDatabaseWrapper.close_if_health_check_failed


def _call_reference(reference, method: str, path: str, body: str | None, seeded: dict):
    path, _, query = path.partition("?")
    data = (body or "").encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": "127.0.0.1",
        "SERVER_NAME": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {seeded['token']}",
        "CONTENT_LENGTH": str(len(data)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(data),
    }
    status = []
    reference.application(dict(environ, **{"wsgi.input": io.BytesIO(data)}), lambda s, h: None)
    before = reference.QUERIES[0]
    chunks = reference.application(environ, lambda s, h: status.append(int(s.split()[0])))
    return b"".join(chunks), status[0], reference.QUERIES[0] - before


if __name__ == "__main__":
    sys.exit(main())
