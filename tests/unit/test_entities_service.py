"""The entities service's entrypoints with their dependencies replaced the nameko way."""

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
    service.merge_entities("a", "b", CONTEXT)
    args, kwargs = service.audit.record.call_args
    assert args == ("entity.merge", "allowed") and kwargs["record_ids"] == ["a", "b"]
    assert kwargs["actor"]["id"] == "alice" and kwargs["request_id"] == "req-1"


@pytest.mark.parametrize("depth", [0, 4])
def test_the_graph_depth_is_one_to_three(depth):
    with pytest.raises(InvalidInput):
        worker_factory(EntitiesService).graph("a", depth)
