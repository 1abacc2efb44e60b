"""Intake through the gateway: vendor formats, batches, near-duplicates, triage, lists, import CLI."""

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.polling import eventually
from tests.unit.test_vendor_adapters import fresh

REPO = Path(__file__).resolve().parents[2]


def alpr(plate=None, at="2026-01-05T22:14:00-06:00", camera="cam-7", event_id=None):
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": event_id or uuid.uuid4().hex,
        "occurred_at": at,
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"plate": plate or f"G{uuid.uuid4().hex[:6].upper()}", "plate_state": "TX", "camera_id": camera},
    }


@pytest.mark.parametrize("vendor,source", [("flock", "alpr"), ("rekor", "alpr"), ("shotspotter", "gunshot"),
                                           ("ncic", "database")])  # fmt: skip
def test_each_vendor_format_is_mapped_and_stored(gateway, vendor, source):
    body = fresh(vendor)
    created = gateway.post(f"/api/v1/alerts/vendors/{vendor}", roles=("source",), json=body)
    assert created.status_code == 201, created.text
    alert = created.json()
    assert alert["source"] == source and alert["source_payload"]["format"] == vendor
    again = gateway.post(f"/api/v1/alerts/vendors/{vendor}", roles=("source",), json=body)
    assert again.status_code == 200 and again.json()["id"] == alert["id"]


def test_a_bad_vendor_body_is_a_422_naming_the_vendors_fields(gateway):
    body = {**fresh("shotspotter"), "rounds": "four"}
    del body["latitude"]
    response = gateway.post("/api/v1/alerts/vendors/shotspotter", roles=("source",), json=body)
    assert response.status_code == 422 and response.headers["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"rounds", "latitude"}


def test_an_unknown_vendor_format_is_404(gateway):
    assert gateway.post("/api/v1/alerts/vendors/acme", roles=("source",), json={}).status_code == 404


def test_a_near_duplicate_read_answers_200_with_the_first_alert_and_a_flag(gateway):
    plate = f"N{uuid.uuid4().hex[:6].upper()}"
    first = gateway.post("/api/v1/alerts", json=alpr(plate))
    repeat = gateway.post("/api/v1/alerts", json=alpr(plate.lower(), at="2026-01-05T22:15:00-06:00"))
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json()["id"] == first.json()["id"] and repeat.json()["near_duplicate"] is True
    assert len(repeat.json()["repeats"]) == 1


def test_the_batch_endpoint_answers_each_item_in_order(gateway):
    known = alpr()
    assert gateway.post("/api/v1/alerts", json=known).status_code == 201
    batch = [alpr(), {"source": "alpr", "payload": {}}, known, alpr()]
    response = gateway.post("/api/v1/alerts/batch", roles=("source",), json={"alerts": batch})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 422), (2, 200), (3, 201)]
    assert {"source_system", "occurred_at", "payload"} <= set(results[1]["errors"])
    assert gateway.get(f"/api/v1/alerts/{results[3]['id']}").json()["status"] == "new"


def test_a_batch_over_the_limit_is_413_and_stores_nothing(gateway):
    batch = [alpr(event_id=f"over-{uuid.uuid4().hex}") for _ in range(1001)]
    response = gateway.post("/api/v1/alerts/batch", roles=("source",), json={"alerts": batch})
    assert response.status_code == 413 and response.json()["status"] == 413
    listed = gateway.get("/api/v1/alerts", params={"source": "alpr", "limit": 500}).json()["items"]
    assert not any(item["source_event_id"] == batch[0]["source_event_id"] for item in listed)


def test_a_batch_without_a_list_is_422(gateway):
    response = gateway.post("/api/v1/alerts/batch", roles=("source",), json={"alerts": "many"})
    assert response.status_code == 422 and "alerts" in response.json()["errors"]


def test_triage_assign_note_dismiss_and_illegal_transitions(gateway):
    alert_id = gateway.post("/api/v1/alerts", json=alpr()).json()["id"]
    assigned = gateway.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "bob", "unit": "rtcc"})
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"
    noted = gateway.post(f"/api/v1/alerts/{alert_id}/notes", json={"text": "Patrol notified"})
    assert noted.status_code == 200
    bad_reason = gateway.post(f"/api/v1/alerts/{alert_id}/dismiss", json={"reason": "bored"})
    assert bad_reason.status_code == 422 and "reason" in bad_reason.json()["errors"]
    dismissed = gateway.post(f"/api/v1/alerts/{alert_id}/dismiss", json={"reason": "false_read", "text": "8 not B"})
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    actions = gateway.get(f"/api/v1/alerts/{alert_id}").json()["actions"]
    assert [a["action"] for a in actions] == ["received", "assigned", "note", "dismissed"]
    assert all(a["actor"] == "tester" and a["at"] for a in actions[1:])
    for path, body in (("assign", {"assignee": "carol"}), ("dismiss", {"reason": "duplicate", "text": "see a-0"})):
        refused = gateway.post(f"/api/v1/alerts/{alert_id}/{path}", json=body)
        assert refused.status_code == 409 and refused.headers["Content-Type"] == "application/problem+json"


def test_a_source_system_may_not_triage(gateway):
    alert_id = gateway.post("/api/v1/alerts", json=alpr()).json()["id"]
    refused = gateway.post(f"/api/v1/alerts/{alert_id}/assign", roles=("source",), json={"assignee": "x"})
    assert refused.status_code == 403


def test_another_agencys_alert_is_refused_unlisted_untouched_and_the_refusal_audited(gateway):
    alert_id = gateway.post("/api/v1/alerts", json=alpr(), roles=("source",)).json()["id"]
    outsider = gateway.token("supervisor", "detective", sub=f"okc-{uuid.uuid4().hex[:6]}", agency="OK0000000")
    refused = [
        gateway.get(f"/api/v1/alerts/{alert_id}", token=outsider),
        gateway.post(f"/api/v1/alerts/{alert_id}/assign", token=outsider, json={"assignee": "okc-1"}),
        gateway.post(f"/api/v1/alerts/{alert_id}/notes", token=outsider, json={"text": "mine now"}),
        gateway.post(f"/api/v1/alerts/{alert_id}/dismiss", token=outsider, json={"reason": "duplicate", "text": "x"}),
        gateway.post(f"/api/v1/alerts/{alert_id}/promote", token=outsider, json={"title": "Taken over"}),
    ]
    assert [r.status_code for r in refused] == [403] * 5, [r.text for r in refused]
    listed = gateway.get("/api/v1/alerts", token=outsider, params={"limit": 500}).json()["items"]
    assert alert_id not in {item["id"] for item in listed}
    alert = gateway.get(f"/api/v1/alerts/{alert_id}").json()
    assert (alert["status"], [a["action"] for a in alert["actions"]]) == ("new", ["received"])
    eventually(  # the list is read from the search index (a second behind at most)
        lambda: (
            alert_id in {item["id"] for item in gateway.get("/api/v1/alerts", params={"limit": 500}).json()["items"]}
        )
    )

    response = gateway.get("/api/v1/audit/events", roles=("auditor",), params={"record_id": alert_id, "limit": 500})
    denied = [e for e in response.json()["items"] if e["outcome"] == "denied"]
    assert {e["action"] for e in denied} == {"alert.read", "alert.assign", "alert.note", "alert.dismiss"}
    assert all(e["details"]["reason"] == "record_agency" and e["actor"]["agency"] == "OK0000000" for e in denied)


def test_lists_filter_by_assignee_and_page(gateway):
    assignee = f"u-{uuid.uuid4().hex[:6]}"
    ids = [gateway.post("/api/v1/alerts", json=alpr()).json()["id"] for _ in range(3)]
    for alert_id in ids:
        gateway.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": assignee})
    listed = lambda: gateway.get("/api/v1/alerts", params={"assignee": assignee, "limit": 500}).json()["items"]  # noqa: E731
    eventually(lambda: len(listed()) == 3)  # the list is read from the search index (a second behind at most)
    first = gateway.get("/api/v1/alerts", params={"assignee": assignee, "limit": 2}).json()
    second = gateway.get("/api/v1/alerts", params={"assignee": assignee, "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next_cursor"] is None and all("related_count" in i for i in first["items"])
    assert gateway.get("/api/v1/alerts", params={"status": "nonsense"}).status_code == 422
    assert gateway.get("/api/v1/alerts", params={"cursor": "garbage"}).status_code == 422


def test_a_list_item_shows_triage_once_indexed_with_the_entities_its_resolution_found(gateway):
    """The list is served from the search index (docs/search.md, "The alert list"): an item follows its
    alert's changes once they are indexed, and names the entities the entities service resolved."""
    plate, assignee = f"L{uuid.uuid4().hex[:6].upper()}", f"u-{uuid.uuid4().hex[:6]}"
    alert_id = gateway.post("/api/v1/alerts", json=alpr(plate)).json()["id"]
    assert gateway.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": assignee}).status_code == 200

    def item(status):
        listed = gateway.get("/api/v1/alerts", params={"assignee": assignee, "status": status}).json()["items"]
        return next((i for i in listed if i["id"] == alert_id and i["entities"]), None)

    assigned = eventually(lambda: item("assigned"))
    assert [(e["type"], e["key"]) for e in assigned["entities"]] == [("vehicle", f"TX:{plate}")]
    assert assigned["assignee"] == assignee and assigned["related_count"] == 0
    dismissal = {"reason": "false_read", "text": "8 read as B"}
    assert gateway.post(f"/api/v1/alerts/{alert_id}/dismiss", json=dismissal).status_code == 200
    dismissed = eventually(lambda: item("dismissed"))
    stored = gateway.get(f"/api/v1/alerts/{alert_id}").json()
    assert dismissed["version"] == stored["version"] > assigned["version"]
    assert dismissed["dismissal"]["reason"] == "false_read" and "actions" not in dismissed
    assert {key: dismissed[key] for key in dismissed if key not in ("entities", "related_count")} == {
        key: stored[key] for key in dismissed if key not in ("entities", "related_count")
    }
    assert [e["id"] for e in dismissed["entities"]] == [e["id"] for e in stored["entities"]]


def test_the_openapi_document_lists_the_intake_endpoints(gateway):
    paths = set(gateway.get("/api/v1/openapi.json", roles=()).json()["paths"])
    assert {
        "/api/v1/alerts/batch",
        "/api/v1/alerts/vendors/flock",
        "/api/v1/alerts/vendors/rekor",
        "/api/v1/alerts/vendors/shotspotter",
        "/api/v1/alerts/vendors/ncic",
        "/api/v1/alerts/{alert_id}/assign",
        "/api/v1/alerts/{alert_id}/notes",
        "/api/v1/alerts/{alert_id}/dismiss",
    } <= paths


def test_the_import_command_posts_a_file_in_chunks_and_writes_failures(gateway, tmp_path):
    good = [alpr() for _ in range(5)]
    lines = [json.dumps(a) for a in good] + ['{"source": "alpr"}', "{not json"]
    source = tmp_path / "alerts.jsonl"
    source.write_text("\n".join(lines) + "\n")
    csv_file = tmp_path / "alerts.csv"
    csv_file.write_text(
        "source,source_system,source_event_id,occurred_at,lat,lon,payload.plate,payload.camera_id,payload.confidence\n"
        f"alpr,csv-import,{uuid.uuid4().hex},2026-01-05T22:14:00Z,29.76,-95.36,CSV{uuid.uuid4().hex[:4]},cam-1,97.5\n"
        f"alpr,csv-import,{uuid.uuid4().hex},2026-01-05T22:14:00Z,,-95.36,CSV{uuid.uuid4().hex[:4]},cam-2,\n"
    )

    def run(path):
        return subprocess.run(
            [str(REPO / ".venv/bin/casewire"), "import", str(path), "--gateway", gateway.url, "--chunk", "2"],
            capture_output=True, text=True, env=dict(os.environ), timeout=300,
        )  # fmt: skip

    first = run(source)
    assert first.returncode == 1, first.stderr
    assert "5 created, 0 already known, 0 folded as near-duplicates, 2 failed" in first.stdout
    [bar] = [line for line in first.stdout.splitlines() if "importing alerts.jsonl" in line]
    assert re.findall(r"(\d+)%", bar) == ["100"], first.stdout  # all 7 records, the failed ones included
    failures = [json.loads(line) for line in (tmp_path / "alerts.jsonl.failures.jsonl").read_text().splitlines()]
    assert sorted(f["line"] for f in failures) == [6, 7]
    assert "source_system" in failures[0]["errors"] and "_line" in failures[1]["errors"]
    again = run(source)
    assert "0 created, 5 already known" in again.stdout
    from_csv = run(csv_file)
    assert "1 created" in from_csv.stdout and "1 failed" in from_csv.stdout
    failure = json.loads((tmp_path / "alerts.csv.failures.jsonl").read_text())
    assert failure["line"] == 3 and "location" in failure["errors"]
