"""Where the time goes: every scenario in-process, timed and profiled.

    python bench/profile_requests.py                        # standard size, temporary SQLite
    python bench/profile_requests.py --database-url postgres://postgres@127.0.0.1:5432/bench_p
    python bench/profile_requests.py --html /tmp/profiles   # + one pyinstrument page each

Seeds a database like bench/run.py (same module, same data), then, in this process with
``DEBUG`` off, sends each scenario through Django's test client (the real middleware
stack, URL resolution, ninja, pydantic, the ORM and the database; no sockets, no
gunicorn). For each scenario it prints:

* the cost of one request: wall-clock and CPU time of this process, per request
  (best and median of several batches; wall includes waiting for the database);
* a pyinstrument profile folded into phases (auth, input parsing, the view, the
  response schema, JSON rendering, the rest of Django) and kinds of work (JWT, SQL
  compilation, ORM query building, database round trips, turning rows into objects,
  pydantic, json...), in milliseconds per request;

then a few isolated measurements of the parts the profile points at (token decoding,
user load, compiling the balance annotation, serialisation, JSON encoders, the
middleware stack, SQLite connection reuse). Needs the ``bench`` extra (pyinstrument).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as harness  # noqa: E402
from scenarios import select  # noqa: E402

# --- Folding a profile into phases and kinds --------------------------------------------

PHASES = ["auth", "input", "view", "response schema", "json render", "django + middleware"]
KINDS = [
    "jwt",
    "orm build",
    "sql compile",
    "db round trip",
    "rows -> objects",
    "pydantic",
    "json",
    "app code",
    "ninja",
    "django",
    "test client",
    "other",
]
APP_DIRS = tuple(
    f"{Path(__file__).resolve().parent.parent / d}/" for d in ("budgets", "users", "project")
)
LIBRARIES = [
    ("/jwt/", "jwt"),
    ("/ninja_jwt/", "jwt"),
    ("/cryptography/", "jwt"),
    ("/pydantic", "pydantic"),
    ("json/encoder.py", "json"),
    ("serializers/json.py", "json"),
    ("ninja/renderers.py", "json"),
    ("/django/test/", "test client"),
    (f"{Path(__file__).resolve().parent}/", "test client"),
    ("/ninja/", "ninja"),
    ("/django/", "django"),
]
ORM_KINDS = {"orm build", "sql compile", "db round trip", "rows -> objects"}
COMPILE_FUNCTIONS = {"as_sql", "compile", "pre_sql_setup", "setup_query", "get_select"}
ROW_FUNCTIONS = {"apply_converters", "results_iter", "from_db", "convert_value"}


def _path(frame) -> str:
    return (frame.file_path or "").replace("\\", "/")


def _phase(frame, current: str) -> str:
    path, function = _path(frame), frame.function
    if path.endswith("users/auth.py") and current != "auth":
        return "auth"
    if path.endswith("ninja/operation.py"):
        if function == "_get_values":
            return "input"
        if function == "_result_to_response":
            return "response schema"
    if path.endswith("ninja/main.py") and function == "create_response":
        return "json render"
    if current in ("django + middleware", "input") and (
        (path.endswith("/api.py") and "/ninja/" not in path)
        or (path.endswith("ninja/pagination.py") and function == "view_with_pagination")
    ):
        return "view"
    return current


def _kind(frame, current: str) -> str:
    """The kind of work a frame does. Inside the ORM the most specific ORM kind holds
    (a Decimal built while converting rows is "rows -> objects"); elsewhere the innermost
    library wins, and frames without a library of their own (the standard library, C
    functions) count for their caller."""
    path, function = _path(frame), frame.function
    if not path:
        return current
    if path.startswith(APP_DIRS):
        return current if current in ORM_KINDS else "app code"
    if "/psycopg" in path or "/sqlite3/" in path or "django/db/backends/" in path:
        return "db round trip"
    if "django/db/models/" in path:
        if function in ROW_FUNCTIONS or (
            path.endswith("models/base.py") and function == "__init__"
        ):
            return "rows -> objects"
        if path.endswith("models/query.py") and function == "__iter__":
            return "rows -> objects"
        if function in COMPILE_FUNCTIONS or path.endswith("sql/compiler.py"):
            return current if current == "db round trip" else "sql compile"
        return current if current in ORM_KINDS else "orm build"
    if current in ORM_KINDS:
        return current
    for marker, kind in LIBRARIES:
        if marker in path:
            return kind
    return current


def fold(root) -> dict[tuple[str, str], float]:
    """Seconds of the profile by (phase, kind); each sample lands in exactly one cell."""
    cells: dict[tuple[str, str], float] = defaultdict(float)
    stack = [(root, "django + middleware", "other")]
    while stack:
        frame, phase, kind = stack.pop()
        phase, kind = _phase(frame, phase), _kind(frame, kind)
        children = frame.children
        own = frame.time - sum(child.time for child in children)
        if own > 0:
            cells[(phase, kind)] += own
        stack.extend((child, phase, kind) for child in children)
    return cells


def print_fold(name: str, cells: dict, real_ms: float) -> dict:
    """Print the folded profile as milliseconds per request at real speed: each cell's
    share of the samples times the request's measured (unprofiled) wall time."""
    total = sum(cells.values()) or 1.0
    per = {k: v / total * real_ms for k, v in cells.items()}
    kinds = [k for k in KINDS if any(per.get((p, k), 0) >= 0.005 for p in PHASES)]
    print(f"\n{name}: {real_ms:.2f} ms per request (best batch), split by the profile (ms)")
    width = max(len(k) for k in kinds) + 2
    print(f"  {'phase':<20}" + "".join(f"{k:>{width}}" for k in kinds) + f"{'total':>9}")
    by_phase = {}
    for phase in PHASES:
        row = [per.get((phase, k), 0.0) for k in kinds]
        if sum(row) < 0.005:
            continue
        by_phase[phase] = round(sum(row), 3)
        cells_text = "".join(f"{v:>{width}.2f}" if v >= 0.005 else f"{'':>{width}}" for v in row)
        print(f"  {phase:<20}" + cells_text + f"{sum(row):>9.2f}")
    col = [sum(per.get((p, k), 0.0) for p in PHASES) for k in kinds]
    print(f"  {'all phases':<20}" + "".join(f"{v:>{width}.2f}" for v in col) + f"{real_ms:>9.2f}")
    print(f"  {'share':<20}" + "".join(f"{v / real_ms:>{width}.0%}" for v in col))
    by_kind = {k: round(v, 3) for k, v in zip(kinds, col, strict=True)}
    return {"ms": round(real_ms, 3), "by_phase": by_phase, "by_kind": by_kind}


# --- Timing helpers ---------------------------------------------------------------------


def per_call(fn, *, seconds: float = 0.4, batches: int = 5) -> dict:
    """Wall and CPU microseconds per call: best and median of ``batches`` batches."""
    fn()
    n = 1
    while True:  # calibrate a batch to ~seconds/batches
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        spent = time.perf_counter() - t0
        if spent > seconds / batches / 4 or n > 1_000_000:
            break
        n *= 4
    n = max(1, int(n * (seconds / batches) / max(spent, 1e-9)))
    walls, cpus = [], []
    for _ in range(batches):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            fn()
        walls.append((time.perf_counter() - w0) / n * 1e6)
        cpus.append((time.process_time() - c0) / n * 1e6)
    return {
        "wall_us_best": min(walls),
        "wall_us_median": statistics.median(walls),
        "cpu_us_median": statistics.median(cpus),
        "calls": n * batches,
    }


def fmt_us(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


# --- Main -------------------------------------------------------------------------------


def main(argv=None) -> int:
    from seed import SIZES

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=SIZES, default="standard")
    p.add_argument("--database-url", help="As for bench/run.py (default: temporary SQLite).")
    p.add_argument("--reuse-db", action="store_true")
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--scenarios", help="Comma-separated subset (default: all).")
    p.add_argument("--seconds", type=float, default=2.0, help="Timing per scenario (2 s).")
    p.add_argument("--profile-requests", type=int, default=1000)
    p.add_argument("--html", help="Write one pyinstrument HTML page per scenario here.")
    p.add_argument("--json", help="Write the figures to this JSON file too.")
    args = p.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="budget-profile-"))
    db = harness.Database(args.database_url or f"sqlite:///{workdir / 'profile.sqlite3'}")
    existed = db.exists()
    checkout = harness.current_checkout()
    seeded = harness.prepare(checkout, db, args.size, reuse=args.reuse_db, workdir=workdir)
    try:
        os.environ.update(harness.app_env(db, {"STATIC_ROOT": str(workdir)}))
        figures = profile(seeded, select(args.scenarios), args, db)
        figures["database"] = "postgresql" if db.postgres else "sqlite"
        figures["revision"] = checkout.revision
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
    finally:
        if not existed and not args.keep_db:
            db.drop()
    return 0


def wsgi_caller(token: str):
    """Call Django's WSGI handler the way gunicorn does, ``close()`` included: so the
    request_started/request_finished signals run, with what they do to database
    connections (a new SQLite connection per request; the PostgreSQL health check)."""
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()

    def call(method: str, path: str, body: str | None):
        path_info, _, query = path.partition("?")
        data = (body or "").encode()
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "SERVER_NAME": harness.HOST,
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": harness.HOST,
            "HTTP_HOST": harness.HOST,
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_ACCEPT": "application/json",
            "CONTENT_TYPE": "application/json" if body else "",
            "CONTENT_LENGTH": str(len(data)) if body else "",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status = []
        result = handler(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            content = b"".join(result)
        finally:
            result.close()
        return int(status[0][:3]), content

    return call


def profile(seeded: dict, scenarios, args, db) -> dict:
    sys.path.insert(0, str(harness.ROOT))
    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    client = Client(HTTP_HOST=harness.HOST, HTTP_AUTHORIZATION=f"Bearer {seeded['token']}")
    wsgi = wsgi_caller(seeded["token"])
    print(
        f"In-process, DEBUG off, {db.url.split('://')[0]}, "
        f"load average {os.getloadavg()[0]:.2f}. Per request: through Django's WSGI handler "
        "as gunicorn calls it (the profile below too), and through Django's test client "
        "(no request signals: connections are neither closed nor health-checked)."
    )
    figures: dict = {"scenarios": {}}
    print(
        f"\n{'':<18}{'--- WSGI handler ---':>37}{'--- test client ---':>37}\n"
        f"{'scenario':<18}" + f"{'wall best':>12}{'wall median':>13}{'CPU median':>12}" * 2
    )
    calls = {}
    for scenario in scenarios:
        path, body = scenario.url_path(seeded), scenario.body(seeded)

        def via_wsgi(path=path, body=body, scenario=scenario):
            status, content = wsgi(scenario.method, path, body)
            if status != scenario.status:
                raise SystemExit(f"{scenario.name}: {status} {content!r}")

        def via_client(path=path, body=body, scenario=scenario):
            response = (
                client.get(path)
                if body is None
                else client.post(path, data=body, content_type="application/json")
            )
            if response.status_code != scenario.status:
                raise SystemExit(f"{scenario.name}: {response.status_code} {response.content!r}")

        calls[scenario.name] = via_wsgi
        t = per_call(via_wsgi, seconds=args.seconds)
        tc = per_call(via_client, seconds=args.seconds)
        figures["scenarios"][scenario.name] = {"timing": t, "timing_test_client": tc}
        print(
            f"{scenario.name:<18}"
            + "".join(
                f"{fmt_us(x['wall_us_best']):>12}{fmt_us(x['wall_us_median']):>13}"
                f"{fmt_us(x['cpu_us_median']):>12}"
                for x in (t, tc)
            )
        )

    for scenario in scenarios:
        call = calls[scenario.name]
        for _ in range(20):
            call()
        profiler = Profiler(interval=0.001)
        profiler.start()
        for _ in range(args.profile_requests):
            call()
        profiler.stop()
        session = profiler.last_session
        cells = fold(session.root_frame())
        # The best batch: the least disturbed by other load on the machine.
        real_ms = figures["scenarios"][scenario.name]["timing"]["wall_us_best"] / 1000
        figures["scenarios"][scenario.name]["profile"] = print_fold(scenario.name, cells, real_ms)
        if args.html:
            Path(args.html).mkdir(parents=True, exist_ok=True)
            Path(args.html, f"{scenario.name}.html").write_text(profiler.output_html())
    figures["isolated"] = isolated(seeded, db)
    return figures


def isolated(seeded: dict, db) -> dict:
    """The parts the profile points at, measured alone (µs per call)."""
    import jwt
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from ninja.responses import NinjaJSONEncoder
    from ninja_jwt.tokens import AccessToken

    from budgets.models import Budget, Transaction
    from budgets.schemas import BudgetOut, TransactionOut
    from users.auth import access_claims, active_user
    from users.models import User

    token, results = seeded["token"], {}
    user = User.objects.get(pk=seeded["user_id"])
    budget_id = seeded["budget_id"]

    def measure(name, fn, note=""):
        t = per_call(fn)
        results[name] = round(t["wall_us_best"], 1)
        print(f"  {name:<58}{fmt_us(t['wall_us_best']):>10}  {note}")

    print("\nIsolated measurements (wall time per call, best of 5 batches)")
    key = settings.NINJA_JWT["SIGNING_KEY"]
    measure("jwt.decode (PyJWT, HS256)", lambda: jwt.decode(token, key, algorithms=["HS256"]))
    measure("ninja_jwt AccessToken(token)", lambda: AccessToken(token))
    measure("access_claims(token) (the API's check)", lambda: access_claims(token))
    measure("active_user (one SELECT of the user, precompiled)", lambda: active_user(user.pk))

    def user_sql():
        qs = User.objects.filter(pk=user.pk, is_active=True).order_by("pk")[:1]
        return qs.query.get_compiler(connection.alias).as_sql()

    measure("  the queryset it replaces: build + compile its SQL", user_sql)
    user_query = user_sql()

    def user_raw():
        with connection.cursor() as cursor:
            cursor.execute(*user_query)
            return cursor.fetchone()

    measure("  of which: execute + fetch (cursor, no ORM)", user_raw)

    def build():
        return Budget.objects.for_user(user).filter(pk=budget_id)

    def build_compile():
        return build().query.get_compiler(connection.alias).as_sql()

    measure("budget detail queryset: build", build)
    measure("budget detail queryset: build + compile SQL", build_compile)
    sql, params = build_compile()

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    measure("budget detail SQL: execute + fetch (cursor, no ORM)", raw)
    try:
        from budgets.selectors import budget_get
    except ImportError:  # before the services split
        from budgets.services import budget_get
    budget = budget_get(user=user, budget_id=budget_id)
    measure(
        "budget_get selector: build, compile, execute, make the object",
        lambda: budget_get(user=user, budget_id=budget_id),
    )
    measure(
        "BudgetOut.model_validate(budget).model_dump()",
        lambda: BudgetOut.model_validate(budget).model_dump(),
    )
    page = list(
        Transaction.objects.for_user(user)
        .filter(budget_id=budget_id)
        .order_by("-date", "-created_at", "-id")[:20]
    )
    measure(
        "20 x TransactionOut validate + dump",
        lambda: [TransactionOut.model_validate(t).model_dump() for t in page],
    )
    data = {
        "count": 100,
        "next": None,
        "previous": None,
        "results": [TransactionOut.model_validate(t).model_dump() for t in page],
    }
    measure(
        "json.dumps(page of 20, cls=NinjaJSONEncoder)",
        lambda: json.dumps(data, cls=NinjaJSONEncoder),
    )
    from project.renderer import dumps

    measure("project.renderer.dumps(page of 20) (orjson, the API's)", lambda: dumps(data))

    me_path = "/api/users/me/"
    auth = {"HTTP_HOST": harness.HOST, "HTTP_AUTHORIZATION": f"Bearer {token}"}
    full = Client(**auth)
    measure(f"GET {me_path} through the full middleware stack", lambda: full.get(me_path))
    lean = [
        m
        for m in settings.MIDDLEWARE
        if "sessions" not in m
        and "messages" not in m
        and "csrf" not in m
        and "auth.middleware" not in m
    ]
    with override_settings(MIDDLEWARE=lean):
        slim = Client(**auth)
        measure(
            f"GET {me_path} without session/auth/messages/csrf middleware (what-if)",
            lambda: slim.get(me_path),
        )

    def reconnect():
        connection.close()
        connection.ensure_connection()

    measure(
        f"open a database connection ({connection.vendor}, with its init commands)",
        reconnect,
        "paid per request when CONN_MAX_AGE is 0",
    )
    print(f"  (CONN_MAX_AGE here: {connection.settings_dict.get('CONN_MAX_AGE', 0)})")
    return results


if __name__ == "__main__":
    sys.exit(main())
