# Shared helpers for the server scripts. Sourced, never run.
# shellcheck shell=bash
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CASEWIRE_STATE="${CASEWIRE_STATE:-$REPO_ROOT/.state}"
export REPO_ROOT CASEWIRE_STATE

log() { printf '[%s] %s\n' "${COMPONENT:-casewire}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# apt_install PKG...: install Debian packages that are missing (root, as on these machines).
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# as_root CMD...: run CMD as root (directly when we are root, as on these machines; else with sudo).
# npm ci in $1 (whose packages are named $2 in the log) when its package-lock.json changed since the
# last install, or node_modules is missing; Node.js and npm from Debian's packages when missing.
npm_install() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  local dir="$1" stamp="$1/node_modules/.casewire-installed" want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing $2 npm packages (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_until SECONDS DESCRIPTION CMD...: poll CMD every half second until it succeeds.
wait_until() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || { log "timed out after ${timeout}s waiting for $what"; return 1; }
    sleep 0.5
  done
}

# pid_alive PIDFILE: true when the process in PIDFILE is running.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile PIDFILE NAME: TERM the process, wait up to 30 s, then KILL.
stop_pidfile() {
  local pidfile="$1" name="$2"
  pid_alive "$pidfile" || { rm -f "$pidfile"; log "$name is not running"; return 0; }
  local pid; pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  wait_until 30 "$name to exit" bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "$name stopped"
}
