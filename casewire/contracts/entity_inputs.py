"""The entities contract: what people may send, validated by the gateway and the service."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

ENTITY_TYPES = ("person", "vehicle", "phone", "email", "social_account", "address", "weapon", "organization")
RELATIONS = ("owner_of", "driver_of", "associate_of", "uses", "member_of", "lives_at", "related_to")

_short = validate.Length(min=1, max=200)


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
    def coordinates_together(self, data: dict, **kwargs) -> None:
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("give both lat and lon, or neither", "lat" if "lat" not in data else "lon")


class LinkIn(Schema):
    """``POST /api/v1/entities/{id}/links``: a person states how two entities are connected."""

    other_id = fields.String(required=True, validate=_short)
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    source = fields.String(required=True, validate=validate.Length(min=1, max=500))
    note = fields.String(validate=validate.Length(max=5000))


class MergeIn(Schema):
    """``POST /api/v1/entities/{id}/merge`` and ``/unmerge``: the other entity."""

    other_id = fields.String(required=True, validate=_short)
