"""Each vendor adapter: valid bodies map to valid alerts; every required field, wrong type and
oversized value is named in the vendor's own terms; extras are kept in ``source_payload``.

The Rekor, Verkada and Plate Recognizer bodies are built from the vendors' published field lists
(docs/vendor-formats.md names each document), with values of our own; Flock, ShotSpotter and NCIC
are modelled on Casewire's own examples, as the doc says.
"""

import base64
import copy
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from casewire.alerts import load_alert
from casewire.vendors import FORMATS, NothingToStore, VendorSettings, adapt, settings_from_config
from services.intake.deadlines import TriageDeadlines
from services.intake.ingest import alert_id_of, new_document
from services.intake.retention import RetentionPolicy

VEHICLE_JPEG = b"\xff\xd8\xff\xe0vehicle crop" + bytes(range(256))
PLATE_JPEG = b"\xff\xd8\xff\xe0plate crop" + bytes(range(64))
AGENT = "A7F2C4E9B1D8A3F6C2E5B9D4A8F1C7E3B6D2A9F5"

# OpenALPR's "JSON Group Results" (openalpr/doc source/app_integration.include, the same as Rekor Scout's
# docs.rekor.ai/scout/application-integration/json-group-results); web_server_config as integrators show it.
REKOR = {
    "data_type": "alpr_group",
    "version": 2,
    "agent_type": "alprd",
    "agent_uid": AGENT,
    "agent_version": "4.1.1",
    "company_id": "0b6f0f7e-93a7-4ea4-9d3e-3f6c1d1a2b3c",
    "camera_id": 1402957,
    "country": "us",
    "epoch_start": 1767672840120,
    "epoch_end": 1767672843310,
    "frame_start": 1181,
    "frame_end": 1252,
    "uuids": [f"{AGENT}-1402957-1767672840120", f"{AGENT}-1402957-1767672841064"],
    "plate_indexes": [0, 0],
    "best_uuid": f"{AGENT}-1402957-1767672841064",
    "best_plate_number": "KGT4471",
    "best_confidence": 91.62,
    "best_region": "us-tx",
    "best_region_confidence": 88.1,
    "best_image_width": 1920,
    "best_image_height": 1080,
    "matches_template": True,
    "is_parked": False,
    "travel_direction": 92.4,
    "gps_latitude": 29.7499,
    "gps_longitude": -95.3584,
    "candidates": [{"plate": "KGT4471", "confidence": 91.62, "matches_template": 1}],
    "vehicle_crop_jpeg": base64.b64encode(VEHICLE_JPEG).decode(),
    "best_plate": {
        "plate": "KGT4471",
        "confidence": 91.62,
        "region": "us-tx",
        "region_confidence": 88,
        "matches_template": 1,
        "plate_index": 0,
        "processing_time_ms": 41.3,
        "requested_topn": 10,
        "plate_crop_jpeg": base64.b64encode(PLATE_JPEG).decode(),
        "coordinates": [{"x": 812, "y": 540}, {"x": 951, "y": 543}, {"x": 950, "y": 611}, {"x": 810, "y": 608}],
        "vehicle_region": {"x": 600, "y": 200, "width": 640, "height": 640},
        "candidates": [{"plate": "KGT4471", "confidence": 91.62, "matches_template": 1}],
    },
    "vehicle": {
        "color": [{"name": "silver-gray", "confidence": 71.2}, {"name": "white", "confidence": 12.4}],
        "make": [{"name": "nissan", "confidence": 64.0}, {"name": "toyota", "confidence": 9.1}],
        "make_model": [{"name": "nissan_altima", "confidence": 52.3}],
        "body_type": [{"name": "sedan-standard", "confidence": 80.5}],
        "year": [{"name": "2015-2019", "confidence": 44.0}],
        "orientation": [{"name": "180", "confidence": 90.1}],
    },
    "web_server_config": {"camera_label": "Rusk St EB", "agent_label": "Precinct 4 pole 12"},
}

# Rekor's "Alert Results" webhook (help.rekor.ai, "receive data ... from Rekor Scout using webhooks"):
# its top-level fields, and the matching plate group in "group".
REKOR_ALERT = {
    "data_type": "alpr_alert",
    "version": 1,
    "agent_uid": AGENT,
    "epoch_time": 1767672843990,
    "alert_list": "Stolen Vehicles",
    "list_type": "Blacklist",
    "description": "Reported stolen 2026-01-02",
    "site_name": "Precinct 4",
    "camera_name": "Rusk St EB",
    "camera_number": 1402957,
    "plate_number": "KGT4471",
    "group": {key: value for key, value in REKOR.items() if key not in ("data_type", "version")},
}

# Verkada's "LPR Webhook Object" (apidocs.verkada.com/reference/lpr): its attribute table and the
# newer sample, which adds data.detected (milliseconds), data.crop and data.license_plate_state.
VERKADA = {
    "webhook_type": "lpr",
    "webhook_id": "5b1e2c9a-1d7f-4f61-9a0c-7a3b8e2d4c11",
    "org_id": "e3b0c442-98fc-4c14-9afb-f4c8996fb924",
    "created_at": 1767672845,
    "data": {
        "camera_id": "2f7c1e4a-6b8d-4e3f-a1c9-5d0e7b2a9f38",
        "created": 1767672844,
        "detected": 1767672844512,
        "license_plate_number": "8ABC123",
        "license_plate_state": "us-ca",
        "confidence": 0.9412,
        "crop": [0.412, 0.447, 0.611, 0.652],
        "image_url": "https://verkada-lpr.example.invalid/crops/8ABC123.jpg",
    },
}

# Plate Recognizer Stream's webhook (guides.platerecognizer.com/docs/stream/results; the sample body
# its engineers publish, and the field types of parkpow/deep-license-plate-recognition's webhook preview).
PLATE_RECOGNIZER = {
    "hook": {
        "target": "https://casewire.example.invalid/api/v1/alerts/vendors/platerecognizer",
        "id": "north-gate",
        "event": "recognition",
        "filename": "north-gate_screenshots/26-01-06/04-14-00.250000.jpg",
    },
    "data": {
        "camera_id": "north-gate",
        "filename": "north-gate_screenshots/26-01-06/04-14-00.250000.jpg",
        "timestamp": "2026-01-06T04:14:00.250000Z",
        "timestamp_local": "2026-01-05 22:14:00.250000-06:00",
        "timestamp_camera": None,
        "results": [
            {
                "plate": "kgt4471",
                "score": 0.902,
                "dscore": 0.771,
                "box": {"xmin": 611, "ymin": 402, "xmax": 733, "ymax": 441},
                "region": {"code": "us-tx", "score": 0.834},
                "candidates": [{"plate": "kgt4471", "score": 0.902}, {"plate": "kgt447i", "score": 0.611}],
                "vehicle": {"type": "Sedan", "score": 0.81, "box": {"xmin": 402, "ymin": 8, "xmax": 980, "ymax": 610}},
                "model_make": [{"make": "Nissan", "model": "Altima", "score": 0.42}],
                "color": [{"color": "silver", "score": 0.66}, {"color": "white", "score": 0.12}],
                "orientation": [{"orientation": "Rear", "score": 0.91}],
                "direction": 184,
                "speed": None,
                "source_url": "rtsp://192.0.2.10:554/stream1",
                "position_sec": 4.0,
                "user_data": "",
            }
        ],
    },
}

FLOCK = {
    "id": "f-1",
    "timestamp": "2026-01-05T22:14:00-06:00",
    "label": "KGT4471",
    "confidence": 0.975,
    "state": "TX",
    "device": {"id": "flock-cam-112", "name": "Rusk St EB", "latitude": 29.7499, "longitude": -95.3584},
    "network": {"name": "Houston PD"},
    "hotlist": "stolen",
    "vehicle_make": "Nissan",
    "vehicle_color": "grey",
    "speed": 31,
}
SHOTSPOTTER = {
    "id": "ss-501",
    "datetime": "2026-03-02T01:12:00-06:00",
    "rounds": 4,
    "type": "Multiple_Gunshots",
    "latitude": 29.7512,
    "longitude": -95.3551,
    "beat": "10H20",
}
NCIC = {
    "hit_id": "n-1",
    "hit_time": "2026-02-01T10:00:00Z",
    "plate": "XYZ987",
    "state": "TX",
    "list_type": "V",
    "nic": "V123456789",
    "ori": "TX1010000",
    "camera_id": "cam-7",
    "location": {"lat": 29.7, "lon": -95.3},
}

VALID = {
    "rekor": REKOR,
    "rekor_alert": REKOR_ALERT,
    "verkada": VERKADA,
    "platerecognizer": PLATE_RECOGNIZER,
    "flock": FLOCK,
    "shotspotter": SHOTSPOTTER,
    "ncic": NCIC,
}
"""Each body by name; a name is its endpoint's format, but for ``rekor_alert`` (:data:`FORMAT_OF`)."""
FORMAT_OF = {"rekor_alert": "rekor"}

# Where the cameras of vendors that send no position stand: the agency's VENDOR_CAMERAS.
CAMERAS = {
    "verkada": {VERKADA["data"]["camera_id"]: {"lat": 34.0522, "lon": -118.2437, "label": "Lot B exit"}},
    "platerecognizer": {"north-gate": {"lat": 29.7604, "lon": -95.3698, "label": "North gate"}},
    "rekor": {f"{AGENT}-1402957": {"lat": 29.75, "lon": -95.36, "label": "Rusk St pole"}},
}
SETTINGS = VendorSettings(CAMERAS)

REQUIRED = {
    "rekor": ["data_type", "agent_uid", "camera_id", "epoch_start", "best_plate_number"],
    "rekor_alert": ["data_type", "agent_uid", "epoch_time", "alert_list", "group", "group.camera_id",
                    "group.best_plate_number"],
    "verkada": ["webhook_type", "org_id", "data", "data.camera_id", "data.created", "data.license_plate_number"],
    "platerecognizer": ["hook", "hook.event", "data", "data.camera_id", "data.timestamp", "data.results",
                        "data.results.0.plate"],
    "flock": ["id", "timestamp", "label", "confidence", "device", "network", "device.name", "device.latitude",
              "device.longitude", "network.name"],
    "shotspotter": ["id", "datetime", "rounds", "type", "latitude", "longitude"],
    "ncic": ["hit_id", "hit_time", "plate", "state", "list_type"],
}  # fmt: skip
WRONG_TYPES = {
    "rekor": {"epoch_start": "yesterday", "camera_id": "cam", "vehicle": "red", "vehicle.make.0.confidence": "high",
              "vehicle_crop_jpeg": "not*base64!", "best_plate.plate_crop_jpeg": 7, "data_type": "alpr_grope"},
    "rekor_alert": {"epoch_time": "yesterday", "group.camera_id": "cam", "group.vehicle": "red",
                    "group.vehicle_crop_jpeg": "%%%"},
    "verkada": {"webhook_type": "notification", "data.created": "now", "data.confidence": "sure",
                "data.camera_id": 7},
    "platerecognizer": {"data.timestamp": "2026-01-06", "data.results": {"plate": "x"}, "data.results.0.score": "hi",
                        "data.results.0.region": "us-tx"},
    "flock": {"confidence": "high", "timestamp": 5, "device.latitude": "north"},
    "shotspotter": {"rounds": "four", "latitude": [1], "datetime": "2026-03-02"},
    "ncic": {"list_type": "Q", "plate": 7, "location": "here"},
}  # fmt: skip
OVERSIZED = {
    "rekor": {"best_plate_number": "P" * 13, "best_confidence": 101, "gps_latitude": 91, "best_region": "u-" + "x" * 9},
    "rekor_alert": {"alert_list": "L" * 101, "group.best_plate_number": "P" * 13, "group.best_uuid": "u" * 91},
    "verkada": {"data.license_plate_number": "P" * 13, "data.confidence": 1.5, "data.license_plate_state": "x" * 11},
    "platerecognizer": {"data.results.0.plate": "P" * 13, "data.results.0.score": 2, "data.results": [],
                        "data.camera_id": "c" * 201},
    "flock": {"label": "X" * 13, "confidence": 1.5, "image_url": "https://x.invalid/" + "a" * 2000},
    "shotspotter": {"rounds": 5000, "address": "A" * 301, "sensors": ["s"] * 101},
    "ncic": {"ori": "TX10100001", "state": "TEXAS", "nic": "N" * 16},
}  # fmt: skip


def vendor_format(name: str) -> str:
    return FORMAT_OF.get(name, name)


def fresh(name: str) -> dict:
    """A valid body with new event ids and a plate no other test reads, so each call stores a new
    alert (and no other test's read of the same plate at the same camera is folded into it)."""
    body = copy.deepcopy(VALID[name])
    plate, new = f"V{uuid.uuid4().hex[:6].upper()}", uuid.uuid4().hex
    now_ms = int(datetime.now(UTC).timestamp() * 1000)  # a read of today: its retention has not run out
    if name in ("rekor", "rekor_alert"):
        group = body if name == "rekor" else body["group"]
        group.update(best_uuid=f"{AGENT}-1402957-{new[:13]}", best_plate_number=plate, epoch_start=now_ms)
        if name == "rekor_alert":
            body["epoch_time"] = now_ms + 3000
    elif name == "verkada":
        body["data"].update(license_plate_number=plate, detected=now_ms)
    elif name == "platerecognizer":
        body["data"]["timestamp"] = datetime.now(UTC).isoformat()
        body["data"]["results"][0]["plate"] = plate.lower()
    elif name == "ncic":
        body.update(hit_id=new, plate=plate)
    else:
        body.update(id=new, **({"label": plate} if name == "flock" else {}))
    return body


def adapt_one(name: str, body: dict | None = None, settings: VendorSettings = SETTINGS) -> dict:
    [alert] = adapt(vendor_format(name), VALID[name] if body is None else body, settings)
    return alert


def _edit(body: dict, path: str, value=None, delete=False) -> dict:
    body = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if delete:
        del target[int(leaf) if isinstance(target, list) else leaf]
    else:
        target[int(leaf) if isinstance(target, list) else leaf] = value
    return body


def _error_at(messages, path: str):
    """What ``messages`` (errors, or an alert's fields) holds at ``path``; a list item's errors are keyed
    by its index as an integer, a kept list's items by their position."""
    for part in path.split("."):
        numbered = part.isdigit() and (isinstance(messages, list) or int(part) in messages)
        messages = messages[int(part)] if numbered else messages[part]
    return messages


@pytest.mark.parametrize("name", VALID)
def test_a_valid_body_maps_to_valid_alerts(name):
    for raw in adapt(vendor_format(name), VALID[name], SETTINGS):
        alert = load_alert(raw)
        assert alert["source_payload"]["format"] == vendor_format(name)
        assert alert["occurred_at"].tzinfo is not None


def test_every_endpoint_has_a_body_here():
    assert {vendor_format(name) for name in VALID} == set(FORMATS)


@pytest.mark.parametrize("name,path", [(v, p) for v, paths in REQUIRED.items() for p in paths])
def test_each_required_field_is_named_when_missing(name, path):
    with pytest.raises(ValidationError) as error:
        adapt(vendor_format(name), _edit(VALID[name], path, delete=True), SETTINGS)
    assert _error_at(error.value.messages, path)


@pytest.mark.parametrize("name,path,value", [(v, p, x) for v, d in WRONG_TYPES.items() for p, x in d.items()])
def test_wrong_types_are_named(name, path, value):
    with pytest.raises(ValidationError) as error:
        adapt(vendor_format(name), _edit(VALID[name], path, value), SETTINGS)
    assert _error_at(error.value.messages, path)


@pytest.mark.parametrize("name,path,value", [(v, p, x) for v, d in OVERSIZED.items() for p, x in d.items()])
def test_oversized_values_are_named(name, path, value):
    with pytest.raises(ValidationError) as error:
        adapt(vendor_format(name), _edit(VALID[name], path, value), SETTINGS)
    assert _error_at(error.value.messages, path)


def test_an_unknown_format_is_named():
    with pytest.raises(ValidationError) as error:
        adapt("acme", {})
    assert "format" in error.value.messages


# -- reads and hits -------------------------------------------------------------------------------

NOW = datetime(2026, 1, 6, 5, 0, tzinfo=UTC)
MAINE = {"actor": {"id": "agent", "agency": "ME0100000", "roles": ["source"]}, "unit": "rtcc"}
POLICY = RetentionPolicy(365, {"ME": "21d"}, None)


def stored(raw: dict) -> dict:
    """The document intake would store for this submission from a Maine agency."""
    return new_document("alert-1", load_alert(raw), MAINE, NOW, POLICY, TriageDeadlines.from_config({}))


@pytest.mark.parametrize("name", ["rekor", "verkada", "platerecognizer"])
def test_C19_a_read_without_a_hit_has_no_triage_deadline_and_its_states_retention(name):
    doc = stored(adapt_one(name))
    assert "hotlist" not in doc["payload"] and TriageDeadlines.kind(doc) == "alpr_read"
    assert "triage_due" not in doc and doc["record_class"] == "sensor"
    assert doc["retention"] == {"rule": "C19", "jurisdiction": "ME"}
    assert doc["purge_after"] == doc["occurred_at"] + timedelta(days=21)


def test_a_vehicles_read_and_its_hit_are_alerts_apart_in_intake():
    """The agent posts both within seconds: near-duplicate folding must not make the hit a repeat of the read."""
    read, hit = load_alert(adapt_one("rekor")), load_alert(adapt_one("rekor_alert"))
    window = timedelta(seconds=120)
    assert abs(hit["occurred_at"] - read["occurred_at"]) < window
    assert alert_id_of(read, MAINE["actor"]["agency"], window) != alert_id_of(hit, MAINE["actor"]["agency"], window)
    assert alert_id_of(read, "ME0100000", window) == alert_id_of({**read, "source_event_id": "x"}, "ME0100000", window)


def test_a_rekor_alert_is_a_hit_with_its_alert_list_and_no_retention_deadline():
    doc = stored(adapt_one("rekor_alert"))
    assert doc["payload"]["hotlist"] == "Stolen Vehicles"
    assert doc["payload"]["hotlist_reason"] == "Reported stolen 2026-01-02"
    assert doc["priority"] == "high" and TriageDeadlines.kind(doc) == "alpr"
    assert doc["triage_due"] == NOW + timedelta(minutes=5) and "purge_after" not in doc


# -- Rekor / OpenALPR -------------------------------------------------------------------------------


def test_rekor_alpr_group_mapping():
    alert = load_alert(adapt_one("rekor"))
    assert (alert["source"], alert["source_system"]) == ("alpr", f"rekor:{AGENT}")
    assert alert["source_event_id"] == REKOR["best_uuid"]
    assert alert["occurred_at"].isoformat() == "2026-01-06T04:14:00.120000+00:00"  # epoch_start
    assert alert["location"] == {"lat": 29.7499, "lon": -95.3584}
    payload = alert["payload"]
    assert (payload["plate"], payload["plate_state"], payload["camera_id"]) == ("KGT4471", "TX", "1402957")
    assert payload["confidence"] == 91.62
    assert payload["vehicle"] == {"make": "nissan", "model": "altima", "color": "silver-gray"}
    source = alert["source_payload"]
    assert (source["camera_label"], source["agent_label"]) == ("Rusk St EB", "Precinct 4 pole 12")
    assert source["vehicle"] == REKOR["vehicle"]  # every candidate list as the agent sent it
    assert source["uuids"] == REKOR["uuids"] and source["region"] == "us-tx"
    assert (source["travel_direction"], source["is_parked"]) == (92.4, False)
    assert source["best_plate"]["coordinates"] == REKOR["best_plate"]["coordinates"]


def test_a_rekor_group_without_a_best_uuid_keys_on_camera_and_epoch_start():
    alert = adapt_one("rekor", _edit(REKOR, "best_uuid", delete=True))
    assert alert["source_event_id"] == "1402957-1767672840120"


def test_a_make_model_of_another_make_names_no_model():
    body = _edit(REKOR, "vehicle.make_model", [{"name": "toyota_camry", "confidence": 40}])
    assert adapt_one("rekor", body)["payload"]["vehicle"] == {"make": "nissan", "color": "silver-gray"}


def test_a_group_and_its_hits_have_ids_of_their_own():
    """The agent posts the read and, for each alert list it matched, a hit: none may answer for another."""
    read, hit = adapt_one("rekor"), adapt_one("rekor_alert")
    other_list = adapt_one("rekor_alert", {**REKOR_ALERT, "alert_list": "Amber Alert"})
    ids = {read["source_event_id"], hit["source_event_id"], other_list["source_event_id"]}
    assert len(ids) == 3 and read["source_system"] == hit["source_system"]


def test_rekor_alpr_alert_mapping():
    alert = load_alert(adapt_one("rekor_alert"))
    assert alert["occurred_at"].isoformat() == "2026-01-06T04:14:03.990000+00:00"  # epoch_time
    source = alert["source_payload"]
    assert (source["data_type"], source["list_type"], source["site_name"]) == ("alpr_alert", "Blacklist", "Precinct 4")
    assert (source["camera_name"], source["camera_label"]) == ("Rusk St EB", "Rusk St EB")
    assert source["group"]["vehicle"] == REKOR["vehicle"] and source["group"]["is_parked"] is False
    assert (source["plate_number"], source["camera_number"]) == ("KGT4471", 1402957)


@pytest.mark.parametrize("kind", ["heartbeat", "alpr_results"])
def test_the_agents_other_posts_are_answered_and_not_stored(kind):
    with pytest.raises(NothingToStore, match=kind):
        adapt("rekor", {"data_type": kind, "agent_uid": AGENT, "video_streams": []}, SETTINGS)


@pytest.mark.parametrize("gps", [None, (0, 0)])
def test_a_group_without_a_position_takes_its_cameras_from_vendor_cameras(gps):
    body = copy.deepcopy(REKOR)
    del body["gps_latitude"], body["gps_longitude"]
    if gps:
        body.update(gps_latitude=gps[0], gps_longitude=gps[1])
    assert adapt_one("rekor", body)["location"] == {"lat": 29.75, "lon": -95.36}
    with pytest.raises(ValidationError) as error:
        adapt("rekor", body, VendorSettings())
    assert "VENDOR_CAMERAS.rekor" in error.value.messages["gps_latitude"][0]


NULLS = {
    "rekor": ["vehicle_crop_jpeg", "best_plate", "web_server_config", "vehicle", "best_region", "best_uuid"],
    "rekor_alert": ["description", "camera_name", "group.best_plate.plate_crop_jpeg", "group.vehicle.make"],
    "verkada": ["data.license_plate_state", "data.image_url", "data.detected", "data.confidence", "webhook_id"],
    "platerecognizer": ["data.results.0.region", "data.results.0.model_make", "data.results.0.score", "hook.id"],
}


@pytest.mark.parametrize("name,path", [(n, p) for n, paths in NULLS.items() for p in paths])
def test_an_optional_field_sent_as_null_is_read_as_absent(name, path):
    alert = load_alert(adapt_one(name, _edit(VALID[name], path, None)))
    assert alert["payload"]["plate"] and "None" not in json.dumps(alert["payload"], default=str)


# -- image crops ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,at", [("rekor", ""), ("rekor_alert", "group.")])
def test_image_crops_are_kept_as_their_sha256_and_size_never_as_text(name, at):
    alert = load_alert(adapt_one(name))
    text = json.dumps(alert, default=str)
    assert REKOR["vehicle_crop_jpeg"] not in text and REKOR["best_plate"]["plate_crop_jpeg"] not in text
    source = alert["source_payload"]
    vehicle_crop = _error_at(source, f"{at}vehicle_crop_jpeg")
    plate_crop = _error_at(source, f"{at}best_plate.plate_crop_jpeg")
    assert vehicle_crop == {"sha256": hashlib.sha256(VEHICLE_JPEG).hexdigest(), "bytes": len(VEHICLE_JPEG)}
    assert plate_crop == {"sha256": hashlib.sha256(PLATE_JPEG).hexdigest(), "bytes": len(PLATE_JPEG)}


def test_a_crop_split_over_lines_is_still_read():
    text = REKOR["vehicle_crop_jpeg"]
    body = {**REKOR, "vehicle_crop_jpeg": "\n".join(text[i : i + 76] for i in range(0, len(text), 76))}
    assert adapt_one("rekor", body)["source_payload"]["vehicle_crop_jpeg"]["bytes"] == len(VEHICLE_JPEG)


# -- Verkada ----------------------------------------------------------------------------------------


def test_verkada_lpr_mapping():
    alert = load_alert(adapt_one("verkada"))
    data = VERKADA["data"]
    assert alert["source_system"] == f"verkada:{VERKADA['org_id']}"
    assert alert["source_event_id"] == f"{data['camera_id']}-1767672844512-8ABC123"
    assert alert["occurred_at"].isoformat() == "2026-01-06T04:14:04.512000+00:00"  # data.detected
    assert alert["location"] == {"lat": 34.0522, "lon": -118.2437}
    payload = alert["payload"]
    assert (payload["plate"], payload["plate_state"], payload["camera_id"]) == ("8ABC123", "CA", data["camera_id"])
    assert payload["confidence"] == 94.12 and payload["image_url"] == data["image_url"]
    source = alert["source_payload"]
    assert source["camera_label"] == "Lot B exit" and source["data"]["license_plate_state"] == "us-ca"
    assert source["data"]["crop"] == data["crop"] and source["webhook_id"] == VERKADA["webhook_id"]


def test_an_older_verkada_post_is_timed_by_data_created():
    body = _edit(VERKADA, "data.detected", delete=True)
    alert = adapt_one("verkada", body)
    assert alert["occurred_at"] == "2026-01-06T04:14:04+00:00"
    assert alert["source_event_id"].endswith("-1767672844000-8ABC123")


def test_a_verkada_image_placeholder_is_kept_aside_not_as_the_alerts_image():
    alert = adapt_one("verkada", _edit(VERKADA, "data.image_url", "IMAGE_URL"))
    assert "image_url" not in alert["payload"] and alert["source_payload"]["data"]["image_url"] == "IMAGE_URL"


@pytest.mark.parametrize("name", ["verkada", "platerecognizer"])
def test_a_camera_without_a_position_is_a_422_naming_the_vendors_camera_field(name):
    with pytest.raises(ValidationError) as error:
        adapt(name, VALID[name], VendorSettings())
    assert f"VENDOR_CAMERAS.{name}" in error.value.messages["data"]["camera_id"][0]


# -- Plate Recognizer Stream -------------------------------------------------------------------------


def test_plate_recognizer_stream_mapping():
    alert = load_alert(adapt_one("platerecognizer"))
    assert (alert["source_system"], alert["source_event_id"]) == (
        "platerecognizer-stream",
        "north-gate-2026-01-06T04:14:00.250000+00:00-KGT4471",
    )
    assert alert["location"] == {"lat": 29.7604, "lon": -95.3698}
    payload = alert["payload"]
    assert (payload["plate"], payload["plate_state"], payload["camera_id"]) == ("KGT4471", "TX", "north-gate")
    assert payload["confidence"] == 90.2
    assert payload["vehicle"] == {"make": "Nissan", "model": "Altima", "color": "silver"}
    source = alert["source_payload"]
    assert source["camera_label"] == "North gate" and source["hook"]["event"] == "recognition"
    assert source["data"]["timestamp_local"] == "2026-01-05 22:14:00.250000-06:00"
    assert source["result"]["candidates"][1] == {"plate": "kgt447i", "score": 0.611}
    assert source["result"]["direction"] == 184 and source["result"]["vehicle"]["type"] == "Sedan"


def test_each_plate_of_a_stream_frame_is_a_read_of_its_own():
    second = {"plate": "ABC1234", "score": 0.8, "region": {"code": "", "score": 0.1}}
    body = copy.deepcopy(PLATE_RECOGNIZER)
    body["data"]["results"].append(second)
    first, other = adapt("platerecognizer", body, SETTINGS)
    assert (first["payload"]["plate"], other["payload"]["plate"]) == ("KGT4471", "ABC1234")
    assert first["source_event_id"] != other["source_event_id"] and "plate_state" not in other["payload"]
    assert other["source_payload"]["result"] == second


def test_stream_events_other_than_recognition_are_answered_and_not_stored():
    with pytest.raises(NothingToStore, match="heartbeat"):
        adapt("platerecognizer", {"hook": {"event": "heartbeat", "id": "north-gate"}, "data": {}}, SETTINGS)


@pytest.mark.parametrize("region,state", [("us-tx", "TX"), ("ca-qc", "QC"), ("gb", None), ("", None)])
def test_a_region_code_names_the_plates_state_or_province(region, state):
    body = _edit(PLATE_RECOGNIZER, "data.results.0.region.code", region)
    assert adapt_one("platerecognizer", body)["payload"].get("plate_state") == state


# -- VENDOR_CAMERAS ----------------------------------------------------------------------------------


def test_vendor_cameras_are_read_from_the_gateway_config():
    settings = settings_from_config({"VENDOR_CAMERAS": {"verkada": {1234: {"lat": 1, "lon": 2}}}})
    assert settings.cameras == {"verkada": {"1234": {"lat": 1.0, "lon": 2.0}}}
    assert settings_from_config({"VENDOR_CAMERAS": None}).cameras == {}


@pytest.mark.parametrize(
    "table,words",
    [
        ({"acme": {}}, "unknown vendor formats: acme"),
        ({"verkada": {"c1": {"lat": 91, "lon": 0}}}, "VENDOR_CAMERAS.verkada"),
        ({"verkada": {"c1": {"lat": 1}}}, "lon"),
        ("verkada", "must map vendor formats"),
    ],
)
def test_a_bad_vendor_cameras_table_is_refused_naming_what_is_wrong(table, words):
    with pytest.raises(ValueError, match=words):
        settings_from_config({"VENDOR_CAMERAS": table})


# -- Casewire-modelled formats -------------------------------------------------------------------------


def test_flock_read_mapping():
    alert = load_alert(adapt_one("flock"))
    assert (alert["source"], alert["source_system"], alert["source_event_id"]) == ("alpr", "flock", "f-1")
    assert alert["location"] == {"lat": 29.7499, "lon": -95.3584}
    assert alert["occurred_at"].isoformat() == "2026-01-06T04:14:00+00:00"
    payload = alert["payload"]
    assert (payload["plate"], payload["plate_state"], payload["camera_id"]) == ("KGT4471", "TX", "flock-cam-112")
    assert payload["confidence"] == 97.5 and payload["hotlist"] == "stolen"
    assert payload["vehicle"] == {"make": "Nissan", "color": "grey"}
    assert alert["source_payload"] == {
        "format": "flock",
        "device_name": "Rusk St EB",
        "network_name": "Houston PD",
        "speed": 31,
    }
    assert alert["priority"] == "high"


def test_flock_read_without_a_device_id_uses_the_device_name_as_camera():
    body = _edit(FLOCK, "device.id", delete=True)
    assert adapt_one("flock", body)["payload"]["camera_id"] == "Rusk St EB"


def test_shotspotter_mapping():
    alert = load_alert(adapt_one("shotspotter"))
    assert (alert["source"], alert["source_event_id"], alert["priority"]) == ("gunshot", "ss-501", "critical")
    assert alert["payload"] == {"rounds": 4, "incident_type": "multiple_gunshots"}
    assert alert["source_payload"] == {"format": "shotspotter", "vendor_type": "Multiple_Gunshots", "beat": "10H20"}


@pytest.mark.parametrize(
    "code,hit_type", [("V", "stolen_vehicle"), ("W", "wanted_person"), ("L", "stolen_plate"), ("M", "missing_person")]
)
def test_ncic_list_type_codes(code, hit_type):
    alert = load_alert(adapt_one("ncic", {**NCIC, "list_type": code}))
    assert alert["source"] == "database"
    assert alert["payload"]["system"] == "NCIC" and alert["payload"]["hit_type"] == hit_type
    assert alert["payload"]["subject"] == {"type": "vehicle", "plate": "XYZ987", "plate_state": "TX"}
    assert alert["payload"]["record_ref"] == "V123456789"
    assert alert["source_payload"]["list_type"] == code and alert["source_payload"]["camera_id"] == "cam-7"


def test_ncic_hit_without_a_location_is_still_an_alert():
    alert = load_alert(adapt_one("ncic", _edit(NCIC, "location", delete=True)))
    assert "location" not in alert


NESTED_EXTRAS = {
    "flock device": ("flock", "device.model", "Falcon"),
    "flock network": ("flock", "network.region", "south"),
    "rekor web server config": ("rekor", "web_server_config.site_label", "North"),
    "rekor vehicle candidate": ("rekor", "vehicle.color.0.rank", 1),
    "rekor alert group": ("rekor_alert", "group.travel_direction", 182.5),
    "rekor alert group vehicle": ("rekor_alert", "group.vehicle.make.0.rank", 1),
    "verkada data": ("verkada", "data.lane", "2"),
    "stream hook": ("platerecognizer", "hook.retries", 1),
    "stream data": ("platerecognizer", "data.site", "HQ"),
    "ncic location": ("ncic", "location.heading", 90),
}


@pytest.mark.parametrize("name,path,value", NESTED_EXTRAS.values(), ids=list(NESTED_EXTRAS))
def test_unknown_nested_vendor_fields_are_kept_under_their_path(name, path, value):
    alert = load_alert(adapt_one(name, _edit(VALID[name], path, value)))
    assert _error_at(alert["source_payload"], path) == value
