"""The walking skeleton through the gateway: POST an ALPR alert, find its plate, see its audit."""

import uuid

from tests.polling import eventually


def alpr_body(plate, month=1, event_id=None):
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": event_id or uuid.uuid4().hex,
        "occurred_at": f"2026-{month:02d}-05T22:14:00-06:00",
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": "cam-7"},
    }


def test_alert_to_plate_search_to_audit(gateway):
    plate = f"E{uuid.uuid4().hex[:6].upper()}"
    created = gateway.post("/api/v1/alerts", json=alpr_body(f"{plate[:3]} {plate[3:]}".lower()))
    assert created.status_code == 201, created.text
    alert = created.json()
    assert alert["status"] == "new"
    assert [(e["type"], e["key"]) for e in alert["entities"]] == [("vehicle", f"TX:{plate}")]
    assert alert["occurred_at"] == "2026-01-06T04:14:00+00:00"  # stored in UTC

    def found():
        response = gateway.get("/api/v1/search/plates", params={"plate": plate, "purpose": "skeleton test"})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items if items and items[0]["sightings"] else None

    hits = eventually(found)
    assert hits[0]["entity"]["plate"] == plate and hits[0]["sightings"][0]["record_id"] == alert["id"]

    def audited():
        response = gateway.get("/api/v1/audit/events", roles=("auditor",), params={"record_id": alert["id"]})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    assert eventually(audited)[0]["action"] == "alert.create"


def test_a_repeat_answers_200_with_the_first_alert(gateway):
    body = alpr_body("RPT1234")
    first = gateway.post("/api/v1/alerts", json=body)
    again = gateway.post("/api/v1/alerts", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_the_second_sighting_names_the_first_as_related(gateway):
    plate = f"L{uuid.uuid4().hex[:6].upper()}"
    first = gateway.post("/api/v1/alerts", json=alpr_body(plate, month=1)).json()
    second = gateway.post("/api/v1/alerts", json=alpr_body(plate, month=3)).json()
    assert [r["id"] for r in second["related"]] == [first["id"]]
    fetched = eventually(lambda: gateway.get(f"/api/v1/alerts/{second['id']}").json()["related"])
    assert fetched[0]["shared_entities"][0]["key"] == f"TX:{plate}"
