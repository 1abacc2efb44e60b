#!/usr/bin/env bash
# The TypeScript client in clients/typescript, generated from the gateway's OpenAPI document.
#
#   scripts/client.sh install    npm ci when package-lock.json changed or node_modules is missing
#   scripts/client.sh generate   write openapi.json as the gateway serves it, generate src/schema.d.ts, build
#   scripts/client.sh build      type-check and compile to dist/ (tsc)
#
# Node.js and npm come from Debian's packages when missing; the packages from the npm registry, pinned
# by package-lock.json.
set -euo pipefail
COMPONENT=client
source "$(dirname "$0")/lib.sh"
CLIENT="$REPO_ROOT/clients/typescript"

install() { npm_install "$CLIENT" "the client's"; }

build() {
  install
  (cd "$CLIENT" && npx tsc)
}

generate() {
  install
  "$REPO_ROOT/scripts/python.sh"
  CASEWIRE_DEV_MODE=1 "$REPO_ROOT/.venv/bin/python" -m gateway.openapi > "$CLIENT/openapi.json.new"
  mv "$CLIENT/openapi.json.new" "$CLIENT/openapi.json"
  (cd "$CLIENT" && npm run --silent generate)
  build
  log "generated from the gateway's document: $CLIENT/openapi.json, src/schema.d.ts"
}

"${1:?usage: $0 install|generate|build}"
