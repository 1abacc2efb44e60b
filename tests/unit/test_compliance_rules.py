"""28 CFR Part 23 rules as pure functions: the review queue window (C15), tombstones (C16), holds (C17),
the report's checks (C13, C27), identifying information (C8) and who hears of restricted hits (C6)."""

from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from casewire.contracts.cases import CaseOut
from casewire.errors import Unavailable
from gateway.auth import Identity
from gateway.visibility import Visibility
from services.cases import casefile, compliance, retention, rules
from services.cases.service import CasesService
from services.search import documents

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def ci(**extra):
    case = {
        "_id": "c1",
        "classification": "criminal_intelligence",
        "title": "Elm St",
        "subjects": [{"name": "John Roe"}],
        "offense_category": "robbery",
        "reasonable_suspicion": "x" * 120,
        "submitter": "dana",
        "submitting_agency": "TX0000000",
        "control_official": "vega",
        "source_type": "interview",
        "obtained_how": "debrief",
        "sensitivity": "open",
        "source_reliability": "B",
        "content_validity": "2",
        "submitted_at": NOW - timedelta(days=10),
        "review_due": NOW + timedelta(days=30),
    }
    return {**case, **extra}


def test_C15_the_queue_opens_the_configured_days_ahead():
    assert retention.queue_until(NOW, None) == NOW + timedelta(days=90)
    assert retention.queue_until(NOW, "30") == NOW + timedelta(days=30)
    entry = retention.queue_entry(ci(review_due=NOW - timedelta(days=1)), NOW)
    assert entry["overdue"] and entry["days_left"] == -1 and "reasonable_suspicion" not in entry


def test_C15_the_timer_purges_past_due_intelligence():
    """Legal holds (C17) are documents of their own, read by the purge at its claim
    (tests/integration/test_legal_holds.py)."""
    assert retention.purgeable_by_timer(ci(review_due=NOW), NOW)
    assert not retention.purgeable_by_timer(ci(review_due=NOW + timedelta(seconds=1)), NOW)
    assert not retention.purgeable_by_timer({**ci(review_due=NOW), "classification": "investigative"}, NOW)


def test_C16_the_tombstone_holds_the_hash_and_no_content():
    case = ci()
    digest = retention.content_hash(case, [{"text": "secret"}], [], [], [], [])
    assert digest != retention.content_hash(case, [{"text": "other"}], [], [], [], [])
    stone = retention.tombstone(case, digest, "court order", "pat", NOW, automatic=False)
    assert stone["content_hash"] == digest and stone["record_id"] == "c1"
    assert not {"title", "subjects", "reasonable_suspicion"} & set(stone)
    assert "Elm St" not in str(stone) and "John Roe" not in str(stone)


def test_C13_the_check_reports_review_dates_beyond_five_years_and_missing_ones():
    assert compliance.review_due_violation(ci()) is None
    late = compliance.review_due_violation(ci(review_due=NOW + timedelta(days=6 * 365)))
    assert late["problem"] == "review_due is more than five years out"
    assert compliance.review_due_violation(ci(review_due=None))["problem"] == "no review_due"
    validated = ci(last_validated_at=NOW, review_due=NOW + rules.REVIEW_PERIOD)
    assert compliance.review_due_violation(validated) is None


@pytest.mark.parametrize("field", rules.CI_REQUIRED)
def test_C27_a_record_missing_any_predicate_or_label_field_is_an_exception(field):
    assert compliance.missing_predicate_or_labels(ci(**{field: None}), 100)["missing"] == [field]
    assert compliance.missing_predicate_or_labels(ci(), 100) is None


def test_C27_the_summary_is_ok_only_when_every_exception_row_is_empty():
    report = {name: [] for name in compliance.EXCEPTION_ROWS} | {"purges": [{"record_id": "x"}]}
    assert compliance.summary(report)["ok"]
    assert not compliance.summary({**report, "reads_without_purpose": [{"seq": 1}]})["ok"]


def test_C8_identifying_information_never_creates_a_subject_and_names_an_existing_one():
    approved = ci(review_state="approved")
    assert rules.identifying_errors({"attached_subject": "John Roe"}, approved) == {}
    assert "attached_to" in rules.identifying_errors(
        {"attached_subject": "John Roe"}, ci(review_state="pending_review")
    )
    assert "attached_subject" in rules.identifying_errors({"attached_subject": "Jane"}, approved)
    assert "subjects" in rules.identifying_errors(
        {"attached_subject": "John Roe", "subjects": [{"name": "X"}]}, approved
    )
    shown = CaseOut().dump({"_id": "i1", "classification": "identifying", "title": "phone"})
    assert shown["notice"] == "Identifying information only, no criminal connotation"


def test_C6_restricted_hits_reach_the_control_official_and_the_units_supervisors_only():
    notice = {"case_id": "c1", "control_official": "vega", "unit": "narcotics", "agency": "TX0000000"}

    def sees(sub, roles, unit, agency="TX0000000"):
        identity = Identity(sub=sub, name=sub, roles=roles, agency=agency, unit=unit)
        return Visibility(identity, {}.get, {}.get).view("control_official_notified", notice) is not None

    assert sees("vega", ("detective",), "other")
    assert sees("sam", ("supervisor",), "narcotics")
    assert not sees("dana", ("detective",), "narcotics")
    assert not sees("olga", ("supervisor",), "homicide")
    assert not sees("vega", ("detective",), "narcotics", agency="LA0000000")


def test_C6_case_events_carry_the_control_official_so_agency_only_hits_name_the_contact():
    case = ci(
        unit="narcotics",
        agency="TX0000000",
        status="open",
        opened_at=NOW,
        updated_at=NOW,
        version=3,
        sensitivity="agency_only",
    )
    event = casefile.case_event(case, "updated")
    assert event["control_official"] == "vega"
    pointer = documents.case_document(event)
    assert (pointer["agency"], pointer["control_official"]) == ("TX0000000", "vega")


def test_C16_C23_no_tombstone_no_purge():
    """If the audit log cannot take the tombstone, the claim is undone and nothing is removed."""
    service = worker_factory(CasesService, now=lambda: NOW)
    case = ci(review_due=NOW - timedelta(days=1), unit="narcotics", agency="TX0000000")
    service.contents.items_of.return_value = []
    service.contents.custody_of_case.return_value = []
    service.contents.files_of.return_value = []
    service.store.disseminations_of.return_value = []
    service.store.history_of.return_value = []
    service.store.start_purge.return_value = {**case, "purging": {}}
    service.oversight.active_holds.return_value = {}
    service.audit.record.side_effect = Unavailable("broker down")
    with pytest.raises(Unavailable):
        service._purge(case, "court order", None, automatic=False)
    service.store.abandon_purge.assert_called_once_with("c1")
    service.contents.remove_case.assert_not_called()
    service.store.remove.assert_not_called()
    service.dispatch.assert_not_called()


# -- C11: additions that change what dissemination recipients hold -----------------------------------

ADDITIONS = {
    "notes": {"text": "Roe seen at the Elm St house"},
    "reports": {"title": "Surveillance", "body": "Two visits, both at night."},
    "interviews": {"interviewee": "J. Doe", "at": "2026-05-30T10:00:00Z", "summary": "Named Roe as the driver."},
    "tasks": {"title": "Pull phone records", "assignee": "bob", "due": "2026-06-10T00:00:00Z"},
}


def disseminated_service():
    service = worker_factory(CasesService, now=lambda: NOW)
    case = {
        "_id": "c1",
        "title": "Elm St",
        "status": "open",
        "classification": "investigative",
        "unit": "robbery",
        "agency": "TX0000000",
        "opened_at": NOW - timedelta(days=3),
        "updated_at": NOW,
    }
    service.store.get.return_value = case
    service.store.update.return_value = case
    service.contents.add_item.side_effect = lambda item: {**item, "_id": "i1"}
    service.contents.custody_of.return_value = []
    service.hooks.listening.return_value = []
    service.store.disseminations_of.return_value = [
        {"_id": "d1", "recipient": "Sgt. Kim", "agency": "TX2270000"},
        {"_id": "d2", "recipient": "ADA Patel", "agency": "TX2270001"},
        {"_id": "d3", "recipient": "Sgt. Kim", "agency": "TX2270000"},  # released to her twice: told once
    ]
    service.oversight.notify.side_effect = lambda notification: {**notification, "_id": "n1"}
    return service


def told(service) -> set:
    return {
        (call.args[0]["recipient"], call.args[0]["change"], tuple(call.args[0]["fields_changed"]))
        for call in service.oversight.notify.call_args_list
    }


ANALYST = {"actor": {"id": "dana", "agency": "TX0000000", "roles": ["analyst"]}, "unit": "robbery"}


@pytest.mark.parametrize("kind", ["notes", "reports", "interviews"])
def test_C11_a_note_report_or_interview_added_to_a_disseminated_case_notifies_each_recipient(kind):
    service = disseminated_service()
    service.add_item("c1", kind, ADDITIONS[kind], ANALYST)
    assert told(service) == {("Sgt. Kim", "corrected", (kind,)), ("ADA Patel", "corrected", (kind,))}
    sent = [c.args[1]["fields_changed"] for c in service.dispatch.call_args_list if c.args[0].endswith("notified")]
    assert sent == [[kind], [kind]]


def test_C11_evidence_added_to_a_disseminated_case_notifies_each_recipient_and_a_transfer_does_not():
    service = disseminated_service()
    evidence = {"description": "Phone", "collected_at": "2026-05-31T09:00:00Z", "collected_by": "dana"}
    service.add_evidence("c1", evidence, ANALYST)
    assert told(service) == {("Sgt. Kim", "corrected", ("evidence",)), ("ADA Patel", "corrected", ("evidence",))}
    service.oversight.notify.reset_mock()
    service.contents.get_item.return_value = {"_id": "i1", "kind": "evidence"}
    transfer = {"from": "dana", "to": "lab", "at": "2026-06-01T00:00:00Z", "reason": "analysis", "condition": "sealed"}
    service.add_custody("c1", "i1", transfer, ANALYST)
    service.oversight.notify.assert_not_called()


def test_C11_a_task_is_not_a_correction():
    service = disseminated_service()
    service.add_item("c1", "tasks", ADDITIONS["tasks"], ANALYST)
    service.oversight.notify.assert_not_called()


def test_C11_an_addition_to_a_case_never_disseminated_notifies_nobody():
    service = disseminated_service()
    service.store.disseminations_of.return_value = []
    service.add_item("c1", "notes", ADDITIONS["notes"], ANALYST)
    service.oversight.notify.assert_not_called()
