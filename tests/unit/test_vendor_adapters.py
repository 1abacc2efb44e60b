"""Each vendor adapter: valid bodies map to valid alerts; every required field, wrong type and
oversized value is named in the vendor's own terms; extras are kept in ``source_payload``."""

import copy

import pytest
from marshmallow import ValidationError

from casewire.alerts import load_alert
from casewire.vendors import adapt

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
REKOR = {
    "data_type": "alpr_alert",
    "agent_uid": "agent-9",
    "epoch_time": 1767672840000,
    "alert_list": "Stolen Vehicles",
    "alert_list_id": 4,
    "description": "Reported stolen 2026-01-02",
    "group": {
        "best_uuid": "g-77",
        "best_plate_number": "ABC1234",
        "best_confidence": 91.2,
        "best_region": "us-tx",
        "camera_id": 1234,
        "gps_latitude": 29.76,
        "gps_longitude": -95.36,
        "vehicle": {"color": [{"name": "silver", "confidence": 80}], "make": [{"name": "toyota"}]},
        "travel_direction": 182.5,
    },
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
VALID = {"flock": FLOCK, "rekor": REKOR, "shotspotter": SHOTSPOTTER, "ncic": NCIC}

REQUIRED = {
    "flock": ["id", "timestamp", "label", "confidence", "device", "network", "device.name", "device.latitude",
              "device.longitude", "network.name"],
    "rekor": ["data_type", "agent_uid", "epoch_time", "alert_list", "group", "group.best_plate_number",
              "group.camera_id", "group.gps_latitude", "group.gps_longitude"],
    "shotspotter": ["id", "datetime", "rounds", "type", "latitude", "longitude"],
    "ncic": ["hit_id", "hit_time", "plate", "state", "list_type"],
}  # fmt: skip
WRONG_TYPES = {
    "flock": {"confidence": "high", "timestamp": 5, "device.latitude": "north"},
    "rekor": {"epoch_time": "yesterday", "group.camera_id": "cam", "group.vehicle": "red"},
    "shotspotter": {"rounds": "four", "latitude": [1], "datetime": "2026-03-02"},
    "ncic": {"list_type": "Q", "plate": 7, "location": "here"},
}
OVERSIZED = {
    "flock": {"label": "X" * 13, "confidence": 1.5, "image_url": "https://x.invalid/" + "a" * 2000},
    "rekor": {"alert_list": "L" * 201, "group.best_plate_number": "P" * 13},
    "shotspotter": {"rounds": 5000, "address": "A" * 301, "sensors": ["s"] * 101},
    "ncic": {"ori": "TX10100001", "state": "TEXAS", "nic": "N" * 16},
}


def _edit(body: dict, path: str, value=None, delete=False) -> dict:
    body = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if delete:
        del target[leaf]
    else:
        target[leaf] = value
    return body


def _error_at(messages: dict, path: str):
    for part in path.split("."):
        messages = messages[part]
    return messages


@pytest.mark.parametrize("vendor", VALID)
def test_a_valid_body_maps_to_a_valid_alert(vendor):
    alert = load_alert(adapt(vendor, VALID[vendor]))
    assert alert["source_payload"]["format"] == vendor
    assert alert["occurred_at"].tzinfo is not None


@pytest.mark.parametrize("vendor,path", [(v, p) for v, paths in REQUIRED.items() for p in paths])
def test_each_required_field_is_named_when_missing(vendor, path):
    with pytest.raises(ValidationError) as error:
        adapt(vendor, _edit(VALID[vendor], path, delete=True))
    assert _error_at(error.value.messages, path)


@pytest.mark.parametrize("vendor,path,value", [(v, p, x) for v, d in WRONG_TYPES.items() for p, x in d.items()])
def test_wrong_types_are_named(vendor, path, value):
    with pytest.raises(ValidationError) as error:
        adapt(vendor, _edit(VALID[vendor], path, value))
    assert _error_at(error.value.messages, path)


@pytest.mark.parametrize("vendor,path,value", [(v, p, x) for v, d in OVERSIZED.items() for p, x in d.items()])
def test_oversized_values_are_named(vendor, path, value):
    with pytest.raises(ValidationError) as error:
        adapt(vendor, _edit(VALID[vendor], path, value))
    assert _error_at(error.value.messages, path)


def test_an_unknown_format_is_named():
    with pytest.raises(ValidationError) as error:
        adapt("acme", {})
    assert "format" in error.value.messages


def test_flock_read_mapping():
    alert = load_alert(adapt("flock", FLOCK))
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
    assert adapt("flock", body)["payload"]["camera_id"] == "Rusk St EB"


def test_rekor_alpr_alert_mapping():
    alert = load_alert(adapt("rekor", REKOR))
    assert (alert["source_system"], alert["source_event_id"]) == ("rekor:agent-9", "g-77")
    assert alert["occurred_at"].isoformat() == "2026-01-06T04:14:00+00:00"
    payload = alert["payload"]
    assert (payload["plate"], payload["plate_state"], payload["camera_id"]) == ("ABC1234", "TX", "1234")
    assert payload["hotlist"] == "Stolen Vehicles" and payload["hotlist_reason"] == "Reported stolen 2026-01-02"
    assert payload["vehicle"] == {"make": "toyota", "color": "silver"}
    assert alert["source_payload"]["group"] == {"travel_direction": 182.5}
    assert alert["source_payload"]["region"] == "us-tx"


def test_rekor_without_a_group_uuid_keys_on_camera_and_time():
    body = _edit(REKOR, "group.best_uuid", delete=True)
    assert adapt("rekor", body)["source_event_id"] == "1234-1767672840000"


def test_shotspotter_mapping():
    alert = load_alert(adapt("shotspotter", SHOTSPOTTER))
    assert (alert["source"], alert["source_event_id"], alert["priority"]) == ("gunshot", "ss-501", "critical")
    assert alert["payload"] == {"rounds": 4, "incident_type": "multiple_gunshots"}
    assert alert["source_payload"] == {"format": "shotspotter", "vendor_type": "Multiple_Gunshots", "beat": "10H20"}


@pytest.mark.parametrize(
    "code,hit_type", [("V", "stolen_vehicle"), ("W", "wanted_person"), ("L", "stolen_plate"), ("M", "missing_person")]
)
def test_ncic_list_type_codes(code, hit_type):
    alert = load_alert(adapt("ncic", {**NCIC, "list_type": code}))
    assert alert["source"] == "database"
    assert alert["payload"]["system"] == "NCIC" and alert["payload"]["hit_type"] == hit_type
    assert alert["payload"]["subject"] == {"type": "vehicle", "plate": "XYZ987", "plate_state": "TX"}
    assert alert["payload"]["record_ref"] == "V123456789"
    assert alert["source_payload"]["list_type"] == code and alert["source_payload"]["camera_id"] == "cam-7"


def test_ncic_hit_without_a_location_is_still_an_alert():
    alert = load_alert(adapt("ncic", _edit(NCIC, "location", delete=True)))
    assert "location" not in alert


NESTED_EXTRAS = {
    "flock device": ("flock", "device.model", "Falcon"),
    "flock network": ("flock", "network.region", "south"),
    "rekor group": ("rekor", "group.travel_direction", 182.5),
    "rekor vehicle": ("rekor", "group.vehicle.body_type", [{"name": "sedan"}]),
    "rekor candidate": ("rekor", "group.vehicle.color.0.rank", 1),
    "ncic location": ("ncic", "location.heading", 90),
}


@pytest.mark.parametrize("vendor,path,value", NESTED_EXTRAS.values(), ids=list(NESTED_EXTRAS))
def test_unknown_nested_vendor_fields_are_kept_under_their_path(vendor, path, value):
    """A list item's extras are keyed by its position (``group.vehicle.color.0.rank``)."""
    alert = load_alert(adapt(vendor, _edit(VALID[vendor], path, value)))
    assert _error_at(alert["source_payload"], path) == value
