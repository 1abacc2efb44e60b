#!/usr/bin/env bash
# Local single-node Elasticsearch for Casewire (loopback only).
#
# Elasticsearch 8.19 is run from Maven Central artifacts by tools/es-launcher (no distribution tarball).
#
#   scripts/elasticsearch.sh install   build the launcher (only if pom/sources changed or output is missing)
#   scripts/elasticsearch.sh start     install if needed, start in background, wait for yellow/green
#   scripts/elasticsearch.sh stop      stop the node started by `start` (pid file)
#   scripts/elasticsearch.sh status    exit 0 iff http://127.0.0.1:$ES_PORT answers cluster health yellow/green
#   scripts/elasticsearch.sh logs      tail the node log
#
# Environment:
#   CASEWIRE_STATE     state root (default: <repo>/.state); ES uses $CASEWIRE_STATE/elasticsearch/{data,logs,...}
#   ES_PORT            HTTP port (default 9200); ES_TRANSPORT_PORT (default 9300-9399)
#   ES_JAVA_OPTS       extra JVM options, appended after the defaults (e.g. "-Xmx2g")
#   ES_JAVA_HOME       JDK to use (default: $JAVA_HOME, else `java` on PATH); needs Java 17+
#   ES_START_TIMEOUT   seconds to wait for health on start (default 180)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPONENT=elasticsearch
source "$SCRIPT_DIR/lib.sh"  # apt_install
REPO_ROOT="$(dirname "$SCRIPT_DIR")"
LAUNCHER_DIR="$REPO_ROOT/tools/es-launcher"
TARGET_DIR="$LAUNCHER_DIR/target"
STAMP_FILE="$TARGET_DIR/.casewire-build-stamp"

CASEWIRE_STATE="${CASEWIRE_STATE:-$REPO_ROOT/.state}"
ES_HOME="$CASEWIRE_STATE/elasticsearch"
PID_FILE="$ES_HOME/es.pid"
LOG_DIR="$ES_HOME/logs"
ES_PORT="${ES_PORT:-9200}"
ES_START_TIMEOUT="${ES_START_TIMEOUT:-180}"
HEALTH_URL="http://127.0.0.1:${ES_PORT}/_cluster/health?wait_for_status=yellow&timeout=1s"

log() { echo "elasticsearch.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

java_bin() {
  local home="${ES_JAVA_HOME:-${JAVA_HOME:-}}"
  if [[ -n "$home" && -x "$home/bin/java" ]]; then
    echo "$home/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "no java found (set ES_JAVA_HOME or JAVA_HOME; Java 17+ required)"
  fi
}

# Fingerprint of everything that affects the build output.
source_fingerprint() {
  (cd "$LAUNCHER_DIR" && find pom.xml src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

is_built() {
  [[ -f "$TARGET_DIR/es-launcher.jar" && -d "$TARGET_DIR/lib" && -f "$STAMP_FILE" ]] \
    && [[ "$(cat "$STAMP_FILE")" == "$(source_fingerprint)" ]]
}

cmd_install() {
  # Debian's packages when missing: curl (the health check), Maven (builds tools/es-launcher) and, with
  # no JDK named by ES_JAVA_HOME or JAVA_HOME nor on PATH, Java 17.
  command -v curl >/dev/null 2>&1 || apt_install curl
  command -v mvn >/dev/null 2>&1 || apt_install maven
  [[ -n "${ES_JAVA_HOME:-${JAVA_HOME:-}}" ]] || command -v java >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless
  command -v mvn >/dev/null 2>&1 || die "maven (mvn) is required to build tools/es-launcher"
  mkdir -p "$ES_HOME"
  # Serialize concurrent installs (e.g. parallel test runners calling `start`).
  exec 9>"$ES_HOME/.install.lock"
  flock 9
  if is_built; then
    flock -u 9
    return 0
  fi
  log "building tools/es-launcher (first run downloads Elasticsearch from Maven Central)..."
  local fp
  fp="$(source_fingerprint)"
  rm -rf "$TARGET_DIR/lib"   # drop jars of a previous version
  if ! mvn -B -q -Dstyle.color=never -f "$LAUNCHER_DIR/pom.xml" package; then
    flock -u 9
    die "maven build of tools/es-launcher failed"
  fi
  echo "$fp" > "$STAMP_FILE"
  flock -u 9
  log "launcher built: $TARGET_DIR/es-launcher.jar"
}

is_healthy() {
  local body
  body="$(curl -fsS --max-time 5 "$HEALTH_URL" 2>/dev/null)" || return 1
  [[ "$body" == *'"timed_out":false'* ]] && [[ "$body" == *'"status":"green"'* || "$body" == *'"status":"yellow"'* ]]
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

show_log_tail() {
  local f
  for f in "$LOG_DIR/stdout.log" "$LOG_DIR/casewire-local.log"; do
    if [[ -s "$f" ]]; then
      echo "----- tail of $f -----" >&2
      tail -n 40 "$f" >&2
    fi
  done
}

cmd_start() {
  if is_healthy; then
    log "already running and healthy on 127.0.0.1:$ES_PORT"
    return 0
  fi
  cmd_install
  mkdir -p "$ES_HOME/data" "$LOG_DIR" "$ES_HOME/tmp"
  local pid
  if pid="$(running_pid)"; then
    log "process $pid from $PID_FILE is alive but not healthy yet; waiting for it"
  else
    local java
    java="$(java_bin)"
    # Defaults mirror the relevant parts of the distribution's jvm.options; ES_JAVA_OPTS comes last and wins.
    local -a opts=(
      -Xms512m -Xmx1g -Xss1m -XX:+UseG1GC
      -Dfile.encoding=UTF-8 -Djava.locale.providers=SPI,CLDR
      -Djava.io.tmpdir="$ES_HOME/tmp"
      -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0
      -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true
    )
    # shellcheck disable=SC2206
    [[ -n "${ES_JAVA_OPTS:-}" ]] && opts+=(${ES_JAVA_OPTS})
    log "starting Elasticsearch on 127.0.0.1:$ES_PORT (home $ES_HOME)"
    ES_PORT="$ES_PORT" nohup "$java" "${opts[@]}" \
      -cp "$TARGET_DIR/es-launcher.jar:$TARGET_DIR/lib/*" \
      casewire.search.LocalElasticsearch "$ES_HOME" "$ES_PORT" \
      </dev/null >"$LOG_DIR/stdout.log" 2>&1 &
    pid=$!
    echo "$pid" > "$PID_FILE"
  fi

  local start=$SECONDS
  while (( SECONDS - start < ES_START_TIMEOUT )); do
    if is_healthy; then
      log "healthy on http://127.0.0.1:$ES_PORT (pid $pid, $((SECONDS - start))s)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      show_log_tail
      die "Elasticsearch process $pid exited during startup"
    fi
    sleep 1
  done
  show_log_tail
  die "Elasticsearch not healthy after ${ES_START_TIMEOUT}s (pid $pid still running; see $LOG_DIR)"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running (no live pid in $PID_FILE)"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; log "stopped"; return 0; }
    sleep 1
  done
  log "pid $pid did not exit after 60s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

cmd_status() {
  is_healthy
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logs) tail -n "${2:-100}" "$LOG_DIR/casewire-local.log" ;;
  *)
    echo "usage: $0 {install|start|stop|status|logs [N]}" >&2
    exit 2
    ;;
esac
