"""Plate readers' own posts through the gateway and the real stack (issue #21): a Rekor agent's reads
and hits, a Verkada site's and a Plate Recognizer Stream box's reads are stored once, refused with the
vendor's field named, searchable by plate and state, and kept by the agency state's retention profile.

The bodies are the unit tests' (tests/unit/test_vendor_adapters.py), built from the vendors' published
field lists. The agency is in Maine (ORI ``ME...``): its ALPR reads are kept 21 days (C19).
"""

import base64
import copy
import hashlib
from datetime import datetime, timedelta

import pytest

from tests.polling import eventually
from tests.unit import test_vendor_adapters as vendors

MAINE = "ME0100000"
READERS = ["rekor", "verkada", "platerecognizer"]


def post(gateway, name: str, body: dict):
    token = gateway.token("source", sub=f"{name}-reader", agency=MAINE)
    return gateway.post(f"/api/v1/alerts/vendors/{vendors.vendor_format(name)}", token=token, json=body)


def read_alert(gateway, alert_id: str) -> dict:
    response = gateway.get(f"/api/v1/alerts/{alert_id}", token=gateway.token("analyst", agency=MAINE))
    assert response.status_code == 200, response.text
    return response.json()


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize("name", READERS)
def test_C19_a_read_is_stored_once_with_no_triage_deadline_and_its_states_retention(gateway, name):
    body = vendors.fresh(name)
    created = post(gateway, name, body)
    assert created.status_code == 201, created.text
    alert = created.json()
    again = post(gateway, name, body)
    assert again.status_code == 200 and again.json()["id"] == alert["id"]
    stored = read_alert(gateway, alert["id"])
    assert stored["source"] == "alpr" and "hotlist" not in stored["payload"]
    assert stored["record_class"] == "sensor" and stored.get("triage_due") is None
    assert at(stored["purge_after"]) == at(stored["occurred_at"]) + timedelta(days=21)


@pytest.mark.parametrize("name,state", [("rekor", "TX"), ("verkada", "CA"), ("platerecognizer", "TX")])
def test_a_read_is_found_by_its_plate_and_state(gateway, name, state):
    alert = post(gateway, name, vendors.fresh(name)).json()
    plate = alert["payload"]["plate"]
    token = gateway.token("analyst", agency=MAINE)

    def found():
        response = gateway.get(
            "/api/v1/search/plates", token=token, params={"plate": plate, "state": state, "purpose": "vendor test"}
        )
        assert response.status_code == 200, response.text
        items = [item for item in response.json()["items"] if item["sightings"]]
        return items or None

    [hit] = eventually(found)
    assert (hit["entity"]["plate"], hit["entity"]["plate_state"], hit["ambiguous"]) == (plate, state, False)
    assert [s["record_id"] for s in hit["sightings"]] == [alert["id"]]


def test_a_rekor_hit_after_its_read_is_stored_as_a_hit(gateway):
    """The agent posts a vehicle's alpr_group and, when it matched an alert list, an alpr_alert for the
    same group moments later: the hit must not be folded into the read as a repeat sighting."""
    read_body = vendors.fresh("rekor")
    window_ms = 120_000  # NEAR_DUPLICATE_SECONDS: the read and its hit fall in one near-duplicate window
    read_body["epoch_start"] = read_body["epoch_start"] // window_ms * window_ms + 1000
    hit_body = copy.deepcopy(vendors.REKOR_ALERT)
    hit_body["group"] = {k: v for k, v in read_body.items() if k not in ("data_type", "version")}
    hit_body["epoch_time"] = read_body["epoch_start"] + 3000
    read = post(gateway, "rekor", read_body)
    hit = post(gateway, "rekor_alert", hit_body)
    assert (read.status_code, hit.status_code) == (201, 201), hit.text
    stored = read_alert(gateway, hit.json()["id"])
    assert stored["id"] != read.json()["id"] and stored["payload"]["hotlist"] == "Stolen Vehicles"
    assert stored["priority"] == "high" and stored.get("triage_due") and stored.get("purge_after") is None
    assert read_alert(gateway, read.json()["id"])["repeats"] == []
    again = post(gateway, "rekor_alert", hit_body)
    assert again.status_code == 200 and again.json()["id"] == stored["id"]


def test_image_crops_are_stored_as_their_sha256_never_as_text(gateway):
    body = vendors.fresh("rekor")
    alert = post(gateway, "rekor", body).json()
    stored = read_alert(gateway, alert["id"])
    crop = stored["source_payload"]["vehicle_crop_jpeg"]
    assert crop == {
        "sha256": hashlib.sha256(base64.b64decode(body["vehicle_crop_jpeg"])).hexdigest(),
        "bytes": len(vendors.VEHICLE_JPEG),
    }
    assert body["vehicle_crop_jpeg"] not in str(stored)
    assert body["best_plate"]["plate_crop_jpeg"] not in str(stored)


@pytest.mark.parametrize(
    "name,path,value",
    [
        ("rekor", "best_plate_number", None),
        ("rekor_alert", "group.camera_id", "cam"),
        ("verkada", "data.license_plate_number", None),
        ("platerecognizer", "data.results.0.plate", None),
        ("rekor", "vehicle_crop_jpeg", "not base64!"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_vendors_field_and_stores_nothing(gateway, name, path, value):
    valid = vendors.fresh(name)
    bad = vendors._edit(valid, path, value, delete=value is None)
    refused = post(gateway, name, bad)
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert vendors._error_at(refused.json()["errors"], path)
    assert post(gateway, name, valid).status_code == 201


@pytest.mark.parametrize("name", ["verkada", "platerecognizer"])
def test_a_camera_the_agency_has_not_placed_is_a_422_naming_the_vendors_camera_field(gateway, name):
    body = vendors._edit(vendors.fresh(name), "data.camera_id", "camera-nobody-placed")
    refused = post(gateway, name, body)
    assert refused.status_code == 422, refused.text
    assert "VENDOR_CAMERAS" in refused.json()["errors"]["data"]["camera_id"][0]


def test_each_plate_of_a_stream_frame_is_stored_as_a_read_of_its_own(gateway):
    body = vendors.fresh("platerecognizer")
    second = {**body["data"]["results"][0], "plate": vendors.fresh("platerecognizer")["data"]["results"][0]["plate"]}
    body["data"]["results"].append(second)
    created = post(gateway, "platerecognizer", body)
    assert created.status_code == 201, created.text
    alerts = created.json()["alerts"]
    assert [a["payload"]["plate"] for a in alerts] == [r["plate"].upper() for r in body["data"]["results"]]
    again = post(gateway, "platerecognizer", body)
    assert again.status_code == 200 and [a["id"] for a in again.json()["alerts"]] == [a["id"] for a in alerts]


@pytest.mark.parametrize(
    "name,body",
    [
        ("rekor", {"data_type": "heartbeat", "agent_uid": vendors.AGENT, "video_streams": []}),
        ("platerecognizer", {"hook": {"event": "heartbeat", "id": "north-gate"}, "data": {}}),
    ],
)
def test_a_readers_heartbeat_is_answered_202_and_stores_nothing(gateway, name, body):
    answer = post(gateway, name, body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["alerts"] == [] and "heartbeat" in answer.json()["detail"]


def test_the_openapi_document_lists_the_readers_endpoints(gateway):
    paths = gateway.get("/api/v1/openapi.json", token="").json()["paths"]
    for name in READERS:
        operation = paths[f"/api/v1/alerts/vendors/{name}"]["post"]
        assert {"201", "200", "202", "422"} <= set(operation["responses"])


def test_a_plate_read_again_later_is_connected_to_its_earlier_read(gateway):
    """Every read lands in the entity database, so a plate a reader sees again is connected to the
    earlier read automatically, hit or no hit."""
    later = vendors.fresh("rekor")
    earlier = vendors.fresh("rekor")
    earlier.update(best_plate_number=later["best_plate_number"], epoch_start=later["epoch_start"] - 600_000)
    first = post(gateway, "rekor", earlier)
    assert first.status_code == 201, first.text
    second = post(gateway, "rekor", later)
    assert second.status_code == 201, second.text

    def related() -> bool:
        return first.json()["id"] in [r["id"] for r in read_alert(gateway, second.json()["id"])["related"]]

    assert eventually(related)
