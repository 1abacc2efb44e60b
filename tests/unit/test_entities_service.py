"""The entities service's entrypoints with their dependencies replaced the nameko way."""

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory

from casewire.errors import InvalidInput, Unavailable
from services.entities.service import EntitiesService

CONTEXT = {"actor": {"id": "alice", "agency": "TX0000000", "roles": ["analyst"]}, "request_id": "req-1"}


@pytest.mark.parametrize("method", ["merge_entities", "unmerge_entities"])
def test_C23_no_audit_no_merge(method):
    service = worker_factory(EntitiesService)
    service.audit.record.side_effect = Unavailable("the audit log is down")
    with pytest.raises(Unavailable):
        getattr(service, method)("a", "b", CONTEXT)
    service.store.merge.assert_not_called()
    service.store.unmerge.assert_not_called()


def test_merges_are_audited_with_both_ids_and_the_actor():
    service = worker_factory(EntitiesService)
    service.store.merge.return_value = {"_id": "m1", "survivor_id": "a", "merged_id": "b", "aliases_added": []}
    service.store.get.return_value = {"_id": "a", "type": "vehicle", "key": "TX:A", "display": "A (TX)"}
    service.store.timeline.return_value = service.store.links_of.return_value = []
    service.store.merges_of.return_value, service.store.many.return_value = [], {}
    service.now.return_value = datetime(2026, 3, 1, tzinfo=UTC)
    service.merge_entities("a", "b", CONTEXT)
    args, kwargs = service.audit.record.call_args
    assert args == ("entity.merge", "allowed") and kwargs["record_ids"] == ["a", "b"]
    assert kwargs["actor"]["id"] == "alice" and kwargs["request_id"] == "req-1"


def test_a_merge_announces_both_entities_as_they_are_now():
    """Search drops the merged-away entity and re-points sightings from ``entities_merged``."""
    service = worker_factory(EntitiesService)
    service.now.return_value = datetime(2026, 3, 1, tzinfo=UTC)
    survivor = {"_id": "a", "type": "vehicle", "key": "TX:A", "display": "A (TX)", "aliases": ["TX:B"]}
    merged = {"_id": "b", "type": "vehicle", "key": "TX:B", "display": "B (TX)", "merged_into": "a"}
    sighting = {"entity_id": "a", "record_type": "alert", "record_id": "r2", "at": datetime(2026, 2, 1, tzinfo=UTC)}
    service.store.many.return_value = {"a": survivor, "b": merged}
    service.store.merge.return_value = {"_id": "m1", "survivor_id": "a", "merged_id": "b", "aliases_added": ["TX:B"]}
    service.store.get.return_value = survivor
    service.store.timeline.return_value = [sighting]
    service.store.links_of.return_value = service.store.merges_of.return_value = []
    service.merge_entities("a", "b", CONTEXT)
    event_type, payload = service.dispatch.call_args.args
    assert event_type == "entities_merged" and payload["undone"] is False
    by_id = {entity["id"]: entity for entity in payload["entities"]}
    assert by_id["b"]["merged_into"] == "a" and by_id["b"]["sightings"] == []
    assert [s["record_id"] for s in by_id["a"]["sightings"]] == ["r2"] and by_id["a"]["aliases"] == ["TX:B"]


@pytest.mark.parametrize("depth", [0, 4])
def test_the_graph_depth_is_one_to_three(depth):
    with pytest.raises(InvalidInput):
        worker_factory(EntitiesService).graph("a", depth)


def test_alerts_intake_is_resolving_itself_are_left_to_it():
    """A single submission is resolved once, by ``resolve_alerts`` (services/intake/resolving.py)."""
    service = worker_factory(EntitiesService)
    service.handle_alerts_received({"alerts": [], "resolving": True})
    service.store.upsert_many.assert_not_called()
    service.dispatch.assert_not_called()
