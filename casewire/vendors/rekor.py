"""OpenALPR / Rekor Scout posts: ``alpr_group`` for every vehicle an agent reads (sent by the agent,
or forwarded by Rekor's web server) and ``alpr_alert`` for a group that matched an alert list
(docs/vendor-formats.md names the published documents the fields come from).

An ``alpr_group`` becomes an ALPR read (no ``hotlist``: no triage deadline, the state's retention
profile applies); an ``alpr_alert`` a hit (``hotlist`` set to its alert list). A group without a GPS
position is placed by ``VENDOR_CAMERAS.rekor``. The agent posts its ``heartbeat`` and, when
configured to, its per-frame ``alpr_results`` to the same URL: those are answered and not stored
(the group already holds the frames' best read).
"""

import copy
from datetime import UTC, datetime

from marshmallow import fields, validate

from casewire.extras import Open, merge
from casewire.vendors.common import (
    EPOCH_MS,
    ID,
    PLATE,
    REGION,
    Crop,
    NothingToStore,
    Vendor,
    VendorSettings,
    best,
    compact,
    region_state,
)

NOT_STORED = {
    "heartbeat": "the agent's heartbeat: its health, no plate read",
    "alpr_results": "one video frame's plates: the agent's alpr_group for the vehicle holds its best read",
}
_candidates = validate.Length(max=50)
_uuid = validate.Length(min=1, max=90)  # "<agent_uid>-<camera_id>-<epoch ms>"; an alert's id adds its list


class RekorCandidate(Open):
    name = fields.String(required=True, validate=ID)
    confidence = fields.Float(validate=validate.Range(0, 100), allow_none=True)


class RekorVehicle(Open):
    """Each attribute a list of candidates, most likely first."""

    color = fields.List(fields.Nested(RekorCandidate), validate=_candidates, allow_none=True)
    make = fields.List(fields.Nested(RekorCandidate), validate=_candidates, allow_none=True)
    make_model = fields.List(fields.Nested(RekorCandidate), validate=_candidates, allow_none=True)
    body_type = fields.List(fields.Nested(RekorCandidate), validate=_candidates, allow_none=True)
    year = fields.List(fields.Nested(RekorCandidate), validate=_candidates, allow_none=True)


class RekorBestPlate(Open):
    plate_crop_jpeg = Crop(allow_none=True)


class RekorWebServerConfig(Open):
    camera_label = fields.String(validate=ID, allow_none=True)
    agent_label = fields.String(validate=ID, allow_none=True)


class RekorGroupFields(Open):
    """The fields of a plate group Casewire reads, in an ``alpr_group`` and in an alert's ``group``."""

    camera_id = fields.Integer(required=True)
    best_uuid = fields.String(validate=_uuid, allow_none=True)
    uuids = fields.List(fields.String(validate=_uuid), validate=validate.Length(max=1000), allow_none=True)
    epoch_start = fields.Integer(validate=EPOCH_MS, allow_none=True)
    best_plate_number = fields.String(required=True, validate=PLATE)
    best_confidence = fields.Float(validate=validate.Range(0, 100), allow_none=True)
    best_region = fields.String(validate=REGION, allow_none=True)
    gps_latitude = fields.Float(validate=validate.Range(-90, 90), allow_none=True)
    gps_longitude = fields.Float(validate=validate.Range(-180, 180), allow_none=True)
    vehicle = fields.Nested(RekorVehicle, allow_none=True)
    best_plate = fields.Nested(RekorBestPlate, allow_none=True)
    vehicle_crop_jpeg = Crop(allow_none=True)
    web_server_config = fields.Nested(RekorWebServerConfig, allow_none=True)


class RekorGroup(Vendor, RekorGroupFields):
    """An ``alpr_group``: the agent's best read of one vehicle, posted a few seconds after it passed."""

    data_type = fields.String(
        required=True,
        validate=validate.OneOf(["alpr_group"], error="alpr_group, alpr_alert, heartbeat or alpr_results"),
    )
    agent_uid = fields.String(required=True, validate=ID)
    epoch_start = fields.Integer(required=True, validate=EPOCH_MS)


class RekorAlert(Vendor):
    """An ``alpr_alert``: a plate group that matched one of the agent's alert lists."""

    data_type = fields.String(required=True, validate=validate.Equal("alpr_alert"))
    agent_uid = fields.String(required=True, validate=ID)
    epoch_time = fields.Integer(required=True, validate=EPOCH_MS)
    alert_list = fields.String(required=True, validate=validate.Length(min=1, max=100))
    list_type = fields.String(validate=ID, allow_none=True)
    description = fields.String(validate=validate.Length(max=500), allow_none=True)
    camera_name = fields.String(validate=ID, allow_none=True)
    site_name = fields.String(validate=ID, allow_none=True)
    group = fields.Nested(RekorGroupFields, required=True)


BODY = {"oneOf": [RekorGroup, RekorAlert]}
"""The request body the OpenAPI document shows: either kind of post."""


def _millis(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat()


def _model(make: str | None, make_model: str | None) -> str | None:
    """``ford_focus`` with make ``ford`` → ``focus``; a make_model naming another make tells no model."""
    if make and make_model and make_model.startswith(f"{make}_"):
        return make_model[len(make) + 1 :]
    return None


def _location(group: dict, agent_uid: str, settings: VendorSettings, path: str) -> dict:
    """The group's GPS position; else (none sent, or exactly 0, 0) its camera's in ``VENDOR_CAMERAS.rekor``
    under ``<agent_uid>-<camera_id>``, the prefix of the agent's read ids."""
    lat, lon = group.get("gps_latitude"), group.get("gps_longitude")
    if lat is not None and lon is not None and (lat, lon) != (0, 0):
        return {"lat": lat, "lon": lon}
    camera = settings.camera("rekor", f"{agent_uid}-{group['camera_id']}", path)
    return {"lat": camera["lat"], "lon": camera["lon"]}


def _read(group: dict, vehicle: dict | None, at_ms: int, location: dict) -> tuple[dict, dict]:
    """The alert fields one plate group gives (read or hit), and the group's details for ``source_payload``.

    ``vehicle`` is the group's ``vehicle`` as sent: every candidate list whole, with fields the
    schema does not name."""
    attributes = group.get("vehicle") or {}
    make = best(attributes.get("make"))
    alert = {
        "occurred_at": _millis(at_ms),
        "location": location,
        "payload": compact(
            {
                "plate": group["best_plate_number"],
                "plate_state": region_state(group.get("best_region")),
                "camera_id": str(group["camera_id"]),
                "confidence": group.get("best_confidence"),
                "vehicle": compact(
                    {
                        "make": make,
                        "model": _model(make, best(attributes.get("make_model"))),
                        "color": best(attributes.get("color")),
                    }
                ),
            }
        ),
    }
    details = compact(
        {
            "region": group.get("best_region"),
            "best_uuid": group.get("best_uuid"),
            "uuids": group.get("uuids"),
            "epoch_start": group.get("epoch_start"),
            "vehicle": vehicle,
            "vehicle_crop_jpeg": group.get("vehicle_crop_jpeg"),
            "best_plate": compact({"plate_crop_jpeg": (group.get("best_plate") or {}).get("plate_crop_jpeg")}),
        }
    )
    return alert, details


def _labels(group: dict) -> dict:
    labels = group.get("web_server_config") or {}
    return {"camera_label": labels.get("camera_label"), "agent_label": labels.get("agent_label")}


def group_to_read(body: dict, vehicle: dict | None, location: dict) -> dict:
    read, details = _read(body, vehicle, body["epoch_start"], location)
    extra = {key: value for key, value in body["extra"].items() if key != "vehicle"}
    source_payload = {"format": "rekor", "data_type": "alpr_group", **compact(_labels(body)), **details}
    return {
        "source": "alpr",
        "source_system": f"rekor:{body['agent_uid']}",
        "source_event_id": body.get("best_uuid") or f"{body['camera_id']}-{body['epoch_start']}",
        "priority": "normal",
        "source_payload": merge(source_payload, extra),
        **read,
    }


def alert_to_hit(body: dict, vehicle: dict | None, location: dict) -> dict:
    group = body["group"]
    hit, details = _read(group, vehicle, body["epoch_time"], location)
    hit["payload"].update(compact({"hotlist": body["alert_list"], "hotlist_reason": body.get("description")}))
    extra = body["extra"]
    extra.get("group", {}).pop("vehicle", None)
    labels = _labels(group)
    source_payload = compact(
        {
            "format": "rekor",
            "data_type": "alpr_alert",
            "camera_name": body.get("camera_name"),
            **labels,
            "list_type": body.get("list_type"),
            "site_name": body.get("site_name"),
            "group": details,
        }
    )
    group_id = group.get("best_uuid") or f"{group['camera_id']}-{body['epoch_time']}"
    return {
        "source": "alpr",
        "source_system": f"rekor:{body['agent_uid']}",
        # A group may match several lists, and its read is stored apart from its hits: each has its own id.
        "source_event_id": f"{group_id}:alert:{body['alert_list']}",
        "priority": "high",
        "source_payload": merge(source_payload, extra),
        **hit,
    }


def to_alerts(body: dict, settings: VendorSettings) -> list[dict]:
    kind = body.get("data_type")
    if kind in NOT_STORED:
        raise NothingToStore(f"{kind}: {NOT_STORED[kind]}")
    if kind == "alpr_alert":
        alert = RekorAlert().load(body)
        location = _location(alert["group"], alert["agent_uid"], settings, "group.gps_latitude")
        return [alert_to_hit(alert, _sent_vehicle(body.get("group")), location)]
    group = RekorGroup().load(body)
    location = _location(group, group["agent_uid"], settings, "gps_latitude")
    return [group_to_read(group, _sent_vehicle(body), location)]


def _sent_vehicle(group: object) -> dict | None:
    """The group's ``vehicle`` as the agent sent it (validated by the schema before it is used)."""
    return copy.deepcopy(group.get("vehicle")) if isinstance(group, dict) else None
