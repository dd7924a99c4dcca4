# shellcheck shell=bash
# Shared helpers for the CI scripts (sourced, not run).
# shellcheck disable=SC2034  # PG_URL, PG_DIR, PG_BIN are for the scripts that source this

CI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# A free TCP port on 127.0.0.1 (the one helper the tests use too).
free_port() {
  python3 "$CI_ROOT/tests/support/servers.py" free-port
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# As the postgres OS user, from a directory it can enter.
as_postgres() {
  (cd / && as_root runuser -u postgres -- "$@")
}

# Install Debian packages when a command is missing. Services a package starts on its own
# (nginx, redis-server) are stopped again: CI starts its own instances on free ports.
ensure_debian_package() {
  local probe=$1
  shift
  if ! eval "$probe" >/dev/null 2>&1; then
    echo "-- installing $*"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    local package
    for package in "$@"; do
      case $package in
        nginx | redis-server) as_root "/etc/init.d/$package" stop >/dev/null 2>&1 || true ;;
      esac
    done
  fi
}

# Start a throwaway PostgreSQL cluster as the postgres user; sets PG_URL and PG_DIR.
start_postgres() {
  ensure_debian_package 'ls /usr/lib/postgresql/*/bin/pg_ctl' postgresql
  local bin
  bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_DIR=$(mktemp -d /tmp/budget-ci-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  as_root chown postgres "$PG_DIR"
  local port
  port=$(free_port)
  as_postgres "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  PG_BIN=$bin
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "-- PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    as_root rm -rf "$PG_DIR"
  fi
}
