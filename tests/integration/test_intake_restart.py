"""Killing intake mid-ingest loses nothing and doubles nothing.

Intake runs as a real ``nameko run`` process on the test virtual host. A client submits batches;
when some are stored, the process gets SIGKILL (no cleanup, no acks), and a new one is started.
RPC requests are acknowledged only after the reply, so the one in flight is redelivered to the new
process, which answers it idempotently. Then: every alert answered 201 or 200 is stored exactly
once, the outbox announces what the dead process stored but never announced, and resubmitting
every batch stores nothing new.
"""

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import eventlet
import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange
from nameko.standalone.rpc import ClusterRpcProxy

from casewire import events
from casewire.audit import audit_queue
from tests.integration.conftest import purge_vhost
from tests.polling import eventually

REPO = Path(__file__).resolve().parents[2]
CONTEXT = {"actor": {"id": "importer", "agency": "TX0000000", "roles": ["source"]}, "request_id": "restart"}
BATCHES, SIZE = 8, 125


def _batches(run: str) -> list[list[dict]]:
    return [
        [
            {
                "source": "alpr",
                "source_system": f"restart-{run}",
                "source_event_id": f"e-{b}-{i}",
                "occurred_at": "2026-01-05T22:14:00Z",
                "location": {"lat": 29.76, "lon": -95.36},
                "payload": {"plate": f"K{b}X{i:04d}", "camera_id": f"cam-{i}"},
            }
            for i in range(SIZE)
        ]
        for b in range(BATCHES)
    ]


class IntakeProcess:
    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.process = env, log, None

    def start(self, config: dict) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(REPO / ".venv/bin/nameko"), "run", "--config", "services/intake/config.yaml",
                 "services.intake.service"],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"intake exited: {self.log.read_text()[-3000:]}")
            try:
                with ClusterRpcProxy(config, timeout=2) as rpc:
                    if rpc.intake.health()["mongodb"]:
                        return
            except Exception:  # not consuming yet
                time.sleep(0.3)
        pytest.fail(f"intake did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def intake_process(base_config, run_id, mongo, tmp_path):
    database = f"test_{run_id}_restart"
    env = {**os.environ, "AMQP_URI": base_config["AMQP_URI"], "MONGODB_URI": base_config["MONGODB_URI"]}
    env.update(INTAKE_DATABASE=database, NEAR_DUPLICATE_SECONDS="0", LOG_LEVEL="WARNING")
    process = IntakeProcess(env, tmp_path / "intake.log")
    yield process, mongo[database]["alerts"]
    process.stop()
    # No audit, entities or search service runs here: drop the thousands of events this test queued,
    # so that the next tests' consumers do not wade through them before their own.
    with Connection(base_config["AMQP_URI"]) as connection:
        audit_queue(connection.channel()).purge()
    purge_vhost(base_config["AMQP_URI"])


@pytest.fixture
def listener(base_config):
    """A queue of its own bound to intake's ``alerts_received``, declared before intake starts."""
    exchange = get_event_exchange("intake", {})
    with Connection(base_config["AMQP_URI"]) as connection:
        name = f"test-restart-{uuid.uuid4().hex}"
        queue = Queue(name, exchange=exchange, routing_key=events.ALERTS_RECEIVED, exclusive=True)  # gone with it
        bound = queue(connection.channel())
        bound.declare()
        yield bound


def announced(listener, heard: set) -> set:
    """``heard`` with the ids of the alerts announced since the last call."""
    while (message := listener.get(no_ack=True)) is not None:
        heard.update(alert["alert_id"] for alert in message.payload["alerts"])
    return heard


def test_sigkill_mid_batch_then_restart_stores_every_accepted_alert_exactly_once(intake_process, base_config, listener):
    process, alerts = intake_process
    run = uuid.uuid4().hex[:8]
    batches = _batches(run)
    process.start(base_config)
    answers: dict[int, object] = {}

    def submit():
        with ClusterRpcProxy(base_config, timeout=120) as rpc:
            for number, batch in enumerate(batches):
                try:
                    answers[number] = rpc.intake.create_alerts(batch, CONTEXT)["results"]
                except Exception as exc:  # no answer at all: recorded, and the assertions below fail
                    answers[number] = exc

    submitter = eventlet.spawn(submit)
    deadline = time.monotonic() + 120
    while alerts.count_documents({"source_system": f"restart-{run}"}) < 2 * SIZE:
        assert time.monotonic() < deadline, "the first batches were never stored"
        eventlet.sleep(0.05)
    process.kill()
    stored_at_kill = alerts.count_documents({"source_system": f"restart-{run}"})
    assert stored_at_kill < BATCHES * SIZE, "killed too late: everything was already stored"
    process.start(base_config)
    submitter.wait()

    # The request in flight at the kill was redelivered to the new process, which answered it.
    assert sorted(answers) == list(range(BATCHES)) and not any(isinstance(a, Exception) for a in answers.values())
    accepted = {}
    for number, results in answers.items():
        for result, alert in zip(results, batches[number], strict=True):
            assert result["status"] in (200, 201), result
            accepted[alert["source_event_id"]] = result["id"]
    assert len(accepted) >= stored_at_kill  # at least the batches stored before the kill were answered

    stored = list(alerts.find({"source_system": f"restart-{run}"}, {"source_event_id": 1}))
    by_event = {}
    for doc in stored:
        by_event.setdefault(doc["source_event_id"], []).append(doc["_id"])
    assert all(len(ids) == 1 for ids in by_event.values())  # stored exactly once
    assert all(by_event[event_id] == [alert_id] for event_id, alert_id in accepted.items())

    with ClusterRpcProxy(base_config, timeout=120) as rpc:
        again = [rpc.intake.create_alerts(batch, CONTEXT)["results"] for batch in batches]
    for results, batch in zip(again, batches, strict=True):
        for result, alert in zip(results, batch, strict=True):
            if alert["source_event_id"] in accepted:
                assert (result["status"], result["id"]) == (200, accepted[alert["source_event_id"]])
    assert alerts.count_documents({"source_system": f"restart-{run}"}) == BATCHES * SIZE

    # The outbox announces what the killed process stored but did not announce: every stored alert is
    # heard in an alerts_received, and no outbox entry is left open.
    stored_ids, heard = {doc["_id"] for doc in stored}, set()
    eventually(lambda: stored_ids <= announced(listener, heard), timeout=60)
    eventually(lambda: alerts.database["outbox"].count_documents({}) == 0, timeout=60)
