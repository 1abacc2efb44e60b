"""What intake takes and returns over RPC: alerts as JSON primitives."""

import base64
import json
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate

from casewire.alerts import SOURCES, STATUSES

# Its answers are the API's contract, shared with the gateway that documents them.
from casewire.contracts.alerts import AlertOut, AlertSummary  # noqa: F401
from casewire.errors import InvalidInput
from casewire.events import Location

# A list item as search serves it: the entities are search's own (the sightings of the alert).
LIST_ITEM = AlertSummary(exclude=("entities",))


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

    def searchable_notes(self, alert: dict) -> str | None:
        """The submission's notes and every note added since, one per line (what search matches)."""
        added = [entry["detail"].get("text") for entry in alert.get("actions") or [] if entry.get("action") == "note"]
        return "\n".join(text for text in [alert.get("notes"), *added] if text) or None


class AlertAnnounced(AlertEvent):
    """An alert dumped for ``alerts_received``: the event fields and the list item search serves."""

    item = fields.Method("list_item")

    def list_item(self, alert: dict) -> dict:
        return LIST_ITEM.dump(alert)


class AlertUpdate(AlertAnnounced):
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


def load(schema: Schema, data: dict, what: str) -> dict:
    """``data`` loaded by ``schema``, or InvalidInput naming each bad field of the ``what``."""
    try:
        return schema.load(data or {})
    except ValidationError as exc:
        raise InvalidInput(f"the {what} is invalid", exc.messages) from exc
