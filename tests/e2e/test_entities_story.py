"""The seed's story over HTTP: three detections months apart become one vehicle, related lists and links.

A plate is read near a homicide in January; a social handle is flagged in February; the same plate
(typed differently) is read near a break-in in March; a tip in April names the handle and the plate.
"""

import uuid

import pytest

from tests.e2e.sse import EventStream


def story(plate: str, handle: str) -> list[dict]:
    run = uuid.uuid4().hex
    return [
        {
            "source": "alpr",
            "source_system": "flock-houston",
            "source_event_id": f"{run}-read-0114",
            "occurred_at": "2026-01-14T23:41:00-06:00",
            "location": {"lat": 29.7499, "lon": -95.3584, "address": "2400 block of Rusk St"},
            "payload": {
                "plate": f"{plate[:3]}-{plate[3:]}",
                "plate_state": "TX",
                "camera_id": "flock-cam-112",
                "vehicle": {"make": "Nissan", "model": "Altima", "color": "grey"},
            },
            "notes": "Read 600 m from the homicide scene, 14 minutes after the shots.",
        },
        {
            "source": "social",
            "source_system": "sm-monitor",
            "source_event_id": f"{run}-post-0209",
            "occurred_at": "2026-02-09T18:05:00-06:00",
            "payload": {"platform": "instagram", "handle": f"@{handle}", "threat_category": "violence"},
        },
        {
            "source": "gunshot",
            "source_system": "shotspotter",
            "source_event_id": f"{run}-shot-0302",
            "occurred_at": "2026-03-02T01:12:00-06:00",
            "location": {"lat": 29.7512, "lon": -95.3551},
            "payload": {"rounds": 4},
        },
        {
            "source": "alpr",
            "source_system": "flock-houston",
            "source_event_id": f"{run}-read-0318",
            "occurred_at": "2026-03-18T03:02:00-05:00",
            "location": {"lat": 29.7391, "lon": -95.3402},
            "payload": {"plate": f"{plate[:3].lower()} {plate[3:]}", "plate_state": "tx", "camera_id": "flock-cam-207"},
        },
        {
            "source": "tip",
            "source_system": "crime-stoppers",
            "source_event_id": f"{run}-tip-0402",
            "occurred_at": "2026-04-02T10:30:00-05:00",
            "payload": {
                "narrative": f"The guy posting as {handle} drives a grey Altima, plate {plate}.",
                "subjects": [
                    {"type": "social_account", "platform": "Instagram", "handle": handle.upper()},
                    {"type": "vehicle", "plate": plate, "plate_state": "TX"},
                ],
            },
        },
    ]


def related_of(alert: dict) -> dict[str, set[str]]:
    return {record["id"]: {e["type"] for e in record["shared_entities"]} for record in alert["related"]}


@pytest.fixture
def told(gateway):
    """Open the streams, tell the story, and hand back everything a test needs."""
    plate, handle = f"K{uuid.uuid4().hex[:6].upper()}", f"grey_ghost_{uuid.uuid4().hex[:6]}"
    url = f"{gateway.url}/api/v1/stream"
    ours = EventStream(url, gateway.token("analyst", sub="ann", agency="TX0000000", unit="rtcc"))
    theirs = EventStream(url, gateway.token("analyst", sub="lou", agency="LA0000000", unit="rtcc"))
    alerts = []
    for body in story(plate, handle):
        response = gateway.post("/api/v1/alerts", json=body, roles=("source",))
        assert response.status_code == 201, response.text
        alerts.append(response.json())
    yield {"plate": plate, "handle": handle, "alerts": alerts, "ours": ours, "theirs": theirs}
    ours.close()
    theirs.close()


def test_the_story_gives_one_vehicle_and_the_expected_related_lists(gateway, told):
    january, february, gunshot, march, april = told["alerts"]
    assert january["related"] == [] and february["related"] == [] and gunshot["related"] == []
    assert related_of(march) == {january["id"]: {"vehicle"}}
    assert related_of(april) == {
        january["id"]: {"vehicle"},
        march["id"]: {"vehicle"},
        february["id"]: {"social_account"},
    }

    found = gateway.get("/api/v1/entities", params={"type": "vehicle", "q": told["plate"]}).json()["items"]
    assert [(e["key"], e["make"]) for e in found] == [(f"TX:{told['plate']}", "Nissan")]
    vehicle = gateway.get(f"/api/v1/entities/{found[0]['id']}").json()
    assert [s["record_id"] for s in vehicle["sightings"]] == [january["id"], march["id"], april["id"]]
    assert [a["id"] for a in vehicle["alerts"]] == [january["id"], march["id"], april["id"]]

    graph = gateway.get(f"/api/v1/entities/{vehicle['id']}/graph", params={"depth": 2}).json()
    node_ids = {node["id"] for node in graph["nodes"]}
    handle_id = next(e["id"] for e in april["entities"] if e["type"] == "social_account")
    assert {january["id"], march["id"], april["id"], handle_id, february["id"]} <= node_ids
    co = [e for e in graph["edges"] if e["kind"] == "co_occurrence"]
    assert co and co[0]["evidence"] == [{"record_type": "alert", "record_id": april["id"]}]


def test_the_story_streams_link_found_to_its_agency_and_resumes(gateway, told):
    january, february, _, march, april = told["alerts"]
    ours = told["ours"]

    def link_for(alert):
        return lambda event: event["event"] == "link_found" and event["data"]["alert_id"] == alert["id"]

    seen = ours.until(link_for(march))
    assert {e["data"]["alert_id"] for e in seen if e["event"] == "alert_received"} >= {january["id"], march["id"]}
    march_link = seen[-1]
    assert [r["id"] for r in march_link["data"]["related"]] == [january["id"]]
    april_link = ours.until(link_for(april))[-1]
    assert {r["id"] for r in april_link["data"]["related"]} == {january["id"], march["id"], february["id"]}
    assert "payload" not in seen[0]["data"]  # notices, not records

    resumed = EventStream(f"{gateway.url}/api/v1/stream", gateway.token("analyst"), last_event_id=march_link["id"])
    try:
        replayed = resumed.until(link_for(april))
    finally:
        resumed.close()
    assert all(int(e["id"]) > int(march_link["id"]) for e in replayed)
    assert replayed[-1]["id"] == april_link["id"]


def test_another_agency_sees_none_of_it(gateway, told):
    sentinel = story("Z" + uuid.uuid4().hex[:6].upper(), "sentinel")[2]
    created = gateway.post("/api/v1/alerts", json=sentinel, token=gateway.token("source", agency="LA0000000"))
    assert created.status_code == 201, created.text
    theirs = told["theirs"].until(lambda event: event["data"].get("alert_id") == created.json()["id"])
    ours = {alert["id"] for alert in told["alerts"]}
    assert not [event for event in theirs if event["data"].get("alert_id") in ours]


def test_the_stream_needs_a_staff_role(gateway):
    assert gateway.get("/api/v1/stream", roles=()).status_code == 401
    assert gateway.get("/api/v1/stream", roles=("source",)).status_code == 403
    assert gateway.get("/api/v1/stream", headers={"Last-Event-ID": "x"}).status_code == 400


def test_a_link_reaches_the_assignee_of_a_case_that_names_the_entity(gateway):
    """A detective links the vehicle to a case; the next read of the plate tells its assignee."""
    number = f"C{uuid.uuid4().hex[:6].upper()}"
    january = story(number, "unused")[0]
    first = gateway.post("/api/v1/alerts", json=january, roles=("source",)).json()
    vehicle_id = first["entities"][0]["id"]
    hal = gateway.token("detective", sub="hal", agency="TX0000000", unit="homicide")
    case = gateway.post("/api/v1/cases", token=hal, json={"title": "Rusk St homicide", "assignee": "dora"})
    assert case.status_code == 201, case.text
    case = case.json()
    body = {"entity_id": vehicle_id, "role": "vehicle_of_interest"}
    linked = gateway.post(f"/api/v1/cases/{case['id']}/entities", token=hal, json=body)
    assert linked.status_code == 200, linked.text
    related = gateway.get(f"/api/v1/cases/{case['id']}/related", token=hal).json()
    assert [r["id"] for r in related["alerts"]] == [first["id"]]

    url = f"{gateway.url}/api/v1/stream"
    dora = EventStream(url, gateway.token("detective", sub="dora", agency="TX0000000", unit="patrol"))
    ann = EventStream(url, gateway.token("analyst", sub="ann", agency="TX0000000", unit="rtcc"))
    try:
        march = story(number, "unused")[3]
        second = gateway.post("/api/v1/alerts", json=march, roles=("source",)).json()
        related = {(r["record_type"], r["id"]) for r in second["related"]}
        assert related == {("alert", first["id"])}  # a detection system reads no case
        seen_by_hal = gateway.get(f"/api/v1/alerts/{second['id']}", token=hal).json()["related"]
        assert {(r["record_type"], r["id"]) for r in seen_by_hal} == {("alert", first["id"]), ("case", case["id"])}

        def link(event):
            return event["event"] == "link_found" and event["data"]["alert_id"] == second["id"]

        to_dora = dora.until(link)[-1]["data"]["related"]
        to_ann = ann.until(link)[-1]["data"]["related"]
    finally:
        dora.close()
        ann.close()
    assert {r["id"] for r in to_dora} == {first["id"], case["id"]}
    assert {r["id"] for r in to_ann} == {first["id"]}  # not her unit's case, not assigned to her


def test_alert_assigned_reaches_the_agency_and_the_assignee_and_no_one_else(gateway):
    """``alert_assigned`` goes to the alert's agency and to its assignee, even in another agency."""
    url = f"{gateway.url}/api/v1/stream"
    ann = EventStream(url, gateway.token("analyst", sub="ann", agency="TX0000000", unit="rtcc"))
    lou = EventStream(url, gateway.token("analyst", sub="lou", agency="LA0000000", unit="rtcc"))
    lee = EventStream(url, gateway.token("analyst", sub="lee", agency="LA0000000", unit="rtcc"))
    try:
        alert = gateway.post(
            "/api/v1/alerts", json=story("A" + uuid.uuid4().hex[:6].upper(), "x")[0], roles=("source",)
        )
        alert_id = alert.json()["id"]
        assigned = gateway.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "lou"})
        assert assigned.status_code == 200, assigned.text

        def assignment(event):
            return event["event"] == "alert_assigned" and event["data"]["alert_id"] == alert_id

        for stream in (ann, lou):
            event = stream.until(assignment)[-1]["data"]
            assert event["assignee"] == "lou" and event["assigned_by"] == "tester"
        sentinel = story("Z" + uuid.uuid4().hex[:6].upper(), "sentinel")[2]
        later = gateway.post("/api/v1/alerts", json=sentinel, token=gateway.token("source", agency="LA0000000"))
        seen = lee.until(lambda event: event["data"].get("alert_id") == later.json()["id"])
        assert not [event for event in seen if event["data"].get("alert_id") == alert_id]
    finally:
        for stream in (ann, lou, lee):
            stream.close()
