"""Triage deadlines and escalation with an injected clock (docs/outcomes.md): nothing is forgotten."""

from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from casewire.errors import InvalidInput, Unavailable
from casewire.vendors import adapt
from services.intake.deadlines import TriageDeadlines
from services.intake.grouping import Groups
from services.intake.service import IntakeService
from tests.unit.intake_fakes import FakeAlerts

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ALICE = {"actor": {"id": "alice", "agency": "TX0000000", "roles": ["analyst"]}, "unit": "rtcc", "request_id": "r-1"}
BOB = {"actor": {"id": "bob", "agency": "TX0000000", "roles": ["analyst"]}, "unit": "rtcc", "request_id": "r-2"}
SARA = {"actor": {"id": "sara", "agency": "TX0000000", "roles": ["supervisor"]}, "unit": "patrol"}
CONFIG = {"NEAR_DUPLICATE_SECONDS": 120, "TIP_RETENTION_DAYS": 365, "ALPR_RETENTION_PROFILES": {}}


class Clock:
    def __init__(self):
        self.at = NOW

    def __call__(self):
        return self.at

    def advance(self, **delta):
        self.at += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(clock):
    deadlines = TriageDeadlines.from_config(CONFIG)
    return worker_factory(
        IntakeService, alerts=FakeAlerts(), now=clock, config=dict(CONFIG), deadlines=deadlines, groups=Groups()
    )


def hotlist_hit(event_id="h-1", priority="high"):
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": event_id,
        "occurred_at": "2026-03-02T07:59:30Z",
        "location": {"lat": 29.76, "lon": -95.36},
        "priority": priority,
        "payload": {"plate": f"S{event_id}", "camera_id": "cam-1", "hotlist": "stolen_vehicle"},
    }


def tip(event_id="t-1"):
    return {
        "source": "tip",
        "source_system": "hotline",
        "source_event_id": event_id,
        "occurred_at": "2026-03-02T07:00:00Z",
        "payload": {"narrative": "Blue sedan parked behind the pharmacy every night"},
    }


def submit(service, body, context=ALICE):
    return service.create_alert(body, context)["alert"]


def overdue_events(service):
    return [call.args[1] for call in service.dispatch.call_args_list if call.args[0] == "alert_overdue"]


# -- the table ----------------------------------------------------------------------------------


def test_the_default_table_gives_hotlist_hits_minutes_and_tips_a_day():
    table = TriageDeadlines.from_config({})
    assert table.allowed({"source": "alpr", "priority": "high", "payload": {"hotlist": "stolen"}}) == timedelta(
        minutes=5
    )
    assert table.allowed({"source": "tip", "priority": "normal", "payload": {}}) == timedelta(days=1)
    assert table.allowed({"source": "alpr", "priority": "high", "payload": {}}) is None  # a plain read


def test_the_table_is_configurable_per_source_and_priority():
    table = TriageDeadlines.from_config(
        {"TRIAGE_DEADLINES": {"tip": "2h", "gunshot": {"critical": "90s", "low": "none"}, "alpr_read": "1h"}}
    )
    assert table.allowed({"source": "tip", "priority": "low", "payload": {}}) == timedelta(hours=2)
    assert table.allowed({"source": "gunshot", "priority": "critical", "payload": {}}) == timedelta(seconds=90)
    assert table.allowed({"source": "gunshot", "priority": "low", "payload": {}}) is None
    assert table.allowed({"source": "alpr", "priority": "low", "payload": {}}) == timedelta(hours=1)
    assert table.allowed({"source": "face", "priority": "normal", "payload": {}}) == timedelta(hours=2)  # default


def test_a_table_naming_an_unknown_priority_is_refused():
    with pytest.raises(ValueError, match="urgent"):
        TriageDeadlines.from_config({"TRIAGE_DEADLINES": {"tip": {"urgent": "1h"}}})


def test_every_alert_gets_its_deadline_at_intake(service):
    hit = submit(service, hotlist_hit())
    assert hit["triage_due"] == "2026-03-02T08:05:00+00:00" and hit["overdue"] is False
    assert submit(service, tip())["triage_due"] == "2026-03-03T08:00:00+00:00"
    read = submit(service, {**hotlist_hit("r-1"), "payload": {"plate": "PLAIN1", "camera_id": "cam-1"}})
    assert read.get("triage_due") is None


# -- escalation ---------------------------------------------------------------------------------


def test_a_new_alert_past_its_deadline_is_escalated_once(service, clock):
    alert = submit(service, hotlist_hit())
    clock.advance(minutes=4, seconds=59)
    assert service.escalate_overdue() == 0
    clock.advance(seconds=1)
    assert service.escalate_overdue() == 1
    stored = service.alerts.docs[alert["id"]]
    assert stored["overdue"] is True and stored["escalated_at"] == NOW + timedelta(minutes=5)
    assert stored["actions"][-1]["action"] == "escalated" and stored["actions"][-1]["actor"] == "system"
    assert f"escalated-{alert['id']}" not in service.alerts.entries
    [event] = overdue_events(service)
    assert event == {
        "alert_id": alert["id"],
        "source": "alpr",
        "priority": "high",
        "status": "new",
        "agency": "TX0000000",
        "unit": "rtcc",
        "assignee": None,
        "received_at": "2026-03-02T08:00:00+00:00",
        "triage_due": "2026-03-02T08:05:00+00:00",
        "escalated_at": "2026-03-02T08:05:00+00:00",
    }
    audit = service.audit.record.call_args
    assert audit.args == ("alert.escalate", "allowed") and audit.kwargs["record_ids"] == [alert["id"]]
    clock.advance(hours=1)
    assert service.escalate_overdue() == 0 and len(overdue_events(service)) == 1


def test_an_alert_assigned_but_untouched_by_its_assignee_is_escalated_to_the_assigned_unit(service, clock):
    alert = submit(service, hotlist_hit())
    clock.advance(minutes=1)
    service.assign_alert(alert["id"], {"assignee": "bob", "unit": "patrol"}, ALICE)
    service.add_note(alert["id"], {"text": "bob, please look"}, ALICE)  # not the assignee: no triage
    clock.advance(minutes=4)
    assert service.escalate_overdue() == 1
    [event] = overdue_events(service)
    assert (event["status"], event["assignee"], event["unit"]) == ("assigned", "bob", "patrol")


def test_the_assignee_acting_before_the_deadline_triages_the_alert(service, clock):
    alert = submit(service, hotlist_hit())
    service.assign_alert(alert["id"], {"assignee": "bob"}, ALICE)
    clock.advance(minutes=3)
    noted = service.add_note(alert["id"], {"text": "Patrol unit 12 is on it"}, BOB)
    assert noted["touched_at"] == "2026-03-02T08:03:00+00:00"
    clock.advance(hours=2)
    assert service.escalate_overdue() == 0 and overdue_events(service) == []


def test_taking_an_alert_oneself_triages_it(service, clock):
    alert = submit(service, hotlist_hit())
    clock.advance(minutes=1)
    taken = service.assign_alert(alert["id"], {"assignee": "bob"}, BOB)
    assert taken["touched_at"] == "2026-03-02T08:01:00+00:00"
    clock.advance(hours=1)
    assert service.escalate_overdue() == 0


def test_an_alert_assigned_to_a_unit_is_triaged_by_anyone_of_that_unit(service, clock):
    alert = submit(service, hotlist_hit())
    service.assign_alert(alert["id"], {"unit": "patrol"}, ALICE)
    service.add_note(alert["id"], {"text": "rtcc looked"}, BOB)  # rtcc, not patrol
    assert service.alerts.docs[alert["id"]].get("touched_at") is None
    service.add_note(alert["id"], {"text": "patrol has it"}, SARA)
    clock.advance(hours=1)
    assert service.escalate_overdue() == 0


@pytest.mark.parametrize("close", ["dismiss", "promote"])
def test_a_dismissed_or_promoted_alert_is_never_escalated(service, clock, close):
    alert = submit(service, hotlist_hit())
    if close == "dismiss":
        service.dismiss_alert(alert["id"], {"reason": "false_read", "text": "8 read as B"}, ALICE)
    else:
        service.mark_promoted(alert["id"], "case-1", ALICE)
    clock.advance(hours=1)
    assert service.escalate_overdue() == 0


def test_the_aging_queue_lists_overdue_alerts_oldest_first_until_their_assignee_acts(service, clock):
    first = submit(service, hotlist_hit("h-1", priority="critical"))
    clock.advance(minutes=1)
    second = submit(service, hotlist_hit("h-2", priority="critical"))
    other_agency = {**ALICE, "actor": {**ALICE["actor"], "agency": "LA0000000"}}
    submit(service, hotlist_hit("h-3", priority="critical"), other_agency)
    submit(service, tip())  # a day to go
    clock.advance(minutes=10)
    assert service.escalate_overdue() == 3
    queue = service.overdue_alerts({"agency": "TX0000000", "limit": 1})
    assert [a["id"] for a in queue["items"]] == [first["id"]] and queue["items"][0]["overdue"] is True
    rest = service.overdue_alerts({"agency": "TX0000000", "cursor": queue["next_cursor"]})
    assert [a["id"] for a in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    service.assign_alert(first["id"], {"assignee": "bob"}, ALICE)
    assert service.alerts.docs[first["id"]]["overdue"] is True  # a supervisor's reassignment is not triage
    service.add_note(first["id"], {"text": "on it"}, BOB)
    queue = service.overdue_alerts({"agency": "TX0000000"})
    assert [a["id"] for a in queue["items"]] == [second["id"]]
    assert service.alerts.docs[first["id"]]["escalated_at"] == NOW + timedelta(minutes=11)  # kept for metrics


def test_an_escalation_whose_event_is_not_confirmed_is_announced_by_a_later_sweep(service, clock):
    alert = submit(service, hotlist_hit())
    clock.advance(minutes=6)
    service.dispatch.side_effect = ConnectionError("broker gone")
    assert service.escalate_overdue() == 1
    assert service.alerts.entries[f"escalated-{alert['id']}"]["kind"] == "escalated"
    service.dispatch.side_effect = None
    clock.advance(seconds=15)
    assert service.escalate_overdue() == 0
    assert service.publish_pending() == 1
    assert [e["alert_id"] for e in overdue_events(service)] == [alert["id"], alert["id"]]
    assert service.alerts.entries == {}


# -- timings ------------------------------------------------------------------------------------


def test_time_to_first_action_and_to_assignment_are_stored_once(service, clock):
    alert = submit(service, tip())
    clock.advance(minutes=7, seconds=30)
    noted = service.add_note(alert["id"], {"text": "calling the reporter"}, ALICE)
    assert noted["seconds_to_first_action"] == 450.0 and noted.get("seconds_to_assignment") is None
    clock.advance(minutes=10)
    assigned = service.assign_alert(alert["id"], {"assignee": "bob"}, ALICE)
    assert assigned["seconds_to_assignment"] == 1050.0 and assigned["assigned_at"] == "2026-03-02T08:17:30+00:00"
    clock.advance(minutes=10)
    again = service.assign_alert(alert["id"], {"assignee": "carol"}, ALICE)
    assert (again["seconds_to_first_action"], again["seconds_to_assignment"]) == (450.0, 1050.0)


def test_the_escalation_itself_is_not_a_first_action(service, clock):
    alert = submit(service, hotlist_hit())
    clock.advance(minutes=5)
    service.escalate_overdue()
    clock.advance(minutes=5)
    dismissed = service.dismiss_alert(alert["id"], {"reason": "not_actionable", "text": "hotlist entry stale"}, BOB)
    assert dismissed["seconds_to_first_action"] == 600.0 and dismissed["overdue"] is False


# -- dismissals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{"reason": "duplicate"}, {"reason": "duplicate", "text": "   "}, {"text": "x"}])
def test_a_dismissal_needs_a_reason_from_the_list_and_words(service, body):
    alert = submit(service, tip())
    with pytest.raises(InvalidInput) as error:
        service.dismiss_alert(alert["id"], body, ALICE)
    assert set(error.value.errors) & {"reason", "text"}
    assert service.alerts.docs[alert["id"]]["status"] == "new"


@pytest.mark.parametrize(
    "code,priority,minutes",
    [("V", "critical", 5), ("L", "critical", 5), ("F", "critical", 5), ("W", "critical", 5), ("M", "high", 30),
     ("S", "normal", 120)],
)  # fmt: skip
def test_an_ncic_stolen_vehicle_or_wanted_hit_is_due_in_minutes(service, code, priority, minutes):
    hit = {"hit_id": f"n-{code}", "hit_time": "2026-03-02T07:59:30Z", "plate": "XYZ987", "state": "TX",
           "list_type": code, "camera_id": "cam-7", "location": {"lat": 29.7, "lon": -95.3}}  # fmt: skip
    [body] = adapt("ncic", hit)
    alert = submit(service, body)
    assert alert["priority"] == priority
    assert datetime.fromisoformat(alert["triage_due"]) == NOW + timedelta(minutes=minutes)


def escalation_audits(service):
    return [call for call in service.audit.record.call_args_list if call.args[0] == "alert.escalate"]


def test_an_alert_triaged_between_the_sweeps_query_and_its_claim_is_not_audited(service, clock):
    alert = submit(service, hotlist_hit())
    clock.advance(minutes=6)
    stale = service.alerts.due_for_escalation(clock())  # what the sweep read...
    service.dismiss_alert(alert["id"], {"reason": "false_read", "text": "8 read as B"}, BOB)  # ...then triage
    service.alerts.due_for_escalation = lambda now, limit=500: stale
    assert service.escalate_overdue() == 0
    assert escalation_audits(service) == [] and overdue_events(service) == []


def test_two_concurrent_sweeps_audit_and_announce_an_alert_once(service, clock):
    alert = submit(service, hotlist_hit())
    clock.advance(minutes=6)
    stale = service.alerts.due_for_escalation(clock())  # both sweeps read the same due alerts
    service.alerts.due_for_escalation = lambda now, limit=500: stale
    assert service.escalate_overdue() + service.escalate_overdue() == 1
    [audit] = escalation_audits(service)
    assert audit.kwargs["record_ids"] == [alert["id"]] and audit.kwargs["event_id"] == f"alert.escalate-{alert['id']}"
    assert len(overdue_events(service)) == 1


def refuse_escalation_audits(action, *args, **kwargs):
    if action == "alert.escalate":
        raise Unavailable("the audit broker is down")


def test_an_escalation_whose_audit_failed_is_audited_again_under_the_same_event_id(service, clock):
    alert = submit(service, hotlist_hit())
    clock.advance(minutes=6)
    service.audit.record.side_effect = refuse_escalation_audits
    assert service.escalate_overdue() == 1
    assert overdue_events(service) == [] and f"escalated-{alert['id']}" in service.alerts.entries
    service.audit.record.side_effect = None
    clock.advance(seconds=11)
    assert service.escalate_overdue() == 0  # nothing newly claimed; the outbox retries
    assert service.publish_pending() == 1
    assert [call.kwargs["event_id"] for call in escalation_audits(service)] == [f"alert.escalate-{alert['id']}"] * 2
    assert len(overdue_events(service)) == 1 and service.alerts.entries == {}
