"""Verkada's LPR webhook (``webhook_type: lpr``): one plate its camera read, posted as it is read.

Every such post is an ALPR read: Verkada sends its plates of interest as another webhook type. The
body carries no position, so the camera's comes from the agency's ``VENDOR_CAMERAS`` table.
"""

from datetime import UTC, datetime

from marshmallow import ValidationError, fields, validate

from casewire.extras import Open, merge
from casewire.vendors.common import (
    EPOCH_MS,
    EPOCH_S,
    ID,
    PLATE,
    REGION,
    URL,
    Vendor,
    VendorSettings,
    compact,
    percent,
    region_state,
)

FORMAT = "verkada"


class VerkadaRead(Open):
    camera_id = fields.String(required=True, validate=ID)
    created = fields.Integer(required=True, validate=EPOCH_S)  # seconds
    detected = fields.Integer(validate=EPOCH_MS, allow_none=True)  # milliseconds, in newer posts
    license_plate_number = fields.String(required=True, validate=PLATE)
    license_plate_state = fields.String(validate=REGION, allow_none=True)  # e.g. "us-ca"
    confidence = fields.Float(validate=validate.Range(0, 1), allow_none=True)
    image_url = fields.String(validate=URL, allow_none=True)


class VerkadaLpr(Vendor):
    """A Verkada LPR webhook: ``webhook_type`` ``lpr`` and the read in ``data``."""

    webhook_type = fields.String(required=True, validate=validate.Equal("lpr"))
    org_id = fields.String(required=True, validate=ID)
    webhook_id = fields.String(validate=ID, allow_none=True)
    created_at = fields.Integer(validate=EPOCH_S, allow_none=True)
    data = fields.Nested(VerkadaRead, required=True)


def _image_url(value: str | None) -> str | None:
    """Verkada's image link when it is one (its samples show a placeholder), for ``payload.image_url``."""
    try:
        return fields.Url().deserialize(value) if value else None
    except ValidationError:
        return None


def to_alert(body: dict, camera: dict) -> dict:
    read = body["data"]
    at_ms = read.get("detected") or read["created"] * 1000
    plate = read["license_plate_number"]
    image_url = _image_url(read.get("image_url"))
    source_payload = compact(
        {
            "format": FORMAT,
            "webhook_id": body.get("webhook_id"),
            "created_at": body.get("created_at"),
            "camera_label": camera.get("label"),
            "data": compact(
                {
                    "created": read["created"],
                    "detected": read.get("detected"),
                    "license_plate_state": read.get("license_plate_state"),
                    "image_url": None if image_url else read.get("image_url"),
                }
            ),
        }
    )
    return {
        "source": "alpr",
        "source_system": f"verkada:{body['org_id']}",
        # Verkada names no read id: a camera reads one plate once at one millisecond.
        "source_event_id": f"{read['camera_id']}-{at_ms}-{plate}",
        "occurred_at": datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(),
        "location": {"lat": camera["lat"], "lon": camera["lon"]},
        "priority": "normal",
        "payload": compact(
            {
                "plate": plate,
                "plate_state": region_state(read.get("license_plate_state")),
                "camera_id": read["camera_id"],
                "confidence": percent(read.get("confidence")),
                "image_url": image_url,
            }
        ),
        "source_payload": merge(source_payload, body["extra"]),
    }


def to_alerts(body: dict, settings: VendorSettings) -> list[dict]:
    loaded = VerkadaLpr().load(body)
    camera = settings.camera(FORMAT, loaded["data"]["camera_id"], "data.camera_id")
    return [to_alert(loaded, camera)]
