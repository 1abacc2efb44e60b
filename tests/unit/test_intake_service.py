"""Intake's create_alert, with its dependencies replaced the nameko way."""

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory

from casewire.errors import InvalidInput
from services.intake.service import IntakeService

NOW = datetime(2026, 1, 5, 22, 15, tzinfo=UTC)
SUBMISSION = {
    "source": "alpr",
    "source_system": "flock",
    "source_event_id": "r-1",
    "occurred_at": "2026-01-05T22:14:00Z",
    "location": {"lat": 29.76, "lon": -95.36},
    "payload": {"plate": "ABC1234", "plate_state": "TX", "camera_id": "cam-7"},
}
CONTEXT = {"actor": {"id": "alice", "agency": "TX0000000", "roles": ["analyst"]}, "request_id": "req-1"}


class FakeAlerts:
    """Just enough of AlertStore: natural-key uniqueness and the outbox flag."""

    def __init__(self):
        self.docs = {}

    def find_by_natural_key(self, system, event_id):
        return next(
            (d for d in self.docs.values() if (d["source_system"], d["source_event_id"]) == (system, event_id)), None
        )

    def insert(self, alert):
        existing = self.find_by_natural_key(alert["source_system"], alert["source_event_id"])
        if existing:
            return existing, False
        alert = {"_id": f"a{len(self.docs) + 1}", **alert}
        self.docs[alert["_id"]] = alert
        return alert, True

    def mark_published(self, alert_id):
        self.docs[alert_id].pop("unpublished", None)


@pytest.fixture
def service():
    return worker_factory(IntakeService, alerts=FakeAlerts(), now=lambda: NOW)


def test_a_new_alert_is_stored_audited_and_announced(service):
    result = service.create_alert(SUBMISSION, CONTEXT)
    assert result["created"] is True
    alert = result["alert"]
    assert alert["status"] == "new" and alert["record_class"] == "sensor" and alert["agency"] == "TX0000000"
    service.audit.record.assert_called_once()
    assert service.audit.record.call_args.kwargs["record_ids"] == [alert["id"]]
    event_type, payload = service.dispatch.call_args.args
    assert event_type == "alert_received" and payload["alert_id"] == alert["id"]
    assert "unpublished" not in service.alerts.docs[alert["id"]]


def test_a_repeat_returns_the_first_alert_and_stores_nothing(service):
    first = service.create_alert(SUBMISSION, CONTEXT)["alert"]
    service.dispatch.reset_mock()
    again = service.create_alert({**SUBMISSION, "payload": {**SUBMISSION["payload"], "plate": "ZZZ"}}, CONTEXT)
    assert again == {"alert": first, "created": False}
    assert len(service.alerts.docs) == 1
    service.dispatch.assert_not_called()


def test_an_invalid_alert_names_each_field_and_stores_nothing(service):
    with pytest.raises(InvalidInput) as error:
        service.create_alert({**SUBMISSION, "payload": {"plate": "ABC1234"}, "occurred_at": "now"}, CONTEXT)
    assert set(error.value.errors) == {"payload", "occurred_at"}
    assert service.alerts.docs == {}


def test_C26_face_alerts_carry_the_investigative_lead_notice(service):
    face = {**SUBMISSION, "source": "face", "payload": {"candidate": {"name": "John Doe"}, "score": 88}}
    alert = service.create_alert(face, CONTEXT)["alert"]
    assert alert["notice"] == "Investigative lead only, not a positive identification or probable cause"
