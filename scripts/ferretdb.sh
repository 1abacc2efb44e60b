#!/usr/bin/env bash
# FerretDB 1.24 (MongoDB wire protocol), the local stand-in for MongoDB, on its PostgreSQL backend
# (a private PostgreSQL cluster from Debian's packages, on loopback), or on SQLite with
# FERRETDB_BACKEND=sqlite. PostgreSQL is the default: FerretDB pushes filters down to it and it takes
# concurrent writers, where the SQLite backend scans whole collections (measured about ten times
# slower on a 20,000-alert list).
# Usage: scripts/ferretdb.sh install|start|stop|status
set -euo pipefail
COMPONENT=ferretdb
source "$(dirname "$0")/lib.sh"

VERSION="v1.24.2"
PORT="${FERRETDB_PORT:-27017}"
HERE="$CASEWIRE_STATE/ferretdb"
BIN="$HERE/bin/ferretdb-$VERSION"
PIDFILE="$HERE/ferretdb.pid"
BACKEND="${FERRETDB_BACKEND:-postgresql}"
PG_PORT="${FERRETDB_PG_PORT:-5433}"
PG_DATA="$HERE/postgres"
PG_RUN="$HERE/postgres-run"
# FerretDB 1.24 keeps an update's query open (one PostgreSQL connection) while it takes a second
# connection for the write, and its pool holds 50 by default: ~50 concurrent updates then wait for
# each other forever. A pool well above the services' concurrent operations (and a cluster that
# admits it) keeps that from happening; see docs/local-servers.md, "FerretDB and MongoDB".
POOL="${FERRETDB_PG_POOL:-200}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_up() { as_pg "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

start_postgres() {
  [ -n "$(pg_bin)" ] || apt_install postgresql
  local bin; bin="$(pg_bin)"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    mkdir -p "$PG_DATA" "$PG_RUN"
    [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DATA" "$PG_RUN"
    as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 >/dev/null
  fi
  if ! pg_up; then
    port_open 127.0.0.1 "$PG_PORT" && die "port $PG_PORT is taken by another process"
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/postgres.log" -w -t 60 start \
      -o "-p $PG_PORT -k $PG_RUN -c listen_addresses=127.0.0.1 -c max_connections=$((POOL + 50))" >/dev/null
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'" | grep -q 1 \
    || as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres ferretdb
  # The indexes FerretDB creates, in a form its queries can use (see the file).
  as_pg env PGOPTIONS="-c client_min_messages=warning" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" \
    -U postgres -d ferretdb -v ON_ERROR_STOP=1 -q -f - <"$REPO_ROOT/scripts/ferretdb-indexes.sql" >/dev/null
}

stop_postgres() {
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && log "PostgreSQL stopped"
}

backend_flags() {
  if [ "$BACKEND" = "postgresql" ]; then
    echo "--handler=postgresql --postgresql-url=postgres://postgres@127.0.0.1:$PG_PORT/ferretdb?pool_max_conns=$POOL"
  else
    echo "--handler=sqlite --sqlite-url=file:$HERE/data/"
  fi
}

install() {
  [ -x "$BIN" ] && return 0
  # Not installed from Debian: FerretDB 1.24 needs Go 1.24, Debian 12's golang-go is 1.19.
  command -v go >/dev/null || die "Go 1.24 or newer is needed to build FerretDB (https://go.dev/doc/install)"
  log "building FerretDB $VERSION from the Go module proxy"
  local src work
  src="$(go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  work="$(mktemp -d)"
  cp -r "$src/." "$work"
  chmod -R u+w "$work"
  # A module download lacks the generated version file that `go install` builds would panic on.
  echo "$VERSION" > "$work/build/version/version.txt"
  mkdir -p "$HERE/bin"
  (cd "$work" && go build -buildvcs=false -trimpath -o "$BIN" ./cmd/ferretdb)
  rm -rf "$work"
}

healthy() {
  # A raw OP_MSG {ping: 1, $db: "admin"}, so this check needs no driver.
  python3 - "$PORT" <<'PY' 2>/dev/null
import socket, struct, sys
bson = b"\x10ping\x00" + struct.pack("<i", 1) + b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00\x00"
bson = struct.pack("<i", len(bson) + 4) + bson
msg = struct.pack("<I", 0) + b"\x00" + bson
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(struct.pack("<iiii", 16 + len(msg), 1, 0, 2013) + msg)
sys.exit(0 if b"ok" in s.recv(4096) else 1)
PY
}

# Stops the wait early when the server process has died.
up_or_dead() { ! pid_alive "$PIDFILE" || healthy; }

start() {
  install
  if healthy; then log "already running on 127.0.0.1:$PORT"; return 0; fi
  port_open 127.0.0.1 "$PORT" && die "port $PORT is taken by another process"
  mkdir -p "$HERE/data" "$HERE/state"
  [ "$BACKEND" = "postgresql" ] && start_postgres
  log "starting on 127.0.0.1:$PORT ($BACKEND backend)"
  # shellcheck disable=SC2046
  nohup "$BIN" $(backend_flags) --state-dir="$HERE/state" \
    --listen-addr="127.0.0.1:$PORT" --debug-addr="${FERRETDB_DEBUG_ADDR:-127.0.0.1:8088}" \
    --telemetry=disable --log-level=warn >"$HERE/ferretdb.log" 2>&1 &
  echo $! > "$PIDFILE"
  if ! wait_until 60 "FerretDB" up_or_dead || ! pid_alive "$PIDFILE"; then
    tail -n 40 "$HERE/ferretdb.log" >&2
    exit 1
  fi
  log "ready"
}

stop() {
  stop_pidfile "$PIDFILE" FerretDB
  stop_postgres
}

status() { healthy; }

"${1:?usage: $0 install|start|stop|status}"
