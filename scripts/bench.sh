#!/usr/bin/env bash
# Runs the benchmarks (bench/) on local servers and writes bench/results/latest.json.
# Usage: scripts/bench.sh [--quick]
set -euo pipefail
COMPONENT=bench
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
scripts/python.sh
scripts/servers.sh up
exec .venv/bin/python -m bench.run "$@"
