"""The walking skeleton over real RabbitMQ, FerretDB and Elasticsearch, one hop at a time."""

import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from casewire import events
from services.audit.service import AuditService
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from services.search.service import SearchService
from tests.polling import eventually
from tests.resolution import resolve_one

CONTEXT = {"actor": {"id": "alice", "agency": "TX0000000", "roles": ["analyst"]}, "request_id": "req-1"}


def alpr(plate="ABC1234", state="TX", month=1):
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": f"2026-{month:02d}-05T22:14:00Z",
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"plate": plate, "plate_state": state, "camera_id": "cam-7"},
    }


@pytest.fixture
def pipeline(container_factory, config_for, base_config):
    for service_cls in (IntakeService, EntitiesService, SearchService, AuditService):
        container_factory(service_cls, config_for(service_cls.name)).start()
    with ClusterRpcProxy(base_config) as rpc:
        yield rpc


def test_an_alpr_alert_flows_to_entities_search_and_audit(pipeline, mongo, config_for):
    plate = f"T{uuid.uuid4().hex[:6].upper()}"
    created = pipeline.intake.create_alert(alpr(plate=f"{plate[:3]}-{plate[3:].lower()}"), CONTEXT)
    alert_id = created["alert"]["id"]
    assert created["created"] is True

    stored = mongo[config_for("intake")["MONGODB_DATABASE"]]["alerts"].find_one({"_id": alert_id})
    assert stored["status"] == "new" and "unpublished" not in stored

    entities_db = mongo[config_for("entities")["MONGODB_DATABASE"]]
    vehicle = eventually(lambda: entities_db["entities"].find_one({"key": f"TX:{plate}"}))
    eventually(lambda: entities_db["sightings"].find_one({"entity_id": vehicle["_id"], "record_id": alert_id}))

    def found():
        items = pipeline.search.search_plates(plate, context=CONTEXT)["items"]
        return items if items and items[0]["sightings"] else None

    hits = eventually(found)
    assert hits[0]["entity"]["id"] == vehicle["_id"] and hits[0]["match"] == "exact"
    assert hits[0]["sightings"][0]["record_id"] == alert_id

    audit_db = mongo[config_for("audit")["MONGODB_DATABASE"]]
    event = eventually(lambda: audit_db["events"].find_one({"record_ids": alert_id}))
    assert event["action"] == "alert.create" and event["actor"]["id"] == "alice"
    assert pipeline.audit.verify()["ok"] is True


def test_the_same_plate_months_apart_is_one_entity_and_related(pipeline):
    plate = f"R{uuid.uuid4().hex[:6].upper()}"
    first = pipeline.intake.create_alert(alpr(plate=plate, month=1), CONTEXT)["alert"]
    resolve_one(pipeline.entities, _event(first))
    second = pipeline.intake.create_alert(alpr(plate=plate.lower(), month=3), CONTEXT)["alert"]
    resolved = resolve_one(pipeline.entities, _event(second))
    assert [r["id"] for r in resolved["related"]] == [first["id"]]
    assert resolved["related"][0]["shared_entities"][0]["key"] == f"TX:{plate}"
    intake_view = eventually(lambda: pipeline.intake.get_alert(second["id"])["related"])
    assert intake_view[0]["id"] == first["id"]


def test_a_repeated_event_is_stored_once(pipeline):
    submission = alpr()
    first = pipeline.intake.create_alert(submission, CONTEXT)
    again = pipeline.intake.create_alert(submission, CONTEXT)
    assert again["created"] is False and again["alert"]["id"] == first["alert"]["id"]


def _event(alert):
    return events.AlertReceived().dump({"alert_id": alert["id"], **alert})


def test_concurrent_single_posts_are_each_stored_once_and_audited_under_their_own_request(pipeline, mongo, config_for):
    """Group commit: a plate reader's agent posting reads one at a time, many at once."""
    reads = [alpr(plate=f"G{uuid.uuid4().hex[:6].upper()}") for _ in range(30)]
    contexts = [{**CONTEXT, "request_id": f"req-{uuid.uuid4().hex}"} for _ in reads]
    pending = [pipeline.intake.create_alert.call_async(read, ctx) for read, ctx in zip(reads, contexts, strict=True)]
    answers = [reply.result() for reply in pending]
    assert all(answer["created"] for answer in answers)
    ids = [answer["alert"]["id"] for answer in answers]
    assert len(set(ids)) == len(reads)
    assert [a["alert"]["source_event_id"] for a in answers] == [read["source_event_id"] for read in reads]
    stored = mongo[config_for("intake")["MONGODB_DATABASE"]]["alerts"]
    assert stored.count_documents({"_id": {"$in": ids}}) == len(reads)
    audit_db = mongo[config_for("audit")["MONGODB_DATABASE"]]
    audited = eventually(
        lambda: (
            (found := list(audit_db["events"].find({"record_ids": {"$in": ids}}))) and len(found) == len(ids) and found
        )
    )
    request_of = {event["record_ids"][0]: event["request_id"] for event in audited}
    assert request_of == {alert_id: ctx["request_id"] for alert_id, ctx in zip(ids, contexts, strict=True)}
