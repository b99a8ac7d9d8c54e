#!/usr/bin/env bash
# Opens a round for a whole company (100,000 people by default) while answers,
# page loads, admin edits, /healthz and heavy reports keep hitting the same
# server, and fails on any 5xx, 408 or dropped request (issue 14, "Done when").
#
#   tests/load/open_while_serving.sh [--people N] [--postgres postgres://user@host:port]
#
# Without --postgres (or PULSE_LOAD_POSTGRES) it runs on a SQLite file in a
# temporary directory; with it, on a fresh database created on that server and
# dropped afterwards. Needs bash, python3, cargo, and postfix's smtp-sink.
# Exit status: 0 when every request got the answer it should, 1 otherwise.
set -euo pipefail

PEOPLE=100000
PG_SERVER="${PULSE_LOAD_POSTGRES:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --people) PEOPLE="$2"; shift 2 ;;
        --postgres) PG_SERVER="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DRIVER="$HERE/open_while_serving.py"
SMTP_SINK="${SMTP_SINK:-/usr/sbin/smtp-sink}"
[ -x "$SMTP_SINK" ] || { echo "needs postfix's smtp-sink at $SMTP_SINK" >&2; exit 2; }

# The build is niced so that a developer's machine stays usable; the load run
# itself is not, since its figures are the point.
(cd "$ROOT" && nice -n 10 cargo build --release --quiet)
PULSE="${CARGO_TARGET_DIR:-$ROOT/target}/release/pulse"

WORK="$(mktemp -d)"
# smtp-sink drops root privileges to `nobody`, which must reach its dump file.
chmod 711 "$WORK"
mkdir -m 777 "$WORK/sink"
SINK_PID="" SERVE_PID="" PG_DB=""
cleanup() {
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null || true
    if [ -n "$PG_DB" ]; then
        psql -q "$PG_SERVER/postgres" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null || true
    fi
    # The sink's dump is most of a gigabyte at 100,000 people.
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "$PG_SERVER" ]; then
    PG_SERVER="${PG_SERVER%/}"
    PG_DB="pulse_load_$$"
    psql -q "$PG_SERVER/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
    export DATABASE_URL="$PG_SERVER/$PG_DB"
    ENGINE="PostgreSQL ($(psql -tA "$DATABASE_URL" -c 'SHOW server_version' | cut -d' ' -f1))"
else
    export DATABASE_URL="$WORK/pulse.db"
    ENGINE="SQLite"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP_PORT="$(free_port)"
SMTP_PORT="$(free_port)"
ADMIN_EMAIL="load-admin@example.com"
ADMIN_PASSWORD="load-test-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"

echo "== $ENGINE, $PEOPLE people, $(date -u +%Y-%m-%dT%H:%MZ), work dir $WORK"

python3 "$DRIVER" make-csv --people "$PEOPLE" > "$WORK/people.csv"
T0=$(date +%s.%N)
"$PULSE" import "$WORK/people.csv" 2>/dev/null
IMPORT_SECONDS=$(python3 -c "print(f'{$(date +%s.%N) - $T0:.1f}')")
echo "imported $PEOPLE people in ${IMPORT_SECONDS} s"
PULSE_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$PULSE" admin create --email "$ADMIN_EMAIL" --name "Load Admin" >/dev/null

# -c keeps a running count of messages on stdout (how far delivery is); -D
# appends every message to one file, where the answer links are read from.
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
"$SMTP_SINK" -c "${SINK_USER[@]}" -D "$WORK/sink/dump" "127.0.0.1:$SMTP_PORT" 1000 \
    > "$WORK/sink/count" 2>"$WORK/sink/log" &
SINK_PID=$!

PULSE_BIND="127.0.0.1:$HTTP_PORT" PULSE_BASE_URL="http://127.0.0.1:$HTTP_PORT" \
    SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" PULSE_SECRET="$ADMIN_PASSWORD-secret" \
    RUST_LOG="${RUST_LOG:-warn}" "$PULSE" serve > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!

STATUS=0
python3 "$DRIVER" run \
    --base "http://127.0.0.1:$HTTP_PORT" --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD" \
    --sink-dump "$WORK/sink/dump" --sink-count "$WORK/sink/count" \
    --server-pid "$SERVE_PID" --server-log "$WORK/serve.log" || STATUS=$?
exit "$STATUS"
