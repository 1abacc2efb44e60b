"""The stream's relay over real RabbitMQ and FerretDB: two gateway replicas, one order, bounded, purgeable."""

import uuid

import pytest
from kombu import Connection
from nameko.standalone.events import event_dispatcher

from gateway.stream import StreamRelay, StreamStore
from tests.polling import eventually


@pytest.fixture
def gateway_db(mongo, run_id):
    name = f"test_{run_id}_gateway_{uuid.uuid4().hex[:6]}"
    yield mongo[name]
    mongo.drop_database(name)


@pytest.fixture
def replicas(base_config, gateway_db):
    config = {**base_config, "GATEWAY_DATABASE": gateway_db.name, "STREAM_BUFFER": 1000}
    relays = [StreamRelay(config), StreamRelay(config)]
    for relay in relays:
        relay.start()
    for relay in relays:
        assert relay.connected.wait(15)
    yield relays
    for relay in relays:
        relay.stop()
        relay.client.close()


def test_two_replicas_store_each_event_once_in_one_order(replicas, base_config, gateway_db):
    dispatch = event_dispatcher(base_config)
    alert_ids = [uuid.uuid4().hex for _ in range(5)]
    for alert_id in alert_ids:
        alert = {"alert_id": alert_id, "agency": "TX0000000", "source": "alpr", "payload": {"plate": "KGT4471"}}
        dispatch("intake", "alerts_received", {"alerts": [{**alert, "item": {"id": alert_id}}]})
    link = {"alert_id": alert_ids[-1], "related": [{"record_type": "alert", "id": "x"}]}
    dispatch("entities", "links_found", {"links": [link]})
    dispatch("cases", "case_updated", {"case_id": "c-1", "unit": "homicide", "assignees": ["dora"]})

    rows = eventually(lambda: (found := list(gateway_db["stream_events"].find().sort("_id", 1))) and len(found) >= 7)
    rows = list(gateway_db["stream_events"].find().sort("_id", 1))
    assert [row["type"] for row in rows] == ["alert_received"] * 5 + ["link_found", "case_updated"]
    assert [row["payload"].get("alert_id") for row in rows[:5]] == alert_ids
    # what the stream sends and decides with, not the source's payload or the list item
    assert rows[0]["payload"] == {"alert_id": alert_ids[0], "agency": "TX0000000", "source": "alpr"}
    assert rows[5]["record_ids"] == [alert_ids[-1], "x"]
    for relay in replicas:
        eventually(lambda relay=relay: relay.cases.get("c-1"))
        assert relay.cases.get("c-1")["unit"] == "homicide"
        assert relay.store.after(rows[4]["_id"])[0]["_id"] == rows[5]["_id"]


def test_a_purged_record_leaves_the_stream(replicas, base_config, gateway_db):
    dispatch = event_dispatcher(base_config)
    kept, purged = uuid.uuid4().hex, uuid.uuid4().hex
    dispatch("intake", "alerts_received", {"alerts": [{"alert_id": purged}]})
    dispatch("intake", "alerts_received", {"alerts": [{"alert_id": kept}]})
    eventually(lambda: gateway_db["stream_events"].count_documents({}) == 2)
    dispatch("intake", "record_purged", {"record_type": "alert", "record_id": purged, "reason": "retention"})
    eventually(lambda: gateway_db["stream_events"].count_documents({"record_ids": purged}) == 0)
    assert gateway_db["stream_events"].count_documents({"record_ids": kept}) == 1


def test_the_buffer_keeps_only_the_newest_events(gateway_db):
    store = StreamStore(gateway_db, capacity=50)
    store.ensure_indexes()
    seqs = [store.append("intake", "alert_received", {"alert_id": str(n)}) for n in range(250)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 250
    assert store.append("intake", "alert_received", {"alert_id": "249"}) == seqs[-1]  # a replica's copy
    assert store.head() >= seqs[-1]  # the newest number given out (the copy took one too)
    assert gateway_db["stream_events"].count_documents({}) <= 50 + 100  # trimmed a bucket of 100 at a time
    assert store.oldest() > seqs[-1] - 150
    assert [event["_id"] for event in store.after(seqs[-3])] == seqs[-2:]


def test_a_lost_sequence_counter_moves_past_the_stored_events(gateway_db):
    """The counter document reset (restored from an older backup, dropped by hand): new events still
    get new numbers after the stored ones, and the relay never stops on a taken number."""
    store = StreamStore(gateway_db, capacity=50)
    store.ensure_indexes()
    first = [store.append("intake", "alert_received", {"alert_id": str(n)}) for n in range(3)]
    gateway_db["stream_counters"].delete_many({})
    later = store.append("intake", "alert_received", {"alert_id": "after-the-reset"})
    assert later > max(first) and store.head() == later
    assert store.append("intake", "alert_received", {"alert_id": "0"}) == first[0]


def consumers(base_config: dict, queue: str) -> int:
    with Connection(base_config["AMQP_URI"]) as connection:
        return connection.default_channel.queue_declare(queue=queue, passive=True).consumer_count


def test_a_purge_announced_while_no_replica_runs_still_empties_the_stored_events(base_config, gateway_db):
    """The stored events lose a purged record's titles and summaries even when no relay was listening
    when ``record_purged`` was announced (a restart, a deploy): purges wait in a durable queue."""
    config = {**base_config, "GATEWAY_DATABASE": gateway_db.name, "STREAM_BUFFER": 1000}
    dispatch = event_dispatcher(base_config)
    purged, kept = uuid.uuid4().hex, uuid.uuid4().hex
    first = StreamRelay(config)
    first.start()
    assert first.connected.wait(15)
    dispatch("cases", "case_updated", {"case_id": purged, "title": "Elm St informant", "summary": "garage"})
    dispatch("cases", "case_updated", {"case_id": kept, "title": "Main St"})
    eventually(lambda: gateway_db["stream_events"].count_documents({}) == 2)
    first.stop()
    eventually(lambda: consumers(base_config, first.queue_name) == 0)  # its consumer is gone
    first.client.close()

    dispatch("cases", "record_purged", {"record_type": "case", "record_id": purged, "reason": "C15"})
    second = StreamRelay(config)
    second.start()
    try:
        assert second.connected.wait(15)
        eventually(lambda: gateway_db["stream_events"].count_documents({"record_ids": purged}) == 0, timeout=20)
        assert gateway_db["stream_events"].count_documents({"record_ids": kept}) == 1
    finally:
        second.stop()
        second.client.close()


class InsertBetweenReads:
    """The events collection, where another append's insert lands right after the first read of bucket 0."""

    def __init__(self, events, rows):
        self.events, self.rows = events, rows

    def find(self, query, *args, **kwargs):
        found = list(self.events.find(query, *args, **kwargs))
        if self.rows and query == {"bucket": 0}:
            self.events.insert_many(self.rows)
            self.rows = []
        return found

    def __getattr__(self, name):
        return getattr(self.events, name)


def test_an_insert_landing_between_two_bucket_reads_is_read_whole(gateway_db):
    """Events 90 to 110 stored in one insert (buckets 0 and 1) after bucket 0 was read and before bucket 1
    was: a reader that got 100 to 110 alone would move past 90 to 99 for good."""
    store = StreamStore(gateway_db, capacity=1000)
    store.ensure_indexes()
    store.append_many("intake", [("alert_received", {"alert_id": str(n)}) for n in range(1, 90)])
    late = [
        {"_id": n, "bucket": n // 100, "key": f"late-{n}", "type": "alert_received", "payload": {"alert_id": str(n)}}
        for n in range(90, 111)
    ]
    store.counters.update_atomic({"_id": "stream_events"}, {"$set": {"seq": 110}})
    store.events = InsertBetweenReads(store.events, late)
    assert [event["_id"] for event in store.after(80)] == list(range(81, 111))
