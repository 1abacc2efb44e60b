"""The real-time stream's machinery: a relay per gateway process and a bounded, shared event store.

Each gateway process consumes its own queue (``casewire.gateway.stream.<id>``) bound to the events
exchanges, so every replica sees every event. Each event is appended once to the gateway's own
MongoDB collection ``stream_events`` (a content hash is unique, so replicas that store the same event
agree on its sequence number), which is the single order all replicas serve and the store that
``Last-Event-ID`` resumes from. The store keeps the newest ``STREAM_BUFFER`` events; a client that
resumes from an older id is told with a ``stream_reset`` event. Plain threads and kombu: the gateway
runs under gunicorn's gthread workers and is not eventlet-patched.
"""

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime

from kombu import Connection, Exchange, Queue, binding
from kombu.message import Message
from pymongo import ASCENDING
from pymongo.database import Database

from casewire import docstore, events
from casewire.docstore import AFTER
from casewire.mongo import connect
from gateway.visibility import ALERT_FIELDS

log = logging.getLogger(__name__)

# What the stream relays, by the service that announces it.
STREAMED = {
    events.INTAKE: (events.ALERTS_RECEIVED, events.ALERT_ASSIGNED, events.ALERT_OVERDUE),
    events.ENTITIES: (events.LINKS_FOUND,),
    events.CASES: (events.CASE_UPDATED, events.CASE_ASSIGNED, events.CONTROL_OFFICIAL_NOTIFIED),
}
# A batch event reaches the stream as one event per alert, under its single name.
SPLIT = {events.ALERTS_RECEIVED: ("alerts", events.ALERT_RECEIVED), events.LINKS_FOUND: ("links", events.LINK_FOUND)}
# What the stream keeps of a received alert: what it sends and who may see it. The source's payload
# and the list item stay with intake and search (less to store per alert, nothing more to purge).
ALERT_KEPT = (*ALERT_FIELDS, "agency", "unit")
# Purges (C16) reach the stream too: a purged record's events leave the buffer. They come through a
# durable queue of the buffer's own (``casewire.gateway.stream.purges.<database>``), shared by the
# replicas that share the buffer and kept while none runs, so no purge is missed and each is acknowledged
# only once its events are gone.
PURGES = {events.INTAKE: (events.RECORD_PURGED,), events.CASES: (events.RECORD_PURGED,)}
QUEUE_EXPIRES_MS = 10 * 60 * 1000  # a replica's queue outlives a broker blip, not the replica
APPEND_ATTEMPTS = 5
BUCKET = 100


def _record_ids(event_type: str, payload: dict) -> list[str]:
    ids = [payload[key] for key in ("alert_id", "case_id") if payload.get(key)]
    if event_type == events.LINK_FOUND:
        ids += [record["id"] for record in payload.get("related", [])]
    return ids


class StreamStore:
    """``stream_events``: ``{_id: seq, bucket, key, type, source, at, payload, record_ids}``, newest
    ``capacity`` kept. Events are read and trimmed a ``bucket`` (:data:`BUCKET` sequence numbers) at a
    time, by equality: a range over the sequence numbers would read the whole buffer on some servers."""

    def __init__(self, database: Database, capacity: int):
        self.events, self.counters = docstore.open_collections(database, "stream_events", "stream_counters")
        self.capacity = capacity

    def ensure_indexes(self) -> None:
        self.events.create_index([("key", ASCENDING)], unique=True, name="one_per_event")
        self.events.create_index([("record_ids", ASCENDING)], name="records")
        self.events.create_index([("bucket", ASCENDING)], name="bucket")

    def append(self, source: str, event_type: str, payload: dict) -> int:
        """Store an event once, whichever replica comes first; its sequence number."""
        return self.append_many(source, [(event_type, payload)])[0]

    def append_many(self, source: str, items: list[tuple[str, dict]]) -> list[int]:
        """Store events once each (``(type, payload)``), in order, whichever replica comes first: one
        counter move and one insert for all of them; their sequence numbers."""
        documents = []
        for event_type, payload in items:
            canonical = json.dumps([source, event_type, payload], sort_keys=True, separators=(",", ":"))
            key = hashlib.sha256(canonical.encode()).hexdigest()
            documents.append(
                {
                    "key": key,
                    "type": event_type,
                    "source": source,
                    "at": datetime.now(UTC),
                    "payload": payload,
                    "record_ids": _record_ids(event_type, payload),
                }
            )
        seqs = [0] * len(documents)
        waiting = list(range(len(documents)))
        for _ in range(APPEND_ATTEMPTS):
            last = self.counters.update_atomic(
                {"_id": "stream_events"}, {"$inc": {"seq": len(waiting)}}, upsert=True, return_document=AFTER
            )["seq"]
            first = last - len(waiting) + 1
            batch = [
                {**documents[position], "_id": first + n, "bucket": (first + n) // BUCKET}
                for n, position in enumerate(waiting)
            ]
            refused = self.events.insert_new(batch)
            for n, position in enumerate(waiting):
                seqs[position] = first + n
            retry = []
            for n in sorted(refused):
                position = waiting[n]
                existing = self.events.find_one({"key": documents[position]["key"]}, {"_id": 1})
                if existing:  # another replica stored it
                    seqs[position] = existing["_id"]
                else:  # the counter is behind the stored events (lost or reset): move it past the head
                    retry.append(position)
            if not retry:
                for bucket in range((first - 1 - self.capacity) // BUCKET, (last - self.capacity) // BUCKET):
                    if bucket >= 0:  # every bucket a new bucket pushed out of the buffer
                        self.events.delete_many({"bucket": bucket})
                return seqs
            self.counters.update_atomic({"_id": "stream_events"}, {"$max": {"seq": self._stored_head()}})
            waiting = retry
        raise RuntimeError(f"could not store {len(waiting)} stream events in {APPEND_ATTEMPTS} attempts")

    def after(self, seq: int, limit: int = 200) -> list[dict]:
        """Up to ``limit`` events after ``seq``, in order, read a bucket at a time up to the head.

        One append's insert may span two buckets and land between the reads of the two: when a later
        bucket held events, the earlier ones are read again, so no insert is seen in its later part only
        (a reader would move past the rest for good).
        """
        read: dict[int, list[dict]] = {}
        for bucket in range(max(seq, 0) // BUCKET, self.head() // BUCKET + 1):
            read[bucket] = self._bucket(bucket, seq)
            if sum(map(len, read.values())) >= limit:
                break
        newest = max((bucket for bucket, rows in read.items() if rows), default=None)
        for bucket in read:
            if newest is not None and bucket < newest:
                read[bucket] = self._bucket(bucket, seq)
        return [event for bucket in sorted(read) for event in read[bucket]][:limit]

    def _bucket(self, bucket: int, seq: int) -> list[dict]:
        return sorted((e for e in self.events.find({"bucket": bucket}) if e["_id"] > seq), key=_seq)

    def head(self) -> int:
        """The newest sequence number given out (its event may still be on its way in)."""
        counter = self.counters.find_one({"_id": "stream_events"})
        return counter["seq"] if counter else 0

    def oldest(self) -> int | None:
        """About the oldest sequence number kept (whole buckets are trimmed)."""
        head = self.head()
        return max(1, (head - self.capacity) // BUCKET * BUCKET) if head else None

    def _stored_head(self) -> int:
        """The newest stored sequence number, found by reading the buffer: only when the counter was lost."""
        newest = list(self.events.find({}, {"_id": 1}).sort([("_id", -1)]).limit(1))
        return newest[0]["_id"] if newest else 0

    def forget(self, record_id: str) -> int:
        """Remove every buffered event about a purged record; how many there were."""
        return self.events.delete_many({"record_ids": record_id}).deleted_count

    def latest_about(self, record_id: str, event_type: str) -> dict | None:
        found = self.events.find({"record_ids": record_id, "type": event_type}).sort([("_id", -1)]).limit(1)
        return next(iter(found), None)


class LruCache:
    """A small thread-safe cache of who may see a record (cases, alerts), refreshed by events."""

    def __init__(self, size: int = 10000):
        self._items: OrderedDict = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: str, value: dict) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class StreamRelay:
    """Consumes the events exchanges in a daemon thread; wakes the process's stream connections."""

    def __init__(self, config: dict):
        self.amqp_uri = config["AMQP_URI"]
        self.client = connect(config["MONGODB_URI"])
        self.store = StreamStore(self.client.get_database(config["GATEWAY_DATABASE"]), int(config["STREAM_BUFFER"]))
        self.queue_name = f"casewire.gateway.stream.{uuid.uuid4().hex}"
        self.purge_queue_name = f"casewire.gateway.stream.purges.{config['GATEWAY_DATABASE']}"
        self.cases, self.alerts = LruCache(), LruCache()
        self._changed = threading.Condition()
        self.handled = 0  # messages handled so far: what a connection's wait is for (:meth:`wait`)
        self._stopped = threading.Event()
        self.connected = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name="casewire-stream-relay", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def wait(self, since: int, timeout: float) -> None:
        """Block until a message is handled after ``since`` (:attr:`handled` read before the caller last
        read the store) or ``timeout`` passes: one handled while the caller was reading wakes it at once."""
        with self._changed:
            self._changed.wait_for(lambda: self.handled != since, timeout)

    def _queues(self) -> list[Queue]:
        def bindings(subscriptions: dict) -> list:
            return [
                binding(Exchange(f"{service}.events", type="topic", durable=True), routing_key=event_type)
                for service, types in subscriptions.items()
                for event_type in types
            ]

        live = Queue(
            self.queue_name, bindings=bindings(STREAMED), durable=False, queue_arguments={"x-expires": QUEUE_EXPIRES_MS}
        )
        return [live, Queue(self.purge_queue_name, bindings=bindings(PURGES), durable=True)]

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopped.is_set():
            try:
                self.store.ensure_indexes()
                with Connection(self.amqp_uri, heartbeat=30) as connection:
                    with connection.Consumer(self._queues(), callbacks=[self._on_message], accept=["json"]):
                        self.connected.set()
                        backoff = 0.5
                        while not self._stopped.is_set():
                            try:
                                connection.drain_events(timeout=1)
                            except TimeoutError:
                                connection.heartbeat_check()
            except Exception:  # broker or MongoDB down: keep trying, the stream resumes by sequence
                self.connected.clear()
                log.warning("stream relay disconnected; retrying in %.1fs", backoff, exc_info=True)
                time.sleep(backoff)
                backoff = min(backoff * 2, 10)

    def _on_message(self, body: dict, message: Message) -> None:
        info = message.delivery_info
        source, event_type = info["exchange"].removesuffix(".events"), info["routing_key"]
        if isinstance(body, dict) and event_type == events.RECORD_PURGED:
            self.store.forget(body.get("record_id", ""))
        elif isinstance(body, dict):
            items = _split(event_type, body)
            for kind, item in items:
                if kind == events.CASE_UPDATED and item.get("case_id"):
                    self.cases.put(item["case_id"], _case_access(item))
                if kind == events.ALERT_RECEIVED and item.get("alert_id"):
                    self.alerts.put(item["alert_id"], {"agency": item.get("agency"), "unit": item.get("unit")})
            if items:
                self.store.append_many(source, items)
        message.ack()
        with self._changed:
            self.handled += 1
            self._changed.notify_all()


def _seq(event: dict) -> int:
    return event["_id"]


def _split(event_type: str, body: dict) -> list[tuple[str, dict]]:
    """The stream events of one message: a batch event's items under their single name, else itself."""
    if event_type in SPLIT:
        field, single = SPLIT[event_type]
        items = [item for item in body.get(field) or [] if isinstance(item, dict)]
        if single == events.ALERT_RECEIVED:
            items = [{key: item[key] for key in ALERT_KEPT if key in item} for item in items]
        return [(single, item) for item in items]
    return [(event_type, body)]


def _case_access(case: dict) -> dict:
    keys = ("unit", "agency", "assignees", "classification", "sensitivity", "review_state", "submitting_unit")
    return {key: case.get(key) for key in keys}
