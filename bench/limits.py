"""The limit: the pipeline's own documents written straight to the stores, in bulk, with no services.

For each alert, what Casewire stores when it has ingested it: the alert and its key (intake), the
vehicle and the sighting (entities), the ``alert.create`` audit event, and the alert, vehicle and
sighting search documents, into collections and indices made with the services' own indexes and
mappings. One bulk write per collection and one bulk request per batch of 1,000 alerts: what the
stores can take when asked the way the pipeline asks at best.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch, helpers
from pymongo import MongoClient

from services.audit.chain import GENESIS, link
from services.audit.dependencies import AuditStore, key
from services.entities.dependencies import EntityStore, entity_id_of, sighting_id_of
from services.entities.identity import vehicle_ref
from services.intake.dependencies import AlertStore
from services.intake.ingest import alert_id_of, key_of, new_document
from services.intake.retention import RetentionPolicy
from services.search.dependencies import SearchIndex
from services.search.documents import alert_document, entity_document, sighting_document, sighting_id

AGENCY = "TX0000000"
CONTEXT = {"actor": {"id": "bench", "agency": AGENCY}, "unit": "rtcc"}


def _loaded(alert: dict) -> dict:
    return {**alert, "occurred_at": datetime.fromisoformat(alert["occurred_at"]), "priority": "normal"}


def direct_write(alerts: list[dict], mongo_uri: str, es_url: str, batch: int = 1000) -> dict:
    """Alerts per second, everything the pipeline stores for them written directly."""
    client, es = MongoClient(mongo_uri, tz_aware=True), Elasticsearch(es_url, request_timeout=120)
    names = {name: f"bench_limit_{name}" for name in ("intake", "entities", "audit")}
    for name in names.values():
        client.drop_database(name)
    intake, entities = AlertStore(client[names["intake"]]), EntityStore(client[names["entities"]])
    audit = AuditStore(client[names["audit"]])
    for store in (intake, entities, audit):
        store.ensure_indexes()
    index = SearchIndex(es, f"bench-limit-{uuid.uuid4().hex[:6]}")
    index.ensure_indices()
    policy, window, seq, head = RetentionPolicy(365, {}, None), timedelta(seconds=120), 0, GENESIS
    started = time.perf_counter()
    for start in range(0, len(alerts), batch):
        now = datetime.now(UTC)
        docs, keys, vehicles, sightings, events, search = [], [], {}, [], [], []
        for raw in alerts[start : start + batch]:
            alert = _loaded(raw)
            doc = new_document(alert_id_of(alert, AGENCY, window), alert, CONTEXT, now, policy)
            docs.append(doc)
            keys.append({"_id": key_of(AGENCY, alert["source_system"], alert["source_event_id"]),
                         "alert_id": doc["_id"], "source_event_id": alert["source_event_id"]})  # fmt: skip
            ref = vehicle_ref(alert["payload"]["plate"], alert["payload"].get("plate_state"))
            vehicle_id = entity_id_of("vehicle", ref["key"])
            vehicles[vehicle_id] = {"_id": vehicle_id, "type": "vehicle", "key": ref["key"], "display": ref["display"],
                                    "revision": 1, "aliases": [], **ref["attributes"]}  # fmt: skip
            sighting = {"entity_id": vehicle_id, "record_type": "alert", "record_id": doc["_id"],
                        "at": alert["occurred_at"], "location": alert.get("location"), "source": "alpr"}  # fmt: skip
            sightings.append({"_id": sighting_id_of(vehicle_id, "alert", doc["_id"]), **sighting})
            seq += 1
            event = link({"event_id": f"alert.create-{doc['_id']}", "action": "alert.create", "at": now}, seq, head)
            head = event["hash"]
            events.append({**event, "_id": key(seq)})
            received = {
                **doc,
                "alert_id": doc["_id"],
                "occurred_at": raw["occurred_at"],
                "received_at": now.isoformat(),
            }
            search.append(("alerts", doc["_id"], alert_document(received)))
            entity = {**vehicles[vehicle_id], "id": vehicle_id}
            search.append(("entities", vehicle_id, entity_document(entity)))
            dumped = {**sighting, "at": raw["occurred_at"]}
            search.append(("sightings", sighting_id(dumped), sighting_document(dumped)))
        intake.keys_.insert_new(keys)
        intake.alerts.insert_new(docs)
        entities.entities.insert_new(list(vehicles.values()))
        entities.sightings.insert_new(sightings)
        audit.events.insert_many(events, ordered=True)
        actions = ({"_index": index.alias(name), "_id": doc_id, "_source": body} for name, doc_id, body in search)
        helpers.bulk(es, actions)
    es.indices.refresh(index=",".join(index.alias(name) for name in ("alerts", "entities", "sightings")))
    elapsed = time.perf_counter() - started
    for name in names.values():
        client.drop_database(name)
    es.indices.delete(index=",".join(es.indices.get(index=f"{index.prefix}-*")))
    client.close()
    es.close()
    return {"alerts": len(alerts), "seconds": round(elapsed, 2), "alerts_per_second": round(len(alerts) / elapsed)}
