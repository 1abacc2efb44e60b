"""``casewire probe``: the exec probe checks the process in its own pod, never a replica that answers RPC.

Each service process writes a heartbeat (``casewire.monitor.Monitor``) from its own worker pool; the
probe reads it. Here services run over the real RabbitMQ and FerretDB, each with its own heartbeat
directory, as each pod has its own /tmp. To take the broker away from one service without stopping
the shared RabbitMQ, that service reaches it through a :class:`Relay` the test cuts and restores.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import eventlet
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from casewire.monitor import Monitor
from casewire.probe import heartbeat_path, probe
from tests.polling import eventually
from tests.relay import Relay

REPO = Path(__file__).resolve().parents[2]
PROBE = [sys.executable, "-m", "casewire", "probe"]


class HealthyService:
    name = "probe_healthy"
    monitor = Monitor()

    @rpc
    def health(self) -> dict:
        return {"mongodb": True}


class DegradedService:
    name = "probe_degraded"
    monitor = Monitor()

    @rpc
    def health(self) -> dict:
        return {"mongodb": False}


class StuckService:
    """One worker; ``hang`` holds it until the test releases it, as a stuck backend call would, and says
    when it holds it (``hanging``)."""

    name = "probe_stuck"
    monitor = Monitor()
    hanging = eventlet.event.Event()
    release = eventlet.event.Event()

    @rpc
    def health(self) -> dict:
        return {"mongodb": True}

    @rpc
    def hang(self) -> None:
        StuckService.hanging.send(None)
        StuckService.release.wait()


@pytest.fixture
def relay():
    relay = Relay()
    yield relay
    relay.down()


@pytest.fixture
def behind_relay(relay, container_factory, base_config, tmp_path):
    """``HealthyService`` in a container whose AMQP_URI is the relay (down until the test brings it up)."""
    config = {**base_config, "AMQP_URI": relay.uri(base_config["AMQP_URI"])}
    container = container_factory(HealthyService, {**config, "HEARTBEAT_DIR": str(tmp_path), "HEARTBEAT_SECONDS": 0.2})
    yield container, heartbeat_path(tmp_path, "probe_healthy")
    relay.up()  # a consumer still looking for its broker would hold up the container's kill
    container.kill()


def wait_for(check, seconds: float = 20) -> tuple[bool, str]:
    deadline = time.monotonic() + seconds
    while True:
        ok, why = check()
        if ok or time.monotonic() > deadline:
            return ok, why
        time.sleep(0.2)


def test_probe_passes_when_the_process_beats_and_its_backends_answer(container_factory, base_config, tmp_path):
    # The first beat can come before the consumers are connected: the next one, 0.2 s on, passes.
    settings = {**base_config, "HEARTBEAT_DIR": str(tmp_path), "HEARTBEAT_SECONDS": 0.2}
    container_factory(HealthyService, settings).start()
    path = heartbeat_path(tmp_path, "probe_healthy")
    healthy, why = wait_for(lambda: probe(path, "probe_healthy"))
    assert healthy, why
    assert json.loads(path.read_text())["health"] == {"mongodb": True, "rabbitmq": True}


def test_probe_is_not_ready_but_alive_while_the_amqp_uri_reaches_no_broker_and_ready_once_it_does(behind_relay, relay):
    container, path = behind_relay
    starting = eventlet.spawn(container.start)  # the RPC consumer waits for the broker: so does start()
    alive, why = wait_for(lambda: probe(path, "probe_healthy", max_age=5, live=True))
    assert alive, why
    ready, why = probe(path, "probe_healthy", max_age=5)
    assert not ready and "rabbitmq did not answer" in why, why
    relay.up()
    ready, why = wait_for(lambda: probe(path, "probe_healthy", max_age=5), 40)  # kombu retries after 2, 4, 6... s
    assert ready, why
    starting.wait()


def test_probe_goes_not_ready_but_stays_alive_when_the_broker_is_lost_and_ready_when_it_is_back(behind_relay, relay):
    container, path = behind_relay
    relay.up()
    container.start()
    ready, why = wait_for(lambda: probe(path, "probe_healthy", max_age=5))
    assert ready, why
    relay.down()
    lost, why = wait_for(lambda: (not probe(path, "probe_healthy", max_age=5)[0], ""), 10)
    assert lost, "the heartbeat still said ready with the broker gone"
    ready, why = probe(path, "probe_healthy", max_age=5)
    assert "rabbitmq did not answer" in why, why
    alive, why = probe(path, "probe_healthy", max_age=5, live=True)
    assert alive, why
    relay.up()
    ready, why = wait_for(lambda: probe(path, "probe_healthy", max_age=5), 40)
    assert ready, why


def test_probe_is_not_ready_but_alive_when_a_backend_is_down(container_factory, base_config, tmp_path):
    container_factory(DegradedService, {**base_config, "HEARTBEAT_DIR": str(tmp_path)}).start()
    path = heartbeat_path(tmp_path, "probe_degraded")
    alive, why = wait_for(lambda: probe(path, "probe_degraded", live=True))
    assert alive, why
    ready, why = probe(path, "probe_degraded")
    assert not ready and "mongodb" in why


def test_probe_fails_when_the_process_never_beat(tmp_path):
    healthy, why = probe(heartbeat_path(tmp_path, "cases"), "cases", live=True)
    assert not healthy and "no heartbeat" in why


def test_a_pod_whose_workers_are_all_stuck_fails_while_its_sibling_passes(container_factory, base_config, tmp_path):
    """Two replicas on one RPC queue: the stuck one's heartbeat goes stale although RPC is still answered."""
    stuck_dir, free_dir = tmp_path / "stuck", tmp_path / "free"
    stuck_dir.mkdir(), free_dir.mkdir()
    settings = {**base_config, "HEARTBEAT_SECONDS": 0.2}
    stuck = container_factory(StuckService, {**settings, "HEARTBEAT_DIR": str(stuck_dir), "max_workers": 1})
    stuck.start()
    assert wait_for(lambda: probe(heartbeat_path(stuck_dir, "probe_stuck"), "probe_stuck", max_age=2))[0]
    # the hang occupies the first replica's only worker; the second replica starts after it
    with ClusterRpcProxy(base_config) as cluster:
        cluster.probe_stuck.hang.call_async()
        with eventlet.Timeout(30):
            StuckService.hanging.wait()
        container_factory(StuckService, {**settings, "HEARTBEAT_DIR": str(free_dir)}).start()
        try:
            assert cluster.probe_stuck.health() == {"mongodb": True}, "a replica still answers on the shared queue"
            stuck_probe = lambda: probe(heartbeat_path(stuck_dir, "probe_stuck"), "probe_stuck", 2, live=True)  # noqa: E731
            assert wait_for(lambda: (not stuck_probe()[0], ""), 10)[0], "the stuck replica's heartbeat stayed fresh"
            assert "hung" in stuck_probe()[1]
            fresh, why = probe(heartbeat_path(free_dir, "probe_stuck"), "probe_stuck", max_age=2, live=True)
            assert fresh, why
        finally:
            StuckService.release.send(None)


@pytest.fixture
def cases_process(base_config, config_for, tmp_path):
    """``start(name)``: a real ``nameko run`` cases process with its own heartbeat directory."""
    processes = []

    def start(name: str) -> tuple[subprocess.Popen, dict]:
        directory = tmp_path / name
        directory.mkdir()
        env = {
            **os.environ,
            "AMQP_URI": base_config["AMQP_URI"],
            "CASES_DATABASE": config_for("cases")["MONGODB_DATABASE"],
            "HEARTBEAT_DIR": str(directory),
            "HEARTBEAT_SECONDS": "1",
        }
        log = (tmp_path / f"{name}.log").open("wb")
        command = [
            str(REPO / ".venv/bin/nameko"),
            "run",
            "--config",
            "services/cases/config.yaml",
            "services.cases.service",
        ]
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process, env

    yield start
    for process in processes:  # all told first, so they stop side by side
        process.send_signal(signal.SIGCONT)
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def run_probe(env: dict, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PROBE, "cases", *options], env=env, cwd=REPO, capture_output=True, text=True)


def test_the_probe_command_fails_for_a_hung_cases_process_and_passes_for_its_sibling(cases_process):
    """The manifests' exact command, ``python -m casewire probe cases [--live]``, against two real
    ``nameko run`` processes of the cases service; one is frozen (SIGSTOP), as a hung pod is."""
    hung, hung_env = cases_process("hung")
    _, sibling_env = cases_process("sibling")
    for env in (hung_env, sibling_env):
        deadline = time.monotonic() + 90
        while (ready := run_probe(env, "--max-age", "4")).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert ready.returncode == 0, ready.stderr
    hung.send_signal(signal.SIGSTOP)
    for options in ((), ("--live",)):

        def stale(options=options):
            """The probe fails once the last heartbeat is older than --max-age (when it beat last is unknown)."""
            run = run_probe(hung_env, "--max-age", "4", *options)
            return run if run.returncode == 1 else None

        frozen = eventually(stale)
        assert "hung" in frozen.stderr, frozen
        alive = run_probe(sibling_env, "--max-age", "4", *options)
        assert alive.returncode == 0, alive.stderr
