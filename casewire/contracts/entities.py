"""Entities as the entities service dumps them and the gateway answers them."""

from marshmallow import Schema, fields

from casewire.alerts import FACE_NOTICE
from casewire.contracts.common import page_of
from casewire.contracts.entity_inputs import ENTITY_TYPES, RELATIONS
from casewire.events import EntityRef, Location


class EntityOut(Schema):
    """One entity: a person, vehicle, phone, handle, address... however many records name it."""

    id = fields.String(attribute="_id", required=True)
    type = fields.String(required=True, metadata={"enum": list(ENTITY_TYPES)})
    key = fields.String(required=True, metadata={"description": "its normalized identity, e.g. `TX:KGT4471`"})
    display = fields.String(required=True)
    ambiguous = fields.Boolean()
    aliases = fields.List(fields.String(), metadata={"description": "other keys it is known by (merges)"})
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
    """One record naming an entity: when, where, from which source."""

    entity_id = fields.String()
    record_type = fields.String(metadata={"enum": ["alert", "case"]})
    record_id = fields.String()
    at = fields.AwareDateTime()
    location = fields.Nested(Location, allow_none=True)
    source = fields.String(allow_none=True)
    agency = fields.String(allow_none=True, metadata={"description": "the agency the record was recorded for"})
    role = fields.String()
    context = fields.String()


class LinkOut(Schema):
    """A link a person stated between two entities, with its source."""

    id = fields.String(attribute="_id", required=True)
    from_id = fields.String(required=True)
    to_id = fields.String(required=True)
    relation = fields.String(required=True, metadata={"enum": list(RELATIONS)})
    source = fields.String(required=True)
    note = fields.String()
    actor = fields.String()
    at = fields.AwareDateTime()


class MergeOut(Schema):
    id = fields.String(attribute="_id", required=True)
    survivor_id = fields.String(required=True)
    merged_id = fields.String(required=True)
    aliases_added = fields.List(fields.String())
    actor = fields.String()
    at = fields.AwareDateTime()
    undone_at = fields.AwareDateTime(allow_none=True)
    undone_by = fields.String()


EntityPage = page_of(EntityOut, "EntityPage")


class RecordMention(Schema):
    """An alert or case that names the entity."""

    id = fields.String(required=True)
    at = fields.String(metadata={"format": "date-time"})
    source = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    role = fields.String(metadata={"description": "a case's: suspect, victim, vehicle_of_interest..."})


class StatedLink(LinkOut):
    other = fields.Nested(EntityRef, allow_none=True, metadata={"description": "the entity at the other end"})


class EntityRead(EntityOut):
    """An entity with its timeline, the records naming it that you may open, its links and merges."""

    sightings = fields.List(fields.Nested(SightingOut), required=True)
    alerts = fields.List(fields.Nested(RecordMention), required=True)
    cases = fields.List(fields.Nested(RecordMention), required=True)
    links = fields.List(fields.Nested(StatedLink), required=True)
    merges = fields.List(fields.Nested(MergeOut), required=True)
    notice = fields.String(metadata={"enum": [FACE_NOTICE], "description": "C26, when a face alert names it"})
    cases_pending = fields.Boolean(metadata={"description": "the cases service did not answer: no case is shown"})


class MergeAnswer(Schema):
    merge = fields.Nested(MergeOut, required=True)
    entity = fields.Nested(EntityRead, required=True)
    restored = fields.Nested(EntityRead, metadata={"description": "unmerge: the entity that came back"})


class GraphNode(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["entity", "alert", "case"]})
    level = fields.Integer(required=True, metadata={"description": "steps from the entity asked about"})
    type = fields.String(metadata={"description": "an entity's type"})
    key = fields.String()
    display = fields.String()
    ambiguous = fields.Boolean()
    at = fields.String(metadata={"format": "date-time", "description": "a record's time"})
    agency = fields.String(allow_none=True)


class GraphEdge(Schema):
    source = fields.String(required=True)
    target = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["sighting", "co_occurrence", "stated_link"]})
    evidence = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "why: sightings' `at`/`source`, shared records' ids, or the stated link"},
    )


class Graph(Schema):
    """Nodes and edges around an entity, bounded in size (`truncated` when the bound cut it)."""

    nodes = fields.List(fields.Nested(GraphNode), required=True)
    edges = fields.List(fields.Nested(GraphEdge), required=True)
    truncated = fields.Boolean(required=True)
    cases_pending = fields.Boolean()
