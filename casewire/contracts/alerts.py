"""Alerts as intake dumps them and the gateway answers them."""

from collections.abc import Iterable

from marshmallow import Schema, fields

from casewire.alerts import DISMISS_REASONS, FACE_NOTICE, PRIORITIES, SOURCES, STATUSES
from casewire.contracts.common import page_of
from casewire.contracts.entities import SightingOut
from casewire.events import EntityRef, Location, RelatedRecord


def _one_of(values: Iterable[str]) -> dict:
    return {"enum": list(values)}


class Action(Schema):
    """One entry of an alert's action log: assigned, note, dismissed, promoted, identified..."""

    action = fields.String(required=True, metadata={"example": "note"})
    actor = fields.String(required=True)
    agency = fields.String(allow_none=True)
    at = fields.AwareDateTime(required=True)
    request_id = fields.String(allow_none=True)
    detail = fields.Dict(metadata={"description": "what the action carried, e.g. a note's `text`"})


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


class Escalation(Schema):
    """Who escalated an alert by hand, when and why; the sweep's escalation of an overdue alert has
    ``escalated_at`` alone."""

    by = fields.String(required=True, metadata={"example": "ann"})
    at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True, metadata={"example": "Stolen car seen twice near the school"})


class AlertOut(Schema):
    """An alert: the submission as stored, its triage state, entities and related records."""

    id = fields.String(attribute="_id", required=True)
    source = fields.String(required=True, metadata=_one_of(SOURCES))
    source_system = fields.String(required=True)
    source_event_id = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    received_at = fields.AwareDateTime(required=True)
    location = fields.Nested(Location, allow_none=True)
    payload = fields.Dict(required=True, metadata={"description": "the source's fields"})
    source_payload = fields.Dict(metadata={"description": "fields the source sent that Casewire does not know"})
    priority = fields.String(required=True, metadata=_one_of(PRIORITIES))
    status = fields.String(required=True, metadata=_one_of(STATUSES))
    record_class = fields.String(required=True, metadata={"example": "sensor"})
    agency = fields.String(allow_none=True, metadata={"description": "ORI"})
    unit = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    assigned_unit = fields.String(allow_none=True)
    dismissal = fields.Dict(
        allow_none=True,
        metadata={"description": f"`reason` (one of {', '.join(DISMISS_REASONS)}), `text`, `by`, `at`"},
    )
    cases = fields.List(
        fields.String(),
        attribute="case_ids",
        dump_default=list,
        required=True,
        metadata={"description": "the cases it was promoted into"},
    )
    version = fields.Integer(dump_default=1, required=True)
    notes = fields.String()
    repeats = fields.List(fields.Nested(Repeat), dump_default=list)
    purge_after = fields.AwareDateTime(allow_none=True)
    legal_hold = fields.Method("holds", allow_none=True, metadata={"description": "the cases holding it (C17)"})
    triage_due = fields.AwareDateTime(allow_none=True)
    overdue = fields.Boolean(dump_default=False)
    escalated_at = fields.AwareDateTime(allow_none=True)
    escalation = fields.Nested(Escalation, allow_none=True, dump_default=None)
    touched_at = fields.AwareDateTime(allow_none=True)
    assigned_at = fields.AwareDateTime(allow_none=True)
    first_action_at = fields.AwareDateTime(allow_none=True)
    seconds_to_assignment = fields.Float(allow_none=True)
    seconds_to_first_action = fields.Float(allow_none=True)
    entities = fields.List(fields.Nested(EntityRef), dump_default=list, required=True)
    related = fields.List(fields.Nested(RelatedRecord), dump_default=list, required=True)
    actions = fields.List(fields.Nested(Action), dump_default=list, required=True)
    identified = fields.Boolean(dump_default=False, metadata={"description": "C26: by a human reviewer on evidence"})
    identification = fields.Nested(Identification, allow_none=True, dump_default=None)
    notice = fields.Method("face_notice", allow_none=True, metadata={"type": "string"})

    def holds(self, alert: dict) -> list | None:
        return alert.get("legal_hold") or None

    def face_notice(self, alert: dict) -> str | None:
        """C26: a face match is an investigative lead only, and every face alert says so."""
        return FACE_NOTICE if alert.get("source") == "face" else None


class AlertSummary(AlertOut):
    """A list item: the alert without its action log or the related records found when it arrived.

    The gateway adds ``related_count``, counted when asked and only what the caller may see.
    """

    class Meta:
        exclude = ("actions", "related")


class AlertSubmitted(AlertOut):
    """The answer to a submission: the alert with the entities and earlier records it was resolved to."""

    near_duplicate = fields.Boolean(metadata={"description": "folded into this (the first) alert as a repeat read"})
    resolution = fields.String(
        metadata={"enum": ["pending"], "description": "`pending`: the entities service will resolve it shortly"}
    )


class CaseBrief(Schema):
    """A case named next to a record, as far as the caller may know it."""

    id = fields.String(required=True)
    title = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    classification = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)


class EntityWithSightings(EntityRef):
    earlier_sightings = fields.List(
        fields.Nested(SightingOut),
        metadata={"description": "this entity's sightings by other records up to the alert, newest first (20)"},
    )


class AlertRead(AlertOut):
    """One alert with its related records and cases as the caller may see them now."""

    entities = fields.List(fields.Nested(EntityWithSightings), required=True)
    related_cases = fields.List(fields.Nested(CaseBrief), required=True)
    earlier_sightings_pending = fields.Boolean(metadata={"description": "the entities service did not answer"})
    related_cases_pending = fields.Boolean(metadata={"description": "the cases service did not answer"})


class AlertListItem(AlertSummary):
    related_count = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "records sharing its entities that you may see; null when not known now"},
    )


AlertPage = page_of(AlertListItem, "AlertPage")


class VendorAlerts(Schema):
    """A vendor post holding several reads: each one stored like ``POST /api/v1/alerts``."""

    alerts = fields.List(fields.Nested(AlertSubmitted), required=True)
    detail = fields.String(metadata={"description": "why nothing was stored (202)"})


class BatchResult(Schema):
    index = fields.Integer(required=True)
    status = fields.Integer(required=True, metadata={"description": "201 stored, 200 already known, 422 invalid"})
    id = fields.String()
    near_duplicate = fields.Boolean(metadata={"description": "folded into the first alert as a repeat sighting"})
    errors = fields.Dict(metadata={"description": "field path → messages, for 422"})


class BatchResults(Schema):
    results = fields.List(fields.Nested(BatchResult), required=True)
