"""End-to-end fixtures: the five services and the gateway as real processes, over HTTP."""

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from casewire.config import load_config
from gateway.auth import mint_dev_token
from tests.conftest import TEST_VHOST
from tests.contract import Contract
from tests.polling import eventually
from tests.unit.test_vendor_adapters import CAMERAS

REPO = Path(__file__).resolve().parents[2]
GATEWAY_PORT = int(os.environ.get("CASEWIRE_E2E_PORT", "18080"))
RETENTION_NH = "5s"


class Gateway:
    """A requests session aimed at the test gateway, with tokens for any role. Every JSON answer it gets
    is checked against the gateway's own OpenAPI document (``tests.contract``): a test whose request
    got an answer the document does not describe fails."""

    def __init__(self, url: str, secret: str):
        self.url, self.secret = url, secret
        self.http = requests.Session()
        self.http.hooks["response"].append(Contract(requests.get(f"{url}/api/v1/openapi.json", timeout=60).json()).hook)

    def token(self, *roles: str, sub: str = "tester", agency: str = "TX0000000", unit: str = "rtcc") -> str:
        return mint_dev_token(self.secret, sub, list(roles), agency=agency, unit=unit)

    def request(self, method: str, path: str, roles=("analyst",), token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is None and roles:
            token = self.token(*roles)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)


def stack_env(run_id: str) -> dict:
    env = dict(os.environ)
    env.update(
        # Its own virtual host: integration tests' containers must not compete for its queues.
        AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{TEST_VHOST}-e2e",
        INDEX_PREFIX=f"test-{run_id}-e2e",
        GATEWAY_PORT=str(GATEWAY_PORT),
        CASEWIRE_RUN=str(REPO / ".state" / f"test-run-{GATEWAY_PORT}"),
        RATE_LIMIT_PER_MINUTE="100000",  # the suite is a few fast callers; the limit has its own tests
        RATE_LIMIT_STORE="mongodb",  # as deployed: counted in the gateway's database
        # The matrix opens a stream per permitted role and agency, each held until its keepalive finds
        # the client gone: more threads and slots than one user's gateway needs.
        GATEWAY_THREADS="32",
        STREAM_MAX_CLIENTS="20",
        STREAM_MAX_PER_USER="10",  # tests open one user's streams in quick succession; the limit has its own test
        LOGON_FAILURES_PER_MINUTE="100000",  # the matrix sends hundreds of bad tokens from one address
        TRIAGE_DEADLINES="{social: {low: 1s}}",  # test_outcomes_api: a low social alert is overdue at once
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",  # the tests' webhook receivers
        TALLY_SECONDS="0.5",  # test_outcomes_api: the metrics' tallies follow the records quickly
        VENDOR_CAMERAS=json.dumps(CAMERAS),  # where the vendor tests' cameras stand (JSON is YAML)
        # test_retention: New Hampshire reads are kept a few seconds and swept every second, so the real
        # C19 sweep runs in the stack; no other test stores a New Hampshire agency's reads.
        ALPR_RETENTION_NH=RETENTION_NH,
        ALPR_PURGE_SECONDS="1",
    )
    for service in ("intake", "entities", "cases", "audit", "gateway"):
        env[f"{service.upper()}_DATABASE"] = f"test_{run_id}_e2e_{service}"
    return env


# Package scope: the stack stops after the last e2e test; left running for the rest of the session, its
# timers (sweeps every second, tallies every half second) would take CPU from the tests after it.
@pytest.fixture(scope="package")
def stack(servers, run_id, stopping):
    """Start every service and the gateway; begin their stop after the e2e tests."""
    env = stack_env(run_id)
    script = str(REPO / "scripts" / "services.sh")
    subprocess.run([script, "stop"], env=env, check=False, capture_output=True)
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"the services did not start:\n{started.stderr[-4000:]}", pytrace=False)
    yield env
    stopping.append(subprocess.Popen([script, "stop"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


@pytest.fixture(scope="session")
def stopping(drop_test_data) -> Iterator[list[subprocess.Popen]]:
    """Stops begun in the background (shutting down is waiting: it overlaps the tests after the e2e tests),
    waited for before this run's databases and indices are dropped."""
    begun: list[subprocess.Popen] = []
    yield begun
    for process in begun:
        process.wait(timeout=120)


@contextmanager
def second_gateway(env: dict, port: int, log: Path) -> Iterator[str]:
    """A gateway process on ``port`` beside the stack's (over the same services), configured by ``env``;
    its URL once it answers, stopped after the block."""
    command = [str(REPO / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--worker-class", "gthread", "--threads", "8", "gateway.app:create_app()"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            eventually(lambda: _answers(url), timeout=60)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).ok
    except (requests.ConnectionError, requests.Timeout):  # not listening yet, or starting on a busy machine
        return False


@pytest.fixture(scope="package")
def gateway(stack) -> Gateway:
    secret = load_config(REPO / "gateway" / "config.yaml")["DEV_JWT_SECRET"]
    return Gateway(f"http://127.0.0.1:{GATEWAY_PORT}", secret)


@pytest.fixture(scope="package")
def console(gateway, tmp_path_factory) -> dict:
    """The console (console/) built when its sources changed, and Chromium installed: the environment
    of its browser flows (tests/e2e/test_console.py)."""
    for step in ("build", "browser"):
        done = subprocess.run([str(REPO / "scripts" / "console.sh"), step], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"scripts/console.sh {step}:\n{done.stderr[-3000:]}"
    shots = os.environ.get("CONSOLE_SCREENSHOTS") or str(tmp_path_factory.mktemp("console-screens"))
    return {"CASEWIRE_URL": gateway.url, "CONSOLE_SCREENSHOTS": shots}


def pytest_collection_finish(session):
    """Keycloak takes most of a minute to start: when its tests are to run, begin the start now, in the
    background, so it overlaps the tests before them (tests/e2e/keycloak.py)."""
    if session.config.option.collectonly:
        return
    if any(item.path.name == "test_oidc_provider.py" for item in session.items):
        from tests.e2e import keycloak  # imports this module: not at the top

        keycloak.start()


def pytest_sessionfinish(session):
    """A Keycloak begun early is stopped even when its tests never ran (``-x`` stopped the run before them)."""
    from tests.e2e import keycloak

    keycloak.stop()
