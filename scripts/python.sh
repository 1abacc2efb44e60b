#!/usr/bin/env bash
# The project's virtualenv in .venv, with every dependency pinned by requirements.txt.
# Usage: scripts/python.sh   (idempotent: reinstalls only when requirements.txt or pyproject.toml change)
set -euo pipefail
COMPONENT=python
source "$(dirname "$0")/lib.sh"

VENV="$REPO_ROOT/.venv"
STAMP="$VENV/.casewire-installed"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || die "Python 3.11 is required"

# Debian splits venv's ensurepip into python3.11-venv; a Python built from source has it already.
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import ensurepip' 2>/dev/null || apt_install python3.11-venv
  "$PYTHON" -m venv "$VENV"
fi
want="$(cat "$REPO_ROOT/requirements.txt" "$REPO_ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  log "installing Python dependencies into .venv"
  "$VENV/bin/pip" install -q -r "$REPO_ROOT/requirements.txt"
  "$VENV/bin/pip" install -q --no-deps -e "$REPO_ROOT[test]"
  echo "$want" > "$STAMP"
fi
