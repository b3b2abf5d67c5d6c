#!/usr/bin/env bash
# The example project in SDK-suite mode (BACKEND_KIT_CONFORMANCE=sdk) on 127.0.0.1:1337,
# for the Parse JS SDK integration suite run from outside (../shared/sdksuite).
#
#   sdksuite_server.sh start    fresh PostgreSQL database + Redis db, migrate, serve
#   KEEP_DB=1 sdksuite_server.sh start    restart on the existing data
#   sdksuite_server.sh stop     stop the server started here (by its PID)
#
# The suite's reconfigureServer() hook (README "reconfigureServer"); run.sh works in the
# suite's directory, so name this script by its absolute path:
#   SDKSUITE_RESTART_CMD="KEEP_DB=1 $PWD/tests/live/sdksuite_server.sh start >/dev/null"
#   SDKSUITE_STOP_CMD="$PWD/tests/live/sdksuite_server.sh stop >/dev/null"
# SDKSUITE_OVERRIDES (a JSON object of Parse Server options such as
# {"allowCustomObjectId":true}) reaches the project as BACKEND_KIT_SDK_OVERRIDES;
# example_project/conformance.py maps each option to its setting.
#
# Environment: SDK_DB_NAME (bk_sdksuite), SDK_REDIS_DB (7), SDK_PORT (1337),
# SDK_WORKERS (2), SDK_LOG (/tmp/sdk_server.log), SDK_PID_FILE (/tmp/sdk_server.pid).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
DB="${SDK_DB_NAME:-bk_sdksuite}"
REDIS_DB="${SDK_REDIS_DB:-7}"
PORT="${SDK_PORT:-1337}"
WORKERS="${SDK_WORKERS:-2}"
LOG="${SDK_LOG:-/tmp/sdk_server.log}"
PID_FILE="${SDK_PID_FILE:-/tmp/sdk_server.pid}"
APP="example_project.asgi:application"

server_pid() {
  # the PID this script recorded, else the uvicorn of this project listening on the port
  if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    cat "$PID_FILE"
    return
  fi
  local pid
  for pid in $(ss -ltnpH "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "uvicorn $APP"; then
      # a worker's parent is the uvicorn supervisor: stop that one
      local parent
      parent="$(ps -o ppid= -p "$pid" | tr -d ' ')"
      if tr '\0' ' ' <"/proc/$parent/cmdline" 2>/dev/null | grep -q "uvicorn $APP"; then
        pid="$parent"
      fi
      echo "$pid"
      return
    fi
  done
}

port_busy() { [ -n "$(ss -ltnH "sport = :$PORT" 2>/dev/null)" ]; }

stop() {
  local pid
  pid="$(server_pid || true)"
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  for _ in $(seq 1 50); do
    port_busy || break
    sleep 0.2
  done
  rm -f "$PID_FILE"
}

start() {
  stop
  cd "$ROOT"
  export BACKEND_KIT_CONFORMANCE=sdk DEBUG=0
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
  export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
  export BACKEND_KIT_SDK_OVERRIDES="${SDKSUITE_OVERRIDES:-}"
  if [ "${KEEP_DB:-0}" != "1" ]; then
    psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" postgres
    redis-cli -n "$REDIS_DB" flushdb >/dev/null
    : >"$LOG"
    "$PY" manage.py migrate -v0
  fi
  nohup "$(dirname "$PY")/uvicorn" "$APP" --host 127.0.0.1 --port "$PORT" \
    --workers "$WORKERS" --log-level warning --timeout-graceful-shutdown 2 \
    >>"$LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 150); do
    if curl -sf "http://127.0.0.1:$PORT/parse/health" >/dev/null; then
      return 0
    fi
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break
    sleep 0.2
  done
  echo "the server did not come up; see $LOG" >&2
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
