"""Keycloak for tests/e2e/test_oidc_provider.py, started in the background as soon as the session knows
those tests will run (tests/e2e/conftest.py), so its start overlaps the tests before them.

``start()`` is idempotent; ``wait()`` returns once the realm answers (or fails the test), ``stop()``
stops only a Keycloak this session started.
"""

import os
import subprocess

import pytest

from tests.e2e.conftest import GATEWAY_PORT, REPO

KEYCLOAK_PORT = int(os.environ.get("KEYCLOAK_PORT", GATEWAY_PORT + 2))
KEYCLOAK = f"http://127.0.0.1:{KEYCLOAK_PORT}"
SCRIPT = str(REPO / "scripts" / "keycloak.sh")
_state: dict = {}  # "process": the background `keycloak.sh start`, once begun; "ours": this session started it


def keycloak_env() -> dict:
    return {
        **os.environ,
        "KEYCLOAK_PORT": str(KEYCLOAK_PORT),
        "KEYCLOAK_MANAGEMENT_PORT": os.environ.get("KEYCLOAK_MANAGEMENT_PORT", str(GATEWAY_PORT + 3)),
    }


def start() -> None:
    """Begin ``scripts/keycloak.sh start`` in the background, unless begun or a Keycloak already answers."""
    if "ours" in _state:
        return
    running = subprocess.run([SCRIPT, "status"], env=keycloak_env(), capture_output=True).returncode == 0
    _state["ours"] = not running
    if not running:
        _state["process"] = subprocess.Popen(
            [SCRIPT, "start"], env=keycloak_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )


def wait() -> str:
    """Keycloak's URL once its realm answers."""
    start()
    process = _state.get("process")
    if process is not None:
        _, stderr = process.communicate(timeout=900)
        if process.returncode != 0:
            pytest.fail(f"Keycloak did not start:\n{stderr[-4000:]}", pytrace=False)
    return KEYCLOAK


def stop() -> None:
    """Stop the Keycloak this session started (waiting for its start to end first); leave any other."""
    process = _state.pop("process", None)
    if process is not None and process.poll() is None:
        process.communicate(timeout=900)
    if _state.pop("ours", False):
        subprocess.run([SCRIPT, "stop"], env=keycloak_env(), capture_output=True, timeout=120)
