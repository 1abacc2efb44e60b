"""Per-document locks on the real FerretDB (``casewire/locks.py``): FerretDB writes a whole document
back on update, so an alert's writers (triage, the entity resolution, the outbox) and an entity's
(the resolution of each alert, merges) take its lock."""

import threading
import time
import uuid
from datetime import timedelta

import pytest

from casewire.clock import utcnow
from casewire.errors import Unavailable
from casewire.locks import DocumentLocks
from services.entities.dependencies import EntityStore
from services.intake.dependencies import AlertStore

WRITES = 40


@pytest.fixture
def database(mongo):
    database = mongo[f"locks_{uuid.uuid4().hex[:8]}"]
    yield database
    mongo.drop_database(database.name)


def in_threads(*targets):
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_writers_holding_the_lock_lose_no_update(database):
    locks, documents = DocumentLocks(database["locks"]), database["documents"]
    documents.insert_one({"_id": "one", "a": 0, "b": 0, "c": 0})

    def writer(field):
        def write():
            for _ in range(WRITES):
                with locks.held("one"):
                    documents.update_one({"_id": "one"}, {"$inc": {field: 1}})

        return write

    in_threads(*(writer(field) for field in "abcabc"))
    assert documents.find_one({"_id": "one"}) == {"_id": "one", "a": 2 * WRITES, "b": 2 * WRITES, "c": 2 * WRITES}
    assert database["locks"].count_documents({}) == 0


def test_a_lock_left_by_a_dead_holder_is_taken_over_and_a_live_one_is_waited_for(database):
    locks = DocumentLocks(database["locks"], stale=30, wait=0.3)
    database["locks"].insert_one({"_id": "dead", "owner": "gone", "at": utcnow() - timedelta(minutes=1)})
    with locks.held("dead"):
        assert database["locks"].find_one({"_id": "dead"})["owner"] != "gone"
    database["locks"].insert_one({"_id": "busy", "owner": "alive", "at": utcnow()})
    with pytest.raises(Unavailable), locks.held("busy"):
        pass
    assert database["locks"].find_one({"_id": "busy"})["owner"] == "alive"


def test_an_alerts_triage_and_its_entity_resolution_written_at_once_both_stay(database):
    store = AlertStore(database)
    store.ensure_indexes()
    alert_id = uuid.uuid4().hex
    received = utcnow()
    store.insert_many(
        [
            {
                "_id": alert_id,
                "agency": "TX0000000",
                "source_system": "locks",
                "source_event_id": alert_id,
                "status": "new",
                "received_at": received,
                "received_hour": received.strftime("%Y-%m-%dT%H"),
                "actions": [],
                "repeats": [],
                "version": 1,
            }
        ]
    )

    def notes():
        for n in range(WRITES):
            store.transition(alert_id, (), {}, {"action": "note", "actor": "ann", "at": utcnow(), "detail": {"n": n}})

    def resolutions():
        for n in range(WRITES):
            store.set_resolution(alert_id, [{"entity_id": f"e{n}"}], [{"record_id": f"r{n}"}] * n)

    in_threads(notes, resolutions, lambda: [store.mark_published(alert_id) for _ in range(WRITES)])
    stored = store.get(alert_id)
    assert [action["detail"]["n"] for action in stored["actions"]] == list(range(WRITES))
    assert stored["version"] == 1 + WRITES
    assert stored["entities"] == [{"entity_id": f"e{WRITES - 1}"}] and stored["related_count"] == WRITES - 1


def plate(key: str, *aliases: str) -> dict:
    return {"type": "vehicle", "key": key, "display": key, "aliases": list(aliases), "attributes": {}}


def test_an_entitys_aliases_added_by_alerts_resolved_at_once_all_stay(database):
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
    assert len(stored["aliases"]) == len(set(stored["aliases"])) == 6 * (WRITES // 2)
    assert stored["revision"] == 1 + 6 * (WRITES // 2)
    assert database["entity_locks"].count_documents({}) == 0


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
