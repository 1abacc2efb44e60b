"""A ShotSpotter-style gunshot incident: modelled on Casewire's own example, not on a published format."""

from marshmallow import fields, validate

from casewire.vendors.common import ID, URL, Vendor, VendorSettings, compact

GUNSHOT_TYPES = {
    "single_gunshot": "single_gunshot",
    "multiple_gunshots": "multiple_gunshots",
    "possible_gunshot": "possible_gunshot",
    "gunshot_or_firecracker": "possible_gunshot",
}


class ShotSpotterIncident(Vendor):
    """A gunshot detection: id, time, rounds, type and position."""

    id = fields.String(required=True, validate=ID)
    datetime = fields.AwareDateTime(required=True)
    rounds = fields.Integer(required=True, validate=validate.Range(0, 1000))
    type = fields.String(required=True, validate=ID)
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180))
    address = fields.String(validate=validate.Length(max=300))
    sensors = fields.List(fields.String(validate=ID), validate=validate.Length(max=100))
    audio_url = fields.Url(validate=URL)


def shotspotter_to_alert(incident: dict) -> dict:
    kind = incident["type"].strip().lower().replace(" ", "_")
    return {
        "source": "gunshot",
        "source_system": "shotspotter",
        "source_event_id": incident["id"],
        "occurred_at": incident["datetime"].isoformat(),
        "location": compact(
            {"lat": incident["latitude"], "lon": incident["longitude"], "address": incident.get("address")}
        ),
        "priority": "critical" if incident["rounds"] > 1 else "high",
        "payload": compact(
            {
                "rounds": incident["rounds"],
                "incident_type": GUNSHOT_TYPES.get(kind, kind),
                "sensor_ids": incident.get("sensors"),
                "audio_url": incident.get("audio_url"),
            }
        ),
        "source_payload": {"format": "shotspotter", "vendor_type": incident["type"], **incident["extra"]},
    }


def to_alerts(body: dict, settings: VendorSettings) -> list[dict]:
    return [shotspotter_to_alert(ShotSpotterIncident().load(body))]
