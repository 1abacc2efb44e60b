#!/usr/bin/env bash
# RabbitMQ from Debian's rabbitmq-server package, run as a private node on loopback.
# Usage: scripts/rabbitmq.sh install|start|stop|status
# Environment: RABBITMQ_PORT (5672), RABBITMQ_DIST_PORT (25672), RABBITMQ_NODENAME (casewire@localhost), CASEWIRE_STATE.
set -euo pipefail
COMPONENT=rabbitmq
source "$(dirname "$0")/lib.sh"

PORT="${RABBITMQ_PORT:-5672}"
DIST_PORT="${RABBITMQ_DIST_PORT:-25672}"
HERE="$CASEWIRE_STATE/rabbitmq"
# A private HOME keeps the Erlang cookie next to the node, so rabbitmqctl finds it.
# RABBITMQ_NODENAME lets a second node (e.g. the fault tests' own) run beside the first.
export HOME="$HERE" RABBITMQ_NODENAME="${RABBITMQ_NODENAME:-casewire@localhost}" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$PORT" RABBITMQ_DIST_PORT="$DIST_PORT" ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_MNESIA_BASE="$HERE/mnesia" RABBITMQ_LOG_BASE="$HERE/log"
export RABBITMQ_PID_FILE="$HERE/rabbitmq.pid" RABBITMQ_CONFIG_FILE="$HERE/rabbitmq"
export RABBITMQ_ENABLED_PLUGINS_FILE="$HERE/enabled_plugins"
# Erlang writes a crash dump into the working directory unless told where (rabbitmqctl against a stopped node does).
export ERL_CRASH_DUMP="$HERE/log/erl_crash.dump"
# The scripts in /usr/lib/rabbitmq/bin run as the caller; /usr/sbin ones switch to the rabbitmq user.
export PATH="/usr/lib/rabbitmq/bin:$PATH:/usr/sbin"

install() {
  apt_install rabbitmq-server
  stop_system_node
  mkdir -p "$HERE/mnesia" "$HERE/log"
  # Loopback only; the guest user may then connect (it is refused from other hosts anyway).
  cat > "$HERE/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$PORT
loopback_users = none
log.file.level = warning
CONF
  [ -f "$HERE/enabled_plugins" ] || echo "[]." > "$HERE/enabled_plugins"
}

# Debian's package starts its own system node (rabbit@<host>, user rabbitmq) on 5672 when installed
# and at every boot. Casewire runs its own node in the state folder instead, so the system one is
# stopped and kept from starting again. Idempotent: does nothing once it is stopped and disabled.
stop_system_node() {
  if [ -d /run/systemd/system ]; then
    if systemctl --quiet is-enabled rabbitmq-server 2>/dev/null || systemctl --quiet is-active rabbitmq-server; then
      log "stopping and disabling the system rabbitmq-server (systemd)"
      as_root systemctl disable --now rabbitmq-server >/dev/null 2>&1 || die "could not stop the system rabbitmq-server"
    fi
  elif pgrep -u rabbitmq -f beam >/dev/null 2>&1; then
    # No systemd (a container): the package's init script started it. A clean environment, so the
    # script stops its own node, never this script's (RABBITMQ_NODENAME and friends are exported here).
    log "stopping the system rabbitmq-server (init script)"
    as_root env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin service rabbitmq-server stop >/dev/null 2>&1 \
      || as_root env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin invoke-rc.d rabbitmq-server stop >/dev/null 2>&1 || true
    as_root update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
    wait_until 60 "the system rabbitmq-server to stop" bash -c "! pgrep -u rabbitmq -f beam >/dev/null"
  fi
}

healthy() { rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1; }

# Stops the wait early when the server process has died.
up_or_dead() { ! pid_alive "$HERE/server.pid" || { port_open 127.0.0.1 "$PORT" && healthy; }; }

start() {
  install
  if port_open 127.0.0.1 "$PORT" && healthy; then log "already running on 127.0.0.1:$PORT"; return 0; fi
  # install stopped the Debian package's system node; anything else on the port is not ours to stop.
  if port_open 127.0.0.1 "$PORT"; then die "port $PORT is taken by another process (see: ss -ltnp 'sport = :$PORT')"; fi
  log "starting on 127.0.0.1:$PORT"
  nohup rabbitmq-server >"$HERE/log/console.log" 2>&1 &
  echo $! > "$HERE/server.pid"
  if ! wait_until 120 "RabbitMQ" up_or_dead || ! pid_alive "$HERE/server.pid"; then
    tail -n 40 "$HERE/log/console.log" >&2
    exit 1
  fi
  log "ready"
}

stop() {
  if ! port_open 127.0.0.1 "$PORT"; then log "not running"; return 0; fi
  rabbitmqctl -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || true
  wait_until 60 "RabbitMQ to stop" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null"
  log "stopped"
}

status() { port_open 127.0.0.1 "$PORT" && healthy; }

# fresh_vhost NAME: an empty virtual host (the tests get one each run), guest may use it.
fresh_vhost() {
  local name="${1:?usage: $0 fresh_vhost NAME}"
  rabbitmqctl -q delete_vhost "$name" >/dev/null 2>&1 || true
  rabbitmqctl -q add_vhost "$name" >/dev/null
  rabbitmqctl -q set_permissions -p "$name" guest ".*" ".*" ".*" >/dev/null
}

# queues NAME: the queues of a virtual host that hold messages, one name a line (the tests purge them
# over AMQP: a rabbitmqctl call per queue would start an Erlang VM each time).
queues() {
  rabbitmqctl -q list_queues -p "${1:?usage: $0 queues NAME}" --no-table-headers name messages | awk '$2 > 0 { print $1 }'
}

"${1:?usage: $0 install|start|stop|status|fresh_vhost NAME|queues NAME}" "${@:2}"
