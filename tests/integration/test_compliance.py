"""28 CFR Part 23 in the cases service over the real servers: review queue and automatic purge (C15),
purges that leave only a tombstone (C16), the purge authority and legal holds (C17), notifications of
control officials (C6) and dissemination recipients (C11), and the compliance report (C13, C27).

Time-driven rules move an injected clock; nothing waits for a timer."""

import base64
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook, replace_dependencies
from pypdf import PdfReader

from casewire import events
from casewire.audit import AuditTrail
from casewire.contracts.cases import IDENTIFYING_NOTICE
from casewire.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.audit.service import AuditService
from services.cases.service import CasesService
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from tests.integration.test_cases import AGENCY, PNG, PURPOSE, alpr, ci_fields, ctx, eventually

DANA = ctx(**PURPOSE)
SAM = ctx("sam", ("supervisor",), **PURPOSE)
PAT = ctx("pat", ("purge_authority",), unit="records", **PURPOSE)
AUDRA = ctx("audra", ("auditor",), unit=None)


class MovableClock:
    def __init__(self):
        self.at = None

    def __call__(self):
        return self.at or datetime.now(UTC)


class Heard:
    """Records what the cases service announces about purges and notifications."""

    name = "compliance_listener"
    received: list = []

    @event_handler("cases", events.RECORD_PURGED)
    def purged(self, payload):
        Heard.received.append((events.RECORD_PURGED, payload))

    @event_handler("cases", events.DISSEMINATION_RECIPIENT_NOTIFIED)
    def recipient(self, payload):
        Heard.received.append((events.DISSEMINATION_RECIPIENT_NOTIFIED, payload))

    @event_handler("cases", events.CONTROL_OFFICIAL_NOTIFIED)
    def official(self, payload):
        Heard.received.append((events.CONTROL_OFFICIAL_NOTIFIED, payload))


def heard(kind, **match):
    return [p for k, p in Heard.received if k == kind and all(p.get(key) == value for key, value in match.items())]


@pytest.fixture
def clock():
    return MovableClock()


@pytest.fixture
def cases_config(config_for):
    return {**config_for("cases"), "MONGODB_DATABASE": config_for("compliance_cases")["MONGODB_DATABASE"]}


@pytest.fixture(autouse=True)
def services(container_factory, config_for, cases_config, clock):
    cases = container_factory(CasesService, cases_config)
    replace_dependencies(cases, now=clock)
    cases.start()
    for service_cls in (IntakeService, EntitiesService, AuditService):
        container_factory(service_cls, config_for(service_cls.name)).start()
    container_factory(Heard, config_for("listener")).start()
    return cases


@pytest.fixture
def rpc(base_config):
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def db(mongo, cases_config):
    return mongo[cases_config["MONGODB_DATABASE"]]


@pytest.fixture
def audit_db(mongo, config_for):
    return mongo[config_for("audit")["MONGODB_DATABASE"]]


def approved(rpc, **fields):
    case = rpc.cases.create_case({"unit": "narcotics", **ci_fields(**fields)}, DANA)
    return rpc.cases.review_case(case["id"], {"decision": "approve", "justification": "predicate checked"}, SAM)


def due_in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def purge_timer(services):
    with entrypoint_hook(services, "purge_due_records") as run:
        return run()


# -- C15 --------------------------------------------------------------------------------------------


def test_C15_records_enter_the_review_queue_90_days_ahead_and_are_purged_at_review_due(rpc, services, clock):
    soon, later = approved(rpc, review_due=due_in(30)), approved(rpc, review_due=due_in(200))
    validated = approved(rpc, review_due=due_in(31))
    queue = rpc.cases.review_queue({"limit": 500}, SAM)["items"]
    ids = [entry["case_id"] for entry in queue]
    assert soon["id"] in ids and validated["id"] in ids and later["id"] not in ids
    assert next(e for e in queue if e["case_id"] == soon["id"])["days_left"] in (29, 30)
    with pytest.raises(Forbidden):
        rpc.cases.review_queue({}, DANA)
    rpc.cases.review_case(validated["id"], {"decision": "validate", "justification": "new buy observed"}, SAM)

    clock.at = datetime.now(UTC) + timedelta(days=32)
    purged = purge_timer(services)
    assert soon["id"] in purged and validated["id"] not in purged and later["id"] not in purged
    with pytest.raises(NotFound):
        rpc.cases.get_case(soon["id"], DANA)
    assert rpc.cases.get_case(later["id"], DANA)["id"] == later["id"]
    assert rpc.cases.get_case(validated["id"], DANA)["id"] == validated["id"]
    assert soon["id"] not in [e["case_id"] for e in rpc.cases.review_queue({"limit": 500}, SAM)["items"]]


def test_C17_records_under_legal_hold_are_skipped_by_the_automatic_purge(rpc, services, clock):
    held = approved(rpc, review_due=due_in(10))
    alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    rpc.cases.link_alert(
        held["id"],
        {
            "alert_id": alert["id"],
            "reasonable_suspicion": ci_fields()["reasonable_suspicion"] + " Plate seen at the garage.",
        },
        DANA,
    )
    hold = rpc.cases.place_hold(held["id"], {"reference": "2026-CV-118", "reason": "civil suit discovery"}, SAM)
    assert rpc.intake.get_alert(alert["id"])["legal_hold"] == [held["id"]]
    clock.at = datetime.now(UTC) + timedelta(days=11)
    assert held["id"] not in purge_timer(services)
    assert rpc.cases.get_case(held["id"], DANA)["legal_holds"][0]["reference"] == "2026-CV-118"
    with pytest.raises(Conflict):
        rpc.cases.purge_case(held["id"], {"reason": "no longer needed by anyone"}, PAT)
    rpc.cases.release_hold(held["id"], hold["id"], {"reason": "suit settled"}, PAT)
    assert rpc.intake.get_alert(alert["id"])["legal_hold"] is None
    assert [h["release_reason"] for h in rpc.cases.list_holds(held["id"], SAM)["items"]] == ["suit settled"]
    assert held["id"] in purge_timer(services)


def test_C17_no_unit_member_can_force_a_purge_by_moving_the_review_date(rpc, services, clock, db, audit_db):
    """An analyst moving ``review_due`` to 2001 is refused (403, audited); a supervisor moving it earlier,
    with a reason, brings the review forward, and the timer still waits for the date set at approval.
    The tombstone of the purge keeps who moved the date (C16: without the reason's text)."""
    case = approved(rpc, review_due=due_in(200))
    analyst = ctx("ann", ("analyst",), **PURPOSE)
    for who in (analyst, SAM):
        with pytest.raises(InvalidInput):
            rpc.cases.update_case(case["id"], {"review_due": "2001-01-01T00:00:00+00:00", "reason": "purge it"}, who)
    with pytest.raises(Forbidden):
        rpc.cases.update_case(case["id"], {"review_due": due_in(5), "reason": "purge it soon"}, analyst)
    why = "the informant was found unreliable, review it now"
    moved = rpc.cases.update_case(case["id"], {"review_due": due_in(5), "reason": why}, SAM)
    assert moved["review_due"] < case["review_due"]
    clock.at = datetime.now(UTC) + timedelta(days=6)
    assert case["id"] not in purge_timer(services)
    assert rpc.cases.get_case(case["id"], DANA)["id"] == case["id"]
    clock.at = datetime.now(UTC) + timedelta(days=201)
    assert case["id"] in purge_timer(services)
    stone = db["tombstones"].find_one({"_id": case["id"]})
    assert [(step["action"], step["actor"]) for step in stone["review_trail"]] == [
        ("created", "dana"),
        ("review.approve", "sam"),
        ("reschedule", "sam"),
    ]
    assert why not in str(stone)
    refused = eventually(
        lambda: audit_db["events"].find_one({"record_ids": case["id"], "outcome": "denied", "actor.id": "ann"})
    )
    assert refused["action"] == "case.update"
    moved_event = eventually(
        lambda: audit_db["events"].find_one({"record_ids": case["id"], "action": "case.reschedule"})
    )
    assert (moved_event["actor"]["id"], moved_event["details"]["reason"]) == ("sam", why)


def test_C17_a_legal_hold_is_placed_and_released_only_with_authority_over_the_record(rpc):
    """The purge authority of the record's agency, or a supervisor of its owning unit, places a hold; it
    is released by the purge authority of the agency that placed it or a supervisor of the placing unit:
    never by an assignee of another unit or by another agency."""
    case = rpc.cases.create_case({"title": "Held burglary", "unit": "narcotics"}, DANA)
    outside = ctx("otto", ("supervisor",), unit="homicide", **PURPOSE)
    rpc.cases.update_case(case["id"], {"assignee": "otto"}, DANA)
    other_agency = ctx("lou", ("purge_authority",), unit="records", agency="LA0000000", **PURPOSE)
    body = {"reference": "2026-CV-7", "reason": "civil suit discovery"}
    for who in (outside, other_agency):
        with pytest.raises(Forbidden):
            rpc.cases.place_hold(case["id"], body, who)
    hold = rpc.cases.place_hold(case["id"], body, SAM)
    for who in (outside, other_agency, ctx("dora", ("supervisor",), unit="robbery", **PURPOSE)):
        with pytest.raises(Forbidden):
            rpc.cases.release_hold(case["id"], hold["id"], {"reason": "not mine to release"}, who)
    assert rpc.cases.get_case(case["id"], DANA)["legal_holds"][0]["id"] == hold["id"]
    released = rpc.cases.release_hold(case["id"], hold["id"], {"reason": "suit settled"}, PAT)
    assert released["released_by"] == "pat"


def test_C17_the_purge_authority_cannot_purge_an_open_investigative_case_with_evidence(rpc):
    case = rpc.cases.create_case({"title": "Armed robbery, Main St", "unit": "narcotics"}, DANA)
    evidence = {"description": "Crowbar", "collected_at": "2026-03-18T04:00:00Z", "collected_by": "Det. Dana"}
    rpc.cases.add_evidence(case["id"], evidence, DANA)
    with pytest.raises(Conflict):
        rpc.cases.purge_case(case["id"], {"reason": "make the robbery go away"}, PAT)
    rpc.cases.update_case(case["id"], {"status": "closed"}, DANA)
    with pytest.raises(Conflict):  # its evidence and chain of custody outlive it being closed
        rpc.cases.purge_case(case["id"], {"reason": "make the robbery go away"}, PAT)
    assert rpc.cases.get_case(case["id"], DANA)["id"] == case["id"]


# -- C16, C17 ---------------------------------------------------------------------------------------


def test_C16_C17_a_purge_by_the_authority_removes_everything_and_leaves_a_content_free_tombstone(rpc, db, audit_db):
    """Everything is made through the service but a pending webhook delivery, written as a subscriber
    that is down leaves one (no subscriber runs here). The purge through the API, seen as 404, no
    search hit and the tombstone, is tests/e2e/test_compliance.py's C16/C17 test."""
    case = approved(rpc, title=f"Purge me {uuid.uuid4().hex[:6]}")
    case_id = case["id"]
    rpc.cases.add_item(case_id, "notes", {"text": "garage door code 4471"}, DANA)
    custody = {"from": "Det. Dana", "to": "Property", "at": "2026-03-18T06:00:00Z", "reason": "r", "condition": "c"}
    rpc.cases.add_evidence(
        case_id,
        {"description": "Scale", "collected_at": "2026-03-18T04:00:00Z", "collected_by": "Dana", "custody": [custody]},
        DANA,
    )
    attachment = rpc.cases.upload_attachment(
        case_id, "p.png", base64.b64encode(PNG + uuid.uuid4().bytes).decode(), None, DANA
    )
    rpc.cases.disseminate(
        case_id,
        {"recipient": "Sgt. Kim", "agency": "TX2270000", "purpose": "joint op", "need_to_know": "overlap"},
        DANA,
    )
    db["deliveries"].insert_one(
        {"_id": uuid.uuid4().hex, "event": "case_updated", "state": "pending", "data": {"case_id": case_id}}
    )

    for who in (DANA, SAM):
        with pytest.raises(Forbidden):
            rpc.cases.purge_case(case_id, {"reason": "not the purge authority"}, who)
        with pytest.raises(Forbidden):
            rpc.cases.review_case(case_id, {"decision": "purge", "justification": "not the purge authority"}, who)
    stone = rpc.cases.review_case(
        case_id, {"decision": "purge", "justification": "subject deceased, no longer relevant"}, PAT
    )
    assert (stone["record_id"], stone["actor"], stone["reason"]) == (
        case_id,
        "pat",
        "subject deceased, no longer relevant",
    )
    assert len(stone["content_hash"]) == 64 and "title" not in stone

    with pytest.raises(NotFound):
        rpc.cases.get_case(case_id, DANA)
    assert db["cases"].count_documents({"_id": case_id}) == 0
    for collection, query in (
        ("items", {"case_id": case_id}),
        ("history", {"case_id": case_id}),
        ("disseminations", {"record_ids": case_id}),
        ("attachments.files", {"_id": attachment["id"]}),
        ("attachments.chunks", {"files_id": attachment["id"]}),
        ("deliveries", {"data.case_id": case_id, "event": "case_updated"}),
    ):
        assert db[collection].count_documents(query) == 0, collection
    assert db["custody"].count_documents({"to": "Property", "reason": "r"}) == 0
    assert eventually(lambda: heard(events.RECORD_PURGED, record_id=case_id))
    tomb = eventually(lambda: audit_db["events"].find_one({"action": "case.purge", "record_ids": case_id}))
    assert tomb["details"]["content_hash"] == stone["content_hash"] and tomb["actor"]["id"] == "pat"
    assert "Purge me" not in str(tomb) and "garage door code" not in str(tomb)  # hex hashes may hold any digits
    notice = eventually(lambda: heard(events.DISSEMINATION_RECIPIENT_NOTIFIED, case_id=case_id))  # C11
    assert (notice[0]["recipient"], notice[0]["change"]) == ("Sgt. Kim", "purged")
    with pytest.raises(NotFound):
        rpc.cases.purge_case(case_id, {"reason": "a second time, by mistake"}, PAT)


def test_C11_a_correction_of_a_disseminated_record_notifies_each_recipient(rpc):
    case = approved(rpc)
    for recipient in ("Sgt. Kim", "ADA Patel"):
        share = {"recipient": recipient, "agency": "TX2270000", "purpose": "joint op", "need_to_know": "overlap"}
        rpc.cases.disseminate(case["id"], share, DANA)
    rpc.cases.update_case(case["id"], {"status": "active"}, DANA)  # not a correction
    rpc.cases.update_case(case["id"], {"content_validity": "1"}, DANA)
    notices = eventually(lambda: len(heard(events.DISSEMINATION_RECIPIENT_NOTIFIED, case_id=case["id"])) == 2)
    assert notices
    got = heard(events.DISSEMINATION_RECIPIENT_NOTIFIED, case_id=case["id"])
    assert {(n["recipient"], n["change"], tuple(n["fields_changed"])) for n in got} == {
        ("Sgt. Kim", "corrected", ("content_validity",)),
        ("ADA Patel", "corrected", ("content_validity",)),
    }


def test_C11_additions_that_change_the_case_file_notify_its_recipients_and_tasks_do_not(rpc):
    case = approved(rpc)
    share = {"recipient": "Det. Ruiz", "agency": "TX2270000", "purpose": "joint op", "need_to_know": "overlap"}
    rpc.cases.disseminate(case["id"], share, DANA)
    rpc.cases.add_item(case["id"], "tasks", {"title": "Canvass", "assignee": "bob", "due": due_in(3)}, DANA)
    rpc.cases.add_item(case["id"], "notes", {"text": "Roe was not the driver after all"}, DANA)
    rpc.cases.upload_attachment(case["id"], "still.png", base64.b64encode(PNG).decode(), "image/png", DANA)
    eventually(lambda: len(heard(events.DISSEMINATION_RECIPIENT_NOTIFIED, case_id=case["id"])) == 2)
    got = heard(events.DISSEMINATION_RECIPIENT_NOTIFIED, case_id=case["id"])
    assert sorted((n["recipient"], n["change"], tuple(n["fields_changed"])) for n in got) == [
        ("Det. Ruiz", "corrected", ("attachments",)),
        ("Det. Ruiz", "corrected", ("notes",)),
    ]


# -- C6 ---------------------------------------------------------------------------------------------


def test_C6_cases_notifies_the_control_official_of_an_announced_restricted_hit(rpc, base_config):
    """The cases service's part alone, fed ``restricted_hit`` as search announces it; the whole chain
    through the API is tests/e2e/test_compliance.py's C6 test."""
    case = approved(rpc, sensitivity="restricted", control_official="vega")
    hit = {
        "case_id": case["id"],
        "control_official": "vega",
        "unit": "narcotics",
        "agency": AGENCY,
        "searcher": "olga",
        "searcher_agency": AGENCY,
        "searcher_unit": "homicide",
        "terms": "John Roe",
        "purpose": "homicide follow-up",
        "case_number": "HPD-1",
        "at": datetime.now(UTC).isoformat(),
    }
    event_dispatcher(base_config)("search", events.RESTRICTED_HIT, events.RestrictedHit().dump(hit))
    told = eventually(lambda: heard(events.CONTROL_OFFICIAL_NOTIFIED, case_id=case["id"]))
    assert (told[0]["control_official"], told[0]["searcher"], told[0]["terms"]) == ("vega", "olga", "John Roe")
    mine = rpc.cases.list_notifications({}, ctx("vega", ("supervisor",)))["items"]
    assert [(n["case_id"], n["detail"]["searcher"]) for n in mine if n["case_id"] == case["id"]] == [
        (case["id"], "olga")
    ]
    assert not rpc.cases.list_notifications({}, ctx("olga", ("detective",), unit="homicide"))["items"]


# -- C13, C27 ---------------------------------------------------------------------------------------


def test_C13_C27_the_compliance_report_finds_each_seeded_violation(rpc, db, base_config, services):
    """The report's own logic. Its exception rows hold records the service refuses to store (C2, C13),
    such as a legacy import or a hole would leave, so those are written straight into the database;
    its reads without a purpose are audit events published by hand (a "rogue" trail), since the
    gateway and the cases service refuse such reads (C9) before they happen. What the report lists of
    real work through the API is tests/e2e/test_compliance.py's C27 test."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    good = approved(rpc)
    restricted = approved(rpc, sensitivity="restricted")
    share = {"recipient": "Sgt. Kim", "agency": "TX2270000", "purpose": "joint op", "need_to_know": "overlap"}
    rpc.cases.disseminate(restricted["id"], share, DANA)
    now = datetime.now(UTC)
    stored = db["cases"].find_one({"_id": good["id"]})
    no_predicate = {**stored, "_id": uuid.uuid4().hex, "reasonable_suspicion": "", "sensitivity": None}
    too_late = {**stored, "_id": uuid.uuid4().hex, "review_due": now + timedelta(days=6 * 365)}
    overdue = {**stored, "_id": uuid.uuid4().hex, "review_due": now - timedelta(days=3)}
    db["cases"].insert_many([no_predicate, too_late, overdue])  # straight into the database, bypassing the API
    gone = approved(rpc)
    rpc.cases.purge_case(gone["id"], {"reason": "expunged by court order"}, PAT)
    rogue, rogue_file, rogue_search = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    mallory = {"id": "mallory", "agency": AGENCY, "roles": ["analyst"]}
    trail = AuditTrail(base_config["AMQP_URI"], "rogue")
    trail.record("case.read", "allowed", actor=mallory, record_type="case", record_ids=[good["id"]], request_id=rogue)
    trail.record(  # C27: a file of the case, read without a purpose
        "case.attachment.read",
        "allowed",
        actor=mallory,
        record_type="attachment",
        record_ids=["f-1"],
        request_id=rogue_file,
        details={"method": "GET", "path": f"/api/v1/cases/{restricted['id']}/attachments/f-1"},
    )
    trail.record(  # C27: a search answer that showed intelligence without a purpose
        "search.hits", "allowed", actor=mallory, record_type="case", record_ids=[good["id"]], request_id=rogue_search
    )

    def report():
        found = rpc.cases.compliance_report({"since": start.isoformat(), "sample": 3}, AUDRA)
        return found if len(found["reads_without_purpose"]) >= 3 else None

    found = eventually(report, timeout=30)
    assert found["ok"] is False
    missing = {row["case_id"]: row["missing"] for row in found["intelligence_without_predicate_or_labels"]}
    assert missing[no_predicate["_id"]] == ["reasonable_suspicion", "sensitivity"] and good["id"] not in missing
    assert [r["case_id"] for r in found["review_due_beyond_five_years"]] == [too_late["_id"]]
    assert overdue["_id"] in [r["case_id"] for r in found["reviews_overdue"]]
    assert gone["id"] in [p["record_id"] for p in found["purges"]]
    assert restricted["id"] in [d["record_ids"][0] for d in found["disseminations"]]
    assert [d["record_ids"] for d in found["restricted_disseminated"]] == [[restricted["id"]]]
    assert [(r["request_id"], r["actor"], r["case_ids"]) for r in found["reads_without_purpose"]] == [
        (rogue, "mallory", [good["id"]]),
        (rogue_file, "mallory", [restricted["id"]]),
        (rogue_search, "mallory", [good["id"]]),
    ]
    assert len(found["sample"]) == 3
    sampled = found["sample"][0]
    assert {"narrative", "source", "labels", "review", "dissemination_log"} <= set(sampled)
    with pytest.raises(Forbidden):
        rpc.cases.compliance_report({}, ctx("adam", ("admin",)))


def test_C27_an_auditors_report_covers_its_agency_unless_its_token_oversees_more(rpc):
    """Issue 16: a Texas auditor's report and sample hold nothing of California, not even the narrative
    of California's restricted intelligence pending review; an explicit oversight claim widens it."""
    californian = ctx("carl", ("detective",), agency="CA0000000", **PURPOSE)
    theirs = rpc.cases.create_case({"unit": "narcotics", **ci_fields(sensitivity="restricted")}, californian)
    share = {"recipient": "Sgt. Kim", "agency": "CA9990000", "purpose": "joint op", "need_to_know": "overlap"}
    rpc.cases.disseminate(theirs["id"], share, californian)
    ours = approved(rpc)

    def mentions(report, case_id):
        return case_id in str({key: value for key, value in report.items() if key != "generated_by"})

    texan = rpc.cases.compliance_report({"sample": 200}, AUDRA)
    assert mentions(texan, ours["id"]) and not mentions(texan, theirs["id"])
    assert ci_fields()["reasonable_suspicion"] in str(texan["sample"])
    assert all(row["submitted"]["agency"] == AGENCY for row in texan["sample"])
    overseer = {**AUDRA, "oversight": ["CA0000000"]}
    wider = rpc.cases.compliance_report({"sample": 200}, overseer)
    assert mentions(wider, ours["id"]) and mentions(wider, theirs["id"])
    assert theirs["id"] in [row["case_id"] for row in wider["sample"]]
    everywhere = rpc.cases.compliance_report({"sample": 200}, {**AUDRA, "oversight": ["*"]})
    assert theirs["id"] in [d["record_ids"][0] for d in everywhere["disseminations"]]


# -- C8 ---------------------------------------------------------------------------------------------


def identifying(rpc, parent_id, **extra):
    body = {"title": "Roe's phone and address", "classification": "identifying", "unit": "narcotics"}
    return rpc.cases.create_case({**body, "attached_to": parent_id, "attached_subject": "John Roe", **extra}, DANA)


def test_C8_identifying_information_attaches_only_to_approved_intelligence_and_says_so(rpc):
    pending = rpc.cases.create_case({"unit": "narcotics", **ci_fields()}, DANA)
    with pytest.raises(InvalidInput) as error:
        identifying(rpc, pending["id"])
    assert "attached_to" in error.value.errors
    parent = approved(rpc)
    for extra, field in (
        ({"attached_subject": "Someone Else"}, "attached_subject"),
        ({"subjects": [{"name": "New Person"}]}, "subjects"),
    ):
        with pytest.raises(InvalidInput) as error:
            identifying(rpc, parent["id"], **extra)
        assert field in error.value.errors
    with pytest.raises(InvalidInput) as error:
        rpc.cases.create_case({"title": "x", "unit": "narcotics", "attached_to": parent["id"]}, DANA)
    assert "attached_to" in error.value.errors
    record = identifying(rpc, parent["id"])
    assert record["record_class"] == "identifying" and record["notice"] == IDENTIFYING_NOTICE
    assert rpc.cases.get_case(record["id"], DANA)["notice"] == IDENTIFYING_NOTICE
    assert parent["notice"] is None
    exported = rpc.cases.export_case(record["id"], {"format": "pdf", "need_to_know": "deconfliction"}, DANA)
    pdf = PdfReader(io.BytesIO(base64.b64decode(exported["data"])))
    assert IDENTIFYING_NOTICE in " ".join(page.extract_text() for page in pdf.pages).replace("\n", " ")
    rpc.cases.purge_case(parent["id"], {"reason": "predicate no longer holds"}, PAT)
    with pytest.raises(NotFound):  # identifying information goes with the record it identified
        rpc.cases.get_case(record["id"], DANA)


def test_C16_a_purged_case_leaves_no_link_on_the_alerts_promoted_into_it(rpc, mongo, config_for):
    alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    narrative = ci_fields()["reasonable_suspicion"] + " The plate was seen at the garage on both buy nights."
    case = rpc.cases.promote_alert(alert["id"], ci_fields(unit="narcotics", reasonable_suspicion=narrative), DANA)
    alerts = mongo[config_for("intake")["MONGODB_DATABASE"]]["alerts"]
    assert alerts.find_one({"_id": alert["id"]})["case_ids"] == [case["id"]]
    rpc.cases.purge_case(case["id"], {"reason": "predicate did not hold up"}, PAT)
    eventually(lambda: alerts.find_one({"_id": alert["id"]})["case_ids"] == [])


def test_C16_an_alert_promoted_again_after_its_case_was_purged_gets_a_new_case(rpc, mongo, config_for):
    """The state ``test_C16_promoting_again_skips_a_case_being_purged`` holds by hand, reached to its
    end through the services: the purge lets go of the alert (intake's links, read by its retention
    sweep), and promoting it again makes a new case that holds it."""
    alert = rpc.intake.create_alert(alpr(), DANA)["alert"]
    narrative = ci_fields()["reasonable_suspicion"] + " The plate was seen at the garage on both buy nights."
    first = rpc.cases.promote_alert(alert["id"], ci_fields(unit="narcotics", reasonable_suspicion=narrative), DANA)
    rpc.cases.purge_case(first["id"], {"reason": "predicate did not hold up"}, PAT)
    alerts = mongo[config_for("intake")["MONGODB_DATABASE"]]["alerts"]
    eventually(lambda: alerts.find_one({"_id": alert["id"]})["case_ids"] == [])
    second = rpc.cases.promote_alert(alert["id"], {"title": "Second", "unit": "narcotics"}, DANA)
    assert second["id"] != first["id"] and second["title"] == "Second"
    with pytest.raises(NotFound):
        rpc.cases.get_case(first["id"], DANA)
    assert rpc.cases.get_case(second["id"], DANA)["alert_ids"] == [alert["id"]]
    assert alerts.find_one({"_id": alert["id"]})["case_ids"] == [second["id"]]


def test_C16_a_purge_interrupted_after_its_claim_is_finished_by_the_timer(rpc, db, services, audit_db):
    """The claim a crashed purge leaves is written by hand: no entrypoint stops halfway. A purge that
    runs to its end through the service is
    ``test_C16_C17_a_purge_by_the_authority_removes_everything_and_leaves_a_content_free_tombstone``, and
    through the API tests/e2e/test_compliance.py's C16/C17 test."""
    case = approved(rpc)
    rpc.cases.add_item(case["id"], "notes", {"text": "left behind by a crash"}, DANA)
    claim = {"record_id": case["id"], "reason": "court order", "content_hash": "0" * 64, "automatic": False}
    claim.update(record_type="case", actor="pat", at=datetime.now(UTC) - timedelta(minutes=10))
    db["cases"].update_one({"_id": case["id"]}, {"$set": {"purging": claim}})  # as a crash would leave it
    with pytest.raises(NotFound):
        rpc.cases.get_case(case["id"], DANA)
    assert case["id"] in purge_timer(services)
    assert (
        db["cases"].count_documents({"_id": case["id"]}) == 0
        and db["items"].count_documents({"case_id": case["id"]}) == 0
    )
    resumed = eventually(lambda: audit_db["events"].find_one({"action": "case.purge", "record_ids": case["id"]}))
    assert resumed["details"]["resumed"] is True


def test_C6_agency_only_intelligence_of_another_unit_answers_with_the_agency_contact_only(rpc):
    case = approved(rpc, sensitivity="agency_only", control_official="Lt. Vega")
    with pytest.raises(Forbidden) as refused:
        rpc.cases.get_case(case["id"], ctx("olga", ("detective",), unit="homicide", **PURPOSE))
    assert refused.value.errors == {"contact": [f"{AGENCY}: control official Lt. Vega"]}
    assert "Elm St" not in str(refused.value)
