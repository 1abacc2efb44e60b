"""The search service's handlers with their index replaced: at-least-once, never a poison loop."""

import pytest
from marshmallow import ValidationError
from nameko.testing.services import worker_factory

from casewire.errors import Unavailable
from casewire.messaging import ReliableEventHandler
from services.search import indexing
from services.search.service import SearchService

HANDLERS = [
    "handle_alerts_received",
    "handle_alerts_resolved",
    "handle_case_updated",
    "handle_case_purged",
    "handle_alert_purged",
    "handle_entity_purged",
]


class DownIndex:
    """Elasticsearch is down: every call fails the way SearchIndex fails."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise Unavailable("the search index is unavailable")

        return fail


@pytest.mark.parametrize("handler", HANDLERS)
def test_every_handler_is_reliable_requeueing_while_down_and_dead_lettering_poison(handler):
    entrypoints = getattr(SearchService, handler).nameko_entrypoints
    assert [type(entrypoint) for entrypoint in entrypoints] == [ReliableEventHandler]


def test_an_unavailable_index_reraises_so_the_event_is_requeued(monkeypatch):
    monkeypatch.setattr(indexing, "RETRY_PAUSE", 0)
    service = worker_factory(SearchService, index=DownIndex())
    case = {
        "case_id": "c1",
        "title": "t",
        "status": "open",
        "classification": "investigative",
        "unit": "rtcc",
        "opened_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "version": 1,
    }
    with pytest.raises(Unavailable):
        service.handle_case_updated(case)
    with pytest.raises(Unavailable):
        service.handle_case_purged({"record_type": "case", "record_id": "c1", "reason": "C15"})


def test_a_malformed_event_raises_its_validation_error_so_it_is_dead_lettered_not_retried_forever():
    """The index (which would raise Unavailable, i.e. requeue) is never reached."""
    service = worker_factory(SearchService, index=DownIndex())
    with pytest.raises(ValidationError):
        service.handle_case_updated({"case_id": "c1"})  # no title, version...
    with pytest.raises(ValidationError):
        service.handle_alerts_received({"alerts": [{"alert_id": "a1"}]})
