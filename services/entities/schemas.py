"""What the entities service returns over RPC and in events."""

from marshmallow import Schema, fields

from casewire.events import Location


class EntityOut(Schema):
    id = fields.String(attribute="_id")
    type = fields.String()
    key = fields.String()
    display = fields.String()
    ambiguous = fields.Boolean()
    plate = fields.String()
    plate_state = fields.String()
    vin = fields.String()
    make = fields.String()
    model = fields.String()
    color = fields.String()
    name = fields.String(allow_none=True)
    dob = fields.String(allow_none=True)
    aliases = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class SightingOut(Schema):
    entity_id = fields.String()
    record_type = fields.String()
    record_id = fields.String()
    at = fields.AwareDateTime()
    location = fields.Nested(Location, allow_none=True)
    source = fields.String(allow_none=True)


def ref_of(entity: dict) -> dict:
    """The short form of an entity that events and alerts carry."""
    return {
        "id": entity["_id"],
        "type": entity["type"],
        "key": entity["key"],
        "display": entity["display"],
        "ambiguous": entity.get("ambiguous", False),
    }
