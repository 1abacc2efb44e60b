"""An NCIC hotlist hit: a plate read that matched a row of the NCIC hotlist file (field names from
the NCIC codes LIC, LIS, LIT, LIY; the body itself is modelled on Casewire's own example)."""

from marshmallow import fields, validate

from casewire.extras import Open
from casewire.vendors.common import ID, PLATE, STATE, Vendor, VendorSettings, compact

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
ALPR hotlist hit (docs/outcomes.md: ``database`` critical is 5 minutes)."""


class NcicLocation(Open):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class NcicHit(Vendor):
    """A plate read that matched a row of the NCIC hotlist file (LIC/LIS, list type, NIC, ORI)."""

    hit_id = fields.String(required=True, validate=ID)
    hit_time = fields.AwareDateTime(required=True)
    plate = fields.String(required=True, validate=PLATE)  # LIC
    state = fields.String(required=True, validate=STATE)  # LIS
    list_type = fields.String(required=True, validate=validate.OneOf(sorted(NCIC_LIST_TYPES)))
    nic = fields.String(validate=validate.Length(min=1, max=15))  # NCIC record number
    ori = fields.String(validate=validate.Length(min=9, max=9))  # the entering agency
    plate_type = fields.String(validate=validate.Length(max=4))  # LIT
    plate_year = fields.String(validate=validate.Length(max=4))  # LIY
    camera_id = fields.String(validate=ID)
    location = fields.Nested(NcicLocation)


def ncic_to_alert(hit: dict) -> dict:
    hit_type = NCIC_LIST_TYPES[hit["list_type"]]
    alert = {
        "source": "database",
        "source_system": "ncic-hotlist",
        "source_event_id": hit["hit_id"],
        "occurred_at": hit["hit_time"].isoformat(),
        "priority": NCIC_PRIORITIES.get(hit["list_type"], "normal"),
        "payload": compact(
            {
                "system": "NCIC",
                "hit_type": hit_type,
                "record_ref": hit.get("nic"),
                "subject": {"type": "vehicle", "plate": hit["plate"], "plate_state": hit["state"]},
            }
        ),
        "source_payload": compact(
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


def to_alerts(body: dict, settings: VendorSettings) -> list[dict]:
    return [ncic_to_alert(NcicHit().load(body))]
