"""What crosses the audit service's boundaries: incoming events, auditor filters, events out."""

import hashlib
import json
from datetime import datetime

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, pre_load, validate

from casewire.audit import OUTCOMES, SYSTEM_ACTOR, AuditEvent
from services.audit.chain import iso, storable, to_millis

RESERVED = {"_id", "seq", "prev_hash", "hash"}


class IncomingEvent(AuditEvent):
    """An event off the audit queue; fields this version does not know are kept (and hashed)."""

    class Meta:
        unknown = INCLUDE

    at = fields.AwareDateTime(required=True)

    @pre_load
    def refuse_chain_fields(self, data: object, **kwargs) -> object:
        """The chain's own fields are the audit service's to set, never a publisher's."""
        taken = sorted(RESERVED & set(data)) if isinstance(data, dict) else []
        if taken:
            raise ValidationError({name: ["set by the audit service only"] for name in taken})
        return data


_INCOMING = IncomingEvent()  # built once: building a schema costs more than loading an event


def to_append(payload: dict, now: datetime) -> dict:
    """The event to append for one queue message. A message that is not a valid event is kept too,
    as an ``audit.malformed_event`` holding it, so nothing is dropped and nothing blocks the queue."""
    try:
        event = _INCOMING.load(payload)
    except ValidationError as exc:
        raw = json.dumps(payload, sort_keys=True, default=str)
        event = {
            "event_id": "malformed-" + hashlib.sha256(raw.encode()).hexdigest(),
            "at": now,
            "service": "audit",
            "action": "audit.malformed_event",
            "outcome": "failed",
            "actor": SYSTEM_ACTOR,
            "record_ids": [],
            "details": {"errors": exc.messages, "payload": payload},
        }
    event["at"] = to_millis(event["at"])
    return storable(event)


class Filters(Schema):
    """What an auditor may filter on; ``since``/``until`` are ISO times (until exclusive).
    Other keys are ignored, as they were before these filters existed."""

    class Meta:
        unknown = EXCLUDE

    actor = fields.String()
    agency = fields.String()
    record_id = fields.String()
    record_type = fields.String()
    action = fields.String()
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    service = fields.String()
    request_id = fields.String()
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    through_seq = fields.Integer(validate=validate.Range(min=0))
    actions = fields.List(fields.String(), metadata={"description": "any of these actions"})
    purpose_missing = fields.Boolean(metadata={"description": "only events without a stated purpose"})
    agencies = fields.List(
        fields.String(allow_none=True),
        metadata={"description": "an auditor's scope: events of these agencies' people or about their records"},
    )


def to_json(value: object) -> object:
    """Stored values as JSON primitives: times in their canonical (hashed) text, so anyone can
    re-hash an exported event."""
    if isinstance(value, dict):
        return {name: to_json(item) for name, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return iso(value) if isinstance(value, datetime) else value
