"""A Flock-style plate read webhook: modelled on Casewire's own example, not on a published format."""

from marshmallow import fields, validate

from casewire.extras import Open
from casewire.vendors.common import ID, PLATE, STATE, URL, Vendor, VendorSettings, compact


class FlockDevice(Open):
    id = fields.String(validate=ID)
    name = fields.String(required=True, validate=ID)
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180))


class FlockNetwork(Open):
    id = fields.String(validate=ID)
    name = fields.String(required=True, validate=ID)


class FlockRead(Vendor):
    """A plate read pushed by a Flock-style camera network."""

    id = fields.String(required=True, validate=ID)
    timestamp = fields.AwareDateTime(required=True)
    label = fields.String(required=True, validate=PLATE)  # the OCR'd plate text
    confidence = fields.Float(required=True, validate=validate.Range(0, 1))
    state = fields.String(validate=STATE)
    device = fields.Nested(FlockDevice, required=True)
    network = fields.Nested(FlockNetwork, required=True)
    hotlist = fields.String(validate=ID)
    hotlist_reason = fields.String(validate=validate.Length(max=500))
    vehicle_make = fields.String(validate=ID)
    vehicle_color = fields.String(validate=ID)
    image_url = fields.Url(validate=URL)


def flock_to_alert(read: dict) -> dict:
    device, network = read["device"], read["network"]
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": read["id"],
        "occurred_at": read["timestamp"].isoformat(),
        "location": {"lat": device["latitude"], "lon": device["longitude"]},
        "priority": "high" if read.get("hotlist") else "normal",
        "payload": compact(
            {
                "plate": read["label"],
                "plate_state": read.get("state"),
                "camera_id": device.get("id") or device["name"],
                "confidence": round(read["confidence"] * 100, 2),
                "hotlist": read.get("hotlist"),
                "hotlist_reason": read.get("hotlist_reason"),
                "vehicle": compact({"make": read.get("vehicle_make"), "color": read.get("vehicle_color")}),
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


def to_alerts(body: dict, settings: VendorSettings) -> list[dict]:
    return [flock_to_alert(FlockRead().load(body))]
