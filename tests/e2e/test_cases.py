"""Cases through the gateway: HTTP statuses, problem bodies, contents, multipart, the timeline, the stream,
PDF export and their audit."""

import io
import uuid
from datetime import datetime
from urllib.parse import unquote

import pytest
from pymongo import MongoClient
from pypdf import PdfReader

from tests.e2e.sse import EventStream
from tests.integration.test_cases import PNG, ci_fields
from tests.polling import eventually

PURPOSE_HEADERS = {"X-Purpose": "investigation", "X-Case-Number": "HPD-2026-0042"}


@pytest.fixture(scope="module")
def cases_db(run_id):
    client = MongoClient("mongodb://127.0.0.1:27017/")
    yield client[f"test_{run_id}_e2e_cases"]
    client.close()


@pytest.fixture(scope="module")
def users(gateway):
    return {
        "dana": gateway.token("detective", sub="dana", unit="narcotics"),
        "sam": gateway.token("supervisor", sub="sam", unit="narcotics"),
        "olga": gateway.token("detective", sub="olga", unit="homicide"),
        "auditor": gateway.token("auditor", sub="aud"),
        "admin": gateway.token("admin", sub="root"),
    }


def audit_events(gateway, users, record_id):
    response = gateway.get(
        "/api/v1/audit/events", token=users["auditor"], params={"record_id": record_id, "limit": 500}
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def create(gateway, users, who="dana", **fields):
    response = gateway.post("/api/v1/cases", token=users[who], json={"title": "Pharmacy burglaries", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_case_moves_through_its_workflow_and_an_illegal_step_is_409(gateway, users):
    case = create(gateway, users)
    assert (case["status"], case["unit"], case["classification"]) == ("open", "narcotics", "investigative")
    path = f"/api/v1/cases/{case['id']}"
    active = gateway.request("PATCH", path, token=users["dana"], json={"status": "active"})
    assert active.status_code == 200 and active.json()["version"] == 2
    refused = gateway.request("PATCH", path, token=users["dana"], json={"status": "open"})
    assert refused.status_code == 409 and refused.headers["Content-Type"] == "application/problem+json"
    assert gateway.get(path, token=users["olga"]).status_code == 403
    listed = gateway.get("/api/v1/cases", token=users["dana"], params={"status": "active", "limit": 500}).json()
    assert case["id"] in [c["id"] for c in listed["items"]]


def test_C2_a_criminal_intelligence_case_without_its_predicate_is_422_naming_each_field(gateway, users):
    response = gateway.post(
        "/api/v1/cases", token=users["dana"], json={"title": "Gang intel", "classification": "criminal_intelligence"}
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"subjects", "offense_category", "reasonable_suspicion", "control_official", "source_type"} <= set(errors)
    assert {"obtained_how", "sensitivity", "source_reliability", "content_validity"} <= set(errors)


def test_C9_reading_intelligence_needs_purpose_and_case_number_and_the_refusal_is_audited(gateway, users):
    case = create(gateway, users, **ci_fields())
    path = f"/api/v1/cases/{case['id']}"
    refused = gateway.get(path, token=users["dana"])
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"purpose", "case_number"}
    assert gateway.get(path, token=users["olga"], headers=dict(PURPOSE_HEADERS)).status_code == 404  # C3
    allowed = gateway.get(path, token=users["dana"], headers=dict(PURPOSE_HEADERS))
    assert allowed.status_code == 200 and allowed.json()["review_state"] == "pending_review"
    events = eventually(lambda: [e for e in audit_events(gateway, users, case["id"]) if e["outcome"] == "denied"])
    assert events[0]["actor"]["id"] == "dana" and events[0]["details"]["reason"] == "purpose"

    def purposeful_reads():
        reads = [e for e in audit_events(gateway, users, case["id"]) if e["action"] == "case.read"]
        return [e for e in reads if (e["purpose"], e["case_number"]) == ("investigation", "HPD-2026-0042")]

    assert eventually(purposeful_reads)


def test_C14_only_a_supervisor_reviews_and_validation_needs_a_reason(gateway, users):
    case = create(gateway, users, **ci_fields())
    path = f"/api/v1/cases/{case['id']}/review"
    body = {"decision": "approve", "justification": "predicate and labels checked"}
    assert gateway.post(path, token=users["dana"], json=body, headers=dict(PURPOSE_HEADERS)).status_code == 403
    approved = gateway.post(path, token=users["sam"], json=body, headers=dict(PURPOSE_HEADERS))
    assert approved.status_code == 200 and approved.json()["approved_by"] == "sam"
    no_reason = gateway.post(path, token=users["sam"], json={"decision": "validate"}, headers=dict(PURPOSE_HEADERS))
    assert no_reason.status_code == 422 and "justification" in no_reason.json()["errors"]


def test_promoting_an_alert_makes_a_case_and_marks_the_alert(gateway, users):
    plate = f"P{uuid.uuid4().hex[:6].upper()}"

    def read(at: str, camera: str) -> dict:
        body = {
            "source": "alpr",
            "source_system": "flock",
            "source_event_id": uuid.uuid4().hex,
            "occurred_at": at,
            "location": {"lat": 29.74, "lon": -95.34},
            "payload": {"plate": plate, "plate_state": "TX", "camera_id": camera},
        }
        created = gateway.post("/api/v1/alerts", json=body)
        assert created.status_code == 201, created.text
        return created.json()

    earlier = read("2026-03-17T23:40:00-05:00", "cam-112")  # the same car, the night before
    alert = read("2026-03-18T03:02:00-05:00", "cam-207")
    promoted = gateway.post(
        f"/api/v1/alerts/{alert['id']}/promote", token=users["dana"], json={"title": "Pharmacy break-in, Navigation"}
    )
    assert promoted.status_code == 200, promoted.text
    case = promoted.json()
    assert case["alert_ids"] == [alert["id"]] and case["promoted_from_alert"] == alert["id"]
    assert gateway.get(f"/api/v1/alerts/{alert['id']}").json()["status"] == "promoted"

    def related_alerts():
        related = gateway.get(f"/api/v1/cases/{case['id']}/related", token=users["dana"])
        assert related.status_code == 200, related.text
        return [item["id"] for item in related.json()["alerts"]]

    eventually(lambda: earlier["id"] in related_alerts())  # through the shared plate
    assert alert["id"] not in related_alerts()  # the case's own alert is no relation of it


def test_chain_of_custody_has_no_edit_or_delete_path(gateway, users):
    case = create(gateway, users)
    item = gateway.post(
        f"/api/v1/cases/{case['id']}/evidence",
        token=users["dana"],
        json={"description": "Crowbar", "collected_at": "2026-03-18T04:00:00Z", "collected_by": "Det. Dana"},
    )
    assert item.status_code == 201, item.text
    custody = f"/api/v1/cases/{case['id']}/evidence/{item.json()['id']}/custody"
    for method in ("PUT", "PATCH", "DELETE"):
        assert gateway.request(method, custody, token=users["dana"], json={}).status_code == 405
        evidence = f"/api/v1/cases/{case['id']}/evidence/{item.json()['id']}"
        assert gateway.request(method, evidence, token=users["dana"], json={}).status_code == 405


def test_an_attachment_is_sniffed_checked_on_download_and_corruption_is_a_500_audited(gateway, users, cases_db):
    case = create(gateway, users)
    data = PNG + uuid.uuid4().bytes
    upload = gateway.post(
        f"/api/v1/cases/{case['id']}/attachments",
        token=users["dana"],
        files={"file": ("scene.txt", data, "text/plain")},
    )
    assert upload.status_code == 201, upload.text
    attachment = upload.json()
    assert attachment["content_type"] == "image/png"
    path = f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}"
    download = gateway.get(path, token=users["dana"])
    assert download.status_code == 200 and download.content == data
    assert (
        download.headers["Content-Type"] == "image/png" and download.headers["X-Content-SHA256"] == attachment["sha256"]
    )
    chunk = cases_db["attachments.chunks"].find_one({"files_id": attachment["id"]})
    cases_db["attachments.chunks"].update_one({"_id": chunk["_id"]}, {"$set": {"data": b"Y" + chunk["data"][1:]}})
    corrupted = gateway.get(path, token=users["dana"])
    assert corrupted.status_code == 500 and corrupted.json()["title"] == "Stored file corrupted"
    failed = eventually(lambda: [e for e in audit_events(gateway, users, attachment["id"]) if e["outcome"] == "failed"])
    assert failed[0]["action"] == "case.attachment.integrity"


def test_a_download_names_its_file_by_rfc_5987_with_an_ascii_fallback(gateway, users):
    case = create(gateway, users)
    name = "Zeugenaussage Müller 證詞.txt"
    upload = gateway.post(
        f"/api/v1/cases/{case['id']}/attachments",
        token=users["dana"],
        files={"file": (name, b"Statement of the witness, taken 2026-03-18.\n", "text/plain")},
    )
    assert upload.status_code == 201, upload.text
    download = gateway.get(f"/api/v1/cases/{case['id']}/attachments/{upload.json()['id']}", token=users["dana"])
    disposition = download.headers["Content-Disposition"]
    assert disposition == (
        'attachment; filename="Zeugenaussage M_ller __.txt"; '
        "filename*=UTF-8''Zeugenaussage%20M%C3%BCller%20%E8%AD%89%E8%A9%9E.txt"
    )
    assert unquote(disposition.split("UTF-8''")[1]) == upload.json()["filename"] == name


def test_C21_the_cases_services_own_audit_events_carry_the_client_address(gateway, users):
    case = create(gateway, users)
    params = {"format": "json", "need_to_know": "charging decision"}
    assert gateway.get(f"/api/v1/cases/{case['id']}/export", token=users["dana"], params=params).status_code == 200
    released = eventually(
        lambda: [
            e
            for e in audit_events(gateway, users, case["id"])
            if e["action"] == "case.disseminate" and e["service"] == "cases"
        ]
    )
    assert released[0]["client_address"] == "127.0.0.1"


def test_C10_the_pdf_export_reads_and_is_audited_as_a_dissemination(gateway, users):
    case = create(gateway, users, summary="Four pharmacy burglaries since January, same grey Altima.")
    gateway.post(f"/api/v1/cases/{case['id']}/notes", token=users["dana"], json={"text": "CCTV requested"})
    params = {"format": "pdf", "recipient": "ADA Patel", "agency": "Harris County DA", "need_to_know": "charging"}
    exported = gateway.get(f"/api/v1/cases/{case['id']}/export", token=users["dana"], params=params)
    assert exported.status_code == 200, exported.text
    assert exported.headers["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(exported.content)).pages)
    for expected in ("Pharmacy burglaries", "same grey Altima", "CCTV requested", "ADA Patel", case["id"]):
        assert expected in text
    log = gateway.get(f"/api/v1/cases/{case['id']}/disseminations", token=users["dana"]).json()["items"]
    assert [(d["kind"], d["recipient"], d["agency"]) for d in log] == [("export", "ADA Patel", "Harris County DA")]
    assert log[0]["id"] == exported.headers["X-Dissemination-Id"]
    actions = eventually(
        lambda: {e["action"] for e in audit_events(gateway, users, case["id"])} >= {"case.export", "case.disseminate"}
    )
    assert actions


def test_C12_webhook_subscriptions_are_for_supervisors_and_can_be_deleted(gateway, users):
    body = {"url": "http://127.0.0.1:9/hook", "events": ["case_updated"]}
    assert gateway.post("/api/v1/webhooks", token=users["dana"], json=body).status_code == 403
    assert gateway.post("/api/v1/webhooks", token=users["admin"], json=body).status_code == 403
    created = gateway.post("/api/v1/webhooks", token=users["sam"], json=body)
    assert created.status_code == 201 and created.json()["unit"] == "narcotics"
    assert gateway.post("/api/v1/webhooks", token=users["sam"], json={**body, "events": []}).status_code == 422
    outside = gateway.post("/api/v1/webhooks", token=users["sam"], json={**body, "url": "http://10.0.0.5/hook"})
    assert outside.status_code == 422 and "url" in outside.json()["errors"]
    path = f"/api/v1/webhooks/{created.json()['id']}"
    assert gateway.request("DELETE", path, token=users["dana"]).status_code == 403
    assert gateway.request("DELETE", path, token=users["sam"]).status_code == 204
    assert gateway.request("DELETE", path, token=users["sam"]).status_code == 404
    listed = gateway.get("/api/v1/webhooks", token=users["sam"]).json()["items"]
    assert created.json()["id"] not in [hook["id"] for hook in listed]


def test_an_assignee_on_the_stream_hears_of_the_assignment_others_do_not(gateway, users):
    url = f"{gateway.url}/api/v1/stream"
    bob = EventStream(url, gateway.token("detective", sub="bob", unit="patrol"))
    olga = EventStream(url, users["olga"])
    try:
        case = create(gateway, users)
        path = f"/api/v1/cases/{case['id']}"
        assert gateway.request("PATCH", path, token=users["dana"], json={"assignee": "bob"}).status_code == 200
        heard = bob.until(lambda e: e["event"] == "case_assigned" and e["data"]["case_id"] == case["id"])[-1]
        assert (heard["data"]["assignee"], heard["data"]["assigned_by"]) == ("bob", "dana")
        assert "summary" not in heard["data"]
        assert gateway.request("PATCH", path, token=users["dana"], json={"assignee": "olga"}).status_code == 200
        ours = lambda e: e["event"] == "case_assigned" and e["data"]["case_id"] == case["id"]  # noqa: E731
        mine = olga.until(lambda e: ours(e) and e["data"]["assignee"] == "olga")
        # Visibility is decided when a notice is delivered: once the case is hers, bob's earlier
        # assignment may reach her too, but nothing about the case reached her before.
        heard = [e["data"]["assignee"] for e in mine if ours(e)]
        assert heard in (["olga"], ["bob", "olga"])
    finally:
        bob.close()
        olga.close()


def test_the_openapi_document_lists_the_cases_endpoints(gateway):
    paths = set(gateway.get("/api/v1/openapi.json", roles=()).json()["paths"])
    assert {
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/export",
        "/api/v1/alerts/{alert_id}/promote",
        "/api/v1/webhooks",
    } <= paths


def upload(gateway, users, case_id, name="statement.txt", who="dana"):
    data = f"Statement taken {uuid.uuid4().hex}\n".encode()
    response = gateway.post(
        f"/api/v1/cases/{case_id}/attachments", token=users[who], files={"file": (name, data, "text/plain")}
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_case_opened_with_type_priority_and_assignees_reads_them_back(gateway, users):
    case = create(gateway, users, type="burglary", priority="high", assignees=["bob", "carl"], assignee="bob")
    assert (case["type"], case["priority"], case["assignees"]) == ("burglary", "high", ["bob", "carl"])
    read = gateway.get(f"/api/v1/cases/{case['id']}", token=users["dana"]).json()
    assert (read["type"], read["priority"], read["assignees"]) == ("burglary", "high", ["bob", "carl"])
    carl = gateway.token("detective", sub="carl", unit="patrol")  # an assignee outside the unit reads it
    assert gateway.get(f"/api/v1/cases/{case['id']}", token=carl).json()["assignees"] == ["bob", "carl"]
    plain_case = create(gateway, users)
    assert (plain_case["type"], plain_case["priority"], plain_case["assignees"]) == ("general", "normal", [])
    bad = gateway.post("/api/v1/cases", token=users["dana"], json={"title": "x", "priority": "urgent"})
    assert bad.status_code == 422 and "priority" in bad.json()["errors"]


def test_a_report_is_stored_and_read_back_with_its_fields(gateway, users):
    case = create(gateway, users)
    path = f"/api/v1/cases/{case['id']}/reports"
    body = {
        "title": "Supplement 1",
        "body": "Canvass of Navigation Blvd: two witnesses.",
        "report_type": "supplemental",
    }
    stored = gateway.post(path, token=users["dana"], json=body)
    assert stored.status_code == 201, stored.text
    report = stored.json()
    assert {key: report[key] for key in body} == body
    assert (report["case_id"], report["kind"], report["by"]) == (case["id"], "reports", "dana")
    default = gateway.post(path, token=users["dana"], json={"title": "Initial", "body": "Alarm at 03:05."}).json()
    assert default["report_type"] == "investigative"
    listed = gateway.get(path, token=users["dana"])
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == [report, default]
    assert gateway.get(path, token=users["olga"]).status_code == 403
    missing = gateway.post(path, token=users["dana"], json={"title": "No body"})
    assert missing.status_code == 422 and "body" in missing.json()["errors"]


def test_an_interview_keeps_its_case_attachments_and_refuses_another_cases(gateway, users):
    case, other = create(gateway, users), create(gateway, users)
    recording, transcript = upload(gateway, users, case["id"]), upload(gateway, users, case["id"], "transcript.txt")
    foreign = upload(gateway, users, other["id"])
    path = f"/api/v1/cases/{case['id']}/interviews"
    body = {"interviewee": "Maria Lopez", "at": "2026-03-19T10:00:00-05:00", "summary": "Saw a grey Altima."}
    stored = gateway.post(
        path, token=users["dana"], json={**body, "attachment_ids": [recording["id"], transcript["id"]]}
    )
    assert stored.status_code == 201, stored.text
    interview = stored.json()
    assert interview["attachment_ids"] == [recording["id"], transcript["id"]] and interview["interviewer"] == "dana"
    for refused_ids in ([recording["id"], foreign["id"]], ["no-such-attachment"]):
        refused = gateway.post(path, token=users["dana"], json={**body, "attachment_ids": refused_ids})
        assert refused.status_code == 422, refused.text
        assert refused_ids[-1] in refused.json()["errors"]["attachment_ids"][0]
    listed = gateway.get(path, token=users["dana"]).json()["items"]
    assert [(i["id"], i["attachment_ids"]) for i in listed] == [(interview["id"], [recording["id"], transcript["id"]])]
    for attachment in (recording, transcript):
        download = gateway.get(f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}", token=users["dana"])
        assert download.status_code == 200 and download.headers["X-Content-SHA256"] == attachment["sha256"]


def test_the_timeline_holds_a_report_an_interview_a_task_and_an_evidence_item_in_time_order(gateway, users):
    case = create(gateway, users)
    path = f"/api/v1/cases/{case['id']}"
    added = {}
    for kind, body in (
        ("reports", {"title": "Initial report", "body": "Alarm at 03:05, rear door forced."}),
        ("interviews", {"interviewee": "Maria Lopez", "at": "2026-03-19T10:00:00-05:00", "summary": "Grey Altima."}),
        ("tasks", {"title": "Pull pharmacy CCTV", "assignee": "bob", "due": "2026-03-25T17:00:00Z"}),
    ):
        response = gateway.post(f"{path}/{kind}", token=users["dana"], json=body)
        assert response.status_code == 201, response.text
        added[kind] = response.json()["id"]
    booked = {"from": "Det. Dana", "to": "Property room", "at": "2026-03-18T06:00:00Z", "reason": "booked in"}
    evidence = gateway.post(
        f"{path}/evidence",
        token=users["dana"],
        json={
            "description": "Crowbar",
            "collected_at": "2026-03-18T04:00:00Z",
            "collected_by": "Det. Dana",
            "custody": [{**booked, "condition": "sealed bag #4471"}],
        },
    )
    assert evidence.status_code == 201, evidence.text
    added["evidence"] = evidence.json()["id"]

    timeline = gateway.get(f"{path}/timeline", token=users["dana"])
    assert timeline.status_code == 200, timeline.text
    items = timeline.json()["items"]
    times = [datetime.fromisoformat(item["at"]) for item in items]
    assert times == sorted(times)
    ours = [(item["kind"], item["id"]) for item in items if item.get("id") in added.values()]
    assert ours == [
        ("evidence_collected", added["evidence"]),  # 2026-03-18 04:00 UTC
        ("custody", added["evidence"]),  # 06:00
        ("interview_held", added["interviews"]),  # 2026-03-19 15:00 UTC
        ("reports", added["reports"]),  # then each as it was recorded
        ("interviews", added["interviews"]),
        ("tasks", added["tasks"]),
        ("evidence", added["evidence"]),
    ]
    actions = [item["action"] for item in items if item["kind"] == "action"]
    assert actions == ["created", "report_added", "interview_added", "task_added", "evidence_added"]


def alpr_read():
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-18T03:02:00-05:00",
        "location": {"lat": 29.74, "lon": -95.34},
        "payload": {"plate": f"L{uuid.uuid4().hex[:6].upper()}", "plate_state": "TX", "camera_id": "cam-207"},
    }


def test_linking_an_alert_tells_the_cases_assignee_on_the_stream_and_not_another_agency(gateway, users):
    url = f"{gateway.url}/api/v1/stream"
    bob = EventStream(url, gateway.token("detective", sub="bob", unit="patrol"))
    lou = EventStream(url, gateway.token("detective", sub="lou", unit="narcotics", agency="LA0000000"))
    try:
        case = create(gateway, users, assignee="bob")
        alert = gateway.post("/api/v1/alerts", roles=("source",), json=alpr_read()).json()
        linked = gateway.post(f"/api/v1/cases/{case['id']}/alerts", token=users["dana"], json={"alert_id": alert["id"]})
        assert linked.status_code == 200, linked.text
        assert linked.json()["alert_ids"] == [alert["id"]] and linked.json()["version"] == case["version"] + 1

        def link_of(event):
            data = event["data"]
            return event["event"] == "case_updated" and data.get("case_id") == case["id"] and data["version"] == 2

        heard = bob.until(link_of)[-1]["data"]
        assert (heard["assignees"], heard["unit"], heard["title"]) == (["bob"], "narcotics", case["title"])
        assert "summary" not in heard and "alert_ids" not in heard  # a notice, not the record
        later = gateway.post("/api/v1/alerts", token=gateway.token("source", agency="LA0000000"), json=alpr_read())
        seen = lou.until(lambda event: event["data"].get("alert_id") == later.json()["id"])
        assert not [event for event in seen if event["data"].get("case_id") == case["id"]]
    finally:
        bob.close()
        lou.close()
