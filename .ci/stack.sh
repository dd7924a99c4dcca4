#!/usr/bin/env bash
# .ci/stack.sh: verify the Docker/compose deliverables on a machine without a Docker engine.
#
# Called by .ci/run once $VENV (default .venv) holds the locked dev and ci dependencies and a
# throwaway PostgreSQL cluster runs, its superuser URL in $PG_ADMIN_URL. This script only
# orchestrates: it runs the linters, installs what the checks need (nginx, envsubst,
# redis-server from Debian; the image's runtime-only venv from uv.lock), then the checks
# themselves, which are pytest tests in .ci/checks/ (see its conftest.py). Only 127.0.0.1
# is used; everything started is stopped again.
# Env: STACK_JUNIT=FILE writes the checks' JUnit XML there (for .ci/run's count).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source .ci/lib.sh

VENV=${VENV:-.venv}
case $VENV in /*) ;; *) VENV=$ROOT/$VENV ;; esac
: "${PG_ADMIN_URL:?PG_ADMIN_URL must hold a PostgreSQL superuser URL (set by .ci/run)}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stack-ci.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "-- compose file against the Compose specification (check-jsonschema's built-in copy)"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

echo "-- hadolint Dockerfile; shellcheck on every shell script"
"$VENV/bin/hadolint" Dockerfile
"$VENV/bin/shellcheck" -s sh docker-entrypoint.sh deploy/nginx/docker-entrypoint.d/*.envsh
"$VENV/bin/shellcheck" -x .ci/run .ci/*.sh tests/*.sh

# `docker compose config` is client-side (interpolation + validation, no engine needed).
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    echo "-- docker compose config"
    docker compose --env-file .env.example config -q
else
    echo "-- the docker compose plugin is not installed: docker compose config not run"
fi

echo "-- Debian packages the checks use: nginx, envsubst, redis-server"
ensure_debian_package 'command -v nginx || test -x /usr/sbin/nginx' nginx
ensure_debian_package 'command -v envsubst' gettext-base
ensure_debian_package 'command -v redis-server' redis-server

echo "-- the image's runtime venv: uv sync --locked from pyproject.toml and uv.lock alone"
mkdir -p "$WORK/src"
cp pyproject.toml uv.lock "$WORK/src/"
(cd "$WORK/src" && UV_PROJECT_ENVIRONMENT="$WORK/runtime-venv" UV_PYTHON_DOWNLOADS=never \
    "$VENV/bin/uv" sync --locked --no-install-project --no-dev --python python3 --quiet)
"$VENV/bin/uv" pip check --python "$WORK/runtime-venv/bin/python" --quiet

echo "-- deployment checks (.ci/checks)"
PG_ADMIN_URL="$PG_ADMIN_URL" STACK_SERVER_BIN="$WORK/runtime-venv/bin" \
    NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)" VIRTUAL_ENV="$VENV" \
    "$VENV/bin/python" -m pytest -c .ci/checks/pytest.ini .ci/checks \
    -o junit_family=xunit2 ${STACK_JUNIT:+--junitxml="$STACK_JUNIT"}
