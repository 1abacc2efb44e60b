#!/usr/bin/env bash
# The RTCC console in console/ (docs/console.md): a Vite build the gateway serves at /console/.
#
#   scripts/console.sh install    npm ci when package-lock.json changed or node_modules is missing
#   scripts/console.sh build      install, then type-check and build console/dist (skipped when nothing changed)
#   scripts/console.sh size       the shipped JavaScript and CSS, gzipped, against the 500 KB budget
#                                 (every build checks it: a build above the budget fails)
#   scripts/console.sh browser    Debian's Chromium for the browser tests (tests/e2e/test_console.py)
#   scripts/console.sh measure    the first load of /console/ on a running gateway (GATEWAY_URL,
#                                 default http://127.0.0.1:8080), median and worst of 5 fresh profiles
#
# Node.js and npm come from Debian's packages when missing; the packages from the npm registry, pinned
# by package-lock.json. The console compiles the typed client's sources (clients/typescript/src).
set -euo pipefail
COMPONENT=console
source "$(dirname "$0")/lib.sh"
CONSOLE="$REPO_ROOT/console"
BUILT="$CONSOLE/dist/.casewire-built"

install() { npm_install "$CONSOLE" "the console's"; }

# What the build is made of: a build from the same sources is not repeated.
sources_hash() {
  (cd "$REPO_ROOT" && find console/src console/index.html console/vite.config.ts console/tsconfig.json \
    console/package-lock.json clients/typescript/src clients/typescript/openapi.json -type f -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

build() {
  install
  local want
  want="$(sources_hash)"
  if [ "$(cat "$BUILT" 2>/dev/null)" = "$want" ]; then return 0; fi
  log "building the console (tsc, vite build)"
  (cd "$CONSOLE" && npm run --silent build -- --logLevel warn)
  node "$CONSOLE/scripts/size.mjs" >/dev/null
  echo "$want" > "$BUILT"
}

size() {
  build
  node "$CONSOLE/scripts/size.mjs"
}

browser() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

measure() {
  build
  browser
  CASEWIRE_URL="${GATEWAY_URL:-http://127.0.0.1:8080}" node "$CONSOLE/e2e/measure.mjs" 5
}

"${1:?usage: $0 install|build|size|browser|measure}"
