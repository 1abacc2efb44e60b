"""The document-store adapter and the documents with several writers, on the real server.

Each store shapes its data so that the ingest path has one writer per document; what has several
writers (people triaging an alert, entities enriched by many alerts and merged by people, the
tallies) goes through ``casewire.docstore``'s atomic writes. These tests write at once from many
threads and check that nothing is lost.
"""

import threading
import time
import uuid
from datetime import timedelta

import pytest

from casewire import docstore
from casewire.clock import utcnow
from casewire.errors import Unavailable
from services.entities.dependencies import EntityStore
from services.intake.dependencies import AlertStore
from services.intake.ingest import new_document
from services.intake.retention import RetentionPolicy

WRITES = 40


@pytest.fixture
def database(mongo):
    database = mongo[f"docstore_{uuid.uuid4().hex[:8]}"]
    yield database
    mongo.drop_database(database.name)


def in_threads(*targets):
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("flavor", [None, docstore.FERRETDB])
def test_atomic_updates_from_six_writers_lose_no_update(database, flavor):
    (documents,) = docstore.open_collections(database, "documents", flavor=flavor)
    documents.insert_one({"_id": "one", "a": 0, "b": 0, "c": 0})

    def writer(field):
        def write():
            for _ in range(WRITES):
                documents.update_atomic({"_id": "one"}, {"$inc": {field: 1}})

        return write

    in_threads(*(writer(field) for field in "abcabc"))
    assert documents.find_one({"_id": "one"}) == {"_id": "one", "a": 2 * WRITES, "b": 2 * WRITES, "c": 2 * WRITES}


@pytest.mark.parametrize("scan_per_lookup", [0, docstore.SCAN_PER_LOOKUP])  # by equality, or one $in
def test_get_many_insert_new_and_counts_answer_alike_on_either_flavor(database, monkeypatch, scan_per_lookup):
    monkeypatch.setattr(docstore, "SCAN_PER_LOOKUP", scan_per_lookup)
    for flavor in (docstore.MONGODB, docstore.FERRETDB):
        (documents,) = docstore.open_collections(database, f"documents_{flavor}", flavor=flavor)
        assert documents.estimated_count() == 0  # no collection yet
        assert documents.insert_new([{"_id": n} for n in range(250)]) == set()
        assert documents.insert_new([{"_id": 249}, {"_id": 250}, {"_id": 3}]) == {0, 2}
        assert sorted(documents.get_many([3, 300, 250, 3])) == [3, 250]
        assert documents.estimated_count() == 251


def test_inserts_that_keep_meeting_stored_documents_go_in_smaller_chunks_and_report_every_refusal(database):
    (documents,) = docstore.open_collections(database, "chunked", flavor=docstore.FERRETDB)
    assert documents.insert_new([{"_id": n} for n in range(0, 1000, 10)]) == set()
    for start in range(0, 1000, 200):
        batch = [{"_id": n} for n in range(start, start + 200)]
        assert documents.insert_new(batch) == {position for position in range(200) if position % 10 == 0}
    assert documents.count_documents({}) == 1000
    assert docstore.MIN_INSERT_CHUNK <= documents._insert_chunk() < docstore.INSERT_CHUNK


def test_a_lock_left_by_a_dead_holder_is_taken_over_and_a_live_one_is_waited_for(database, monkeypatch):
    (documents,) = docstore.open_collections(database, "documents", flavor=docstore.FERRETDB)
    locks = database["documents_locks"]
    documents.insert_many([{"_id": "dead", "n": 0}, {"_id": "busy", "n": 0}])
    locks.insert_one({"_id": "dead", "owner": "gone", "at": utcnow() - timedelta(minutes=1)})
    assert documents.update_atomic({"_id": "dead"}, {"$inc": {"n": 1}})["n"] == 1
    monkeypatch.setattr(docstore, "LOCK_WAIT_SECONDS", 0.3)
    locks.insert_one({"_id": "busy", "owner": "alive", "at": utcnow()})
    with pytest.raises(Unavailable):
        documents.update_atomic({"_id": "busy"}, {"$inc": {"n": 1}})
    assert locks.find_one({"_id": "busy"})["owner"] == "alive" and documents.find_one({"_id": "busy"})["n"] == 0


def _stored_alert(store: AlertStore, agency: str = "TX0000000") -> dict:
    alert_id = uuid.uuid4().hex
    submitted = {
        "source": "alpr",
        "source_system": "docstore",
        "source_event_id": alert_id,
        "occurred_at": utcnow(),
        "priority": "normal",
        "payload": {"plate": "ABC1234", "camera_id": "cam-1"},
    }
    context = {"actor": {"id": "ann", "agency": agency}, "unit": "rtcc"}
    document = new_document(alert_id, submitted, context, utcnow(), RetentionPolicy(365, {}, None))
    assert store.insert_alerts([document], batch_id=alert_id) == set()
    return document


def test_an_alerts_notes_and_its_resolution_written_at_once_all_stay(database):
    store = AlertStore(database)
    store.ensure_indexes()
    alert = _stored_alert(store)

    def notes():
        for n in range(WRITES):
            action = {"action": "note", "actor": "ann", "at": utcnow(), "detail": {"n": n}}
            store.transition(alert["_id"], (), {}, action)

    def resolutions():
        for n in range(WRITES):
            resolved = {"alert_id": alert["_id"], "entities": [{"id": f"e{n}"}], "related": [], "source": "alpr"}
            store.save_resolutions([resolved])

    in_threads(notes, resolutions)
    stored = store.described(alert["_id"])
    assert [action["detail"]["n"] for action in stored["actions"][1:]] == list(range(WRITES))
    assert stored["version"] == 1 + WRITES and stored["entities"] == [{"id": "e0"}]


def test_1200_concurrent_tally_changes_are_counted_exactly_while_folds_run(database):
    """Twelve writers each triage and note alerts while sweeps fold: the buckets equal a recount."""
    store = AlertStore(database)
    store.ensure_indexes()
    alerts = [_stored_alert(store) for _ in range(12)]
    stop = threading.Event()

    def writer(alert):
        def write():
            for n in range(100):  # 1 assignment, then 99 notes: each a change of the tally or none
                changes = {"status": "assigned", "assignee": "ann"} if n == 0 else {}
                action = {"action": "note", "actor": "ann", "at": utcnow(), "detail": {}}
                store.transition(alert["_id"], (), changes, action)

        return write

    def folds():
        while not stop.is_set():
            store.tallies.sweep(wait=5)

    folder = threading.Thread(target=folds)
    folder.start()
    try:
        in_threads(*(writer(alert) for alert in alerts))
    finally:
        stop.set()
        folder.join()
    assert store.tallies.sweep(wait=5)["swept"]
    (bucket,) = store.tallies.hours.find({})
    assert bucket["counts"] == {"alpr|assigned|-|0|0": 12}
    assert store.tallies.deltas.count_documents({}) == 0


def test_1200_alerts_stored_by_concurrent_batches_are_each_counted_once(database):
    store = AlertStore(database)
    store.ensure_indexes()

    def batches():
        for _ in range(10):
            for _ in range(10):
                _stored_alert(store)
            store.tallies.sweep(wait=5)

    in_threads(*(batches for _ in range(12)))
    store.tallies.sweep(wait=5)
    assert sum(bucket["counts"]["alpr|new|-|0|0"] for bucket in store.tallies.hours.find({})) == 1200


def plate(key: str, *aliases: str) -> dict:
    return {"type": "vehicle", "key": key, "display": key, "aliases": list(aliases), "attributes": {}}


def test_six_writers_adding_120_aliases_to_one_entity_at_once_keep_all_120(database):
    store = EntityStore(database)
    store.ensure_indexes()
    entity, _ = store.upsert(plate("TX:LOCK01"), utcnow())

    def resolutions(writer):
        def resolve():
            for n in range(WRITES // 2):
                store.upsert(plate("TX:LOCK01", f"TX:LOCK01-{writer}-{n}"), utcnow())

        return resolve

    in_threads(*(resolutions(writer) for writer in range(6)))
    stored = store.get_raw(entity["_id"])
    assert len(stored["aliases"]) == len(set(stored["aliases"])) == 120
    assert stored["revision"] == 1 + 120


def test_merges_stored_while_alerts_name_the_merged_entity_stay(database):
    store = EntityStore(database)
    store.ensure_indexes()
    survivor, _ = store.upsert(plate("TX:KEEP01"), utcnow())
    merged, _ = store.upsert(plate("TX:GONE01"), utcnow())
    undone, done = [], threading.Event()

    def resolutions():
        n = 0
        while not done.is_set():
            store.upsert(plate("TX:GONE01", f"TX:GONE01-{n}"), utcnow())
            n += 1

    def merges():
        try:
            for _ in range(WRITES // 2):
                store.merge(survivor["_id"], merged["_id"], "dana", utcnow())
                time.sleep(0.05)  # resolutions in flight land meanwhile
                if store.get_raw(merged["_id"]).get("merged_into") != survivor["_id"]:
                    undone.append("merge")
                    return
                store.unmerge(survivor["_id"], merged["_id"], "dana", utcnow())
        finally:
            done.set()

    in_threads(resolutions, resolutions, merges)
    assert undone == []
