#!/usr/bin/env bash
# Fuzz every operation from the app's own OpenAPI schema with Schemathesis, against the
# app served by gunicorn with DEBUG off, authenticated with a real token.
# Env: VENV (default .venv), DATABASE_URL (default: a temporary SQLite file),
#      FUZZ_EXAMPLES (default 100), FUZZ_SEED (default 20261121).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
WORK=$(mktemp -d /tmp/budget-fuzz.XXXXXX)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"

export DEBUG=false
export SECRET_KEY="fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export DATABASE_URL=${DATABASE_URL:-sqlite:///$WORK/fuzz.sqlite3}
export AUTH_RATE_LIMIT=100000/min
export ALLOWED_HOSTS=127.0.0.1,localhost

cleanup() {
  [ -n "${GUNICORN_PID:-}" ] && kill "$GUNICORN_PID" 2>/dev/null && wait "$GUNICORN_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$PY" manage.py migrate --noinput -v0
"$VENV/bin/gunicorn" project.wsgi:application --workers 2 --bind "127.0.0.1:$PORT" \
  --log-level warning --error-logfile "$WORK/gunicorn.log" &
GUNICORN_PID=$!
for _ in $(seq 50); do curl -fs "$BASE/up" >/dev/null 2>&1 && break; sleep 0.2; done

ACCESS=$("$PY" - "$BASE" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
creds = {"username": "fuzzer", "password": "fuzz-Passw0rd-long"}
post("/api/users/register/", {**creds, "email": "fuzzer@example.com",
                              "password_confirm": creds["password"]})
token = post("/api/token/", creds)["access"]
auth = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
# Budgets, a category, a transfer and a spending limit, so that ids 1 (and budget 2)
# exist and links have something to find.
budget = {"date": "2026-01-01", "initial_amount": "10"}
for path, body in (("/api/budgets/", {**budget, "title": "Fuzz"}),
                   ("/api/budgets/", {**budget, "title": "Fuzz 2"}),
                   ("/api/categories/", {"name": "Fuzz"}),
                   ("/api/transfers/", {"from_budget": 1, "to_budget": 2, "amount": "1",
                                        "date": "2026-01-02"}),
                   ("/api/budgets/1/limits/", {"category": 1, "month": "2026-01",
                                               "amount": "5"})):
    urllib.request.urlopen(urllib.request.Request(base + path, json.dumps(body).encode(), auth))
print(token)
PY
)

echo "-- schemathesis against $BASE (seed ${FUZZ_SEED:-20261121}, ${FUZZ_EXAMPLES:-100} examples per operation)"
status=0
"$VENV/bin/schemathesis" --config-file .ci/schemathesis.toml run "$BASE/api/openapi.json" \
  --header "Authorization: Bearer $ACCESS" \
  --checks all \
  --max-examples "${FUZZ_EXAMPLES:-100}" \
  --seed "${FUZZ_SEED:-20261121}" \
  --generation-database none \
  --request-timeout 20 \
  --no-color \
  --report junit --report-dir "$WORK/report" || status=$?
if grep -q "Traceback\|Internal Server Error" "$WORK/gunicorn.log"; then
  echo "FAIL: the server logged errors:" >&2
  cat "$WORK/gunicorn.log" >&2
  status=1
fi
exit $status
