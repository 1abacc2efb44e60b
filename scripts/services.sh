#!/usr/bin/env bash
# Casewire's own processes: the five nameko services and the gateway, on loopback.
# Usage: scripts/services.sh start|stop|status
# Environment: GATEWAY_PORT (8080), AMQP_URI, MONGODB_URI, ELASTICSEARCH_URL and the *_DATABASE names;
# READY_SECONDS (90): how long start waits for /readyz before it gives up and prints what is not ready.
set -euo pipefail
COMPONENT=services
source "$(dirname "$0")/lib.sh"

RUN="${CASEWIRE_RUN:-$CASEWIRE_STATE/run}"
SERVICES=(audit entities search intake cases)
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
# Every process here listens on loopback only: development tokens with the public default secret are
# allowed (gateway/auth.py refuses them elsewhere). Set CASEWIRE_DEV_MODE=0 to run as production would.
export CASEWIRE_DEV_MODE="${CASEWIRE_DEV_MODE:-1}"
BIN="$REPO_ROOT/.venv/bin"

start_one() {
  local name="$1"; shift
  if pid_alive "$RUN/$name.pid"; then log "$name already running"; return 0; fi
  nohup "$@" >"$RUN/$name.log" 2>&1 &
  echo $! > "$RUN/$name.pid"
}

gateway_up() { curl -fsS "http://127.0.0.1:$GATEWAY_PORT/healthz" >/dev/null 2>&1; }
all_ready() { curl -fsS "http://127.0.0.1:$GATEWAY_PORT/readyz" >/dev/null 2>&1; }

start() {
  command -v curl >/dev/null 2>&1 || apt_install curl  # the readiness checks below
  mkdir -p "$RUN"
  cd "$REPO_ROOT"
  for s in "${SERVICES[@]}"; do
    start_one "$s" "$BIN/nameko" run --config "services/$s/config.yaml" "services.$s.service"
  done
  start_one gateway "$BIN/gunicorn" --bind "127.0.0.1:$GATEWAY_PORT" --worker-class gthread \
    --threads "${GATEWAY_THREADS:-16}" --workers 1 --timeout 120 "gateway.app:create_app()"
  wait_until 60 "the gateway" gateway_up || { tail -n 30 "$RUN/gateway.log" >&2; exit 1; }
  if ! wait_until "${READY_SECONDS:-90}" "every service to be ready" all_ready; then
    for s in "${SERVICES[@]}" gateway; do echo "--- $s" >&2; tail -n 15 "$RUN/$s.log" >&2; done
    # Last, so that a caller keeping only the tail of this output still sees what was not ready.
    echo "--- /readyz" >&2; curl -sS "http://127.0.0.1:$GATEWAY_PORT/readyz" >&2 || true
    exit 1
  fi
  log "ready: http://127.0.0.1:$GATEWAY_PORT"
}

stop() {
  # All told at once: each takes seconds to finish its work and close its consumers, side by side.
  for s in gateway "${SERVICES[@]}"; do stop_pidfile "$RUN/$s.pid" "$s" & done
  wait
}

status() { all_ready; }

"${1:?usage: $0 start|stop|status}"
