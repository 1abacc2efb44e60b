"""What the audit log answers (C20-C22)."""

from marshmallow import Schema, fields

from casewire.audit import AuditEvent
from casewire.contracts.common import page_of


class LoggedEvent(AuditEvent):
    """An audit event as the chain holds it: its place (`seq`) and hashes (C22)."""

    at = fields.String(required=True, metadata={"format": "date-time"})
    seq = fields.Integer(required=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True, metadata={"description": "SHA-256 of its canonical form"})
    record_id = fields.String(allow_none=True, metadata={"description": "the first of `record_ids`"})


AuditEventPage = page_of(LoggedEvent, "AuditEventPage")


class Verification(Schema):
    """Whether the hash chain, its signed checkpoints and archive anchors hold (C22)."""

    ok = fields.Boolean(required=True)
    checked = fields.Integer(required=True, metadata={"description": "events recomputed"})
    first_bad_seq = fields.Integer(metadata={"description": "the first altered, removed or reordered event"})
    failed_checkpoint = fields.Dict(metadata={"description": "the failing checkpoint and why"})
    failed_anchor = fields.Dict(metadata={"description": "the failing archive anchor and why"})
    head = fields.Dict(metadata={"description": "`seq` and `hash` of the newest event"})
    checkpoints = fields.Dict(metadata={"description": "`checked` and the `latest`"})
    archived = fields.Dict(metadata={"description": "`segments` and `through_seq` of the archive"})
