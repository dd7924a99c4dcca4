#!/usr/bin/env bash
# Benchmark: log-ins per second (POST /api/token/) under gunicorn, DEBUG off, 2 workers,
# measured with wrk. Not run by CI; needs wrk (Debian: apt-get install wrk).
#
#   bash tests/bench_login.sh [seconds]      # default 30
#
# A fresh SQLite database in a temporary directory, one user whose password is hashed with
# the first of PASSWORD_HASHERS, the rate limit out of the way; wrk keeps 4 connections
# busy from 2 threads. The figure depends on the machine: compare runs on one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30}
port=$(.venv/bin/python tests/support/servers.py free-port)
work=$(mktemp -d)
export DJANGO_SETTINGS_MODULE=project.settings DEBUG=false SECRET_KEY=bench-only-secret-key-0123456789abcdef \
  ALLOWED_HOSTS=127.0.0.1 AUTH_RATE_LIMIT=1000000/min CACHE_URL='' LOG_LEVEL=WARNING \
  DATABASE_URL="sqlite:///$work/db.sqlite3"
cleanup() {
  if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

.venv/bin/python manage.py migrate --noinput -v 0
# A superuser logs in through the API like any user; createsuperuser needs no Python here.
DJANGO_SUPERUSER_PASSWORD=Corr3ct-Horse-Battery .venv/bin/python manage.py createsuperuser \
  --noinput --username bench --email bench@example.com -v 0
echo "password hasher: $(.venv/bin/python manage.py diffsettings --all | grep '^PASSWORD_HASHERS')"

.venv/bin/gunicorn project.wsgi:application --workers 2 --bind "127.0.0.1:$port" \
  --log-level warning &
server=$!
.venv/bin/python tests/support/servers.py wait-for-up "$port" 30
wrk -t2 -c4 -d"${duration}s" --timeout 30s -s tests/bench_login.lua "http://127.0.0.1:$port/api/token/"
