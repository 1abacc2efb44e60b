"""Entity reads, alert reads and list counts name only the records the caller may open (C3, C6).

One plate: read by this agency in the morning, named in another agency's tip, linked to a restricted
criminal intelligence case pending review in the narcotics unit, and read again by this agency. An
analyst of another unit sees the two reads and nothing of the tip or the case, not even the entities
reachable only through them; the case's own unit sees the case too.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_cases import PURPOSE_HEADERS
from tests.integration.test_cases import ci_fields
from tests.polling import eventually

TX, LA = "TX0000000", "LA0000000"


def read(plate: str, at: datetime) -> dict:
    return {
        "source": "alpr",
        "source_system": "flock-houston",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": at.isoformat(),
        "location": {"lat": 29.75, "lon": -95.36},
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": f"cam-{uuid.uuid4().hex[:6]}"},
    }


def tip(plate: str, handle: str, at: datetime) -> dict:
    return {
        "source": "tip",
        "source_system": "la-crime-stoppers",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": at.isoformat(),
        "payload": {
            "narrative": f"{handle} drives {plate}",
            "subjects": [
                {"type": "vehicle", "plate": plate, "plate_state": "TX"},
                {"type": "social_account", "platform": "instagram", "handle": handle},
            ],
        },
    }


@pytest.fixture(scope="module")
def world(gateway):
    """The plate's records, the hidden ones' ids, and two callers: an outsider and the case's unit."""
    plate, handle = f"V{uuid.uuid4().hex[:6].upper()}", f"h_{uuid.uuid4().hex[:8]}"
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    source = gateway.token("source", agency=TX)
    outsider = gateway.token("analyst", sub="ann", agency=TX, unit="rtcc")
    insider = gateway.token("detective", sub="dana", agency=TX, unit="narcotics")
    start = datetime.now(UTC)

    def post(body, token=source):
        response = gateway.post("/api/v1/alerts", json=body, token=token)
        assert response.status_code == 201, response.text
        return response.json()

    def count(alert_id, token):
        params = {"since": since, "limit": 500}
        page = gateway.get("/api/v1/alerts", token=token, params=params, headers=PURPOSE_HEADERS).json()
        return next((item["related_count"] for item in page["items"] if item["id"] == alert_id), None)  # not yet listed

    morning = post(read(plate, start - timedelta(hours=3)))
    vehicle_id = morning["entities"][0]["id"]
    theirs = post(tip(plate, handle, start - timedelta(hours=2)), token=gateway.token("source", agency=LA))
    handle_id = next(e["id"] for e in theirs["entities"] if e["type"] == "social_account")
    organization = gateway.post("/api/v1/entities", json={"type": "organization", "name": f"crew {handle}"}).json()
    case = gateway.post("/api/v1/cases", token=insider, json=ci_fields(sensitivity="restricted"))
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    for entity_id in (vehicle_id, organization["id"]):
        body = {"entity_id": entity_id, "role": "vehicle_of_interest"}
        linked = gateway.post(f"/api/v1/cases/{case_id}/entities", token=insider, json=body, headers=PURPOSE_HEADERS)
        assert linked.status_code == 200, linked.text
    # The list's counts are read from the search index: wait until it holds the case link.
    eventually(lambda: count(morning["id"], insider) == 1)
    counts_before = {"outsider": count(morning["id"], outsider), "insider": count(morning["id"], insider)}
    time.sleep(1.0)  # the second read comes after the case link: the link is one of its earlier sightings
    evening = post(read(plate, datetime.now(UTC) - timedelta(milliseconds=200)))
    return {
        "morning": morning,
        "evening": evening,
        "vehicle": vehicle_id,
        "hidden": {theirs["id"], case_id, handle_id, organization["id"]},
        "case": case_id,
        "organization": organization["id"],
        "outsider": outsider,
        "insider": insider,
        "count": count,
        "counts_before": counts_before,
    }


def test_C3_C6_an_entity_page_shows_an_outsider_neither_the_case_nor_the_other_agencys_alert(gateway, world):
    page = gateway.get(f"/api/v1/entities/{world['vehicle']}", token=world["outsider"]).json()
    ours = [world["morning"]["id"], world["evening"]["id"]]
    assert [a["id"] for a in page["alerts"]] == ours and page["cases"] == []
    assert [s["record_id"] for s in page["sightings"]] == ours

    inside = gateway.get(f"/api/v1/entities/{world['vehicle']}", token=world["insider"], headers=PURPOSE_HEADERS)
    assert [c["id"] for c in inside.json()["cases"]] == [world["case"]]
    assert [a["id"] for a in inside.json()["alerts"]] == ours  # the other agency's tip stays out for them too


def test_C3_C6_the_graph_drops_hidden_records_their_edges_and_what_only_they_reach(gateway, world):
    path = f"/api/v1/entities/{world['vehicle']}/graph"
    graph = gateway.get(path, token=world["outsider"], params={"depth": 2}).json()
    nodes = {node["id"] for node in graph["nodes"]}
    assert {world["vehicle"], world["morning"]["id"], world["evening"]["id"]} <= nodes
    assert not nodes & world["hidden"]
    assert all(edge["source"] in nodes and edge["target"] in nodes for edge in graph["edges"])

    inside = gateway.get(path, token=world["insider"], params={"depth": 2}, headers=PURPOSE_HEADERS).json()
    assert {world["case"], world["organization"]} <= {node["id"] for node in inside["nodes"]}


def test_an_alert_shows_each_entitys_earlier_sightings_that_the_caller_may_see(gateway, world):
    path = f"/api/v1/alerts/{world['evening']['id']}"
    alert = gateway.get(path, token=world["outsider"]).json()
    (vehicle,) = alert["entities"]
    assert [s["record_id"] for s in vehicle["earlier_sightings"]] == [world["morning"]["id"]]
    assert [r["id"] for r in alert["related"]] == [world["morning"]["id"]] and alert["related_cases"] == []

    inside = gateway.get(path, token=world["insider"], headers=PURPOSE_HEADERS).json()
    earlier = [s["record_id"] for s in inside["entities"][0]["earlier_sightings"]]
    assert earlier == [world["case"], world["morning"]["id"]]  # newest first


def test_an_alerts_related_count_grows_when_a_later_record_shares_its_entity_and_counts_what_you_see(gateway, world):
    assert world["counts_before"] == {"outsider": 0, "insider": 1}  # the case, for its unit only
    eventually(lambda: world["count"](world["morning"]["id"], world["insider"]) == 2)  # indexed
    assert world["count"](world["morning"]["id"], world["outsider"]) == 1  # the evening read


def test_C3_C6_the_submitter_is_answered_only_the_related_records_it_may_open(world):
    related = {(r["record_type"], r["id"]) for r in world["evening"]["related"]}
    assert ("alert", world["morning"]["id"]) in related
    assert not {record_id for _, record_id in related} & world["hidden"]
