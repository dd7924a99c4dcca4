#!/usr/bin/env bash
# Fuzz every operation from the app's own OpenAPI schema with Schemathesis, against the
# app served by gunicorn with DEBUG off, authenticated with a real token
# (.ci/checks/fuzz.py does the work).
# Env: VENV (default .venv), DATABASE_URL (default: a temporary SQLite file),
#      FUZZ_EXAMPLES (default 100), FUZZ_SEED (default 20261121).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHONPATH="$ROOT" exec "${VENV:-.venv}/bin/python" .ci/checks/fuzz.py
