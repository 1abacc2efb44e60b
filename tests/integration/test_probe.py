"""``casewire probe``: the exec probe Kubernetes and compose run against each service, over real RabbitMQ."""

import os
import subprocess
import sys
from pathlib import Path

from nameko.rpc import rpc

from casewire.probe import probe
from services.cases.service import CasesService

REPO = Path(__file__).resolve().parents[2]


class HealthyService:
    name = "probe_healthy"

    @rpc
    def health(self) -> dict:
        return {"mongodb": True}


class DegradedService:
    name = "probe_degraded"

    @rpc
    def health(self) -> dict:
        return {"mongodb": False}


def test_probe_passes_when_the_service_and_its_backends_answer(container_factory, base_config):
    container_factory(HealthyService, base_config).start()
    healthy, why = probe(base_config["AMQP_URI"], "probe_healthy", timeout=5)
    assert healthy, why


def test_probe_is_not_ready_but_alive_when_a_backend_is_down(container_factory, base_config):
    container_factory(DegradedService, base_config).start()
    ready, why = probe(base_config["AMQP_URI"], "probe_degraded", timeout=5)
    assert not ready and "mongodb" in why
    alive, why = probe(base_config["AMQP_URI"], "probe_degraded", timeout=5, live=True)
    assert alive, why


def test_probe_fails_when_nobody_answers(base_config):
    healthy, why = probe(base_config["AMQP_URI"], "probe_absent", timeout=1)
    assert not healthy and "no answer" in why


def test_probe_fails_when_the_broker_is_unreachable():
    healthy, why = probe("amqp://guest:guest@127.0.0.1:1/", "cases", timeout=1)
    assert not healthy and "no answer" in why


def test_the_probe_command_exits_0_for_a_running_service_and_1_for_a_missing_one(
    container_factory, config_for, base_config
):
    """The exact command the manifests run: ``python -m casewire probe cases``."""
    container_factory(CasesService, config_for("cases")).start()
    env = {**os.environ, "AMQP_URI": base_config["AMQP_URI"]}
    command = [sys.executable, "-m", "casewire", "probe"]
    ok = subprocess.run([*command, "cases", "--timeout", "5"], env=env, cwd=REPO, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run([*command, "search", "--timeout", "1"], env=env, cwd=REPO, capture_output=True, text=True)
    assert missing.returncode == 1 and "search: no answer" in missing.stderr
