#!/usr/bin/env bash
# Stops what scripts/run.sh started: the gateway, the services and the three servers.
set -euo pipefail
cd "$(dirname "$0")"
./services.sh stop
./servers.sh down
