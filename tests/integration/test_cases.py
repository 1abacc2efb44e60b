"""The cases service over real RabbitMQ and FerretDB, with intake, entities and audit beside it."""

import base64
import hashlib
import io
import json
import threading
import uuid
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from nameko.events import event_handler
from nameko.standalone.rpc import ClusterRpcProxy
from pypdf import PdfReader
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from casewire.audit import AuditTrail
from casewire.errors import Conflict, CorruptedFile, Forbidden, InvalidInput, NotFound, PurposeRequired, Unavailable
from services.audit.service import AuditService
from services.cases.dependencies import CaseStore
from services.cases.rules import CI_REQUIRED, REVIEW_PERIOD, TRANSITIONS
from services.cases.service import CasesService
from services.cases.webhooks import new_secret
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from tests.polling import eventually
from tests.resolution import resolve_one

AGENCY = "TX0000000"
NARRATIVE = (
    "Confidential informant reports that the subject distributes fentanyl from the garage at 12 Elm St "
    "every Friday night; two controlled buys in March corroborate it."
)
PURPOSE = {"purpose": "investigation", "case_number": "HPD-2026-0042"}


def ctx(sub="dana", roles=("detective",), unit="narcotics", agency=AGENCY, **extra):
    return {"actor": {"id": sub, "agency": agency, "roles": list(roles)}, "unit": unit, "request_id": sub, **extra}


DANA = ctx()
DANA_CI = ctx(**PURPOSE)
SUPERVISOR = ctx("sam", ("supervisor",), **PURPOSE)
OUTSIDER = ctx("olga", ("detective",), unit="homicide", **PURPOSE)


def ci_fields(**overrides):
    fields = {
        "title": "Elm St fentanyl distribution",
        "classification": "criminal_intelligence",
        "subjects": [{"name": "John Roe"}],
        "offense_category": "narcotics_trafficking",
        "reasonable_suspicion": NARRATIVE,
        "control_official": "Lt. Vega",
        "source_type": "confidential_informant",
        "obtained_how": "Debriefing of CI-17 on 2026-03-02, recorded by Det. Dana",
        "sensitivity": "agency_only",
        "source_reliability": "B",
        "content_validity": "2",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def alpr(plate=None, notes=None, camera=None):
    body = {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-05T22:14:00Z",
        "location": {"lat": 29.76, "lon": -95.36},
        # A camera per read: two reads of one plate at one camera within minutes fold into one alert.
        "payload": {
            "plate": plate or f"C{uuid.uuid4().hex[:6].upper()}",
            "plate_state": "TX",
            "camera_id": camera or f"cam-{uuid.uuid4().hex[:6]}",
        },
    }
    if notes:
        body["notes"] = notes
    return body


@pytest.fixture(scope="module")
def rpc(base_config):
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture(autouse=True)
def services(container_factory, config_for):
    for service_cls in (CasesService, IntakeService, EntitiesService, AuditService):
        config = config_for(service_cls.name)
        if service_cls is CasesService:
            config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"  # the webhook receivers below
        container_factory(service_cls, config).start()


@pytest.fixture
def cases_db(mongo, config_for):
    return mongo[config_for("cases")["MONGODB_DATABASE"]]


@pytest.fixture
def audit_db(mongo, config_for):
    return mongo[config_for("audit")["MONGODB_DATABASE"]]


def new_case(rpc, context=DANA, **fields):
    return rpc.cases.create_case({"title": "Pharmacy burglaries", "unit": "narcotics", **fields}, context)


def resolved_alert(rpc, **kwargs):
    alert = rpc.intake.create_alert(alpr(**kwargs), DANA)["alert"]
    keys = ("source", "source_system", "source_event_id", "occurred_at", "received_at", "location", "payload")
    keys += ("priority", "status", "record_class", "agency", "unit")
    resolved = resolve_one(rpc.entities, {"alert_id": alert["id"], **{key: alert[key] for key in keys}})
    return alert, resolved["entities"]


# -- workflow ------------------------------------------------------------------------------------

LEGAL = sorted((frm, to) for frm, targets in TRANSITIONS.items() for to in targets)
ILLEGAL = sorted((frm, to) for frm in TRANSITIONS for to in TRANSITIONS if to != frm and to not in TRANSITIONS[frm])


def _case_in(rpc, status):
    case = new_case(rpc)
    if status != "open":
        case = rpc.cases.update_case(case["id"], {"status": status}, DANA)
    return case


@pytest.mark.parametrize("frm,to", LEGAL)
def test_each_legal_transition_is_taken_and_recorded(rpc, frm, to):
    case = _case_in(rpc, frm)
    moved = rpc.cases.update_case(case["id"], {"status": to, "reason": "test"}, DANA)
    assert moved["status"] == to and moved["version"] == case["version"] + 1
    changes = [e for e in rpc.cases.timeline(case["id"], DANA)["items"] if e.get("action") == "status_changed"]
    assert changes[-1]["detail"]["from"] == frm and changes[-1]["detail"]["to"] == to


@pytest.mark.parametrize("frm,to", ILLEGAL)
def test_each_illegal_transition_is_409_and_changes_nothing(rpc, frm, to):
    case = _case_in(rpc, frm)
    with pytest.raises(Conflict):
        rpc.cases.update_case(case["id"], {"status": to}, DANA)
    assert rpc.cases.get_case(case["id"], DANA)["status"] == frm


def test_a_case_lists_by_status_assignee_and_pages_with_a_cursor(rpc):
    marker = uuid.uuid4().hex[:8]
    made = [new_case(rpc, assignee=f"det-{marker}") for _ in range(3)]
    first = rpc.cases.list_cases({"assignee": f"det-{marker}", "limit": 2}, DANA)
    second = rpc.cases.list_cases({"assignee": f"det-{marker}", "limit": 2, "cursor": first["next_cursor"]}, DANA)
    assert {c["id"] for c in first["items"] + second["items"]} == {c["id"] for c in made}
    assert second["next_cursor"] is None


def test_visibility_other_units_cases_are_forbidden_unless_assigned(rpc):
    case = new_case(rpc)
    with pytest.raises(Forbidden):
        rpc.cases.get_case(case["id"], OUTSIDER)
    rpc.cases.update_case(case["id"], {"assignee": "olga"}, DANA)
    assert rpc.cases.get_case(case["id"], OUTSIDER)["assignees"] == ["olga"]


# -- criminal intelligence ----------------------------------------------------------------------


@pytest.mark.parametrize("field", CI_REQUIRED)
def test_C2_C5_each_missing_field_is_a_422_naming_it(rpc, field):
    blank = "" if field in ("submitter", "submitting_agency") else None
    with pytest.raises(InvalidInput) as error:
        new_case(rpc, DANA_CI, **ci_fields(**{field: blank}))
    assert field in error.value.errors


def test_C2_a_short_narrative_and_an_unlisted_offense_are_refused(rpc):
    for bad in ({"reasonable_suspicion": "he looks shady"}, {"offense_category": "loitering"}):
        with pytest.raises(InvalidInput) as error:
            new_case(rpc, DANA_CI, **ci_fields(**bad))
        assert set(bad) == set(error.value.errors)


def test_C5_labels_are_stored_as_separate_fields(rpc):
    case = new_case(rpc, DANA_CI, **ci_fields(sensitivity="restricted", source_reliability="A", content_validity="3"))
    assert (case["sensitivity"], case["source_reliability"], case["content_validity"]) == ("restricted", "A", "3")
    assert case["submitter"] == "dana" and case["submitting_agency"] == AGENCY


def test_C3_pending_intelligence_is_seen_only_by_its_unit_until_a_supervisor_approves(rpc):
    case = new_case(rpc, DANA_CI, **ci_fields())
    assert case["review_state"] == "pending_review"
    with pytest.raises(NotFound):
        rpc.cases.get_case(case["id"], OUTSIDER)
    assigned = rpc.cases.update_case(case["id"], {"assignee": "olga"}, DANA_CI)
    with pytest.raises(NotFound):  # even assigned, another unit does not see it before approval
        rpc.cases.get_case(case["id"], OUTSIDER)
    listed = rpc.cases.list_cases({"classification": "criminal_intelligence"}, OUTSIDER)["items"]
    assert case["id"] not in [c["id"] for c in listed]
    with pytest.raises(Forbidden):
        rpc.cases.review_case(case["id"], {"decision": "approve", "justification": "looks right to me"}, DANA_CI)
    approved = rpc.cases.review_case(
        case["id"], {"decision": "approve", "justification": "predicate and labels checked"}, SUPERVISOR
    )
    assert approved["review_state"] == "approved" and approved["approved_by"] == "sam" and approved["approved_at"]
    assert approved["version"] > assigned["version"]
    assert rpc.cases.get_case(case["id"], OUTSIDER)["id"] == case["id"]  # assigned, approved, agency_only


def test_C3_a_submitter_cannot_approve_their_own_record(rpc):
    case = new_case(rpc, SUPERVISOR, **ci_fields())
    with pytest.raises(Forbidden):
        rpc.cases.review_case(case["id"], {"decision": "approve", "justification": "self approval"}, SUPERVISOR)
    for change in ({"submitter": "someone-else"}, {"submitting_agency": "LA0000000"}):
        with pytest.raises(InvalidInput) as error:
            rpc.cases.update_case(case["id"], change, SUPERVISOR)
        assert set(change) <= set(error.value.errors)
    assert rpc.cases.get_case(case["id"], SUPERVISOR)["submitter"] == "sam"


def test_C4_protected_views_are_refused_without_a_link_to_criminal_conduct(rpc):
    with pytest.raises(InvalidInput) as error:
        new_case(rpc, DANA_CI, **ci_fields(protected_views=True))
    assert "protected_views_link" in error.value.errors
    linked = "He recruits for the cell at the mosque's parking lot, where the March buys took place."
    case = new_case(rpc, DANA_CI, **ci_fields(protected_views=True, protected_views_link=linked))
    assert case["protected_views_link"] == linked


def test_C6_restricted_intelligence_is_404_outside_the_controlling_unit(rpc):
    case = new_case(rpc, DANA_CI, **ci_fields(sensitivity="restricted"))
    rpc.cases.review_case(case["id"], {"decision": "approve", "justification": "checked, restricted"}, SUPERVISOR)
    rpc.cases.update_case(case["id"], {"assignee": "olga"}, DANA_CI)
    with pytest.raises(NotFound):
        rpc.cases.get_case(case["id"], OUTSIDER)


def test_an_outside_assignee_cannot_move_a_case_into_their_unit_or_assign_it_on(rpc, audit_db):
    case = new_case(rpc)
    rpc.cases.update_case(case["id"], {"assignee": "olga"}, DANA)
    for change in ({"unit": "homicide", "reason": "mine now"}, {"assignee": "mike"}, {"assignees": []}):
        with pytest.raises(Forbidden):
            rpc.cases.update_case(case["id"], change, OUTSIDER)
    kept = rpc.cases.get_case(case["id"], DANA)
    assert (kept["unit"], kept["assignees"], kept["version"]) == ("narcotics", ["olga"], case["version"] + 1)
    with pytest.raises(Forbidden):  # a detective of the unit does not move it either
        rpc.cases.update_case(case["id"], {"unit": "homicide", "reason": "theirs"}, DANA)

    def refused():
        found = audit_db["events"].find({"record_ids": case["id"], "action": "case.update", "outcome": "denied"})
        return len(list(found)) == 4

    assert eventually(refused)


def test_C6_a_detective_cannot_relabel_restricted_intelligence_a_supervisor_can_with_a_reason(rpc, audit_db):
    case = new_case(rpc, DANA_CI, **ci_fields(sensitivity="restricted"))
    with pytest.raises(Forbidden):
        rpc.cases.update_case(case["id"], {"sensitivity": "open"}, DANA_CI)
    with pytest.raises(InvalidInput) as error:
        rpc.cases.update_case(case["id"], {"sensitivity": "agency_only"}, SUPERVISOR)
    assert "reason" in error.value.errors
    assert rpc.cases.get_case(case["id"], DANA_CI)["sensitivity"] == "restricted"
    why = "source now public, see court record 2026-114"
    relabelled = rpc.cases.update_case(case["id"], {"sensitivity": "agency_only", "reason": why}, SUPERVISOR)
    assert relabelled["sensitivity"] == "agency_only"
    moved = rpc.cases.update_case(case["id"], {"unit": "vice", "reason": "vice takes the ring"}, SUPERVISOR)
    assert moved["unit"] == "vice"
    history = [(e["action"], e.get("detail")) for e in rpc.cases.timeline(case["id"], SUPERVISOR)["items"]]
    assert ("relabel", {"from": "restricted", "to": "agency_only", "reason": why}) in history
    assert ("move", {"from": "narcotics", "to": "vice", "reason": "vice takes the ring"}) in history

    def audited():
        found = audit_db["events"].find({"record_ids": case["id"], "outcome": "allowed", "actor.id": "sam"})
        return {(e["action"], e["details"]["from"], e["details"]["to"]) for e in found} >= {
            ("case.relabel", "restricted", "agency_only"),
            ("case.move", "narcotics", "vice"),
        }

    assert eventually(audited)


def test_C9_reading_intelligence_without_purpose_is_400_and_audited(rpc, audit_db):
    case = new_case(rpc, DANA_CI, **ci_fields())
    with pytest.raises(PurposeRequired):
        rpc.cases.get_case(case["id"], DANA)
    with pytest.raises(PurposeRequired):
        rpc.cases.get_case(case["id"], ctx(purpose="investigation"))
    with pytest.raises(PurposeRequired):
        rpc.cases.list_cases({"classification": "criminal_intelligence"}, DANA)
    assert case["id"] not in [c["id"] for c in rpc.cases.list_cases({}, DANA)["items"]]
    refusal = eventually(lambda: audit_db["events"].find_one({"record_ids": case["id"], "outcome": "denied"}))
    assert refusal["details"]["reason"] == "purpose" and refusal["actor"]["id"] == "dana"
    assert rpc.cases.get_case(case["id"], DANA_CI)["id"] == case["id"]


def test_C13_review_due_beyond_five_years_is_refused(rpc):
    late = (datetime.now().astimezone() + timedelta(days=5 * 366 + 2)).isoformat()
    with pytest.raises(InvalidInput) as error:
        new_case(rpc, DANA_CI, **ci_fields(review_due=late))
    assert "review_due" in error.value.errors
    case = new_case(rpc, DANA_CI, **ci_fields())
    due = datetime.fromisoformat(case["review_due"])
    assert due - datetime.fromisoformat(case["submitted_at"]) <= REVIEW_PERIOD
    with pytest.raises(InvalidInput) as error:
        rpc.cases.update_case(case["id"], {"review_due": late}, DANA_CI)
    assert "review_due" in error.value.errors


def test_C14_validation_needs_a_reason_restarts_the_period_and_editing_does_not_validate(rpc):
    case = new_case(rpc, DANA_CI, **ci_fields())
    rpc.cases.review_case(case["id"], {"decision": "approve", "justification": "predicate checked"}, SUPERVISOR)
    edited = rpc.cases.update_case(case["id"], {"subjects": [{"name": "John Roe"}, {"name": "Jim Roe"}]}, DANA_CI)
    assert edited["review_due"] == case["review_due"] and "last_validated_at" not in edited
    with pytest.raises(InvalidInput) as error:
        rpc.cases.review_case(case["id"], {"decision": "validate"}, SUPERVISOR)
    assert "justification" in error.value.errors
    with pytest.raises(Forbidden):
        rpc.cases.review_case(case["id"], {"decision": "validate", "justification": "still active"}, DANA_CI)
    validated = rpc.cases.review_case(
        case["id"], {"decision": "validate", "justification": "new controlled buy on 2026-11-01"}, SUPERVISOR
    )
    last = validated["reviews"][-1]
    assert (last["decision"], last["reviewer"], last["justification"]) == (
        "validate",
        "sam",
        "new controlled buy on 2026-11-01",
    )
    restarted = datetime.fromisoformat(validated["last_validated_at"])
    assert datetime.fromisoformat(validated["review_due"]) == restarted + REVIEW_PERIOD
    assert validated["review_due"] > case["review_due"]


# -- promotion and links ---------------------------------------------------------------------------


def test_promotion_into_a_new_case_is_idempotent_and_marks_the_alert(rpc):
    alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    case = rpc.cases.promote_alert(alert["id"], {"title": "From the hit", "unit": "narcotics"}, DANA)
    again = rpc.cases.promote_alert(alert["id"], {"title": "From the hit", "unit": "narcotics"}, DANA)
    assert again["id"] == case["id"] and case["alert_ids"] == [alert["id"]]
    promoted = rpc.intake.get_alert(alert["id"])
    assert promoted["status"] == "promoted"
    assert [a["detail"]["case_id"] for a in promoted["actions"] if a["action"] == "promoted"] == [case["id"]]


def test_C3_C6_promoting_again_never_hands_out_a_case_the_caller_may_not_open(rpc, audit_db):
    pending = rpc.intake.create_alert(alpr(), DANA)["alert"]
    secret = rpc.cases.promote_alert(pending["id"], ci_fields(unit="narcotics"), DANA_CI)
    with pytest.raises(NotFound):  # C3: pending intelligence answers as a miss outside its unit
        rpc.cases.promote_alert(pending["id"], {"title": "Mine now"}, OUTSIDER)
    plain_alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    unit_case = rpc.cases.promote_alert(plain_alert["id"], {"title": "Narcotics only", "unit": "narcotics"}, DANA)
    with pytest.raises(Forbidden):
        rpc.cases.promote_alert(plain_alert["id"], {"title": "Mine now"}, OUTSIDER)
    for alert, case in ((pending, secret), (plain_alert, unit_case)):
        promoted = [a for a in rpc.intake.get_alert(alert["id"])["actions"] if a["action"] == "promoted"]
        assert [(a["actor"], a["detail"]["case_id"]) for a in promoted] == [("dana", case["id"])]

    def refusals():
        found = audit_db["events"].find({"action": "case.read", "outcome": "denied", "actor.id": "olga"})
        ids = {record_id for event in found for record_id in event["record_ids"]}
        return ids >= {secret["id"], unit_case["id"]}

    assert eventually(refusals)


def test_C16_promoting_again_skips_a_case_being_purged(rpc, cases_db):
    """The purge's claim is written by hand, to hold the case mid-purge while the promotion comes: a
    state production reaches between a purge's claim and its end, which no entrypoint stops in. The
    promotion after a purge done through the service is tests/integration/test_compliance.py's
    ``test_C16_an_alert_promoted_again_after_its_case_was_purged_gets_a_new_case``."""
    alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    first = rpc.cases.promote_alert(alert["id"], {"title": "First", "unit": "narcotics"}, DANA)
    cases_db["cases"].update_one({"_id": first["id"]}, {"$set": {"purging": {"at": datetime.now()}}})
    second = rpc.cases.promote_alert(alert["id"], {"title": "Second", "unit": "narcotics"}, DANA)
    assert second["id"] != first["id"] and second["title"] == "Second"


def test_one_alert_belongs_to_several_cases_and_unlinks_with_a_reason(rpc):
    alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    first = rpc.cases.promote_alert(alert["id"], {"title": "First", "unit": "narcotics"}, DANA)
    second = new_case(rpc)
    rpc.cases.promote_alert(alert["id"], {"case_id": second["id"]}, DANA)
    third = rpc.cases.link_alert(new_case(rpc)["id"], {"alert_id": alert["id"]}, DANA)
    assert alert["id"] in third["alert_ids"]
    actions = [a for a in rpc.intake.get_alert(alert["id"])["actions"] if a["action"] == "promoted"]
    assert {a["detail"]["case_id"] for a in actions} == {first["id"], second["id"]}
    with pytest.raises(InvalidInput):
        rpc.cases.unlink_alert(second["id"], alert["id"], {}, DANA)
    unlinked = rpc.cases.unlink_alert(second["id"], alert["id"], {"reason": "wrong vehicle"}, DANA)
    assert unlinked["alert_ids"] == [] and rpc.cases.get_case(first["id"], DANA)["alert_ids"] == [alert["id"]]
    history = rpc.cases.timeline(second["id"], DANA)["items"]
    assert any(e.get("action") == "alert_unlinked" and e["detail"]["reason"] == "wrong vehicle" for e in history)


def test_C7_a_sensor_hit_alone_does_not_make_criminal_intelligence(rpc):
    hit_text = "Hotlist hit: vehicle associated with narcotics trafficking investigation HPD-2026-0042, see NCIC."
    alert = rpc.intake.create_alert(alpr(notes=hit_text * 2), DANA)["alert"]
    for narrative in (None, hit_text * 2):
        with pytest.raises(InvalidInput) as error:
            rpc.cases.promote_alert(alert["id"], ci_fields(unit="narcotics", reasonable_suspicion=narrative), DANA_CI)
        assert "reasonable_suspicion" in error.value.errors
    assert rpc.intake.get_alert(alert["id"])["status"] == "new"
    case = rpc.cases.promote_alert(alert["id"], ci_fields(unit="narcotics"), DANA_CI)
    assert case["review_state"] == "pending_review" and case["alert_ids"] == [alert["id"]]
    other = rpc.intake.create_alert(alpr(), DANA)["alert"]
    with pytest.raises(InvalidInput):
        rpc.cases.link_alert(case["id"], {"alert_id": other["id"]}, DANA_CI)


def test_entities_link_with_a_role_and_the_entities_service_records_it(rpc):
    _, entities = resolved_alert(rpc)
    case = new_case(rpc)
    linked = rpc.cases.link_entity(case["id"], {"entity_id": entities[0]["id"], "role": "vehicle_of_interest"}, DANA)
    assert linked["entities"][0]["role"] == "vehicle_of_interest" and linked["entity_ids"] == [entities[0]["id"]]
    sightings = rpc.entities.get_entity(entities[0]["id"])["sightings"]
    assert ("case", case["id"]) in [(s["record_type"], s["record_id"]) for s in sightings]
    with pytest.raises(InvalidInput):
        rpc.cases.link_entity(case["id"], {"entity_id": entities[0]["id"], "role": "nemesis"}, DANA)
    with pytest.raises(NotFound):
        rpc.cases.link_entity(case["id"], {"entity_id": "no-such-entity", "role": "suspect"}, DANA)


def test_related_names_cases_and_alerts_sharing_entities(rpc):
    plate = f"Q{uuid.uuid4().hex[:6].upper()}"
    first, entities = resolved_alert(rpc, plate=plate)
    second, _ = resolved_alert(rpc, plate=plate, camera="cam-8")  # another camera: not a near-duplicate read
    mine = rpc.cases.link_alert(new_case(rpc)["id"], {"alert_id": first["id"]}, DANA)
    theirs = rpc.cases.link_entity(new_case(rpc)["id"], {"entity_id": entities[0]["id"], "role": "suspect"}, DANA)
    related = rpc.cases.related(mine["id"], DANA)
    assert second["id"] in [a["id"] for a in related["alerts"]]
    by_id = {c["id"]: c for c in related["cases"]}
    assert by_id[theirs["id"]]["shared_entities"][0]["id"] == entities[0]["id"]


def test_related_and_timeline_leave_out_another_agencys_alert_on_the_same_plate(rpc):
    plate = f"Q{uuid.uuid4().hex[:6].upper()}"
    ours, entities = resolved_alert(rpc, plate=plate)
    louisiana = ctx("lou", agency="LA0000000")
    theirs = rpc.intake.create_alert(alpr(plate=plate, camera="cam-9"), louisiana)["alert"]
    keys = ("source", "source_system", "source_event_id", "occurred_at", "received_at", "location", "payload")
    keys += ("priority", "status", "record_class", "agency", "unit")
    resolve_one(rpc.entities, {"alert_id": theirs["id"], **{key: theirs[key] for key in keys}})
    case = rpc.cases.link_entity(new_case(rpc)["id"], {"entity_id": entities[0]["id"], "role": "suspect"}, DANA)

    related = [a["id"] for a in rpc.cases.related(case["id"], DANA)["alerts"]]
    assert ours["id"] in related and theirs["id"] not in related
    seen = {e.get("record_id") for e in rpc.cases.timeline(case["id"], DANA)["items"]}
    assert ours["id"] in seen and theirs["id"] not in seen


def test_merge_moves_links_and_contents_and_keeps_their_origin(rpc):
    target, other = new_case(rpc), new_case(rpc, title="Duplicate")
    alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    rpc.cases.link_alert(other["id"], {"alert_id": alert["id"]}, DANA)
    note = rpc.cases.add_item(other["id"], "notes", {"text": "same crew as the March burglaries"}, DANA)
    merged = rpc.cases.merge_cases(target["id"], {"other_id": other["id"], "reason": "same series"}, DANA)
    assert merged["alerts"][0]["origin_case_id"] == other["id"]
    assert merged["merged_from"][0]["case_id"] == other["id"] and merged["merged_from"][0]["reason"] == "same series"
    notes = rpc.cases.list_items(target["id"], "notes", DANA)["items"]
    assert notes[0]["id"] == note["id"] and notes[0]["origin_case_id"] == other["id"]
    closed = rpc.cases.get_case(other["id"], DANA)
    assert closed["status"] == "closed" and closed["merged_into"] == target["id"]
    with pytest.raises(Conflict):
        rpc.cases.merge_cases(target["id"], {"other_id": other["id"], "reason": "again"}, DANA)


def test_C3_C5_criminal_intelligence_never_merges_even_with_the_same_labels(rpc):
    first, second = (new_case(rpc, DANA_CI, **ci_fields()) for _ in range(2))
    plain_case = new_case(rpc)
    for target, other in ((first, second), (plain_case, first), (first, plain_case)):
        with pytest.raises(Conflict):
            rpc.cases.merge_cases(target["id"], {"other_id": other["id"], "reason": "same ring"}, DANA_CI)
    assert rpc.cases.get_case(second["id"], DANA_CI)["status"] == "open"


def test_a_merge_that_loses_a_race_moves_nothing(rpc, cases_db, monkeypatch):
    target, other = new_case(rpc), new_case(rpc, title="Duplicate")
    note = rpc.cases.add_item(other["id"], "notes", {"text": "same crew"}, DANA)
    update = CaseStore.update

    def raced(store, case_id, changes, now, expect=None):
        if case_id == target["id"] and expect:  # someone edits the target just before the merge writes it
            cases_db["cases"].update_one({"_id": case_id}, {"$inc": {"version": 1}})
        return update(store, case_id, changes, now, expect)

    monkeypatch.setattr(CaseStore, "update", raced)
    with pytest.raises(Conflict):
        rpc.cases.merge_cases(target["id"], {"other_id": other["id"], "reason": "same series"}, DANA)
    monkeypatch.setattr(CaseStore, "update", update)
    left = rpc.cases.get_case(other["id"], DANA)
    assert left["status"] == "open" and "merged_into" not in left
    assert not rpc.cases.get_case(target["id"], DANA).get("merged_from")
    assert [n["id"] for n in rpc.cases.list_items(other["id"], "notes", DANA)["items"]] == [note["id"]]
    assert rpc.cases.list_items(target["id"], "notes", DANA)["items"] == []


# -- contents -------------------------------------------------------------------------------------


def test_interviews_and_tasks_hold_who_when_by_whom_and_due(rpc):
    case = new_case(rpc)
    interview = rpc.cases.add_item(
        case["id"],
        "interviews",
        {"interviewee": "Maria Lopez", "at": "2026-03-19T10:00:00-05:00", "summary": "Saw a grey Altima."},
        DANA,
    )
    assert interview["interviewer"] == "dana" and interview["at"].startswith("2026-03-19T15:00")
    task = rpc.cases.add_item(
        case["id"], "tasks", {"title": "Pull pharmacy CCTV", "assignee": "bob", "due": "2026-03-25T17:00:00Z"}, DANA
    )
    assert task["assignee"] == "bob"
    with pytest.raises(InvalidInput) as error:
        rpc.cases.add_item(case["id"], "tasks", {"title": "No due date", "assignee": "bob"}, DANA)
    assert "due" in error.value.errors


def test_chain_of_custody_is_append_only_and_continuous(rpc, cases_db):
    case = new_case(rpc)
    first_link = {"from": "Det. Dana", "to": "Property room", "at": "2026-03-18T06:00:00Z"}
    first_link.update(reason="booked in", condition="sealed bag #4471")
    item = rpc.cases.add_evidence(
        case["id"],
        {
            "description": "Crowbar",
            "collected_at": "2026-03-18T04:00:00Z",
            "collected_by": "Det. Dana",
            "custody": [first_link],
        },
        DANA,
    )
    second = {"from": "Property room", "to": "Crime lab", "at": "2026-03-19T09:00:00Z", "reason": "latent prints"}
    moved = rpc.cases.add_custody(case["id"], item["id"], {**second, "condition": "seal intact"}, DANA)
    assert [(c["seq"], c["to"]) for c in moved["custody"]] == [(1, "Property room"), (2, "Crime lab")]
    with pytest.raises(Conflict):  # the item is at the lab, not the property room
        rpc.cases.add_custody(case["id"], item["id"], {**second, "condition": "seal intact"}, DANA)
    with pytest.raises(InvalidInput) as error:
        rpc.cases.add_custody(case["id"], item["id"], {"from": "Crime lab", "to": "Det. Dana"}, DANA)
    assert {"at", "reason", "condition"} <= set(error.value.errors)
    entrypoints = [name for name in dir(CasesService) if "custody" in name or "evidence" in name]
    assert sorted(entrypoints) == ["_custody", "_evidence_out", "add_custody", "add_evidence", "get_evidence"]
    assert cases_db["custody"].count_documents({"evidence_id": item["id"]}) == 2


def test_a_broken_first_chain_of_custody_stores_no_evidence_item(rpc, cases_db):
    case = new_case(rpc)
    booked = {"from": "Det. Dana", "to": "Property room", "at": "2026-03-18T06:00:00Z", "reason": "booked in"}
    jump = {"from": "Crime lab", "to": "Det. Ray", "at": "2026-03-19T06:00:00Z", "reason": "prints"}
    early = {"from": "Property room", "to": "Crime lab", "at": "2026-03-17T06:00:00Z", "reason": "prints"}
    body = {"description": "Crowbar", "collected_at": "2026-03-18T04:00:00Z", "collected_by": "Det. Dana"}
    for broken, field in ((jump, "custody.1.from"), (early, "custody.1.at")):
        chain = [{**booked, "condition": "sealed"}, {**broken, "condition": "sealed"}]
        with pytest.raises(InvalidInput) as error:
            rpc.cases.add_evidence(case["id"], {**body, "custody": chain}, DANA)
        assert field in error.value.errors
    assert rpc.cases.list_items(case["id"], "evidence", DANA)["items"] == []
    assert cases_db["items"].count_documents({"case_id": case["id"]}) == 0
    assert rpc.cases.get_case(case["id"], DANA)["version"] == case["version"]


def test_C23_an_export_whose_audit_event_cannot_be_stored_releases_and_logs_nothing(rpc, monkeypatch):
    case = new_case(rpc)
    record = AuditTrail.record

    def broker_down(trail, action, outcome, actor=None, **fields):
        if action == "case.disseminate":
            raise Unavailable("the audit log cannot record case.disseminate: broker down")
        return record(trail, action, outcome, actor, **fields)

    monkeypatch.setattr(AuditTrail, "record", broker_down)
    for fmt in ("json", "pdf"):
        with pytest.raises(Unavailable):
            rpc.cases.export_case(case["id"], {"format": fmt, "need_to_know": "charging decision"}, DANA)
    with pytest.raises(Unavailable):
        share = {"recipient": "Sgt. Kim", "agency": "TX2270000", "purpose": "joint op", "need_to_know": "overlap"}
        rpc.cases.disseminate(case["id"], share, DANA)
    monkeypatch.setattr(AuditTrail, "record", record)
    assert rpc.cases.list_disseminations(case["id"], DANA)["items"] == []
    actions = [e.get("action") for e in rpc.cases.timeline(case["id"], DANA)["items"]]
    assert "disseminated" not in actions


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 64


def test_attachments_are_sniffed_hashed_and_a_corrupted_file_is_detected_and_audited(rpc, cases_db, audit_db):
    case = new_case(rpc)
    data = PNG + uuid.uuid4().bytes
    stored = rpc.cases.upload_attachment(
        case["id"], "scene.pdf", base64.b64encode(data).decode(), "application/pdf", DANA
    )
    assert stored["content_type"] == "image/png" and stored["declared_content_type"] == "application/pdf"
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    fetched = rpc.cases.get_attachment(case["id"], stored["id"], DANA)
    assert base64.b64decode(fetched["data"]) == data
    chunk = cases_db["attachments.chunks"].find_one({"files_id": stored["id"]})
    cases_db["attachments.chunks"].update_one({"_id": chunk["_id"]}, {"$set": {"data": b"X" + chunk["data"][1:]}})
    with pytest.raises(CorruptedFile):
        rpc.cases.get_attachment(case["id"], stored["id"], DANA)
    failure = eventually(lambda: audit_db["events"].find_one({"record_ids": stored["id"], "outcome": "failed"}))
    assert failure["action"] == "case.attachment.integrity"


@pytest.mark.parametrize(
    "data,reason",
    [(b"MZ\x90\x00" + b"\x00" * 200, "not accepted"), (b"", "empty"), (b"a" * (6 * 1024 * 1024 + 1), "at most")],
)
def test_attachments_refuse_unaccepted_types_empty_and_oversized_files(rpc, data, reason):
    case = new_case(rpc)
    with pytest.raises(InvalidInput) as error:
        rpc.cases.upload_attachment(case["id"], "x.bin", base64.b64encode(data).decode(), "image/png", DANA)
    assert reason in error.value.errors["file"][0]


def test_timeline_holds_actions_links_contents_and_sightings_in_order(rpc):
    alert, entities = resolved_alert(rpc)
    case = new_case(rpc)
    rpc.cases.link_alert(case["id"], {"alert_id": alert["id"]}, DANA)
    rpc.cases.link_entity(case["id"], {"entity_id": entities[0]["id"], "role": "vehicle_of_interest"}, DANA)
    rpc.cases.add_item(case["id"], "notes", {"text": "checked the camera"}, DANA)
    items = rpc.cases.timeline(case["id"], DANA)["items"]
    kinds = {entry["kind"] for entry in items}
    assert {"action", "notes", "sighting"} <= kinds
    assert [e["at"] for e in items] == sorted(e["at"] for e in items)
    assert items[0]["kind"] == "sighting" and items[0]["record_id"] == alert["id"]  # March 5, before the case


# -- dissemination, export, notifications ------------------------------------------------------


def test_C10_dissemination_and_export_are_logged_audited_and_the_pdf_reads(rpc, audit_db):
    case = new_case(rpc, DANA_CI, **ci_fields())
    rpc.cases.review_case(case["id"], {"decision": "approve", "justification": "predicate checked"}, SUPERVISOR)
    data = PNG + uuid.uuid4().bytes
    attachment = rpc.cases.upload_attachment(case["id"], "photo.png", base64.b64encode(data).decode(), None, DANA_CI)
    share = {"recipient": "Sgt. Kim", "agency": "TX2270000", "purpose": "joint operation", "need_to_know": "overlap"}
    entry = rpc.cases.disseminate(case["id"], share, DANA_CI)
    assert (entry["recipient"], entry["agency"], entry["record_ids"]) == ("Sgt. Kim", "TX2270000", [case["id"]])
    bundle = rpc.cases.export_case(case["id"], {"format": "json", "need_to_know": "charging decision"}, DANA_CI)[
        "bundle"
    ]
    assert bundle["attachments"][0]["sha256"] == hashlib.sha256(data).hexdigest() == attachment["sha256"]
    exported = rpc.cases.export_case(
        case["id"],
        {"format": "pdf", "recipient": "ADA Patel", "agency": "Harris County DA", "need_to_know": "charging"},
        DANA_CI,
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(base64.b64decode(exported["data"]))).pages)
    for expected in (
        "Elm St fentanyl distribution",
        "narcotics_trafficking",
        "Lt. Vega",
        attachment["sha256"],
        "ADA Patel",
    ):
        assert expected in text.replace("\n", " ") or expected in text.replace("\n", "")
    log = rpc.cases.list_disseminations(case["id"], DANA_CI)["items"]
    assert [(d["kind"], d["recipient"]) for d in log] == [
        ("share", "Sgt. Kim"),
        ("export", "dana"),
        ("export", "ADA Patel"),
    ]

    def audited():
        events = audit_db["events"].find({"record_ids": case["id"], "action": "case.disseminate"})
        ids = {event["details"]["dissemination_id"] for event in events}
        return ids if exported["dissemination_id"] in ids else None

    assert eventually(audited)


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint on 127.0.0.1 that fails its first request."""

    received: list = []
    signatures: list = []
    fail_first = True

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if Receiver.fail_first:
            Receiver.fail_first = False
            self.send_response(500)
        else:
            Receiver.received.append((self.headers["X-Casewire-Event"], json.loads(raw)))
            Receiver.signatures.append((dict(self.headers), raw))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhooks_deliver_assignments_with_retries(rpc):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        unit = f"unit-{uuid.uuid4().hex[:6]}"
        boss = ctx("sam", ("supervisor",), unit=unit)
        url = f"http://127.0.0.1:{server.server_port}/hook"
        with pytest.raises(Forbidden):
            rpc.cases.create_webhook({"url": url, "events": ["case_assigned"], "unit": "other"}, boss)
        hook = rpc.cases.create_webhook({"url": url, "events": ["case_assigned"]}, boss)
        assert hook["unit"] == unit and hook["secret"].startswith("whsec_")  # made, and shown this once
        assert "secret" not in next(h for h in rpc.cases.list_webhooks(boss)["items"] if h["id"] == hook["id"])
        case = rpc.cases.create_case({"title": "Assigned", "unit": unit}, boss)
        rpc.cases.update_case(case["id"], {"assignee": "bob"}, boss)
        got = eventually(lambda: [b for e, b in Receiver.received if e == "case_assigned"])
        assert got[0]["type"] == "case_assigned" and got[0]["data"]["case_id"] == case["id"]
        assert got[0]["data"]["assignee"] == "bob" and "title" not in got[0]["data"]  # C10: ids, never content
        headers, raw = Receiver.signatures[0]
        assert Webhook(hook["secret"]).verify(raw, headers) == got[0]  # Standard Webhooks: id, timestamp, signature
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(raw, headers)
        deliveries = rpc.cases.webhook_deliveries(hook["id"])
        assert deliveries[0]["state"] == "delivered" and deliveries[0]["attempts"] == 2
    finally:
        server.shutdown()


def test_a_chat_webhook_gets_one_line_of_text_signed_with_the_subscribers_own_secret(rpc):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.fail_first, Receiver.received, Receiver.signatures = False, [], []
    try:
        unit = f"unit-{uuid.uuid4().hex[:6]}"
        boss, secret = ctx("sam", ("supervisor",), unit=unit), new_secret()
        url = f"http://127.0.0.1:{server.server_port}/chat"
        subscription = {"url": url, "events": ["case_assigned"], "format": "chat", "secret": secret}
        assert rpc.cases.create_webhook(subscription, boss)["secret"] == secret
        case = rpc.cases.create_case({"title": "Pharmacy break-in", "unit": unit}, boss)
        rpc.cases.update_case(case["id"], {"assignee": "bob"}, boss)
        [(_, body)] = eventually(lambda: Receiver.received)
        assert body == {"text": f"Casewire: Case {case['id']} assigned to bob by sam"}  # no title (C10)
        headers, raw = Receiver.signatures[0]
        assert Webhook(secret).verify(raw, headers) == body
    finally:
        server.shutdown()


@pytest.mark.parametrize("secret", ["a-shared-secret-of-the-agency", "whsec_c2hvcnQ=", "whsec_not base64!"])
def test_a_subscribers_secret_must_be_a_standard_webhooks_secret(rpc, secret):
    boss = ctx("sam", ("supervisor",), unit=f"unit-{uuid.uuid4().hex[:6]}")
    with pytest.raises(InvalidInput) as refused:
        rpc.cases.create_webhook({"url": "http://127.0.0.1:9/hook", "events": ["case_updated"], "secret": secret}, boss)
    assert "whsec_" in refused.value.errors["secret"][0]


def test_webhooks_only_go_to_allowed_hosts_and_only_supervisors_subscribe_or_unsubscribe(rpc, audit_db):
    unit = f"unit-{uuid.uuid4().hex[:6]}"
    boss, admin = ctx("sam", ("supervisor",), unit=unit), ctx("root", ("admin",), unit=unit)
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["case_updated"]}
    with pytest.raises(Forbidden):  # C12: admins read no cases, so they route none
        rpc.cases.create_webhook(hook, admin)
    for url in ("http://169.254.169.254/latest/meta-data", "http://localhost:9/hook", "https://chat.example.org/h"):
        with pytest.raises(InvalidInput) as error:
            rpc.cases.create_webhook({**hook, "url": url}, boss)
        assert "WEBHOOK_ALLOWED_HOSTS" in error.value.errors["url"][0]
    created = rpc.cases.create_webhook(hook, boss)
    rpc.cases.create_case({"title": "Queued", "unit": unit}, boss)  # a delivery to the dead port stays pending
    eventually(lambda: rpc.cases.webhook_deliveries(created["id"]))
    other_unit = ctx("sue", ("supervisor",), unit="vice")
    with pytest.raises(Forbidden):
        rpc.cases.delete_webhook(created["id"], other_unit)
    with pytest.raises(NotFound):
        rpc.cases.delete_webhook(created["id"], ctx("sam", ("supervisor",), unit=unit, agency="NY0000000"))
    rpc.cases.delete_webhook(created["id"], boss)
    assert created["id"] not in [h["id"] for h in rpc.cases.list_webhooks(boss)["items"]]
    assert {d["state"] for d in rpc.cases.webhook_deliveries(created["id"])} == {"cancelled"}

    def audited():
        found = audit_db["events"].find({"record_ids": created["id"]})
        return {(e["action"], e["outcome"]) for e in found} >= {
            ("webhook.subscribe", "allowed"),
            ("webhook.unsubscribe", "denied"),
            ("webhook.unsubscribe", "allowed"),
        }

    assert eventually(audited)


class Listener:
    """Records what the cases service announces."""

    name = "case_event_listener"
    received: list = []

    @event_handler("cases", "case_updated")
    def handle_case_updated(self, payload):
        Listener.received.append(("case_updated", payload))

    @event_handler("cases", "case_assigned")
    def handle_case_assigned(self, payload):
        Listener.received.append(("case_assigned", payload))


def test_every_change_announces_case_updated_with_a_growing_version(rpc, container_factory, config_for):
    container_factory(Listener, config_for("listener")).start()
    case = new_case(rpc)
    rpc.cases.update_case(case["id"], {"status": "active"}, DANA)
    rpc.cases.add_item(case["id"], "notes", {"text": "first canvass done"}, DANA)
    rpc.cases.add_item(case["id"], "tasks", {"title": "CCTV", "assignee": "bob", "due": "2026-04-01T00:00:00Z"}, DANA)

    def mine():
        updates = [p for kind, p in Listener.received if kind == "case_updated" and p["case_id"] == case["id"]]
        return updates if len(updates) == 4 else None

    updates = eventually(mine)
    assert sorted(p["version"] for p in updates) == [1, 2, 3, 4]
    assert {p["change"] for p in updates} == {"created", "status_changed", "note_added", "task_added"}
    assigned = eventually(
        lambda: [p for k, p in Listener.received if k == "case_assigned" and p["case_id"] == case["id"]]
    )
    assert [(p["assignee"], p["version"]) for p in assigned] == [("bob", 4)]


def test_linking_an_alert_announces_case_updated_with_the_change_and_the_assignees(rpc, container_factory, config_for):
    container_factory(Listener, config_for("listener")).start()
    case = new_case(rpc, assignee="bob")
    alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    linked = rpc.cases.link_alert(case["id"], {"alert_id": alert["id"]}, DANA)

    def link_event():
        updates = [p for kind, p in Listener.received if kind == "case_updated" and p["case_id"] == case["id"]]
        return [p for p in updates if p["change"] == "alert_linked"]

    [event] = eventually(link_event)
    assert (event["version"], event["alert_ids"], event["assignees"]) == (linked["version"], [alert["id"]], ["bob"])


def test_C1_the_classification_of_a_case_cannot_be_changed_by_an_edit(rpc):
    case = new_case(rpc)
    with pytest.raises(InvalidInput) as error:
        rpc.cases.update_case(case["id"], {"classification": "criminal_intelligence"}, DANA)
    assert "classification" in error.value.errors
    assert rpc.cases.get_case(case["id"], DANA)["record_class"] == "investigative"
