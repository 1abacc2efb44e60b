"""Applying what other services announce to the index: idempotent, versioned, purge-aware.

Handlers run at least once: every write uses the record's id as the document id, and alerts and
cases carry an external version, so a replayed or late event never duplicates or regresses a record.
A purged record's id is kept (without content) in the ``purged`` index so that a replay of an
older event cannot bring it back (C16).
"""

import logging
from contextlib import contextmanager

import eventlet
from marshmallow import ValidationError

from casewire.errors import Unavailable
from services.search.dependencies import SearchIndex
from services.search.documents import (
    alert_document,
    case_document,
    entity_document,
    sighting_document,
    sighting_id,
)

RECORD_INDEX = {"alert": "alerts", "case": "cases", "entity": "entities"}
RETRY_PAUSE = 1.0  # seconds before a failed event goes back to its queue (no hot loop while ES is down)
log = logging.getLogger(__name__)


@contextmanager
def at_least_once(event_type: str):
    """An event that breaks the contract is logged and goes to the dead-letter queue (a retry cannot
    fix it; a replay after a fix can); an unavailable index re-raises after a pause, and the reliable
    handler requeues the event until Elasticsearch is back (``casewire.messaging``)."""
    try:
        yield
    except ValidationError as exc:
        log.error("a malformed %s event goes to the dead-letter queue: %s", event_type, exc.messages)
        raise
    except Unavailable:
        eventlet.sleep(RETRY_PAUSE)
        raise


def index_alert(index: SearchIndex, alert: dict) -> bool:
    if index.exists("purged", alert["alert_id"]):
        return False
    document = alert_document(alert)
    return index.put("alerts", alert["alert_id"], document, version=document["version"])


def index_case(index: SearchIndex, case: dict) -> bool:
    if index.exists("purged", case["case_id"]):
        return False
    return index.put("cases", case["case_id"], case_document(case), version=case["version"])


def index_resolution(index: SearchIndex, resolved: dict) -> None:
    """An alert's entities and sightings (``alert_resolved``)."""
    if index.exists("purged", resolved["alert_id"]):
        return
    for entity in resolved["entities"]:
        if not index.exists("purged", entity["id"]):
            index.put("entities", entity["id"], entity_document(entity))
    for sighting in resolved["sightings"]:
        if not index.exists("purged", sighting["entity_id"]):
            index.put("sightings", sighting_id(sighting), sighting_document(sighting))


def apply_merge(index: SearchIndex, merged: dict) -> dict:
    """``entities_merged``: a merged-away entity leaves the index with its sightings; each live entity is
    written as it is now and its sightings are exactly the ones the event lists (re-pointed ones moved
    over, ones no longer its own removed). Applying it twice changes nothing."""
    index.refresh("sightings")
    changed = {"entities": 0, "sightings": 0, "removed": 0}
    for entity in merged["entities"]:
        if index.exists("purged", entity["id"]):
            continue
        held = {doc_id for doc_id, _, _ in index.scan("sightings", {"term": {"entity_id": entity["id"]}})}
        if entity.get("merged_into"):
            changed["removed"] += index.delete("entities", [entity["id"]]) + index.delete("sightings", held)
            continue
        index.put("entities", entity["id"], entity_document(entity))
        current = {sighting_id(s): s for s in entity["sightings"] if s["entity_id"] == entity["id"]}
        for doc_id, sighting in current.items():
            index.put("sightings", doc_id, sighting_document(sighting))
        changed["entities"] += 1
        changed["sightings"] += len(current)
        changed["removed"] += index.delete("sightings", held - set(current))
    return changed


def purge(index: SearchIndex, record_type: str, record_id: str) -> dict:
    """Remove a record and every sighting of or by it from every index; remember its id."""
    index.put("purged", record_id, {"record_type": record_type})
    removed = {}
    if record_type in RECORD_INDEX:
        removed[RECORD_INDEX[record_type]] = index.delete(RECORD_INDEX[record_type], [record_id])
    index.refresh("sightings")
    field = "entity_id" if record_type == "entity" else "record_id"
    sightings = [doc_id for doc_id, _, _ in index.scan("sightings", {"term": {field: record_id}})]
    removed["sightings"] = index.delete("sightings", sightings)
    return removed
