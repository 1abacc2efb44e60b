"""What the entities service takes and returns over RPC and in events."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from casewire.events import Location
from services.entities.identity import ENTITY_TYPES

RELATIONS = ("owner_of", "driver_of", "associate_of", "uses", "member_of", "lives_at", "related_to")

_short = validate.Length(min=1, max=200)


class EntityOut(Schema):
    id = fields.String(attribute="_id")
    type = fields.String()
    key = fields.String()
    display = fields.String()
    ambiguous = fields.Boolean()
    aliases = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    merged_into = fields.String()
    plate = fields.String()
    plate_state = fields.String()
    vin = fields.String()
    make = fields.String()
    model = fields.String()
    color = fields.String()
    year = fields.Integer()
    name = fields.String(allow_none=True)
    dob = fields.String(allow_none=True)
    ncic_number = fields.String()
    state_id = fields.String()
    subject_id = fields.String()
    platform = fields.String()
    handle = fields.String()
    url = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    description = fields.String()
    serial_number = fields.String()


class SightingOut(Schema):
    entity_id = fields.String()
    record_type = fields.String()
    record_id = fields.String()
    at = fields.AwareDateTime()
    location = fields.Nested(Location, allow_none=True)
    source = fields.String(allow_none=True)
    role = fields.String()
    context = fields.String()


class LinkOut(Schema):
    id = fields.String(attribute="_id")
    from_id = fields.String()
    to_id = fields.String()
    relation = fields.String()
    source = fields.String()
    note = fields.String()
    actor = fields.String()
    at = fields.AwareDateTime()


class MergeOut(Schema):
    id = fields.String(attribute="_id")
    survivor_id = fields.String()
    merged_id = fields.String()
    aliases_added = fields.List(fields.String())
    actor = fields.String()
    at = fields.AwareDateTime()
    undone_at = fields.AwareDateTime(allow_none=True)
    undone_by = fields.String()


class EntityIn(Schema):
    """``POST /api/v1/entities``: an entity described by hand; the fields its type needs."""

    type = fields.String(required=True, validate=validate.OneOf(ENTITY_TYPES))
    plate = fields.String(validate=validate.Length(min=1, max=12))
    plate_state = fields.String(validate=validate.Length(min=2, max=3))
    vin = fields.String(validate=validate.Length(max=17))
    make = fields.String(validate=_short)
    model = fields.String(validate=_short)
    color = fields.String(validate=_short)
    year = fields.Integer(validate=validate.Range(1900, 2100))
    name = fields.String(validate=_short)
    dob = fields.Date()
    ncic_number = fields.String(validate=_short)
    state_id = fields.String(validate=_short)
    subject_id = fields.String(validate=_short)
    number = fields.String(validate=validate.Length(max=40))
    email = fields.String(validate=validate.Length(max=320))
    platform = fields.String(validate=_short)
    handle = fields.String(validate=_short)
    profile_url = fields.Url(validate=validate.Length(max=2000))
    address = fields.String(validate=validate.Length(max=300))
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    description = fields.String(validate=validate.Length(max=2000))
    serial_number = fields.String(validate=_short)

    @validates_schema
    def coordinates_together(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("give both lat and lon, or neither", "lat" if "lat" not in data else "lon")


class LinkIn(Schema):
    """``POST /api/v1/entities/{id}/links``: a person states how two entities are connected."""

    other_id = fields.String(required=True, validate=_short)
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    source = fields.String(required=True, validate=validate.Length(min=1, max=500))
    note = fields.String(validate=validate.Length(max=5000))


class CaseLinkIn(Schema):
    case_id = fields.String(required=True, validate=_short)
    entity_id = fields.String(required=True, validate=_short)
    role = fields.String(load_default="other", validate=validate.Length(min=1, max=100))
    at = fields.AwareDateTime(required=True, default_timezone=None)
    context = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


def ref_of(entity: dict) -> dict:
    """The short form of an entity that events and alerts carry."""
    return {
        "id": entity["_id"],
        "type": entity["type"],
        "key": entity["key"],
        "display": entity["display"],
        "ambiguous": entity.get("ambiguous", False),
    }
