#!/usr/bin/env bash
# Runs the whole test suite against real servers. Starts the servers that are not running and
# stops, at the end, the ones it started. Extra arguments go to pytest (e.g. tests/unit -k plate).
set -euo pipefail
COMPONENT=test
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

scripts/python.sh
# A whole run needs the deployment checks' tools (tests/deploy): built and installed meanwhile, as the
# servers start; the deploy tests' fixture runs the same idempotent script and reports its failure.
if [ "$#" -eq 0 ]; then
  tools_log="$(mktemp)"
  scripts/deploy-tools.sh >"$tools_log" 2>&1 &
  tools_pid=$!
fi
started=()
stop_started() {
  CASEWIRE_RUN="$CASEWIRE_STATE/test-run-${CASEWIRE_E2E_PORT:-18080}" scripts/services.sh stop >/dev/null 2>&1 || true
  for server in "${started[@]}"; do "scripts/$server.sh" stop || true; done
}
trap stop_started EXIT
declare -A PORTS=([rabbitmq]="${RABBITMQ_PORT:-5672}" [ferretdb]="${FERRETDB_PORT:-27017}" [elasticsearch]="${ES_PORT:-9200}")
for server in rabbitmq ferretdb elasticsearch; do
  if ! "scripts/$server.sh" status >/dev/null 2>&1; then
    # A slow health check can call a running server down, and another checkout's run may share the
    # servers: stop at the end only a server whose port was closed before this run started it.
    port_open 127.0.0.1 "${PORTS[$server]}" && was_open=1 || was_open=0
    output="$("scripts/$server.sh" start 2>&1)"
    echo "$output" >&2
    [ "$was_open" = 1 ] || grep -q "already running" <<<"$output" || started+=("$server")
  fi
done
scripts/rabbitmq.sh fresh_vhost "${CASEWIRE_TEST_VHOST:-casewire-test}"
scripts/rabbitmq.sh fresh_vhost "${CASEWIRE_TEST_VHOST:-casewire-test}-e2e"
.venv/bin/ruff check casewire casewire_cli services gateway tests bench
.venv/bin/ruff format --check casewire casewire_cli services gateway tests bench
scripts/client.sh build  # npm ci when the lock changed, then tsc: the TypeScript client type-checks
[ -z "${tools_pid:-}" ] || wait "$tools_pid" || tail -n 20 "$tools_log" >&2
.venv/bin/pytest "$@"
