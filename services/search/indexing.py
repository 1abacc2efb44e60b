"""Applying what other services announce to the index: idempotent, versioned, purge-aware.

Handlers run at least once: every write uses the record's id as the document id, and alerts, cases
and entities (their ``revision``) carry an external version, so a replayed or late event never
duplicates or regresses a record. A purged record's id is kept (without content) in the ``purged``
index so that a replay of an older event cannot bring it back (C16); a merged-away entity stays in the
entities index as a marker at its revision (:func:`~services.search.documents.merged_document`), so
that a replay from before the merge cannot bring it or its sightings back. Merges and unmerges are
applied by :mod:`services.search.merges`.
"""

import logging
from collections.abc import Iterator
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
def at_least_once(event_type: str) -> Iterator[None]:
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
    return bool(index_alerts(index, [alert]))


def index_alerts(index: SearchIndex, alerts: list[dict]) -> set[str]:
    """Write alerts at their versions (one bulk request), except those purged; the ids written."""
    purged = set(index.sources("purged", [alert["alert_id"] for alert in alerts]))
    documents = [alert_document(alert) for alert in alerts if alert["alert_id"] not in purged]
    return index.put_many("alerts", [(doc["rid"], doc, doc["version"]) for doc in documents])


def index_case(index: SearchIndex, case: dict) -> bool:
    if index.exists("purged", case["case_id"]):
        return False
    return index.put("cases", case["case_id"], case_document(case), version=case["version"])


def index_entities(index: SearchIndex, entities: list[dict]) -> None:
    """Write each entity at its revision: an older revision (a replay, a late event) is ignored."""
    latest = {}
    for entity in entities:
        if (entity.get("revision") or 0) >= (latest.get(entity["id"], {}).get("revision") or 0):
            latest[entity["id"]] = entity
    purged = set(index.sources("purged", sorted(latest)))
    documents = [
        (e["id"], entity_document(e), e.get("revision") or 0) for e in latest.values() if e["id"] not in purged
    ]
    index.put_many("entities", documents)


def index_sightings(index: SearchIndex, sightings: list[dict], replace: bool = True) -> int:
    """Write each sighting unless its entity was merged away (it is the survivor's now) or its entity
    or record was purged: a replay from before the merge or purge must not bring it back. Without
    ``replace``, a sighting the index holds already is kept as it is. Returns how many were written."""
    if not sightings:
        return 0
    held = index.sources("entities", sorted({sighting["entity_id"] for sighting in sightings}))
    merged = {doc_id for doc_id, source in held.items() if source.get("kind") == "merged"}
    named = {sighting[field] for sighting in sightings for field in ("entity_id", "record_id")}
    purged = set(index.sources("purged", sorted(named)))
    documents = {
        sighting_id(sighting): (sighting_id(sighting), sighting_document(sighting), None)
        for sighting in sightings
        if sighting["entity_id"] not in merged and not {sighting["entity_id"], sighting["record_id"]} & purged
    }
    return len(index.put_many("sightings", list(documents.values()), create=not replace))


def index_resolutions(index: SearchIndex, resolutions: list[dict]) -> None:
    """Alerts' entities and sightings (``alerts_resolved``), all in a few bulk requests."""
    purged = set(index.sources("purged", [resolved["alert_id"] for resolved in resolutions]))
    kept = [resolved for resolved in resolutions if resolved["alert_id"] not in purged]
    index_entities(index, [entity for resolved in kept for entity in resolved["entities"]])
    index_sightings(index, [sighting for resolved in kept for sighting in resolved["sightings"]])


def index_recorded(index: SearchIndex, recorded: dict) -> None:
    """``entity_recorded``: an entity made by hand, or named (or no longer named) by a case."""
    index_entities(index, [recorded["entity"]])
    index_sightings(index, recorded["sightings"])
    index.delete("sightings", [sighting_id(s) for s in recorded["removed"]])


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
