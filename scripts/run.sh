#!/usr/bin/env bash
# Runs Casewire locally: installs what is missing, builds the console, starts the servers, the five
# services and the gateway, loads the demo data, and prints the console's and the gateway's URLs and
# development tokens.
# Stop everything with: scripts/stop.sh
set -euo pipefail
COMPONENT=run
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

scripts/python.sh
scripts/console.sh build
scripts/servers.sh up
scripts/services.sh start
GATEWAY="http://127.0.0.1:${GATEWAY_PORT:-8080}"
.venv/bin/casewire demo --gateway "$GATEWAY"
cat <<INFO

Casewire is running.
  Console:        $GATEWAY/console/   (development sign-in: pick a user and a role)
  Gateway:        $GATEWAY   (API docs: $GATEWAY/api/v1/docs)
  Analyst token:  $(.venv/bin/casewire token --sub analyst1 --roles analyst --agency TX0000000 --unit rtcc)
  Auditor token:  $(.venv/bin/casewire token --sub auditor1 --roles auditor --agency TX0000000)

Try (a plate search is an ALPR query: it needs a stated purpose, C25):
  TOKEN=\$(.venv/bin/casewire token --sub analyst1 --roles analyst --agency TX0000000 --unit rtcc)
  curl -H "Authorization: Bearer \$TOKEN" -H "X-Purpose: burglary series" "$GATEWAY/api/v1/search/plates?plate=KGT44%3F1"
Stop it with: scripts/stop.sh
INFO
