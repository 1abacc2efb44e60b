"""/readyz is 200 with everything up and 503 naming the part that is down."""

import subprocess
import time
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def wait_ready(gateway, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway.get("/readyz", roles=()).status_code == 200:
            return
        time.sleep(0.5)
    pytest.fail(f"not ready again: {gateway.get('/readyz', roles=()).text}")


def test_ready_when_everything_is_up(gateway):
    response = gateway.get("/readyz", roles=())
    assert response.status_code == 200, response.text
    assert set(response.json()["checks"]) == {
        "rabbitmq",
        "mongodb",
        "elasticsearch",
        "intake",
        "entities",
        "search",
        "cases",
        "audit",
    }


@pytest.mark.parametrize(
    "server,name", [("ferretdb", "mongodb"), ("elasticsearch", "elasticsearch"), ("rabbitmq", "rabbitmq")]
)
def test_not_ready_names_the_stopped_server(gateway, server, name):
    subprocess.run([SCRIPTS / f"{server}.sh", "stop"], check=True, capture_output=True)
    try:
        response = gateway.get("/readyz", roles=())
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert name in response.json()["failed"]
    finally:
        subprocess.run([SCRIPTS / f"{server}.sh", "start"], check=True, capture_output=True)
    wait_ready(gateway)
