"""What the entities service takes and returns over RPC and in events."""

from marshmallow import Schema, fields, validate

from casewire.events import Location

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
    revision = fields.Integer()
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
    agency = fields.String(allow_none=True)  # the agency the record was recorded for: who may see it
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


def indexed_ref(entity: dict) -> dict:
    """The entity as search indexes it (``casewire.events.IndexedEntity``): its short form, aliases,
    name and revision (0 for an entity stored before revisions were kept)."""
    return {
        **ref_of(entity),
        "aliases": entity.get("aliases") or [],
        "name": entity.get("name"),
        "revision": entity.get("revision", 0),
    }
