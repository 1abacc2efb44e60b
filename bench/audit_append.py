"""How fast the audit service appends: N audit containers, M events already waiting on the queue.

    AMQP_URI=amqp://guest:guest@127.0.0.1:5672/VHOST .venv/bin/python bench/audit_append.py --containers 1

It runs the containers in this process over the real RabbitMQ and MongoDB (FerretDB locally), in a
scratch database it drops at the end, publishes the events first (so the figure is the service's,
not the publisher's), then times how long the chain takes to reach M events and verifies it.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from kombu import Connection  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402
from pymongo import MongoClient  # noqa: E402

from casewire.audit import audit_exchange, audit_queue  # noqa: E402
from services.audit.dependencies import AuditStore  # noqa: E402
from services.audit.service import AuditService  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--containers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    database = f"bench_audit_{uuid.uuid4().hex[:6]}"
    config = {
        "AMQP_URI": os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
        "MONGODB_URI": os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/"),
        "MONGODB_DATABASE": database,
        "AUDIT_BATCH_SIZE": args.batch,
        "AUDIT_CHECKPOINT_KEY": "bench-checkpoint-key-0123456789",
    }
    client = MongoClient(config["MONGODB_URI"])
    with Connection(config["AMQP_URI"]) as connection:
        producer = connection.Producer(serializer="json")
        for n in range(args.events):
            producer.publish(_event(n), exchange=audit_exchange, routing_key="audit", declare=[audit_queue])
    store = AuditStore(client[database])
    containers = [ServiceContainer(AuditService, config) for _ in range(args.containers)]
    started = time.monotonic()
    for container in containers:
        container.start()
    try:
        while store.head()[0] < args.events:
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        with ClusterRpcProxy(config) as rpc:
            verified = rpc.audit.verify()
    finally:
        for container in containers:
            container.stop()
        client.drop_database(database)
    conflicts = sum(_store(container).conflicts for container in containers)
    print(
        f"{args.events} events, {args.containers} container(s), batch {args.batch}: {elapsed:.1f}s, "
        f"{args.events / elapsed:.0f} events/s, {conflicts} seq conflicts, verify ok={verified['ok']}"
    )


def _event(n: int) -> dict:
    return {
        "event_id": uuid.uuid4().hex,
        "at": datetime.now(UTC).isoformat(),
        "service": "gateway",
        "action": "search.plates",
        "outcome": "allowed",
        "actor": {"id": f"user{n % 50}", "agency": "TX0000000", "roles": ["analyst"]},
        "record_type": "vehicle",
        "record_ids": [],
        "client_address": "10.0.0.7",
        "request_id": uuid.uuid4().hex,
        "details": {"method": "GET", "path": "/api/v1/search/plates", "query": {"plate": f"ABC{n % 1000:03d}"}},
    }


def _store(container: ServiceContainer) -> AuditStore:
    return next(d.store for d in container.extensions if getattr(d, "store_class", None) is AuditStore)


if __name__ == "__main__":
    main()
