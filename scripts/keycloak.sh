#!/usr/bin/env bash
# A local Keycloak, the OpenID Connect provider the end-to-end tests sign in through (loopback only).
#
# Keycloak's distribution comes from Maven Central (org.keycloak:keycloak-quarkus-dist) and runs in
# development mode (its own H2 database) with the realms of scripts/keycloak/: `casewire` and
# `other-agency` (another issuer), their users, groups (with the agency and unit attributes), roles,
# clients and signing keys (RS256 and ES256). Every start begins from those files: what a test changed
# in a realm (its keys, say) does not outlive the server.
#
#   scripts/keycloak.sh install   download and unpack the distribution (once per version)
#   scripts/keycloak.sh start     install if needed, start in the background, wait until the realm answers
#   scripts/keycloak.sh stop      stop the server started by `start`
#   scripts/keycloak.sh status    exit 0 iff the realm's discovery document answers
#
# Environment: KEYCLOAK_PORT (8180), KEYCLOAK_MANAGEMENT_PORT (9180), KEYCLOAK_STATE (<state>/keycloak),
# KEYCLOAK_START_TIMEOUT (240 s), JAVA_HOME (Java 17 or newer; Debian's openjdk-17 when none is found).
# JAVA_OPTS_APPEND (-XX:TieredStopAtLevel=1) goes to the JVM.
# The bootstrap administrator is admin / admin: a development server on 127.0.0.1, nothing else.
set -euo pipefail
COMPONENT=keycloak
source "$(dirname "$0")/lib.sh"

VERSION=26.7.3
PORT="${KEYCLOAK_PORT:-8180}"
MANAGEMENT_PORT="${KEYCLOAK_MANAGEMENT_PORT:-9180}"
HOME_DIR="${KEYCLOAK_STATE:-$CASEWIRE_STATE/keycloak}"
DIST="$HOME_DIR/keycloak-$VERSION"
PID_FILE="$HOME_DIR/keycloak.pid"
LOG_FILE="$HOME_DIR/keycloak.log"
REALMS="$REPO_ROOT/scripts/keycloak"
DISCOVERY="http://127.0.0.1:$PORT/realms/casewire/.well-known/openid-configuration"

java_home() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME"; return; fi
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"
}

install() {
  [ -x "$DIST/bin/kc.sh" ] && return 0
  command -v mvn >/dev/null 2>&1 || apt_install maven
  command -v unzip >/dev/null 2>&1 || apt_install unzip
  command -v curl >/dev/null 2>&1 || apt_install curl
  mkdir -p "$HOME_DIR"
  log "downloading Keycloak $VERSION from Maven Central"
  mvn -B -q -Dstyle.color=never dependency:copy \
    -Dartifact="org.keycloak:keycloak-quarkus-dist:$VERSION:zip" -DoutputDirectory="$HOME_DIR/download"
  rm -rf "$DIST.partial" && mkdir -p "$DIST.partial"
  unzip -q "$HOME_DIR/download/keycloak-quarkus-dist-$VERSION.zip" -d "$DIST.partial"
  mv "$DIST.partial/keycloak-$VERSION" "$DIST" && rm -rf "$DIST.partial" "$HOME_DIR/download"
}

status() { curl -fsS -o /dev/null "$DISCOVERY" 2>/dev/null; }

start() {
  if status; then log "already running on http://127.0.0.1:$PORT"; return 0; fi
  if pid_alive "$PID_FILE"; then die "process $(cat "$PID_FILE") holds $PID_FILE but does not answer; stop it first"; fi
  install
  rm -rf "$DIST/data" && mkdir -p "$DIST/data/import"  # each start from the realm file, nothing left over
  cp "$REALMS"/*-realm.json "$DIST/data/import/"
  log "starting on http://127.0.0.1:$PORT (a first start builds Keycloak: a minute or two)"
  # A short-lived test server: the client compiler alone (no C2) starts it on about a third less CPU.
  JAVA_HOME="$(java_home)" JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m" \
    JAVA_OPTS_APPEND="${JAVA_OPTS_APPEND:--XX:TieredStopAtLevel=1}" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
    nohup "$DIST/bin/kc.sh" start-dev --import-realm --http-host=127.0.0.1 --http-port="$PORT" \
    --http-management-port="$MANAGEMENT_PORT" --hostname-strict=false --cache=local \
    >"$LOG_FILE" 2>&1 &
  echo $! > "$PID_FILE"
  if ! wait_until "${KEYCLOAK_START_TIMEOUT:-240}" "Keycloak's realm" status; then
    tail -n 40 "$LOG_FILE" >&2
    exit 1
  fi
  log "ready: http://127.0.0.1:$PORT/realms/casewire"
}

stop() { stop_pidfile "$PID_FILE" keycloak; }

"${1:?usage: $0 install|start|stop|status}"
