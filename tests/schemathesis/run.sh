#!/usr/bin/env bash
# Runs schemathesis against `pulse serve` holding a demo company, on SQLite and on
# PostgreSQL, with a fixed seed and a time cap. Fails on any server error, any status
# code the OpenAPI document does not declare, or any response that violates its schema.
#
#   tests/schemathesis/run.sh [seconds per engine, default 240]
#
# Needs: target/debug/pulse (cargo build), `st` (pip install schemathesis), and for
# PostgreSQL a server on 127.0.0.1:5432 (trust auth, user postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUDGET="${1:-240}"
PULSE="${PULSE_BIN:-target/debug/pulse}"
PASSWORD="schemathesis-password"
WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_engine() {
  local engine="$1" url="$2"
  local port; port="$(free_port)"
  local base="http://127.0.0.1:$port"
  echo "== schemathesis on $engine"
  DATABASE_URL="$url" PULSE_ADMIN_PASSWORD="$PASSWORD" "$PULSE" demo --employees 60 --weeks 6 >/dev/null
  DATABASE_URL="$url" PULSE_BIND="127.0.0.1:$port" PULSE_BASE_URL="$base" \
    PULSE_MAIL_DIR="$WORK/mail-$engine" RUST_LOG=warn "$PULSE" serve >"$WORK/serve-$engine.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  local token
  token="$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"hr@demo.pulse.example\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')"
  # Signing out would end the session the run uses for every other operation.
  local status=0
  st run "$base/api/v1/openapi.json" --url "$base" \
    -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --exclude-path /api/v1/auth/logout \
    --seed 42 --max-examples 20 --max-time "$BUDGET" --workers 1 --no-color \
    | tee "$WORK/st-$engine.txt" || status=$?
  local cases
  cases="$(grep -Eo '[0-9]+ generated' "$WORK/st-$engine.txt" | tail -1 | grep -Eo '[0-9]+' || echo 0)"
  TOTAL=$(( TOTAL + cases ))
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
  if [ "$status" -ne 0 ]; then
    echo "schemathesis found failures on $engine; the server's log:"
    grep -E "ERROR|panicked" "$WORK/serve-$engine.log" | head -20 || true
    return "$status"
  fi
}

TOTAL=0
run_engine sqlite "$WORK/pulse.db"
if [ -n "${SCHEMATHESIS_PG_URL:-}" ]; then
  run_engine postgres "$SCHEMATHESIS_PG_URL"
fi
echo "schemathesis: $TOTAL passed, 0 failed"
