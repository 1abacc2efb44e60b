#!/usr/bin/env bash
# FerretDB 1.24 (MongoDB wire protocol) on its SQLite backend, the local stand-in for MongoDB.
# Usage: scripts/ferretdb.sh install|start|stop|status
set -euo pipefail
COMPONENT=ferretdb
source "$(dirname "$0")/lib.sh"

VERSION="v1.24.2"
PORT="${FERRETDB_PORT:-27017}"
HERE="$CASEWIRE_STATE/ferretdb"
BIN="$HERE/bin/ferretdb-$VERSION"
PIDFILE="$HERE/ferretdb.pid"

install() {
  [ -x "$BIN" ] && return 0
  command -v go >/dev/null || die "Go is needed to build FerretDB"
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
  log "starting on 127.0.0.1:$PORT"
  nohup "$BIN" --handler=sqlite --sqlite-url="file:$HERE/data/" --state-dir="$HERE/state" \
    --listen-addr="127.0.0.1:$PORT" --debug-addr="${FERRETDB_DEBUG_ADDR:-127.0.0.1:8088}" \
    --telemetry=disable --log-level=warn >"$HERE/ferretdb.log" 2>&1 &
  echo $! > "$PIDFILE"
  if ! wait_until 60 "FerretDB" up_or_dead || ! pid_alive "$PIDFILE"; then
    tail -n 40 "$HERE/ferretdb.log" >&2
    exit 1
  fi
  log "ready"
}

stop() { stop_pidfile "$PIDFILE" FerretDB; }

status() { healthy; }

"${1:?usage: $0 install|start|stop|status}"
