"""Vendor adapters: the formats detection systems actually send, mapped to the alert contract.

Each adapter is a marshmallow schema for the vendor's body (so a bad body is a 422 naming the
vendor's own field) and a ``to_alert`` function returning an ``AlertSubmission`` body, which then
goes through the same validation and intake path as ``POST /api/v1/alerts``. Vendor fields the
adapter does not map are kept under the alert's ``source_payload``, at their path in the vendor's body
(``device.model`` → ``source_payload.device.model``). The mappings are documented in
``docs/vendor-formats.md``.
"""

from datetime import UTC, datetime

from marshmallow import ValidationError, fields, post_load, validate

from casewire.extras import Open, pop_unknown

_id = validate.Length(min=1, max=200)
_plate = validate.Length(min=1, max=12)
_state = validate.Length(min=2, max=3)
_url = validate.Length(max=2000)


class _Vendor(Open):
    """Loads the declared fields; collects the rest, at any depth, under ``extra`` by their path."""

    @post_load
    def collect_extra(self, data, **kwargs):
        data["extra"] = pop_unknown(self, data)
        return data


def _compact(mapping: dict) -> dict:
    """Drop keys whose value is None or empty, so optional fields stay absent."""
    return {key: value for key, value in mapping.items() if value not in (None, {}, [], "")}


# -- Flock-style read webhook ------------------------------------------------------------------


class FlockDevice(Open):
    id = fields.String(validate=_id)
    name = fields.String(required=True, validate=_id)
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180))


class FlockNetwork(Open):
    id = fields.String(validate=_id)
    name = fields.String(required=True, validate=_id)


class FlockRead(_Vendor):
    """A plate read pushed by a Flock-style camera network."""

    id = fields.String(required=True, validate=_id)
    timestamp = fields.AwareDateTime(required=True)
    label = fields.String(required=True, validate=_plate)  # the OCR'd plate text
    confidence = fields.Float(required=True, validate=validate.Range(0, 1))
    state = fields.String(validate=_state)
    device = fields.Nested(FlockDevice, required=True)
    network = fields.Nested(FlockNetwork, required=True)
    hotlist = fields.String(validate=_id)
    hotlist_reason = fields.String(validate=validate.Length(max=500))
    vehicle_make = fields.String(validate=_id)
    vehicle_color = fields.String(validate=_id)
    image_url = fields.Url(validate=_url)


def flock_to_alert(read: dict) -> dict:
    device, network = read["device"], read["network"]
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": read["id"],
        "occurred_at": read["timestamp"].isoformat(),
        "location": {"lat": device["latitude"], "lon": device["longitude"]},
        "priority": "high" if read.get("hotlist") else "normal",
        "payload": _compact(
            {
                "plate": read["label"],
                "plate_state": read.get("state"),
                "camera_id": device.get("id") or device["name"],
                "confidence": round(read["confidence"] * 100, 2),
                "hotlist": read.get("hotlist"),
                "hotlist_reason": read.get("hotlist_reason"),
                "vehicle": _compact({"make": read.get("vehicle_make"), "color": read.get("vehicle_color")}),
                "image_url": read.get("image_url"),
            }
        ),
        "source_payload": {
            "format": "flock",
            "device_name": device["name"],
            "network_name": network["name"],
            **read["extra"],
        },
    }


# -- OpenALPR / Rekor Scout ``alpr_alert`` -----------------------------------------------------


class RekorCandidate(Open):
    name = fields.String(required=True, validate=_id)
    confidence = fields.Float(validate=validate.Range(0, 100))


class RekorVehicle(Open):
    color = fields.List(fields.Nested(RekorCandidate), validate=validate.Length(max=20))
    make = fields.List(fields.Nested(RekorCandidate), validate=validate.Length(max=20))
    make_model = fields.List(fields.Nested(RekorCandidate), validate=validate.Length(max=20))


class RekorGroup(Open):
    best_uuid = fields.String(validate=_id)
    best_plate_number = fields.String(required=True, validate=_plate)
    best_confidence = fields.Float(validate=validate.Range(0, 100))
    best_region = fields.String(validate=validate.Length(max=10))  # e.g. "us-tx"
    camera_id = fields.Integer(required=True)
    gps_latitude = fields.Float(required=True, validate=validate.Range(-90, 90))
    gps_longitude = fields.Float(required=True, validate=validate.Range(-180, 180))
    vehicle = fields.Nested(RekorVehicle)


class RekorAlert(_Vendor):
    """An ``alpr_alert`` webhook from OpenALPR / Rekor Scout: a plate group matched an alert list."""

    data_type = fields.String(required=True, validate=validate.Equal("alpr_alert"))
    agent_uid = fields.String(required=True, validate=_id)
    epoch_time = fields.Integer(required=True, validate=validate.Range(0, 32503680000000))  # milliseconds
    alert_list = fields.String(required=True, validate=_id)
    alert_list_id = fields.Integer()
    description = fields.String(validate=validate.Length(max=500))
    site_name = fields.String(validate=_id)
    group = fields.Nested(RekorGroup, required=True)


def _best(candidates: list | None) -> str | None:
    return candidates[0]["name"] if candidates else None


def rekor_to_alert(alert: dict) -> dict:
    group = alert["group"]
    region = group.get("best_region") or ""
    vehicle = group.get("vehicle") or {}
    return {
        "source": "alpr",
        "source_system": f"rekor:{alert['agent_uid']}",
        "source_event_id": group.get("best_uuid") or f"{group['camera_id']}-{alert['epoch_time']}",
        "occurred_at": datetime.fromtimestamp(alert["epoch_time"] / 1000, UTC).isoformat(),
        "location": {"lat": group["gps_latitude"], "lon": group["gps_longitude"]},
        "priority": "high",
        "payload": _compact(
            {
                "plate": group["best_plate_number"],
                "plate_state": region.split("-", 1)[1].upper() if "-" in region else None,
                "camera_id": str(group["camera_id"]),
                "confidence": group.get("best_confidence"),
                "hotlist": alert["alert_list"],
                "hotlist_reason": alert.get("description"),
                "vehicle": _compact({"make": _best(vehicle.get("make")), "color": _best(vehicle.get("color"))}),
            }
        ),
        "source_payload": _compact(
            {
                "format": "rekor",
                "alert_list_id": alert.get("alert_list_id"),
                "site_name": alert.get("site_name"),
                "region": region or None,
                "make_model": _best(vehicle.get("make_model")),
                **alert["extra"],
            }
        ),
    }


# -- ShotSpotter-style gunshot record ----------------------------------------------------------

GUNSHOT_TYPES = {
    "single_gunshot": "single_gunshot",
    "multiple_gunshots": "multiple_gunshots",
    "possible_gunshot": "possible_gunshot",
    "gunshot_or_firecracker": "possible_gunshot",
}


class ShotSpotterIncident(_Vendor):
    """A gunshot detection: id, time, rounds, type and position."""

    id = fields.String(required=True, validate=_id)
    datetime = fields.AwareDateTime(required=True)
    rounds = fields.Integer(required=True, validate=validate.Range(0, 1000))
    type = fields.String(required=True, validate=_id)
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180))
    address = fields.String(validate=validate.Length(max=300))
    sensors = fields.List(fields.String(validate=_id), validate=validate.Length(max=100))
    audio_url = fields.Url(validate=_url)


def shotspotter_to_alert(incident: dict) -> dict:
    kind = incident["type"].strip().lower().replace(" ", "_")
    return {
        "source": "gunshot",
        "source_system": "shotspotter",
        "source_event_id": incident["id"],
        "occurred_at": incident["datetime"].isoformat(),
        "location": _compact(
            {"lat": incident["latitude"], "lon": incident["longitude"], "address": incident.get("address")}
        ),
        "priority": "critical" if incident["rounds"] > 1 else "high",
        "payload": _compact(
            {
                "rounds": incident["rounds"],
                "incident_type": GUNSHOT_TYPES.get(kind, kind),
                "sensor_ids": incident.get("sensors"),
                "audio_url": incident.get("audio_url"),
            }
        ),
        "source_payload": {"format": "shotspotter", "vendor_type": incident["type"], **incident["extra"]},
    }


# -- NCIC hotlist hit ----------------------------------------------------------------------------

NCIC_LIST_TYPES = {
    "V": "stolen_vehicle",
    "L": "stolen_plate",
    "W": "wanted_person",
    "M": "missing_person",
    "P": "protection_order",
    "S": "sex_offender",
    "G": "gang_or_terrorist",
    "F": "felony_vehicle",
    "X": "supervised_release",
}
"""NCIC hotlist list type codes the adapter understands, and the ``hit_type`` each becomes."""

NCIC_PRIORITIES = {"V": "critical", "L": "critical", "F": "critical", "W": "critical", "M": "high", "G": "high"}
"""How urgent a hit of each list type is (others: ``normal``). A stolen vehicle or plate, a felony
vehicle or a wanted person is at the camera now and moving: an officer expects it in minutes, as an
ALPR hotlist hit (README, Outcomes: ``database`` critical is 5 minutes)."""


class NcicLocation(Open):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class NcicHit(_Vendor):
    """A plate read that matched a row of the NCIC hotlist file (LIC/LIS, list type, NIC, ORI)."""

    hit_id = fields.String(required=True, validate=_id)
    hit_time = fields.AwareDateTime(required=True)
    plate = fields.String(required=True, validate=_plate)  # LIC
    state = fields.String(required=True, validate=_state)  # LIS
    list_type = fields.String(required=True, validate=validate.OneOf(sorted(NCIC_LIST_TYPES)))
    nic = fields.String(validate=validate.Length(min=1, max=15))  # NCIC record number
    ori = fields.String(validate=validate.Length(min=9, max=9))  # the entering agency
    plate_type = fields.String(validate=validate.Length(max=4))  # LIT
    plate_year = fields.String(validate=validate.Length(max=4))  # LIY
    camera_id = fields.String(validate=_id)
    location = fields.Nested(NcicLocation)


def ncic_to_alert(hit: dict) -> dict:
    hit_type = NCIC_LIST_TYPES[hit["list_type"]]
    alert = {
        "source": "database",
        "source_system": "ncic-hotlist",
        "source_event_id": hit["hit_id"],
        "occurred_at": hit["hit_time"].isoformat(),
        "priority": NCIC_PRIORITIES.get(hit["list_type"], "normal"),
        "payload": _compact(
            {
                "system": "NCIC",
                "hit_type": hit_type,
                "record_ref": hit.get("nic"),
                "subject": {"type": "vehicle", "plate": hit["plate"], "plate_state": hit["state"]},
            }
        ),
        "source_payload": _compact(
            {
                "format": "ncic",
                "list_type": hit["list_type"],
                "ori": hit.get("ori"),
                "plate_type": hit.get("plate_type"),
                "plate_year": hit.get("plate_year"),
                "camera_id": hit.get("camera_id"),
                **hit["extra"],
            }
        ),
    }
    if hit.get("location"):
        alert["location"] = hit["location"]
    return alert


ADAPTERS = {
    "flock": (FlockRead, flock_to_alert),
    "rekor": (RekorAlert, rekor_to_alert),
    "shotspotter": (ShotSpotterIncident, shotspotter_to_alert),
    "ncic": (NcicHit, ncic_to_alert),
}
FORMATS = tuple(ADAPTERS)


def adapt(vendor_format: str, body: dict) -> dict:
    """Map one vendor body to an alert submission; raises ValidationError naming the vendor's fields."""
    if vendor_format not in ADAPTERS:
        raise ValidationError({"format": [f"unknown vendor format; choose from {list(FORMATS)}"]})
    schema, to_alert = ADAPTERS[vendor_format]
    return to_alert(schema().load(body))
