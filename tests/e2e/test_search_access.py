"""Search over intelligence and face leads made through the API, each record by its real producer: the
cases service stores and announces the case, intake and entities the alert and what it names, search
indexes both and answers through the gateway (C3, C6, C9, C26). The search module's own tests
(tests/integration/test_search_*.py) index hand-made documents; these are their real-path siblings."""

import uuid

import pytest

from casewire.alerts import FACE_NOTICE
from tests.integration.test_cases import ci_fields
from tests.polling import eventually

PURPOSE = {"X-Purpose": "investigation", "X-Case-Number": "HPD-2026-0042"}
TX, CA = "TX0000000", "CA0000000"


@pytest.fixture(scope="module")
def users(gateway):
    return {
        "dana": gateway.token("detective", sub="dana", unit="narcotics"),
        "sam": gateway.token("supervisor", sub="sam", unit="narcotics"),
        "olga": gateway.token("detective", sub="olga", unit="homicide"),
        "carl": gateway.token("detective", sub="carl", unit="narcotics", agency=CA),
        "source": gateway.token("source", agency=TX),
    }


def intelligence(gateway, users, title, sensitivity, official="Lt. Vega", approve=True):
    created = gateway.post(
        "/api/v1/cases",
        token=users["dana"],
        headers=dict(PURPOSE),
        json=ci_fields(title=title, sensitivity=sensitivity, control_official=official),
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    if approve:
        review = {"decision": "approve", "justification": "predicate and labels checked"}
        approved = gateway.post(
            f"/api/v1/cases/{case_id}/review", token=users["sam"], headers=dict(PURPOSE), json=review
        )
        assert approved.status_code == 200, approved.text
    return case_id


def read_naming_a_vehicle(gateway, users, plate):
    """An ALPR read of ``plate`` posted through the API: its alert id and the vehicle it names."""
    read = {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-05T22:14:00Z",
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": f"cam-{uuid.uuid4().hex[:6]}"},
    }
    posted = gateway.post("/api/v1/alerts", json=read, token=users["source"])
    assert posted.status_code == 201, posted.text
    return posted.json()["id"], posted.json()["entities"][0]["id"]


def name_vehicle(gateway, users, case_id, vehicle_id):
    """The case names the vehicle, through the API (a sighting of it by the case)."""
    link = {"entity_id": vehicle_id, "role": "vehicle_of_interest"}
    linked = gateway.post(f"/api/v1/cases/{case_id}/entities", token=users["dana"], json=link, headers=dict(PURPOSE))
    assert linked.status_code == 200, linked.text


def search(gateway, token, q, headers=PURPOSE, **params):
    response = gateway.get("/api/v1/search", token=token, headers=dict(headers), params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def notices(gateway, official, case_id):
    response = gateway.get("/api/v1/notifications", token=gateway.token("detective", sub=official, unit="narcotics"))
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["case_id"] == case_id]


def test_C3_C6_C9_intelligence_made_through_the_api_is_searched_as_the_rules_say(gateway, users):
    """Pending review: only the submitting unit finds it (C3). Approved: no case number, no hit, even
    for its own unit (C9). Agency only: another unit gets the agency contact and nothing else (C6).
    Restricted: another agency's hit answers a miss and tells nobody, while a search of another unit
    of the agency, made after it, tells the control official (C6): that notice is the signal that the
    search service has handled the earlier search too, so the official's one notice proves the first
    told nobody."""
    word = f"zs{uuid.uuid4().hex[:8]}"
    official = f"vega-{uuid.uuid4().hex[:6]}"
    pending = intelligence(gateway, users, f"{word} pending", "open", approve=False)
    contact = intelligence(gateway, users, f"{word} contact", "agency_only", official=official)
    restricted = intelligence(gateway, users, f"{word} restricted", "restricted", official=official)

    insider = eventually(lambda: (found := search(gateway, users["dana"], word)) and len(found) == 3 and found)
    assert {item["id"] for item in insider} == {pending, contact, restricted}
    assert search(gateway, users["dana"], word, headers={"X-Purpose": "investigation"}) == []  # C9

    assert search(gateway, users["carl"], word) == []  # another agency: before olga, who is told about
    [pointer] = search(gateway, users["olga"], word)
    assert pointer["id"] is None and pointer["highlights"] == {}
    assert (pointer["summary"]["agency"], pointer["summary"]["contact"]) == (TX, official)
    assert word not in str(pointer)
    [told] = eventually(lambda: notices(gateway, official, restricted))
    assert (told["kind"], told["detail"]["searcher"]) == ("restricted_hit", "olga")


def test_C26_a_face_alert_and_the_person_it_names_carry_the_lead_notice_in_search(gateway, users):
    """A face alert posted through the API: search finds it and the person intake and entities made of
    its candidate, each with the investigative-lead notice, as does the person's page; a tip naming the
    same words has none."""
    name = f"Jonas {uuid.uuid4().hex[:8]}"
    body = {
        "source": "face",
        "source_system": "clearview",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-05T22:14:00Z",
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {
            "candidate": {"name": name, "subject_id": uuid.uuid4().hex[:8]},
            "score": 91,
            "probe_image_url": "https://faces.example.gov/probes/e2e.jpg",
        },
    }
    face = gateway.post("/api/v1/alerts", json=body, token=users["source"])
    assert face.status_code == 201, face.text
    tip = {
        "source": "tip",
        "source_system": "crime-stoppers",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-05T22:20:00Z",
        "payload": {"narrative": f"{name} was seen at the gas station"},
    }
    told = gateway.post("/api/v1/alerts", json=tip, token=users["source"])
    assert told.status_code == 201, told.text

    alerts = eventually(
        lambda: (found := search(gateway, users["dana"], name, types="alert")) and len(found) == 2 and found
    )
    by_id = {item["id"]: item for item in alerts}
    assert by_id[face.json()["id"]]["summary"]["notice"] == FACE_NOTICE
    assert "notice" not in by_id[told.json()["id"]]["summary"]
    [person_id] = [entity["id"] for entity in face.json()["entities"] if entity["type"] == "person"]
    people = eventually(lambda: {item["id"]: item for item in search(gateway, users["dana"], name, types="entity")})
    assert people[person_id]["summary"]["notice"] == FACE_NOTICE
    page = gateway.get(f"/api/v1/entities/{person_id}", token=users["dana"])
    assert page.status_code == 200 and page.json()["notice"] == FACE_NOTICE, page.text


def test_C6_a_plate_sighted_in_a_restricted_case_is_hidden_from_other_units_and_tells_the_control_official(
    gateway, users
):
    """An ALPR read posted through the API names a vehicle; a restricted case approved and linked to
    that vehicle through the API is a sighting of it. The plate search of the case's unit lists both
    sightings; another unit's lists the read alone, and the control official is told of that search."""
    plate = f"R{uuid.uuid4().hex[:6].upper()}"
    official = f"vega-{uuid.uuid4().hex[:6]}"
    alert_id, vehicle_id = read_naming_a_vehicle(gateway, users, plate)
    case_id = intelligence(gateway, users, f"{plate} network", "restricted", official=official)
    name_vehicle(gateway, users, case_id, vehicle_id)

    def sightings(token):
        response = gateway.get(
            "/api/v1/search/plates", token=token, headers=dict(PURPOSE), params={"plate": plate, "state": "TX"}
        )
        assert response.status_code == 200, response.text
        exact = [item for item in response.json()["items"] if item["entity"]["id"] == vehicle_id]
        return {s["record_id"] for s in exact[0]["sightings"]} if exact else set()

    eventually(lambda: sightings(users["dana"]) == {alert_id, case_id})
    assert sightings(users["olga"]) == {alert_id}
    [told] = eventually(lambda: notices(gateway, official, case_id))
    assert (told["kind"], told["detail"]["searcher"]) == ("restricted_hit", "olga")
    assert plate in told["detail"]["terms"]
