#!/bin/sh
# Start the Budget Tracker API: wait for the database, then serve with gunicorn.
#
#   docker-entrypoint.sh            wait for the DB, exec gunicorn (migrates first only
#                                   with MIGRATE_ON_START=true)
#   docker-entrypoint.sh migrate    wait for the DB, `manage.py migrate`, exit: the compose
#                                   stack's one-shot `migrate` service (concurrent runs wait
#                                   for each other on a PostgreSQL advisory lock)
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
#   GUNICORN_WORKER_CLASS      sync (default; chosen by measurement, see the README) or gthread
#                              (both as project/gunicorn_workers.py: one write per answer), or
#                              any other gunicorn worker class path
#   GUNICORN_THREADS           threads per worker for gthread (default 1)
#   GUNICORN_TIMEOUT           seconds a worker may spend on one request (default 30)
#   GUNICORN_GRACEFUL_TIMEOUT  seconds in-flight requests get after SIGTERM (default 25;
#                              keep it below the orchestrator's stop timeout)
#   FORWARDED_ALLOW_IPS        the only peers whose X-Forwarded-* headers gunicorn trusts:
#                              the reverse proxy (default 127.0.0.1,::1)
#   GUNICORN_CMD_ARGS          extra gunicorn flags, read by gunicorn itself
#   DB_WAIT_TIMEOUT            seconds to wait for the database before giving up (default 60)
#   MIGRATE_ON_START           "true": migrate before serving (one container on its own; with
#                              several replicas run `migrate` once instead). Default false.
#   LOG_LEVEL                  gunicorn error-log level too (default info)
set -eu

# Run from the project root (where manage.py is), wherever we are called from.
cd "$(dirname "$0")"

log() {
    echo "entrypoint: $*" >&2
}

wait_for_db() {
    log "waiting for the database (at most ${DB_WAIT_TIMEOUT:-60}s)"
    # PGCONNECT_TIMEOUT bounds each attempt against an address that never answers.
    PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}" \
        python manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
}

migrate() {
    log "applying migrations"
    python manage.py migrate --noinput
}

if [ "$#" -gt 0 ]; then
    if [ "$*" = migrate ]; then
        wait_for_db
        migrate
        exit 0
    fi
    exec "$@"
fi

# --- 1. the database, 2. migrations only when asked ---------------------------------------
wait_for_db
case "${MIGRATE_ON_START:-false}" in
    true | True | TRUE | 1 | yes | on)
        migrate
        ;;
    *)
        log "not migrating (MIGRATE_ON_START=${MIGRATE_ON_START:-false}; the migrate service does it)"
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

# sync and gthread: gunicorn's workers, each answer sent in one write, so a replica killed
# mid-request has sent nothing that stops the proxy retrying elsewhere
# (project/gunicorn_workers.py). Any other class (e.g. an ASGI worker) as given.
# (gunicorn itself runs sync with more than one thread as gthread.)
worker_class=${GUNICORN_WORKER_CLASS:-sync}
case $worker_class in
    sync | gthread)
        if [ "$worker_class" = gthread ] || [ "${GUNICORN_THREADS:-1}" -gt 1 ]; then
            worker_class=project.gunicorn_workers.ThreadWorker
        else
            worker_class=project.gunicorn_workers.SyncWorker
        fi
        ;;
esac

log "starting gunicorn on ${BIND_HOST:-0.0.0.0}:${PORT:-8000} with ${WEB_CONCURRENCY} ${GUNICORN_WORKER_CLASS:-sync} workers"
# exec: gunicorn replaces this shell (PID 1 in the container), so it receives SIGTERM
# itself and shuts down gracefully: stops accepting, finishes in-flight requests, exits 0.
# --limit-request-line 8190 (gunicorn's maximum) is wider than the proxy's 4 KiB, so an
# over-long URL is answered by nginx, in JSON, not by gunicorn's HTML page.
exec gunicorn project.wsgi:application \
    --bind "${BIND_HOST:-0.0.0.0}:${PORT:-8000}" \
    --workers "$WEB_CONCURRENCY" \
    --worker-class "$worker_class" \
    --threads "${GUNICORN_THREADS:-1}" \
    --timeout "${GUNICORN_TIMEOUT:-30}" \
    --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-25}" \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1,::1}" \
    --limit-request-line 8190 \
    --access-logfile - \
    --error-logfile - \
    --log-level "${LOG_LEVEL:-info}" \
    "$@"
