#!/bin/sh
# Start the Budget Tracker API: wait for the database, migrate, then serve with gunicorn.
#
#   docker-entrypoint.sh            wait for the DB, `manage.py migrate`, exec gunicorn
#   docker-entrypoint.sh CMD ARGS   exec CMD ARGS instead (no wait, no migrate), e.g.
#                                   `docker compose run --rm api python manage.py createsuperuser`
#
# Works in the image (/app) and on a host checkout (CI runs it with the venv on PATH).
#
# Environment (all optional; the Django settings read their own variables, see .env.example):
#   PORT                       port to listen on (default 8000)
#   BIND_HOST                  address to bind (default 0.0.0.0; CI uses 127.0.0.1)
#   WEB_CONCURRENCY            gunicorn workers (default 2 x CPUs + 1, at most WEB_CONCURRENCY_MAX)
#   WEB_CONCURRENCY_MAX        cap for that default (default 8)
#   GUNICORN_TIMEOUT           seconds a worker may spend on one request (default 30)
#   GUNICORN_GRACEFUL_TIMEOUT  seconds in-flight requests get after SIGTERM (default 25;
#                              keep it below the orchestrator's stop timeout)
#   GUNICORN_CMD_ARGS          extra gunicorn flags, read by gunicorn itself
#   DB_WAIT_TIMEOUT            seconds to wait for the database before giving up (default 60)
#   MIGRATE_ON_START           "false" skips `migrate` (when a release step runs it instead)
#   LOG_LEVEL                  gunicorn error-log level too (default info)
set -eu

# Run from the project root (where manage.py is), wherever we are called from.
cd "$(dirname "$0")"

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

log() {
    echo "entrypoint: $*" >&2
}

# --- 1. wait for the database (bounded) ------------------------------------------------
log "waiting for the database (at most ${DB_WAIT_TIMEOUT:-60}s)"
# PGCONNECT_TIMEOUT bounds each attempt against an address that never answers.
PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}" python - <<'PY'
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
import django  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

try:
    django.setup()
except ImproperlyConfigured as exc:
    sys.exit(f"entrypoint: configuration error: {exc}")
from django.db import connections  # noqa: E402
from django.db.utils import OperationalError  # noqa: E402

timeout = float(os.environ.get("DB_WAIT_TIMEOUT") or 60)
deadline = time.monotonic() + timeout
attempt = 0
while True:
    attempt += 1
    try:
        for alias in connections:
            connections[alias].ensure_connection()
    except OperationalError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            print(f"entrypoint: database still unreachable after {timeout:g}s "
                  f"({attempt} attempts): {reason}", file=sys.stderr)
            sys.exit(1)
        print(f"entrypoint: database not ready (attempt {attempt}): {reason}", file=sys.stderr)
        time.sleep(min(1.0 + attempt * 0.5, 5.0, remaining))
    else:
        print(f"entrypoint: database is up (attempt {attempt})", file=sys.stderr)
        break
    finally:
        connections.close_all()
PY

# --- 2. migrations ----------------------------------------------------------------------
case "${MIGRATE_ON_START:-true}" in
    false | False | FALSE | 0 | no | off)
        log "MIGRATE_ON_START=${MIGRATE_ON_START}: skipping migrations"
        ;;
    *)
        log "applying migrations"
        python manage.py migrate --noinput
        ;;
esac

# --- 3. gunicorn ------------------------------------------------------------------------
if [ -z "${WEB_CONCURRENCY:-}" ]; then
    cpus=$(nproc 2>/dev/null || echo 1)
    WEB_CONCURRENCY=$((cpus * 2 + 1))
    if [ "$WEB_CONCURRENCY" -gt "${WEB_CONCURRENCY_MAX:-8}" ]; then
        WEB_CONCURRENCY=${WEB_CONCURRENCY_MAX:-8}
    fi
fi
# gunicorn reads WEB_CONCURRENCY itself when it loads its config and fails on an empty
# value, so always export the number we settled on.
export WEB_CONCURRENCY

# The heartbeat file of each worker: tmpfs avoids stalls on overlay/slow disks.
set --
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    set -- --worker-tmp-dir /dev/shm
fi

log "starting gunicorn on ${BIND_HOST:-0.0.0.0}:${PORT:-8000} with ${WEB_CONCURRENCY} workers"
# exec: gunicorn replaces this shell (PID 1 in the container), so it receives SIGTERM
# itself and shuts down gracefully: stops accepting, finishes in-flight requests, exits 0.
exec gunicorn project.wsgi:application \
    --bind "${BIND_HOST:-0.0.0.0}:${PORT:-8000}" \
    --workers "$WEB_CONCURRENCY" \
    --timeout "${GUNICORN_TIMEOUT:-30}" \
    --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-25}" \
    --access-logfile - \
    --error-logfile - \
    --log-level "${LOG_LEVEL:-info}" \
    "$@"
