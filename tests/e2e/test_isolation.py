"""Issue 16 over HTTP, tried as an attacker would with tokens of two agencies (docs/security.md):
nothing of one agency reaches another, and the body never decides who may act."""

import uuid
from datetime import UTC, datetime, timedelta

from gateway.auth import mint_dev_token
from tests.e2e.test_cases import PURPOSE_HEADERS
from tests.integration.test_cases import ci_fields
from tests.polling import eventually

TX, CA = "TX0000000", "CA0000000"


def alert(gateway, body: dict, agency: str = TX) -> dict:
    response = gateway.post("/api/v1/alerts", json=body, token=gateway.token("source", agency=agency))
    assert response.status_code == 201, response.text
    return response.json()


def tip(name: str, plate: str) -> dict:
    return {
        "source": "tip",
        "source_system": "tx-crime-stoppers",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {
            "narrative": f"{name} sells out of a grey sedan",
            "subjects": [
                {"type": "person", "name": name},
                {"type": "vehicle", "plate": plate, "plate_state": "TX"},
            ],
        },
    }


def test_an_agency_finds_nothing_another_agencys_records_name(gateway):
    name, plate = f"Zebulon Q{uuid.uuid4().hex[:5]}", f"Z{uuid.uuid4().hex[:6].upper()}"
    told = alert(gateway, tip(name, plate))
    person = next(e["id"] for e in told["entities"] if e["type"] == "person")
    texan = gateway.token("analyst", sub="tess", agency=TX)
    californian = gateway.token("analyst", sub="cal", agency=CA)
    plates = {"plate": plate, "purpose": "burglary series"}

    def found(token, path, params):
        return gateway.get(path, token=token, params=params).json()["items"]

    eventually(lambda: found(texan, "/api/v1/search", {"q": name, "types": "entity"}))
    eventually(lambda: found(texan, "/api/v1/search/plates", plates))
    assert found(californian, "/api/v1/search", {"q": name}) == []
    assert found(californian, "/api/v1/search/plates", plates) == []  # not even the vehicle, sightingless
    assert found(californian, "/api/v1/entities", {"q": name}) == []
    assert [e["id"] for e in found(texan, "/api/v1/entities", {"q": name})] == [person]
    for path in (f"/api/v1/entities/{person}", f"/api/v1/entities/{person}/graph"):
        assert gateway.get(path, token=californian).status_code == 404, path


def test_C3_the_submitter_is_the_tokens_sub_and_cannot_approve_its_own_record(gateway):
    supervisor = gateway.token("supervisor", sub="sid", agency=TX, unit="intel")
    body = {**ci_fields(), "unit": "intel"}
    named = gateway.post("/api/v1/cases", token=supervisor, json={**body, "submitter": "someone-else"})
    assert named.status_code == 422 and "submitter" in named.json()["errors"]
    created = gateway.post("/api/v1/cases", token=supervisor, json=body, headers=PURPOSE_HEADERS)
    assert created.status_code == 201 and created.json()["submitter"] == "sid"
    review = {"decision": "approve", "justification": "predicate and labels checked"}
    path = f"/api/v1/cases/{created.json()['id']}/review"
    assert gateway.post(path, token=supervisor, json=review, headers=PURPOSE_HEADERS).status_code == 403


def test_C17_an_analyst_of_the_unit_cannot_move_the_review_date(gateway):
    analyst = gateway.token("analyst", sub="ann", agency=TX, unit="intel")
    case = gateway.post("/api/v1/cases", token=analyst, json={**ci_fields(), "unit": "intel"}, headers=PURPOSE_HEADERS)
    path = f"/api/v1/cases/{case.json()['id']}"
    past = {"review_due": "2001-01-01T00:00:00Z", "reason": "purge it"}
    assert gateway.request("PATCH", path, token=analyst, json=past, headers=PURPOSE_HEADERS).status_code == 422
    soon = {"review_due": (datetime.now(UTC) + timedelta(days=2)).isoformat(), "reason": "purge it"}
    assert gateway.request("PATCH", path, token=analyst, json=soon, headers=PURPOSE_HEADERS).status_code == 403
    official = {"control_official": "ann", "reason": "hits to me"}
    assert gateway.request("PATCH", path, token=analyst, json=official, headers=PURPOSE_HEADERS).status_code == 403


def test_the_opener_of_a_case_for_another_unit_keeps_working_it(gateway):
    opener = gateway.token("supervisor", sub="omar", agency=TX, unit=None)
    case = gateway.post("/api/v1/cases", token=opener, json={"title": "Shooting on Main", "unit": "homicide"})
    assert case.status_code == 201, case.text
    assert case.json()["assignees"] == ["omar"]
    assert gateway.get(f"/api/v1/cases/{case.json()['id']}", token=opener).status_code == 200
    led = alert(gateway, tip(f"Ann Roe{uuid.uuid4().hex[:4]}", f"S{uuid.uuid4().hex[:6].upper()}"))
    linked = gateway.post(f"/api/v1/cases/{case.json()['id']}/alerts", token=opener, json={"alert_id": led["id"]})
    assert linked.status_code == 200, linked.text


def test_an_auditor_reads_its_agencys_log_unless_its_token_oversees_more(gateway):
    actor = f"cal-{uuid.uuid4().hex[:6]}"
    assert gateway.get("/api/v1/entities", token=gateway.token("analyst", sub=actor, agency=CA)).status_code == 200
    texan = gateway.token("auditor", sub="audra", agency=TX)
    overseer = mint_dev_token(gateway.secret, "olive", ["auditor"], agency=TX, oversight=["*"])

    def events(token, **params):
        return gateway.get("/api/v1/audit/events", token=token, params={"actor": actor, **params}).json()["items"]

    assert eventually(lambda: events(overseer))
    assert events(texan) == []
    refused = gateway.get("/api/v1/audit/events", token=texan, params={"agency": CA})
    assert refused.status_code == 403
    export = gateway.get("/api/v1/audit/export", token=texan, params={"actor": actor})
    assert export.status_code == 200 and export.text == ""
    report = gateway.get("/api/v1/compliance/report", token=texan)
    assert report.status_code == 200
