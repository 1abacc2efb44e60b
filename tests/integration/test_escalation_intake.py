"""A person escalates an alert, over the real RabbitMQ and FerretDB with the audit service running: the
alert is marked as the overdue sweep marks one, with who and why, once; the escalation is audited with
its actor, announced as ``alert_overdue``, queued for the supervisors and counted by the funnel
(docs/outcomes.md)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from nameko.events import event_handler
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook, replace_dependencies

from casewire.errors import Conflict, InvalidInput, NotFound
from services.audit.service import AuditService
from services.intake.service import IntakeService
from tests.polling import eventually

RECEIVED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
REASON = "Shots near the school at dismissal time: the supervisors must see it now"


class Clock:
    def __init__(self):
        self.at = RECEIVED

    def __call__(self):
        return self.at


class OverdueListener:
    name = "escalation_overdue_listener"
    received: list = []

    @event_handler("intake", "alert_overdue")
    def handle_alert_overdue(self, payload):
        OverdueListener.received.append(payload)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def intake(container_factory, config_for, clock):
    container_factory(AuditService, config_for("audit")).start()
    container = container_factory(IntakeService, config_for("intake"))
    replace_dependencies(container, "entities_rpc", now=clock)  # intake alone: entities is not running
    container.start()
    container_factory(OverdueListener, config_for("intake")).start()
    return container


@pytest.fixture
def rpc(intake, base_config):
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy.intake


@pytest.fixture
def audit_events(mongo, config_for):
    return mongo[config_for("audit")["MONGODB_DATABASE"]]["events"]


def gunshot(priority="normal"):
    return {
        "source": "gunshot",
        "source_system": "shotspotter",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-02T07:59:00Z",
        "location": {"lat": 29.7, "lon": -95.3},
        "priority": priority,
        "payload": {"rounds": 4},
    }


def context(agency, sub="ann", unit="rtcc"):
    actor = {"id": sub, "agency": agency, "roles": ["analyst"]}
    return {"actor": actor, "unit": unit, "request_id": f"{sub}-{uuid.uuid4().hex[:8]}"}


def announced(alert_id):
    return [event for event in OverdueListener.received if event["alert_id"] == alert_id]


def escalations(audit_events, alert_id):
    return list(audit_events.find({"record_ids": alert_id, "action": "alert.escalate"}))


def queue(rpc, agency):
    return [alert["id"] for alert in rpc.overdue_alerts({"agency": agency})["items"]]


def test_a_person_escalates_an_alert_once_audited_announced_queued_and_counted(intake, rpc, clock, audit_events):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    ann, bob = context(agency), context(agency, "bob")
    alert = rpc.create_alert(gunshot(), ann)["alert"]
    assert alert["triage_due"] == "2026-03-02T08:10:00+00:00" and queue(rpc, agency) == []

    clock.at = RECEIVED + timedelta(minutes=2)  # before its deadline: a person need not wait for it
    escalated = rpc.escalate_alert(alert["id"], {"reason": REASON}, ann)
    assert (escalated["status"], escalated["overdue"]) == ("new", True)
    assert escalated["escalated_at"] == "2026-03-02T08:02:00+00:00"
    assert escalated["escalation"] == {"by": "ann", "at": "2026-03-02T08:02:00+00:00", "reason": REASON}
    assert escalated["first_action_at"] == "2026-03-02T08:02:00+00:00"
    [entry] = [a for a in escalated["actions"] if a["action"] == "escalated"]
    assert (entry["actor"], entry["detail"], entry["request_id"]) == ("ann", {"reason": REASON}, ann["request_id"])
    assert queue(rpc, agency) == [alert["id"]]

    [event] = eventually(lambda: announced(alert["id"]))
    assert (event["status"], event["unit"], event["agency"]) == ("new", "rtcc", agency)
    assert event["escalated_at"] == "2026-03-02T08:02:00+00:00"
    [audited] = eventually(lambda: escalations(audit_events, alert["id"]))
    assert (audited["service"], audited["outcome"], audited["actor"]) == ("intake", "allowed", ann["actor"])
    assert audited["details"] == {"reason": REASON} and audited["request_id"] == ann["request_id"]

    again = rpc.escalate_alert(alert["id"], {"reason": "me too"}, bob)  # answers the first escalation
    clock.at = RECEIVED + timedelta(minutes=30)
    with entrypoint_hook(intake, "escalate_overdue") as sweep:
        sweep()  # past its deadline now, but escalated already
    stored = rpc.get_alert(alert["id"])
    assert again["escalation"] == stored["escalation"] == escalated["escalation"]
    assert [a["action"] for a in stored["actions"]] == ["received", "escalated"]
    with entrypoint_hook(intake, "sweep_tallies") as tallies:
        tallies()
    funnel = rpc.alert_metrics({"agency": agency, "since": "2026-03-02T00:00:00Z", "until": "2026-03-03T00:00:00Z"})
    assert (funnel["total"]["escalated"], funnel["total"]["overdue_now"]) == (1, 1)
    assert len(announced(alert["id"])) == 1 and len(escalations(audit_events, alert["id"])) == 1


def test_an_escalated_alert_waits_for_triage_again_and_leaves_the_queue_when_its_assignee_acts(rpc, clock):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    ann = context(agency)
    alert = rpc.create_alert(gunshot(), ann)["alert"]
    rpc.assign_alert(alert["id"], {"assignee": "ann"}, ann)  # taking it oneself triages it
    assert rpc.get_alert(alert["id"])["touched_at"] is not None

    clock.at = RECEIVED + timedelta(minutes=1)
    escalated = rpc.escalate_alert(alert["id"], {"reason": REASON}, ann)
    assert (escalated["status"], escalated.get("touched_at"), escalated["overdue"]) == ("assigned", None, True)
    assert queue(rpc, agency) == [alert["id"]]

    clock.at = RECEIVED + timedelta(minutes=3)
    rpc.add_note(alert["id"], {"text": "Patrol on scene, the school is locked down"}, ann)
    stored = rpc.get_alert(alert["id"])
    assert (stored["overdue"], stored["touched_at"]) == (False, "2026-03-02T08:03:00+00:00")
    assert stored["escalated_at"] == "2026-03-02T08:01:00+00:00" and queue(rpc, agency) == []


def test_an_alert_without_a_triage_deadline_is_due_from_its_escalation(rpc, clock):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    read = {  # an ALPR read without a hotlist hit: no triage deadline
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-02T07:59:00Z",
        "location": {"lat": 29.7, "lon": -95.3},
        "payload": {"plate": f"E{uuid.uuid4().hex[:6].upper()}", "camera_id": "cam-1"},
    }
    alert = rpc.create_alert(read, context(agency))["alert"]
    assert alert.get("triage_due") is None
    clock.at = RECEIVED + timedelta(minutes=5)
    escalated = rpc.escalate_alert(
        alert["id"], {"reason": "The plate matches the Amber Alert suspect's"}, context(agency)
    )
    assert escalated["triage_due"] == escalated["escalated_at"] == "2026-03-02T08:05:00+00:00"
    assert queue(rpc, agency) == [alert["id"]]
    [event] = eventually(lambda: announced(alert["id"]))
    assert event["triage_due"] == "2026-03-02T08:05:00+00:00"


def test_a_dismissed_or_promoted_alert_is_not_escalated_and_a_reason_is_required(rpc, audit_events):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    ann = context(agency)
    dismissed = rpc.create_alert(gunshot(), ann)["alert"]
    rpc.dismiss_alert(dismissed["id"], {"reason": "false_read", "text": "fireworks"}, ann)
    promoted = rpc.create_alert(gunshot(), ann)["alert"]
    rpc.mark_promoted(promoted["id"], f"case-{uuid.uuid4().hex[:6]}", ann)
    for alert in (dismissed, promoted):
        with pytest.raises(Conflict):
            rpc.escalate_alert(alert["id"], {"reason": REASON}, ann)
        assert rpc.get_alert(alert["id"]).get("escalated_at") is None
    with pytest.raises(NotFound):
        rpc.escalate_alert(f"missing-{uuid.uuid4().hex}", {"reason": REASON}, ann)
    open_alert = rpc.create_alert(gunshot(), ann)["alert"]
    for body in ({}, {"reason": "   "}, {"reason": "x" * 2001}):
        with pytest.raises(InvalidInput):
            rpc.escalate_alert(open_alert["id"], body, ann)
    assert rpc.get_alert(open_alert["id"]).get("escalated_at") is None
