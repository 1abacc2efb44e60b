"""What intake takes and returns over RPC: alerts as JSON primitives."""

import base64
import json
from datetime import datetime

from marshmallow import Schema, fields, validate

from casewire.alerts import FACE_NOTICE, SOURCES, STATUSES
from casewire.errors import InvalidInput
from casewire.events import EntityRef, Location, RelatedRecord


class Action(Schema):
    action = fields.String()
    actor = fields.String()
    agency = fields.String(allow_none=True)
    at = fields.AwareDateTime()
    request_id = fields.String(allow_none=True)
    detail = fields.Dict()


class Repeat(Schema):
    """A near-duplicate read folded into this alert: same plate, same camera, within the window."""

    source_event_id = fields.String()
    occurred_at = fields.AwareDateTime()
    at = fields.AwareDateTime()


class Evidence(Schema):
    type = fields.String()
    reference = fields.String()
    description = fields.String()


class Identification(Schema):
    """C26: who identified a face alert's candidate, when, and on what independent evidence."""

    reviewer = fields.String()
    at = fields.AwareDateTime()
    evidence = fields.List(fields.Nested(Evidence))
    note = fields.String(allow_none=True)


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
    assigned_unit = fields.String(allow_none=True)
    dismissal = fields.Dict(allow_none=True)
    cases = fields.List(fields.String(), attribute="case_ids", dump_default=list)  # the cases it was promoted into
    version = fields.Integer(dump_default=1)
    notes = fields.String()
    repeats = fields.List(fields.Nested(Repeat), dump_default=list)
    purge_after = fields.AwareDateTime(allow_none=True)
    legal_hold = fields.Method("holds", allow_none=True)  # the cases holding it (C17), or None
    triage_due = fields.AwareDateTime(allow_none=True)
    overdue = fields.Boolean(dump_default=False)
    escalated_at = fields.AwareDateTime(allow_none=True)
    touched_at = fields.AwareDateTime(allow_none=True)
    assigned_at = fields.AwareDateTime(allow_none=True)
    first_action_at = fields.AwareDateTime(allow_none=True)
    seconds_to_assignment = fields.Float(allow_none=True)
    seconds_to_first_action = fields.Float(allow_none=True)
    entities = fields.List(fields.Nested(EntityRef), dump_default=list)
    related = fields.List(fields.Nested(RelatedRecord), dump_default=list)
    actions = fields.List(fields.Nested(Action), dump_default=list)
    identified = fields.Boolean(dump_default=False)  # C26: only with a reviewer and independent evidence
    identification = fields.Nested(Identification, allow_none=True, dump_default=None)
    notice = fields.Method("face_notice")

    def holds(self, alert):
        return alert.get("legal_hold") or None

    def face_notice(self, alert):
        """C26: a face match is an investigative lead only, and every face alert says so."""
        return FACE_NOTICE if alert.get("source") == "face" else None


class AlertSummary(AlertOut):
    """A list item: the alert without its action log or the related records found when it arrived.

    The gateway adds ``related_count``, counted when asked and only what the caller may see.
    """

    class Meta:
        exclude = ("actions", "related")


class ListIn(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    source = fields.String(validate=validate.OneOf(SOURCES))
    assignee = fields.String(validate=validate.Length(min=1, max=200))
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(max=500))
    agency = fields.String(allow_none=True)  # the aging queue's agency: the caller's, set by the gateway


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
    notes = fields.Method("searchable_notes", allow_none=True)
    version = fields.Integer(dump_default=1)

    def searchable_notes(self, alert):
        """The submission's notes and every note added since, one per line (what search matches)."""
        added = [entry["detail"].get("text") for entry in alert.get("actions") or [] if entry.get("action") == "note"]
        return "\n".join(text for text in [alert.get("notes"), *added] if text) or None


class AlertUpdate(AlertEvent):
    """An alert dumped for ``alert_updated``: the event fields plus who holds it and its cases."""

    assignee = fields.String(allow_none=True)
    assigned_unit = fields.String(allow_none=True)
    case_ids = fields.List(fields.String(), dump_default=list)


class AlertExport(AlertUpdate):
    """An alert as ``export_alerts`` pages it: the ``alert_updated`` fields."""


def encode_cursor(alert: dict, order: str = "received_at") -> str:
    """The opaque position after ``alert`` in a list ordered by ``order`` (then id)."""
    raw = json.dumps([alert[order].isoformat(), alert["_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple:
    try:
        received_at, alert_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(received_at), str(alert_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("not a cursor from this list", {"cursor": ["not a cursor from this list"]}) from exc
