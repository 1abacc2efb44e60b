"""What the search service answers."""

from marshmallow import Schema, fields

from casewire.contracts.common import Page


class Point(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)


class PlateSighting(Schema):
    entity_id = fields.String(required=True)
    record_type = fields.String(required=True, metadata={"enum": ["alert", "case"]})
    record_id = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    location = fields.Nested(Point, allow_none=True)
    source = fields.String(allow_none=True)
    agency = fields.String(allow_none=True, metadata={"description": "the agency the record was recorded for"})


class PlateVehicle(Schema):
    id = fields.String(required=True)
    type = fields.String()
    key = fields.String(metadata={"example": "TX:KGT4471"})
    display = fields.String()
    plate = fields.String(metadata={"description": "the plate of its key"})
    plates = fields.List(fields.String(), metadata={"description": "every plate it is known by"})
    plate_state = fields.String()
    vins = fields.List(fields.String())


class PlateMatch(Schema):
    entity = fields.Nested(PlateVehicle, required=True)
    match = fields.String(required=True, metadata={"enum": ["exact", "folded", "fuzzy"]})
    ambiguous = fields.Boolean(required=True, metadata={"description": "no state asked and several states match"})
    score = fields.Float(required=True)
    sightings = fields.List(
        fields.Nested(PlateSighting), required=True, metadata={"description": "the latest that you may open"}
    )


class PlateResults(Schema):
    """Vehicles whose plate matches, best first (exact, then OCR-folded, then fuzzy)."""

    items = fields.List(fields.Nested(PlateMatch), required=True)


class SearchHit(Schema):
    type = fields.String(required=True, metadata={"enum": ["alert", "entity", "case"]})
    id = fields.String(required=True, allow_none=True, metadata={"description": "null for a pointer"})
    score = fields.Float(required=True, allow_none=True)
    highlights = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "field → fragments"},
    )
    summary = fields.Dict(
        required=True,
        metadata={
            "description": "an alert's title, source, status, at, priority, location; a case's title, status, "
            "classification, unit, at; an entity's type, key, display; a pointer's agency, contact, notice"
        },
    )
    pointer = fields.Boolean(
        metadata={"description": "C6: an `agency_only` record: only whom to ask, no id, title or text"}
    )


class SearchResults(Page):
    """Ranked hits that you may open (pagination: the `Page` schema)."""

    class Meta:
        description = "Ranked hits that you may open (pagination: the `Page` schema)."

    items = fields.List(fields.Nested(SearchHit), required=True)
