"""What intake returns over RPC: alerts as JSON primitives."""

from marshmallow import Schema, fields

from casewire.alerts import FACE_NOTICE
from casewire.events import EntityRef, Location, RelatedRecord


class Action(Schema):
    action = fields.String()
    actor = fields.String()
    at = fields.AwareDateTime()
    detail = fields.Dict()


class AlertOut(Schema):
    id = fields.String(attribute="_id")
    source = fields.String()
    source_system = fields.String()
    source_event_id = fields.String()
    occurred_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    location = fields.Nested(Location, allow_none=True)
    payload = fields.Dict()
    source_payload = fields.Dict()
    priority = fields.String()
    status = fields.String()
    record_class = fields.String()
    agency = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    notes = fields.String()
    entities = fields.List(fields.Nested(EntityRef), dump_default=list)
    related = fields.List(fields.Nested(RelatedRecord), dump_default=list)
    actions = fields.List(fields.Nested(Action), dump_default=list)
    notice = fields.Method("face_notice")

    def face_notice(self, alert):
        """C26: a face match is an investigative lead only, and every face alert says so."""
        return FACE_NOTICE if alert.get("source") == "face" else None


class AlertEvent(Schema):
    """An alert dumped for the ``alert_received`` event contract."""

    alert_id = fields.String(attribute="_id")
    source = fields.String()
    source_system = fields.String()
    source_event_id = fields.String()
    occurred_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    location = fields.Nested(Location, allow_none=True)
    payload = fields.Dict()
    priority = fields.String()
    status = fields.String()
    record_class = fields.String()
    agency = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    version = fields.Integer(dump_default=1)


class AlertExport(AlertEvent):
    """An alert as ``export_alerts`` pages it: the event fields plus its assignee."""

    assignee = fields.String(allow_none=True)
