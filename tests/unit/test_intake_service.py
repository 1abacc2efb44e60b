"""Intake's entrypoints with their dependencies replaced the nameko way, and an injected clock."""

from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from casewire.alerts import DISMISS_REASONS
from casewire.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from services.intake.deadlines import TriageDeadlines
from services.intake.grouping import Groups
from services.intake.retention import PurgeTimer
from services.intake.service import IntakeService
from tests.unit.intake_fakes import FakeAlerts

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
CONFIG = {
    "NEAR_DUPLICATE_SECONDS": 120,
    "TIP_RETENTION_DAYS": 365,
    "ALPR_RETENTION_PROFILES": {"NH": "3m", "ME": "21d", "MN": "60d", "TN": "90d"},
    "ALPR_JURISDICTION": "",
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.at = NOW

    def __call__(self):
        return self.at


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(clock):
    deadlines = TriageDeadlines.from_config(CONFIG)
    return worker_factory(
        IntakeService, alerts=FakeAlerts(), now=clock, config=dict(CONFIG), deadlines=deadlines, groups=Groups()
    )


def read(event_id, plate="ABC1234", camera="cam-7", at="2026-01-05T22:14:00Z", **payload):
    return {
        **SUBMISSION,
        "source_event_id": event_id,
        "occurred_at": at,
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": camera, **payload},
    }


def test_a_new_alert_is_stored_audited_and_announced(service):
    result = service.create_alert(SUBMISSION, CONTEXT)
    assert result["created"] is True and result["near_duplicate"] is False
    alert = result["alert"]
    assert alert["status"] == "new" and alert["record_class"] == "sensor" and alert["agency"] == "TX0000000"
    service.audit.record_many.assert_called_once()
    assert service.audit.event.call_args.kwargs["record_ids"] == [alert["id"]]
    event_type, payload = service.dispatch.call_args.args
    assert event_type == "alerts_received" and [a["alert_id"] for a in payload["alerts"]] == [alert["id"]]
    assert service.alerts.entries == {}


def test_a_repeat_returns_the_first_alert_and_stores_nothing(service):
    first = service.create_alert(SUBMISSION, CONTEXT)["alert"]
    service.dispatch.reset_mock()
    again = service.create_alert({**SUBMISSION, "payload": {**SUBMISSION["payload"], "plate": "ZZZ"}}, CONTEXT)
    assert again == {"alert": first, "created": False, "near_duplicate": False, "resolution": None}
    assert len(service.alerts.docs) == 1
    service.dispatch.assert_not_called()


def test_a_single_alert_is_answered_with_the_entities_intake_asked_for_once(service):
    """The entities service resolves it for the answer (``resolve_alerts``) and leaves the event, which
    says so (``resolving``): one resolution, and the outbox entry closes once it is done."""
    resolved = {"entities": [{"id": "e1", "type": "vehicle"}], "related": [{"record_type": "alert", "id": "a0"}]}
    service.entities_rpc.resolve_alerts.side_effect = lambda event: [
        {"alert_id": alert["alert_id"], **resolved} for alert in event["alerts"]
    ]
    result = service.create_alert(SUBMISSION, CONTEXT)
    assert result["resolution"] == resolved
    (event,) = service.entities_rpc.resolve_alerts.call_args.args
    assert [a["alert_id"] for a in event["alerts"]] == [result["alert"]["id"]]
    event_type, payload = service.dispatch.call_args.args
    assert event_type == "alerts_received" and payload["resolving"] is True
    assert service.alerts.entries == {}


def test_an_alert_the_entities_service_does_not_resolve_is_pending_and_announced_again_for_it(service, clock):
    service.entities_rpc.resolve_alerts.side_effect = ConnectionError("entities gone")
    result = service.create_alert(SUBMISSION, CONTEXT)
    assert result["created"] is True and result["resolution"] is None
    (entry,) = service.alerts.entries.values()
    assert entry["alert_ids"] == [result["alert"]["id"]]
    clock.at += timedelta(seconds=11)
    assert service.publish_pending() == 1
    event_type, payload = service.dispatch.call_args.args
    assert event_type == "alerts_received" and payload["resolving"] is False
    assert [a["alert_id"] for a in payload["alerts"]] == [result["alert"]["id"]]
    assert service.alerts.entries == {}


def test_a_batch_is_left_to_the_entities_service(service):
    results = service.create_alerts([SUBMISSION], CONTEXT)["results"]
    assert results[0]["status"] == 201 and "resolution" not in results[0]
    service.entities_rpc.resolve_alerts.assert_not_called()
    assert service.dispatch.call_args.args[1]["resolving"] is False
    assert service.alerts.entries == {}


def test_an_alert_whose_announcement_fails_stays_in_the_outbox_and_a_later_sweep_announces_it(service, clock):
    service.dispatch.side_effect = ConnectionError("broker gone")
    alert = service.create_alert(SUBMISSION, CONTEXT)["alert"]
    (entry,) = service.alerts.entries.values()
    assert entry["alert_ids"] == [alert["id"]]
    service.dispatch.side_effect = None
    clock.at += timedelta(seconds=11)
    assert service.publish_pending() == 1
    event_type, payload = service.dispatch.call_args.args
    assert event_type == "alerts_received" and [a["alert_id"] for a in payload["alerts"]] == [alert["id"]]
    assert service.alerts.entries == {}


def test_an_alert_whose_audit_fails_is_refused_and_audited_once_by_the_outbox(service, clock):
    service.audit.record_many.side_effect = Unavailable("the audit log cannot record alert.create")
    with pytest.raises(Unavailable):
        service.create_alert(SUBMISSION, CONTEXT)
    service.dispatch.assert_not_called()
    service.audit.record_many.side_effect = None
    clock.at += timedelta(seconds=11)
    assert service.publish_pending() == 1
    assert service.audit.event.call_args.kwargs["event_id"].startswith("alert.create-")
    assert service.dispatch.call_args.args[0] == "alerts_received"


def test_an_invalid_alert_names_each_field_and_stores_nothing(service):
    with pytest.raises(InvalidInput) as error:
        service.create_alert({**SUBMISSION, "payload": {"plate": "ABC1234"}, "occurred_at": "now"}, CONTEXT)
    assert set(error.value.errors) == {"payload", "occurred_at"}
    assert service.alerts.docs == {}


def test_C26_face_alerts_carry_the_investigative_lead_notice(service):
    face = {**SUBMISSION, "source": "face", "payload": {"candidate": {"name": "John Doe"}, "score": 88}}
    alert = service.create_alert(face, CONTEXT)["alert"]
    assert alert["notice"] == "Investigative lead only, not a positive identification or probable cause"


@pytest.mark.parametrize("source", ["alpr", "face", "gunshot", "social", "cad", "database"])
def test_C1_C7_a_detection_hit_is_a_sensor_record_never_intelligence(service, source):
    payloads = {
        "alpr": SUBMISSION["payload"],
        "face": {"candidate": {"name": "J"}, "score": 99},
        "gunshot": {"rounds": 2},
        "social": {"platform": "x", "handle": "h"},
        "cad": {"incident_number": "1"},
        "database": {"system": "NCIC", "hit_type": "stolen_vehicle"},
    }
    alert = service.create_alert({**SUBMISSION, "source": source, "payload": payloads[source]}, CONTEXT)["alert"]
    assert alert["record_class"] == "sensor"


# -- near-duplicates ---------------------------------------------------------------------------


def test_the_same_plate_at_the_same_camera_within_the_window_is_folded(service):
    first = service.create_alert(read("r-1"), CONTEXT)["alert"]
    again = service.create_alert(read("r-2", plate="abc-1234", at="2026-01-05T22:15:30Z"), CONTEXT)
    assert again["created"] is False and again["near_duplicate"] is True
    assert again["alert"]["id"] == first["id"]
    assert [r["source_event_id"] for r in again["alert"]["repeats"]] == ["r-2"]
    assert again["alert"]["repeats"][0]["occurred_at"] == "2026-01-05T22:15:30+00:00"
    assert len(service.alerts.docs) == 1


def test_a_folded_repeat_sent_again_is_not_appended_twice(service):
    service.create_alert(read("r-1"), CONTEXT)
    service.create_alert(read("r-2", at="2026-01-05T22:15:00Z"), CONTEXT)
    again = service.create_alert(read("r-2", at="2026-01-05T22:15:00Z"), CONTEXT)
    assert again["near_duplicate"] is False and again["created"] is False
    assert len(again["alert"]["repeats"]) == 1


@pytest.mark.parametrize(
    "other",
    [
        read("r-2", at="2026-01-05T22:16:01Z"),  # 121 s later: outside the 120 s window
        read("r-2", camera="cam-8", at="2026-01-05T22:14:30Z"),
        read("r-2", plate="ABC1235", at="2026-01-05T22:14:30Z"),
        {**read("r-2", at="2026-01-05T22:14:30Z"), "source_system": "rekor"},
    ],
    ids=["outside-window", "other-camera", "other-plate", "other-system"],
)
def test_reads_that_differ_are_new_alerts(service, other):
    service.create_alert(read("r-1"), CONTEXT)
    assert service.create_alert(other, CONTEXT)["created"] is True


def test_the_window_is_configurable_and_zero_turns_folding_off(service):
    service.config["NEAR_DUPLICATE_SECONDS"] = 0
    service.create_alert(read("r-1"), CONTEXT)
    assert service.create_alert(read("r-2"), CONTEXT)["created"] is True


# -- batches -----------------------------------------------------------------------------------


def test_a_batch_answers_each_item_in_order_and_one_bad_item_rejects_nothing_else(service):
    service.create_alert(read("known"), CONTEXT)
    service.audit.reset_mock()
    batch = [
        read("b-1", plate="NEW0001"),
        {"source": "alpr"},
        read("known"),
        read("b-1", plate="NEW0001"),  # the same event twice in one batch
        read("b-2", plate="NEW0001", at="2026-01-05T22:14:20Z"),  # near-duplicate of b-1
        "not an object",
        read("b-3", plate="NEW0002"),
    ]
    results = service.create_alerts(batch, CONTEXT)["results"]
    assert [r["index"] for r in results] == list(range(len(batch)))
    assert [r["status"] for r in results] == [201, 422, 200, 200, 200, 422, 201]
    assert {"source_system", "payload"} <= set(results[1]["errors"])
    assert results[3]["id"] == results[4]["id"] == results[0]["id"] and results[4]["near_duplicate"] is True
    assert service.alerts.described(results[0]["id"])["repeats"][0]["source_event_id"] == "b-2"
    assert len(service.alerts.docs) == 3
    assert service.audit.event.call_count == 2  # one audit event per created alert
    service.audit.record_many.assert_called_once()  # in one message


# -- triage ------------------------------------------------------------------------------------


@pytest.fixture
def alert_id(service):
    return service.create_alert(SUBMISSION, CONTEXT)["alert"]["id"]


def test_assigning_logs_the_action_and_announces_it(service, clock, alert_id):
    clock.at = NOW + timedelta(minutes=2)
    alert = service.assign_alert(alert_id, {"assignee": "bob", "unit": "rtcc"}, CONTEXT)
    assert (alert["status"], alert["assignee"], alert["assigned_unit"]) == ("assigned", "bob", "rtcc")
    last = alert["actions"][-1]
    assert (last["action"], last["actor"], last["at"]) == ("assigned", "alice", "2026-01-05T22:17:00+00:00")
    assert last["detail"] == {"assignee": "bob", "unit": "rtcc"}
    sent = {call.args[0]: call.args[1] for call in service.dispatch.call_args_list}
    payload = sent["alert_assigned"]
    assert payload["alert_id"] == alert_id and payload["assignee"] == "bob"


def test_every_change_announces_alert_updated_at_a_higher_version(service, alert_id):
    """Search re-indexes an alert from these events; each carries the whole alert at its new version."""
    service.dispatch.reset_mock()
    service.assign_alert(alert_id, {"assignee": "bob"}, CONTEXT)
    service.add_note(alert_id, {"text": "patrol on the way"}, CONTEXT)
    alert = service.dismiss_alert(alert_id, {"reason": "false_read", "text": "8 read as B"}, CONTEXT)
    updates = [call.args[1] for call in service.dispatch.call_args_list if call.args[0] == "alert_updated"]
    assert [(u["change"], u["version"], u["status"]) for u in updates] == [
        ("assigned", 2, "assigned"),
        ("note", 3, "assigned"),
        ("dismissed", 4, "dismissed"),
    ]
    assert updates[-1]["assignee"] == "bob" and "patrol on the way" in updates[-1]["notes"]
    assert alert["version"] == 4 and "update_unpublished" not in service.alerts.docs[alert_id]


def test_an_assignment_needs_someone(service, alert_id):
    with pytest.raises(InvalidInput) as error:
        service.assign_alert(alert_id, {}, CONTEXT)
    assert "assignee" in error.value.errors


def test_reassigning_and_dismissing_an_assigned_alert_are_allowed(service, alert_id):
    service.assign_alert(alert_id, {"unit": "rtcc"}, CONTEXT)
    service.assign_alert(alert_id, {"assignee": "carol"}, CONTEXT)
    alert = service.dismiss_alert(alert_id, {"reason": "false_read", "text": "8 read as B"}, CONTEXT)
    assert alert["status"] == "dismissed"
    assert alert["dismissal"]["reason"] == "false_read" and alert["dismissal"]["by"] == "alice"
    assert [a["action"] for a in alert["actions"]] == ["received", "assigned", "assigned", "dismissed"]


@pytest.mark.parametrize("status", ["dismissed", "promoted"])
def test_illegal_transitions_are_refused_with_conflict(service, alert_id, status):
    service.alerts.docs[alert_id]["status"] = status
    with pytest.raises(Conflict):
        service.assign_alert(alert_id, {"assignee": "bob"}, CONTEXT)
    with pytest.raises(Conflict):
        service.dismiss_alert(alert_id, {"reason": "duplicate", "text": "see a-0"}, CONTEXT)
    assert service.alerts.docs[alert_id]["status"] == status


def test_dismissal_reasons_come_from_the_controlled_list(service, alert_id):
    with pytest.raises(InvalidInput) as error:
        service.dismiss_alert(alert_id, {"reason": "bored"}, CONTEXT)
    assert "reason" in error.value.errors


@pytest.mark.parametrize("reason", DISMISS_REASONS)
@pytest.mark.parametrize("text", [None, " "])
def test_every_dismissal_needs_text_saying_why(service, alert_id, reason, text):
    """Issue 11: a reason from a controlled list plus text (a ``{"reason"}`` alone is a 422)."""
    body = {"reason": reason} if text is None else {"reason": reason, "text": text}
    with pytest.raises(InvalidInput) as error:
        service.dismiss_alert(alert_id, body, CONTEXT)
    assert set(error.value.errors) == {"text"}
    assert service.alerts.docs[alert_id]["status"] == "new"


def test_notes_are_logged_in_any_status(service, alert_id):
    service.dismiss_alert(alert_id, {"reason": "unfounded", "text": "no such address"}, CONTEXT)
    alert = service.add_note(alert_id, {"text": "Caller re-contacted, nothing further."}, CONTEXT)
    assert alert["actions"][-1]["action"] == "note"
    assert alert["actions"][-1]["detail"]["text"] == "Caller re-contacted, nothing further."


def test_triage_on_an_unknown_alert_is_not_found(service):
    with pytest.raises(NotFound):
        service.add_note("nope", {"text": "x"}, CONTEXT)


# -- identification (C26) ----------------------------------------------------------------------

PROBE = "https://faces.example.gov/probes/p-77.jpg"
FACE = {
    **SUBMISSION,
    "source": "face",
    "source_system": "clearview",
    "source_event_id": "f-1",
    "payload": {"candidate": {"name": "John Roe", "subject_id": "SUBJ-881"}, "score": 91, "probe_image_url": PROBE},
}
FINGERPRINT = {"type": "fingerprint", "reference": "AFIS-2026-004471", "description": "examiner confirmed"}
DETECTIVE = {"actor": {"id": "dana", "agency": "TX0000000", "roles": ["detective"]}, "request_id": "req-9"}


@pytest.fixture
def face_id(service):
    return service.create_alert(FACE, CONTEXT)["alert"]["id"]


def test_C26_a_face_alert_is_identified_by_its_reviewer_on_independent_evidence(service, clock, face_id):
    clock.at = NOW + timedelta(hours=3)
    service.dispatch.reset_mock()
    body = {"evidence": [FINGERPRINT, {"type": "witness", "reference": "interview 2026-01-06 / Ofc. Lee"}]}
    alert = service.identify_alert(face_id, {**body, "note": "prints match the candidate"}, DETECTIVE)
    assert alert["identified"] is True
    assert alert["identification"] == {
        "reviewer": "dana",
        "at": "2026-01-06T01:15:00+00:00",
        "evidence": body["evidence"],
        "note": "prints match the candidate",
    }
    assert alert["notice"] == "Investigative lead only, not a positive identification or probable cause"
    last = alert["actions"][-1]
    assert (last["action"], last["actor"], last["at"]) == ("identified", "dana", "2026-01-06T01:15:00+00:00")
    assert last["detail"]["evidence"] == body["evidence"]
    updates = [call.args[1] for call in service.dispatch.call_args_list if call.args[0] == "alert_updated"]
    assert [u["change"] for u in updates] == ["identified"]
    assert service.get_alert(face_id)["identification"]["reviewer"] == "dana"


def test_C26_an_alert_not_yet_identified_says_so(service, face_id):
    alert = service.get_alert(face_id)
    assert alert["identified"] is False and alert["identification"] is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "evidence"),
        ({"evidence": []}, "evidence"),
        ({"evidence": [{"type": "hunch", "reference": "x"}]}, "evidence"),
        ({"evidence": [{"type": "dna", "reference": "   "}]}, "evidence"),
        ({"evidence": [{"type": "dna"}]}, "evidence"),
        ({"evidence": [{"type": "other", "reference": "R-1"}]}, "evidence"),
        ({"evidence": [{"type": "document", "reference": PROBE}]}, "evidence.0.reference"),
        ({"evidence": [FINGERPRINT, {"type": "records_check", "reference": " subj-881 "}]}, "evidence.1.reference"),
    ],
    ids=["none", "empty", "unknown-type", "blank-reference", "no-reference", "other-unsaid", "probe", "candidate"],
)
def test_C26_identification_needs_independent_evidence(service, face_id, body, field):
    with pytest.raises(InvalidInput) as refused:
        service.identify_alert(face_id, body, DETECTIVE)
    assert field in refused.value.errors
    stored = service.alerts.docs[face_id]
    assert "identified" not in stored and [a["action"] for a in stored["actions"]] == ["received"]


def test_C26_the_face_alert_itself_is_not_evidence_either(service, face_id):
    with pytest.raises(InvalidInput) as refused:
        service.identify_alert(
            face_id, {"evidence": [{"type": "other", "reference": face_id, "description": "x"}]}, DETECTIVE
        )
    assert refused.value.errors == {"evidence.0.reference": ["the face alert itself is not independent evidence"]}


def test_C26_only_face_alerts_are_identified(service, alert_id):
    with pytest.raises(Conflict) as refused:
        service.identify_alert(alert_id, {"evidence": [FINGERPRINT]}, DETECTIVE)
    assert "only face-recognition alerts" in str(refused.value)
    assert "identified" not in service.alerts.docs[alert_id]


def test_C26_an_identified_alert_is_not_identified_again(service, face_id):
    service.identify_alert(face_id, {"evidence": [FINGERPRINT]}, DETECTIVE)
    other = {"actor": {"id": "sam", "agency": "TX0000000", "roles": ["supervisor"]}}
    with pytest.raises(Conflict) as refused:
        service.identify_alert(face_id, {"evidence": [{"type": "dna", "reference": "CODIS-9"}]}, other)
    assert "already identified (by dana" in str(refused.value)
    assert service.alerts.docs[face_id]["identification"]["evidence"] == [FINGERPRINT]


def test_C26_a_dismissed_face_alert_is_not_identified(service, face_id):
    service.dismiss_alert(face_id, {"reason": "false_read", "text": "not the same person"}, CONTEXT)
    with pytest.raises(Conflict):
        service.identify_alert(face_id, {"evidence": [FINGERPRINT]}, DETECTIVE)


@pytest.mark.parametrize("context", [{}, {"actor": {"agency": "TX0000000", "roles": ["detective"]}}])
def test_C26_identification_needs_a_human_reviewer(service, face_id, context):
    with pytest.raises(Forbidden):
        service.identify_alert(face_id, {"evidence": [FINGERPRINT]}, context)
    assert "identified" not in service.alerts.docs[face_id]


# -- retention ---------------------------------------------------------------------------------


def _submit(service, body, agency):
    return service.create_alert(body, {**CONTEXT, "actor": {**CONTEXT["actor"], "agency": agency}})["alert"]


def test_C19_new_hampshire_reads_are_deleted_three_minutes_after_capture(service, clock):
    read_alert = _submit(service, read("nh-1"), "NH0000000")
    hit = _submit(service, read("nh-2", plate="HOT0001", hotlist="stolen"), "NH0000000")
    clock.at = datetime(2026, 1, 5, 22, 16, 59, tzinfo=UTC)
    assert service.purge_expired_reads() == 0
    clock.at = datetime(2026, 1, 5, 22, 17, 1, tzinfo=UTC)
    assert service.purge_expired_reads() == 1
    assert read_alert["id"] not in service.alerts.docs and hit["id"] in service.alerts.docs
    event_type, payload = service.dispatch.call_args.args
    assert event_type == "record_purged"
    assert payload == {"record_type": "alert", "record_id": read_alert["id"], "reason": "C19 retention NH"}
    audit = service.audit.record.call_args
    assert audit.args[0] == "alert.purge" and len(audit.kwargs["details"]["content_hash"]) == 64


def _nh_reads(service, count):
    reads = [read(f"nh-{n}", plate=f"NH{n:05d}") for n in range(count)]
    context = {**CONTEXT, "actor": {**CONTEXT["actor"], "agency": "NH0000000"}}
    results = service.create_alerts(reads, context)["results"]
    assert {result["status"] for result in results} == {201}


def test_C19_one_sweep_purges_page_after_page_until_nothing_is_due(service, clock):
    _nh_reads(service, 1100)  # more than two pages of 500
    clock.at = NOW + timedelta(minutes=3)
    assert service.purge_expired_reads() == 1100 and service.alerts.docs == {}
    purges = [call for call in service.audit.record.call_args_list if call.args[0] == "alert.purge"]
    assert len({call.kwargs["event_id"] for call in purges}) == 1100
    assert all(call.kwargs["event_id"] == f"alert.purge-{call.kwargs['record_ids'][0]}" for call in purges)


def test_C19_one_sweep_stops_at_its_bound_and_the_next_goes_on(service, clock):
    service.config["PURGE_MAX_PER_RUN"] = 700
    _nh_reads(service, 1100)
    clock.at = NOW + timedelta(minutes=3)
    assert service.purge_expired_reads() == 700 and len(service.alerts.docs) == 400
    assert service.purge_expired_reads() == 400 and service.alerts.docs == {}


class _Container:
    def __init__(self, config):
        self.config = config


@pytest.mark.parametrize(
    "config,interval",
    [({}, 10), ({"ALPR_PURGE_SECONDS": "5"}, 5),
     ({"ALPR_PURGE_SECONDS": 60, "ALPR_RETENTION_PROFILES": {"ME": "21d"}}, 60)],
)  # fmt: skip
def test_C19_the_sweep_runs_more_often_than_the_smallest_profile(config, interval):
    timer = PurgeTimer()
    timer.container = _Container(config)
    timer.setup()
    assert timer.interval == interval and timer.eager is True


@pytest.mark.parametrize("seconds", [180, 600, 0])
def test_C19_a_sweep_interval_as_long_as_the_smallest_profile_stops_intake(seconds):
    timer = PurgeTimer()
    timer.container = _Container({"ALPR_PURGE_SECONDS": seconds, "ALPR_RETENTION_PROFILES": {"NH": "3m"}})
    with pytest.raises(ValueError, match="ALPR_PURGE_SECONDS"):
        timer.setup()


@pytest.mark.parametrize("state,days", [("ME", 21), ("MN", 60), ("TN", 90)])
def test_C19_each_jurisdiction_keeps_reads_for_its_profile(service, clock, state, days):
    alert = _submit(service, read(f"{state}-1"), f"{state}0000000")
    clock.at = datetime(2026, 1, 5, 22, 14, tzinfo=UTC) + timedelta(days=days) - timedelta(seconds=1)
    assert service.purge_expired_reads() == 0
    clock.at += timedelta(seconds=2)
    assert service.purge_expired_reads() == 1 and alert["id"] not in service.alerts.docs


def test_C19_reads_promoted_linked_to_a_case_or_on_hold_are_kept_through_the_entrypoints_cases_calls(service, clock):
    """Intake's own logic, told by calling the entrypoints the cases service calls; a read linked, held
    and promoted through the API outlives its deadline in tests/e2e/test_retention.py."""
    promoted = _submit(service, read("nh-1"), "NH0000000")
    held = _submit(service, read("nh-2", plate="HLD0001"), "NH0000000")
    linked = _submit(service, read("nh-3", plate="LNK0001"), "NH0000000")
    service.mark_promoted(promoted["id"], "case-1", CONTEXT)
    service.set_legal_hold([held["id"]], "case-2", True, CONTEXT)
    service.link_case([linked["id"]], "case-3", True, CONTEXT)
    clock.at = NOW + timedelta(days=1)
    assert service.purge_expired_reads() == 0 and len(service.alerts.docs) == 3


def test_C19_a_read_let_go_of_after_its_deadline_is_deleted_by_the_next_sweep(service, clock):
    """The three ways a case lets go of a read: its case purged (C16), the hold released, the link removed.

    Intake's own logic: the cases service's part is played by calling intake's entrypoints as it does,
    the purge by a hand-made ``record_purged`` as cases announces it. The real hand-offs are
    tests/integration/test_retention_links.py and tests/e2e/test_retention.py."""
    promoted = _submit(service, read("nh-1"), "NH0000000")
    held = _submit(service, read("nh-2", plate="HLD0001"), "NH0000000")
    linked = _submit(service, read("nh-3", plate="LNK0001"), "NH0000000")
    service.mark_promoted(promoted["id"], "case-1", CONTEXT)
    service.set_legal_hold([held["id"]], "case-2", True, CONTEXT)
    service.link_case([linked["id"]], "case-3", True, CONTEXT)
    clock.at = NOW + timedelta(days=1)
    assert service.purge_expired_reads() == 0
    service.handle_case_purged({"record_type": "case", "record_id": "case-1", "reason": "C15"})
    service.set_legal_hold([held["id"]], "case-2", False, CONTEXT)
    service.link_case([linked["id"]], "case-3", False, CONTEXT)
    clock.at += timedelta(minutes=1)
    assert service.purge_expired_reads() == 3 and service.alerts.docs == {}


def test_C19_agencies_without_a_profile_keep_reads_unless_a_default_is_set(service, clock):
    kept = _submit(service, read("tx-1"), "TX0000000")
    service.config["ALPR_JURISDICTION"] = "ME"
    defaulted = _submit(service, read("tx-2", plate="DEF0001"), "TX0000000")
    clock.at = NOW + timedelta(days=30)
    assert service.purge_expired_reads() == 1
    assert kept["id"] in service.alerts.docs and defaulted["id"] not in service.alerts.docs


def test_C18_tips_expire_after_the_retention_period_unless_promoted(service, clock):
    tip = {**SUBMISSION, "source": "tip", "payload": {"narrative": "A grey Altima circles the school."}}
    expiring = service.create_alert({**tip, "source_event_id": "t-1"}, CONTEXT)["alert"]
    promoted = service.create_alert({**tip, "source_event_id": "t-2"}, CONTEXT)["alert"]
    assert expiring["record_class"] == "tip_lead"
    service.mark_promoted(promoted["id"], "case-1", CONTEXT)
    clock.at = NOW + timedelta(days=364)
    assert service.expire_tips() == 0
    clock.at = NOW + timedelta(days=365, seconds=1)
    assert service.expire_tips() == 1
    assert expiring["id"] not in service.alerts.docs and promoted["id"] in service.alerts.docs
    assert service.dispatch.call_args.args[1]["reason"] == "C18 retention"


def test_a_cases_link_hold_and_purge_announce_alert_updated_at_a_new_version_with_the_list_item(service):
    """The alert list is served from these events (docs/search.md): a case's change to an alert is one."""
    alert = _submit(service, read("tx-held"), "TX0000000")
    service.dispatch.reset_mock()
    assert service.link_case([alert["id"], "gone"], "case-3", True, CONTEXT) == 1
    service.set_legal_hold([alert["id"]], "case-2", True, CONTEXT)
    service.handle_case_purged({"record_type": "case", "record_id": "case-2", "reason": "C15"})
    service.link_case([alert["id"]], "case-3", False, CONTEXT)
    updates = [call.args[1] for call in service.dispatch.call_args_list if call.args[0] == "alert_updated"]
    assert [(u["change"], u["version"], u["item"]["cases"], u["item"]["legal_hold"]) for u in updates] == [
        ("linked", 2, ["case-3"], None),
        ("held", 3, ["case-3"], ["case-2"]),
        ("case_purged", 4, ["case-3"], None),
        ("unlinked", 5, [], None),
    ]
    assert all(u["item"]["version"] == u["version"] for u in updates) and service.alerts.entries == {}


def test_the_overdue_sweep_announces_alert_updated_at_a_new_version(service, clock):
    alert = _submit(service, read("tx-late"), "TX0000000")
    service.alerts.docs[alert["id"]].update(triage_due=NOW, triage_open=True)
    service.dispatch.reset_mock()
    clock.at = NOW + timedelta(days=1)
    assert service.escalate_overdue() == 1
    [update] = [call.args[1] for call in service.dispatch.call_args_list if call.args[0] == "alert_updated"]
    assert (update["change"], update["version"], update["item"]["overdue"]) == ("escalated", 2, True)
    assert update["item"]["escalated_at"] and update["alert_id"] == alert["id"]
