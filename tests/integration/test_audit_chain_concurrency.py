"""C22 over real RabbitMQ and FerretDB: several audit containers append one gapless, total chain."""

import threading
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import replace_dependencies
from pymongo.errors import PyMongoError

from casewire.audit import AuditTrail, audit_exchange, audit_queue
from services.audit.chain import verify
from services.audit.dependencies import AuditStore, key
from services.audit.service import AuditService
from tests.integration.test_pipeline import eventually


@pytest.fixture
def audit_config(config_for):
    """A fresh audit database per test, so every count below is exact."""

    def make(**overrides):
        config = config_for("audit")
        return {**config, "MONGODB_DATABASE": f"{config['MONGODB_DATABASE']}_{uuid.uuid4().hex[:6]}", **overrides}

    return make


def audit_event(service: str, n: int) -> dict:
    return {
        "event_id": f"{service}-{n}",
        "at": datetime.now(UTC).isoformat(),
        "service": service,
        "action": "alert.read",
        "outcome": "allowed",
        "actor": {"id": f"user{n % 7}", "agency": "TX0000000", "roles": ["analyst"]},
        "record_type": "alert",
        "record_ids": [f"a{n}"],
        "details": {"n": n},
    }


def publish(amqp_uri: str, events: list[dict]) -> None:
    """Put events on the durable audit queue the fast way (no confirms: a test's own traffic)."""
    with Connection(amqp_uri) as connection:
        producer = connection.Producer(serializer="json")
        for event in events:
            producer.publish(
                event, exchange=audit_exchange, routing_key="audit", declare=[audit_queue], delivery_mode=2
            )


class RacingStore:
    """The real store, except that its first append, once it has read the chain's head, waits until every
    writer has read it too: they all claim the same seq, so the race the test is about surely happens."""

    def __init__(self, store: AuditStore, start: threading.Barrier):
        self.store, self.start, self.started = store, start, False

    def append(self, events):
        if not self.started:
            self.started = True
            self.store.head()
            self.start.wait(timeout=60)
        return self.store.append(events)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_C22_three_audit_consumers_append_one_total_gapless_chain(container_factory, audit_config, mongo):
    """The audit service's own consumers, fed events published by hand on its durable queue as the
    services' audit trails publish them (3,000 at once, more than a test's API traffic
    makes quickly). Real actions through the API leave a chain that verifies in
    tests/e2e/test_audit_api.py's C20 test."""
    config = audit_config(AUDIT_BATCH_SIZE=25, AUDIT_BATCH_WAIT=0.01)
    start = threading.Barrier(3)
    stores = []
    for _ in range(3):
        container = container_factory(AuditService, config)
        store = AuditStore(mongo[config["MONGODB_DATABASE"]])
        store.ensure_indexes()
        stores.append(RacingStore(store, start))
        replace_dependencies(container, store=stores[-1])
        container.start()
    source = f"burst-{uuid.uuid4().hex[:6]}"
    publish(config["AMQP_URI"], [audit_event(source, n) for n in range(3000)])

    events = mongo[config["MONGODB_DATABASE"]]["events"]
    eventually(lambda: events.count_documents({"service": source}) == 3000, timeout=180)
    seqs = sorted(event["seq"] for event in events.find({}, {"seq": 1}))
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, no seq twice
    ids = [event["event_id"] for event in events.find({"service": source}, {"event_id": 1})]
    assert sorted(ids) == sorted(f"{source}-{n}" for n in range(3000))  # each event exactly once
    assert sum(store.conflicts for store in stores) >= 2  # the two writers that lost the first seq re-chained
    with ClusterRpcProxy(config) as rpc:
        result = rpc.audit.verify()
    assert result["ok"] is True and result["checked"] == len(seqs)


def test_C22_a_redelivered_event_is_appended_once(container_factory, audit_config, mongo):
    """The audit service's own consumers, fed events published by hand on its durable queue as the
    services' audit trails publish them, one of them twice: the redelivery a broker
    makes after a lost acknowledgement, which no test can time through the services."""
    config = audit_config()
    container_factory(AuditService, config).start()
    source = f"again-{uuid.uuid4().hex[:6]}"
    twice = [audit_event(source, 1), audit_event(source, 2), audit_event(source, 1)]
    publish(config["AMQP_URI"], twice)
    publish(config["AMQP_URI"], [audit_event(source, 2), audit_event(source, 3)])

    events = mongo[config["MONGODB_DATABASE"]]["events"]
    eventually(lambda: events.count_documents({"service": source}) == 3)
    trail = AuditTrail(config["AMQP_URI"], source)
    trail.record("alert.read", "allowed", actor={"id": "alice"})  # and the real publisher, with confirms
    eventually(lambda: events.count_documents({"service": source}) == 4)
    with ClusterRpcProxy(config) as rpc:
        assert rpc.audit.verify()["ok"] is True


def test_C22_odd_keys_and_malformed_messages_are_kept_and_never_block_the_queue(container_factory, audit_config, mongo):
    """The audit service's own consumers, fed events published by hand on its durable queue as the
    services' audit trails publish them, with malformed and
    forged ones no service publishes: what a faulty or hostile publisher could put on the queue."""
    config = audit_config()
    container_factory(AuditService, config).start()
    source = f"odd-{uuid.uuid4().hex[:6]}"
    odd = {**audit_event(source, 1), "details": {"query": {"a.b": "1", "$where": "x"}, "big": 2**70}}
    forged = {**audit_event(source, 3), "_id": "000000000000000", "seq": 0, "hash": "0" * 64}
    publish(config["AMQP_URI"], [odd, {"not": "an audit event"}, forged, audit_event(source, 2)])

    events = mongo[config["MONGODB_DATABASE"]]["events"]
    eventually(lambda: events.count_documents({"service": source}) == 2)
    stored = events.find_one({"event_id": f"{source}-1"})
    assert stored["details"]["query"] == {"a%2Eb": "1", "%24where": "x"} and stored["details"]["big"] == str(2**70)

    def malformed():
        found = list(events.find({"action": "audit.malformed_event"}).sort("seq", 1))
        return found if len(found) == 2 else None

    plain, forged_kept = eventually(malformed)
    assert plain["outcome"] == "failed" and plain["details"]["payload"] == {"not": "an audit event"}
    assert set(forged_kept["details"]["errors"]) == {"_id", "seq", "hash"}  # the forged chain fields are refused
    assert all(e["_id"] == key(e["seq"]) and e["seq"] > 0 for e in events.find())
    with ClusterRpcProxy(config) as rpc:
        assert rpc.audit.verify()["ok"] is True


class FlakyStore:
    """The real store, except that the first append fails as if MongoDB had gone away."""

    def __init__(self, store: AuditStore):
        self.store, self.failures = store, 0

    def append(self, events):
        if self.failures == 0:
            self.failures += 1
            raise PyMongoError("connection refused (injected)")
        return self.store.append(events)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_C23_a_batch_that_cannot_be_stored_is_requeued_and_nothing_is_lost(container_factory, audit_config, mongo):
    """The audit service's own consumers, fed events published by hand on its durable queue as the
    services' audit trails publish them; the store fails once as if
    MongoDB had gone away. An action refused through the API while the audit log is out of reach is
    tests/integration/gateway/test_guards.py's C23 test."""
    config = audit_config()
    container = container_factory(AuditService, config)
    store = AuditStore(mongo[config["MONGODB_DATABASE"]])
    store.ensure_indexes()
    flaky = FlakyStore(store)
    replace_dependencies(container, store=flaky)
    container.start()
    source = f"flaky-{uuid.uuid4().hex[:6]}"
    publish(config["AMQP_URI"], [audit_event(source, n) for n in range(50)])

    events = mongo[config["MONGODB_DATABASE"]]["events"]
    eventually(lambda: events.count_documents({"service": source}) == 50)
    assert flaky.failures == 1
    assert sorted(e["event_id"] for e in events.find({"service": source})) == sorted(f"{source}-{n}" for n in range(50))


def test_C22_a_writer_that_lost_the_race_for_a_seq_rechains_a_long_batch(audit_config, mongo):
    """Two writers, one stale: its batch of 250 meets a taken seq at its first event. Every event ends
    up once in one unbroken chain (FerretDB's ordered insert goes on past a failure after 100
    documents: the writer must never hand it more).

    The audit service's own logic: a stale writer is a state of replicas racing, which no test can time
    through the services."""
    database = mongo[audit_config()["MONGODB_DATABASE"]]
    first, stale = AuditStore(database), AuditStore(database)
    first.ensure_indexes()
    first.append([audit_event("first", 0)])
    stale.head()  # both writers know seq 1 as the head
    first.append([audit_event("first", 1)])  # seq 2 is taken behind the stale writer's back
    stale.append([audit_event("stale", n) for n in range(250)])
    stored = list(database["events"].find({}, {"_id": 0}).sort("seq", 1))
    assert [event["seq"] for event in stored] == list(range(1, 253))
    assert verify(stored)["ok"] is True
    assert sorted(event["event_id"] for event in stored) == sorted(
        ["first-0", "first-1", *(f"stale-{n}" for n in range(250))]
    )
