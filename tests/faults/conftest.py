"""Fault tests: the whole of Casewire on PRIVATE servers, which these tests kill and restart.

Nothing here touches the shared servers on the default ports. The fault tests start their own RabbitMQ
node (``casewire-faults@localhost`` on 5673), FerretDB (27018; its PostgreSQL is the shared cluster, which
these tests never stop: restarting "the MongoDB server" restarts FerretDB) and Elasticsearch (9201) under
``<repo>/.state/faults`` (override: ``CASEWIRE_FAULTS_STATE``), runs the five services and the
gateway against them with ``scripts/services.sh`` (gateway on ``CASEWIRE_FAULTS_PORT``, 18090), and
stop all of it after the last fault test. Tests may SIGKILL and restart any of these processes: they are ours.

Each test sends its own alerts (its own ``source_system``), so the checks of one test never count
another's records, while the search drift check and the audit chain verification cover everything.
"""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from elasticsearch import Elasticsearch
from pymongo import MongoClient

from casewire.config import load_config
from gateway.auth import mint_dev_token

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
SHARED_STATE = Path(os.environ.get("CASEWIRE_STATE", REPO / ".state"))
STATE = Path(os.environ.get("CASEWIRE_FAULTS_STATE", REPO / ".state" / "faults"))
RABBITMQ_PORT, FERRETDB_PORT, ES_PORT = 5673, 27018, 9201
GATEWAY_PORT = int(os.environ.get("CASEWIRE_FAULTS_PORT", "18090"))
SERVERS = ("rabbitmq", "ferretdb", "elasticsearch")
SERVICES = ("audit", "entities", "search", "intake", "cases", "gateway")
# How many alerts one ingest run sends (the 5,000; CASEWIRE_FAULTS_ALERTS=1000 for a quick
# local run), and how long the pipeline may take to catch up after the faults: a bound against
# hanging forever, not a measure of speed.
ALERTS = int(os.environ.get("CASEWIRE_FAULTS_ALERTS", "5000"))
CHUNK = max(100, min(500, ALERTS // 10))  # enough chunks that every fault lands in the middle of the ingest
SETTLE_SECONDS = float(os.environ.get("CASEWIRE_FAULTS_SETTLE_SECONDS", "600"))
NH_RETENTION = "45s"


def server_env() -> dict:
    """What the server scripts need to run a second, private instance beside the shared one."""
    return {
        **os.environ,
        "CASEWIRE_STATE": str(STATE),
        "RABBITMQ_PORT": str(RABBITMQ_PORT),
        "RABBITMQ_DIST_PORT": str(RABBITMQ_PORT + 20000),
        "RABBITMQ_NODENAME": "casewire-faults@localhost",
        "FERRETDB_PORT": str(FERRETDB_PORT),
        "FERRETDB_DEBUG_ADDR": "127.0.0.1:8089",
        "ES_PORT": str(ES_PORT),
        "ES_TRANSPORT_PORT": "9400-9499",
    }


def _script(name: str, action: str, env: dict, timeout: int = 300) -> None:
    done = subprocess.run(
        [str(SCRIPTS / f"{name}.sh"), action], env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        pytest.fail(f"{name}.sh {action} failed:\n{done.stderr[-3000:]}", pytrace=False)


class Servers:
    """The private RabbitMQ, FerretDB and Elasticsearch."""

    env = staticmethod(server_env)

    def start(self, name: str) -> None:
        _script(name, "start", self.env())

    def stop(self, name: str) -> None:
        _script(name, "stop", self.env())


class Stack:
    """The five services and the gateway, as processes over the private servers."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.run_dir = STATE / "run"
        self.env = {
            **os.environ,
            "CASEWIRE_STATE": str(STATE),
            "CASEWIRE_RUN": str(self.run_dir),
            "AMQP_URI": f"amqp://guest:guest@127.0.0.1:{RABBITMQ_PORT}/",
            "MONGODB_URI": f"mongodb://127.0.0.1:{FERRETDB_PORT}/",
            "ELASTICSEARCH_URL": f"http://127.0.0.1:{ES_PORT}",
            "INDEX_PREFIX": f"faults-{run_id}",
            "GATEWAY_PORT": str(GATEWAY_PORT),
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "AUDIT_ARCHIVE_DIR": str(STATE / "audit-archive"),
            # test_kill_cases: New Hampshire reads are kept 45 s and swept every second, so the real C19
            # sweep judges them within the test; the other tests' reads are a Texas agency's, kept.
            "ALPR_RETENTION_NH": NH_RETENTION,
            "ALPR_PURGE_SECONDS": "1",
            # A stack is slower to be ready again after a server's restart on a loaded machine than at
            # an operator's start: each service reconnects with a growing backoff (2, 4, 6 s ...) and
            # answers its health call behind the work that waited. Not ready after this: the test fails
            # and services.sh prints, last, what /readyz found down.
            "READY_SECONDS": "240",
        }
        for service in ("intake", "entities", "cases", "audit", "gateway"):
            self.env[f"{service.upper()}_DATABASE"] = f"faults_{run_id}_{service}"
        self.url = f"http://127.0.0.1:{GATEWAY_PORT}"
        self.secret = load_config(REPO / "gateway" / "config.yaml")["DEV_JWT_SECRET"]

    def services(self, action: str) -> None:
        """``scripts/services.sh start`` starts whatever is not running and waits until /readyz is 200."""
        _script("services", action, self.env, timeout=60 + int(self.env["READY_SECONDS"]) + 60)

    def kill(self, name: str) -> None:
        """SIGKILL one process and its children, as a crashed container (no clean shutdown, nothing
        acknowledged). The gateway's gunicorn workers are children: left alive, one would keep the port."""
        pid = int((self.run_dir / f"{name}.pid").read_text())
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for victim in [pid, *map(int, children)]:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        for victim in [pid, *map(int, children)]:
            while time.monotonic() < deadline:
                try:
                    os.kill(victim, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def token(self, *roles: str) -> str:
        return mint_dev_token(self.secret, "faults", list(roles), agency="TX0000000", unit="rtcc")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(REPO / ".venv" / "bin" / "casewire"), *args], env=self.env, capture_output=True, text=True, timeout=300
        )

    def mongo(self) -> MongoClient:
        return MongoClient(self.env["MONGODB_URI"], tz_aware=True, serverSelectionTimeoutMS=5000)

    def database(self, client: MongoClient, service: str):
        return client[self.env[f"{service.upper()}_DATABASE"]]

    def elasticsearch(self) -> Elasticsearch:
        return Elasticsearch(self.env["ELASTICSEARCH_URL"])


def _prepare_state() -> None:
    """A clean private state; the FerretDB binary is borrowed from the shared state (no rebuild)."""
    for stale in ("rabbitmq", "ferretdb/data", "ferretdb/state", "elasticsearch/data", "run", "audit-archive"):
        shutil.rmtree(STATE / stale, ignore_errors=True)
    binaries = SHARED_STATE / "ferretdb" / "bin"
    if binaries.is_dir() and not (STATE / "ferretdb" / "bin").exists():
        shutil.copytree(binaries, STATE / "ferretdb" / "bin")


_starting: dict[str, subprocess.Popen] = {}  # server name → its ``start`` begun by begin_servers()


def begin_servers() -> None:
    """Stop what an interrupted run left, clean the private state and begin the three servers' starts in
    the background. They are independent of each other (FerretDB's PostgreSQL is the shared cluster), so
    the wait is the slowest one's (Elasticsearch's JVM), not the sum."""
    if _starting:
        return
    STATE.mkdir(parents=True, exist_ok=True)
    _side_by_side(Servers().stop)
    _prepare_state()
    for name in SERVERS:
        with (STATE / f"{name}-start.log").open("w") as log:
            _starting[name] = subprocess.Popen(
                [str(SCRIPTS / f"{name}.sh"), "start"], env=server_env(), stdout=log, stderr=subprocess.STDOUT
            )


def _side_by_side(action) -> None:
    """``action(name)`` for each server at once; the first failure (a ``pytest.fail``) is raised here."""
    with ThreadPoolExecutor(len(SERVERS)) as pool:
        list(pool.map(action, SERVERS))


def _stop_servers() -> None:
    _side_by_side(
        lambda name: subprocess.run(
            [str(SCRIPTS / f"{name}.sh"), "stop"], env=server_env(), capture_output=True, timeout=120
        )
    )


_stacks: list[Path] = []  # the run directories of stacks whose services are still to be stopped
_stopping: list[subprocess.Popen] = []  # the stop begun after the last fault test

# The stacks' services first (their run directories are the arguments), then the three servers side by side.
STOP_ALL = """
for run in "$@"; do CASEWIRE_RUN="$run" scripts/services.sh stop; done
for server in rabbitmq ferretdb elasticsearch; do "scripts/$server.sh" stop & done
wait
"""


def _begin_stopping() -> None:
    """Stop the stacks and the servers in the background: shutting down is waiting (consumers closing, the
    JVM exiting), which overlaps the tests after the fault tests; the session waits for it at its end."""
    with (STATE / "stop.log").open("w") as log:
        _stopping.append(
            subprocess.Popen(
                ["bash", "-c", STOP_ALL, "stop-all", *map(str, _stacks)],
                cwd=REPO,
                env=server_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    _stacks.clear()


def pytest_collection_finish(session):
    """The private servers take most of a minute to start: when fault tests are to run, begin their start
    now, so that it overlaps the tests collected before them."""
    here = Path(__file__).parent
    if not session.config.option.collectonly and any(item.path.is_relative_to(here) for item in session.items):
        begin_servers()


def pytest_sessionfinish(session):
    """Servers begun early are stopped even when no fault test ran (``-x`` stopped the run before them)."""
    if _starting:
        for process in _starting.values():
            process.wait(timeout=600)
        _starting.clear()
        _stop_servers()
    for process in _stopping:
        process.wait(timeout=300)
    _stopping.clear()


# Package scope: the fault tests share one stack, and it stops after the last of them. A session-wide
# stack would go on running its sweeps over thousands of alerts while the rest of the suite runs.
@pytest.fixture(scope="package")
def servers():
    """The private servers for the fault tests, stopped after them (overrides the shared check)."""
    begin_servers()  # already begun when the session collected fault tests
    failed = []
    for name, process in list(_starting.items()):
        if process.wait(timeout=600) != 0:
            failed.append(f"{name}.sh start failed:\n{(STATE / f'{name}-start.log').read_text()[-3000:]}")
    _starting.clear()
    if failed:
        _stop_servers()
        pytest.fail("\n".join(failed), pytrace=False)
    yield Servers()
    _begin_stopping()


@pytest.fixture(scope="package")
def stack(servers):
    run = Stack(uuid.uuid4().hex[:8])
    run.services("stop")
    _stacks.append(run.run_dir)  # stopped before the servers, by the servers' teardown
    run.services("start")
    yield run


# -- the load: alerts, the client that sends them, the checks of the end result ------------------------------


def make_alerts(system: str, count: int = ALERTS, plates: int = 1000) -> list[dict]:
    """ALPR reads: ``plates`` vehicles seen ``count / plates`` times each, hours apart (no near-duplicates)."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        {
            "source": "alpr",
            "source_system": system,
            "source_event_id": f"{system}-{n}",
            "occurred_at": (start + timedelta(minutes=7 * n)).isoformat(),
            "location": {"lat": 29.70 + (n % 97) / 1000, "lon": -95.40 + (n % 89) / 1000},
            "payload": {"plate": f"F{system[-3:].upper()}{n % plates:04d}", "plate_state": "TX", "camera_id": "cam-1"},
        }
        for n in range(count)
    ]


class Client(threading.Thread):
    """A source system sending a batch in chunks, as a careful client does: a chunk that gets a 503,
    a connection error or a timeout is sent again, until it is answered 200."""

    def __init__(self, stack: Stack, alerts: list[dict], chunk: int = CHUNK, give_up_after: float = 900 + ALERTS / 5):
        super().__init__(daemon=True)
        self.stack, self.alerts, self.chunk = stack, alerts, chunk
        self.deadline = time.monotonic() + give_up_after
        self.accepted: dict[str, str] = {}  # source_event_id → alert id, from 201 and 200 results
        self.answers: Counter = Counter()  # HTTP status (or "connection error") of every attempt
        self.result_statuses: Counter = Counter()
        self.failure: str | None = None
        self.token = stack.token("source")

    def run(self) -> None:
        http = requests.Session()
        try:
            for start in range(0, len(self.alerts), self.chunk):
                self._send(http, self.alerts[start : start + self.chunk])
        except Exception as exc:  # reported by finish()
            self.failure = repr(exc)

    def _send(self, http: requests.Session, part: list[dict]) -> None:
        while True:
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"a chunk was not accepted in time; answers so far {dict(self.answers)}")
            try:
                response = http.post(
                    f"{self.stack.url}/api/v1/alerts/batch",
                    json={"alerts": part},
                    headers={"Authorization": f"Bearer {self.token}"},
                    timeout=60,
                )
            except requests.RequestException:
                self.answers["connection error"] += 1
                time.sleep(0.5)
                continue
            self.answers[response.status_code] += 1
            if response.status_code == 503:
                time.sleep(0.5)
                continue
            if response.status_code != 200:
                raise AssertionError(f"{response.status_code}: {response.text[:500]}")
            for result in response.json()["results"]:
                self.result_statuses[result["status"]] += 1
                if result["status"] not in (200, 201):
                    raise AssertionError(f"refused: {result}")
                self.accepted[part[result["index"]]["source_event_id"]] = result["id"]
            return

    def wait_for(self, accepted: int, timeout: float = 120) -> None:
        """Until at least ``accepted`` alerts were answered (the moment to break something)."""
        deadline = time.monotonic() + timeout
        while len(self.accepted) < accepted and self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.accepted) >= accepted, f"only {len(self.accepted)} accepted; {self.failure}"

    def finish(self, timeout: float = 900) -> dict[str, str]:
        self.join(timeout)
        assert not self.is_alive(), "the client did not finish"
        assert self.failure is None, self.failure
        assert len(self.accepted) == len(self.alerts)
        return self.accepted


def _counts_per_id(docs, field: str, wanted: set[str]) -> Counter:
    counts: Counter = Counter()
    for doc in docs:
        values = doc.get(field)
        for value in values if isinstance(values, list) else [values]:
            if value in wanted:
                counts[value] += 1
    return counts


def end_state(stack: Stack, system: str, ids: set[str]) -> dict:
    """What each owner holds of these alerts: copies stored, sightings, indexed, audit events."""
    with stack.mongo() as client:
        stored = [
            doc["_id"] for doc in stack.database(client, "intake")["alerts"].find({"source_system": system}, {"_id": 1})
        ]
        sightings = stack.database(client, "entities")["sightings"].find(
            {"record_type": "alert", "superseded_by": None}, {"record_id": 1}
        )
        audited = stack.database(client, "audit")["events"].find({"action": "alert.create"}, {"record_ids": 1})
        state = {
            "stored": Counter(stored),
            "sightings": _counts_per_id(sightings, "record_id", ids),
            "audited": _counts_per_id(audited, "record_ids", ids),
        }
    es = stack.elasticsearch()
    try:
        alias = f"{stack.env['INDEX_PREFIX']}-alerts"
        es.indices.refresh(index=alias)
        state["indexed"] = es.count(index=alias, query={"ids": {"values": sorted(ids)}})["count"]
    except Exception as exc:  # Elasticsearch still coming back: not settled yet
        state["indexed"] = repr(exc)
    finally:
        es.close()
    return state


def settled(stack: Stack, system: str, ids: set[str]) -> dict:
    """Wait (bounded) until every owner has caught up, then return the end state for exact checks."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        state = end_state(stack, system, ids)
        done = (
            set(state["stored"]) == ids
            and set(state["sightings"]) == ids
            and set(state["audited"]) == ids
            and state["indexed"] == len(ids)
        )
        if done or time.monotonic() > deadline:
            return state
        time.sleep(3)  # each look reads every sighting and audit event: not too often


def assert_exactly_once(stack: Stack, client: Client) -> None:
    """Every accepted alert is stored, linked, indexed and audited exactly once; no search drift; the chain verifies."""
    system = client.alerts[0]["source_system"]
    ids = set(client.accepted.values())
    assert len(ids) == len(client.alerts), "two submissions were answered with the same alert"
    state = settled(stack, system, ids)
    summary = {key: (len(v), sum(v.values())) if isinstance(v, Counter) else v for key, v in state.items()}
    assert set(state["stored"]) == ids and max(state["stored"].values()) == 1, summary
    assert set(state["sightings"]) == ids and max(state["sightings"].values()) == 1, summary
    assert state["indexed"] == len(ids), summary
    assert set(state["audited"]) == ids and max(state["audited"].values()) == 1, summary
    check = stack.cli("search", "check", "--json")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    report = json.loads(check.stdout)
    assert report["drift"] is False, check.stdout[-3000:]
    assert not any(found.get("skipped") for found in report["indices"].values()), report  # every owner asked
    for name in ("alerts", "entities", "sightings"):  # what ingest writes: each must have records
        assert report["indices"][name]["checked"], report
    verify = requests.get(
        f"{stack.url}/api/v1/audit/verify", headers={"Authorization": f"Bearer {stack.token('auditor')}"}, timeout=300
    )
    assert verify.status_code == 200 and verify.json()["ok"], verify.text[:2000]
