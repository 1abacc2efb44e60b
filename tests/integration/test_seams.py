"""Where areas built apart meet: intake's changes reach search, entity merges reach search."""

import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from casewire import events
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from services.search import indexing
from services.search.dependencies import SearchIndex
from services.search.service import SearchService
from tests.integration.test_entities import plate, read
from tests.integration.test_pipeline import CONTEXT, alpr, eventually
from tests.resolution import resolve_one


@pytest.fixture
def intake_and_search(container_factory, config_for, base_config):
    for service_cls in (IntakeService, SearchService):
        container_factory(service_cls, config_for(service_cls.name)).start()
    with ClusterRpcProxy(base_config) as rpc:
        yield rpc


@pytest.fixture
def search_index(es, base_config):
    return SearchIndex(es, base_config["INDEX_PREFIX"])


def indexed(search_index, alert_id):
    search_index.refresh("alerts")
    found = search_index.search("alerts", query={"ids": {"values": [alert_id]}}, version=True)["hits"]["hits"]
    return found[0] if found else None


def test_assigning_then_dismissing_an_alert_reaches_the_search_index(intake_and_search, search_index):
    rpc = intake_and_search
    alert_id = rpc.intake.create_alert(alpr(plate=f"U{uuid.uuid4().hex[:6].upper()}"), CONTEXT)["alert"]["id"]
    eventually(lambda: indexed(search_index, alert_id))
    rpc.intake.assign_alert(alert_id, {"assignee": "bob"}, CONTEXT)
    hit = eventually(lambda: (h := indexed(search_index, alert_id)) and h["_source"]["status"] == "assigned" and h)
    assert hit["_source"]["assignees"] == ["bob"] and hit["_version"] == 2
    rpc.intake.add_note(alert_id, {"text": "grey altima seen again near the depot"}, CONTEXT)
    rpc.intake.dismiss_alert(alert_id, {"reason": "false_read", "text": "B read as 8"}, CONTEXT)
    hit = eventually(lambda: (h := indexed(search_index, alert_id)) and h["_source"]["status"] == "dismissed" and h)
    assert hit["_version"] == 4 and "depot" in hit["_source"]["notes"]
    found = rpc.search.search("depot", {"types": ["alert"]}, CONTEXT)["items"]
    assert [item["id"] for item in found] == [alert_id]


def test_a_replayed_older_alert_event_does_not_regress_the_index(intake_and_search, search_index):
    rpc = intake_and_search
    alert = rpc.intake.create_alert(alpr(), CONTEXT)["alert"]
    rpc.intake.assign_alert(alert["id"], {"assignee": "bob"}, CONTEXT)
    eventually(lambda: (h := indexed(search_index, alert["id"])) and h["_source"]["status"] == "assigned")
    stale = events.AlertReceived().load({**_received(alert), "version": 1})
    assert indexing.index_alert(search_index, stale) is False
    assert indexed(search_index, alert["id"])["_source"]["status"] == "assigned"


def _received(alert):
    keys = ("source", "source_system", "source_event_id", "occurred_at", "received_at", "location", "payload")
    more = ("priority", "status", "record_class", "agency", "unit")
    return {"alert_id": alert["id"], **{key: alert[key] for key in keys + more}}


@pytest.fixture
def entities_and_search(container_factory, config_for, base_config):
    for service_cls in (EntitiesService, SearchService):
        container_factory(service_cls, config_for(service_cls.name)).start()
    with ClusterRpcProxy(base_config) as rpc:
        yield rpc


def sightings_of(search_index, entity_id):
    search_index.refresh("sightings")
    return {doc_id for doc_id, _, _ in search_index.scan("sightings", {"term": {"entity_id": entity_id}})}


def is_entity(search_index, entity_id):
    """Indexed as a live entity (a merged-away one leaves a marker of its revision, ``kind: merged``)."""
    return search_index.sources("entities", [entity_id]).get(entity_id, {}).get("kind") == "entity"


def test_a_merge_and_its_undoing_reach_the_search_index(entities_and_search, search_index):
    rpc = entities_and_search
    a = resolve_one(rpc.entities, read(plate(), month=1))
    b = resolve_one(rpc.entities, read(plate(), month=2))
    a_id, b_id = a["entities"][0]["id"], b["entities"][0]["id"]
    eventually(lambda: sightings_of(search_index, b_id) == {f"{b_id}:{b['alert_id']}"})
    eventually(lambda: search_index.exists("entities", a_id))

    rpc.entities.merge_entities(a_id, b_id, CONTEXT)
    both = {f"{a_id}:{a['alert_id']}", f"{a_id}:{b['alert_id']}"}
    eventually(lambda: sightings_of(search_index, a_id) == both)
    eventually(lambda: not is_entity(search_index, b_id) and sightings_of(search_index, b_id) == set())

    rpc.entities.unmerge_entities(a_id, b_id, CONTEXT)
    eventually(lambda: sightings_of(search_index, b_id) == {f"{b_id}:{b['alert_id']}"})
    eventually(lambda: sightings_of(search_index, a_id) == {f"{a_id}:{a['alert_id']}"})
    assert is_entity(search_index, b_id)
