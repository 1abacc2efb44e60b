"""What a case may be given: the vocabularies and input schemas of cases, shared by the cases service,
which loads every input with them at its RPC boundary, and the gateway, which documents them.

The answers are :mod:`casewire.contracts.cases`.
"""

import base64
import binascii

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates

from casewire.contracts.cases import CLASSIFICATIONS

# Status workflow: which status may follow which. Anything else is a 409.
TRANSITIONS = {
    "open": {"active", "suspended", "closed", "referred"},
    "active": {"suspended", "closed", "referred"},
    "suspended": {"active", "closed"},
    "closed": {"active"},  # reopened
    "referred": {"active", "closed"},  # returned by the receiving agency, or finished there
}
STATUSES = tuple(TRANSITIONS)

OFFENSE_CATEGORIES = (
    "homicide",
    "robbery",
    "burglary",
    "assault",
    "narcotics_trafficking",
    "weapons_trafficking",
    "human_trafficking",
    "sexual_exploitation",
    "gang_activity",
    "organized_crime",
    "terrorism",
    "fraud",
    "cybercrime",
    "auto_theft",
    "arson",
    "extortion",
    "money_laundering",
)
SOURCE_TYPES = (
    "officer_observation",
    "confidential_informant",
    "citizen_tip",
    "sensor",
    "public_record",
    "open_source",
    "other_agency",
    "undercover",
    "interview",
    "court_record",
)
SENSITIVITIES = ("open", "agency_only", "restricted")
RELIABILITIES = ("A", "B", "C", "D")  # reliable, usually reliable, unreliable, unknown
VALIDITIES = ("1", "2", "3", "4")  # confirmed, probable, doubtful, cannot be judged

OUTCOMES = (
    "arrest",
    "charges_filed",
    "referred_to_prosecutor",
    "cleared_by_exception",
    "unfounded",
    "inactive",
)
"""A case's disposition: what a closed or referred case led to."""

PRIORITIES = ("low", "normal", "high", "critical")
ENTITY_ROLES = (
    "suspect",
    "victim",
    "witness",
    "vehicle_of_interest",
    "person_of_interest",
    "associate",
    "complainant",
    "location_of_interest",
    "evidence",
    "other",
)
ITEM_KINDS = ("notes", "reports", "interviews", "tasks")


WEBHOOK_FORMATS = ("standard", "chat")
SECRET_PREFIX = "whsec_"
SECRET_BYTES = (24, 64)  # what Standard Webhooks asks of a secret's key


def secret_refusal(secret: str) -> str | None:
    """Why a subscriber's own secret cannot sign (None if it can): ``whsec_`` and 24-64 bytes in base64."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith(SECRET_PREFIX) or not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        return f"a Standard Webhooks secret: {SECRET_PREFIX} and {SECRET_BYTES[0]} to {SECRET_BYTES[1]} bytes in base64"
    return None


_short = validate.Length(min=1, max=300)
_text = validate.Length(min=1, max=50000)


class _In(Schema):
    class Meta:
        unknown = RAISE


class Subject(_In):
    entity_id = fields.String(validate=_short)
    name = fields.String(validate=_short)
    description = fields.String(validate=validate.Length(max=2000))


class CaseFields(_In):
    """Fields a case may be opened or edited with; criminal intelligence adds C2/C4/C5/C13 fields."""

    title = fields.String(validate=_short)
    summary = fields.String(validate=validate.Length(max=20000))
    type = fields.String(validate=validate.Length(min=1, max=100))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    unit = fields.String(validate=validate.Length(min=1, max=100))
    assignee = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "adds one assignee"})
    assignees = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=50))
    subjects = fields.List(fields.Nested(Subject), validate=validate.Length(max=100))
    offense_category = fields.String(validate=validate.OneOf(OFFENSE_CATEGORIES))
    reasonable_suspicion = fields.String(validate=validate.Length(max=20000))
    submitter = fields.String(validate=_short)
    submitting_agency = fields.String(validate=validate.Length(min=1, max=20), metadata={"description": "ORI"})
    control_official = fields.String(validate=_short)
    source_type = fields.String(validate=validate.OneOf(SOURCE_TYPES))
    obtained_how = fields.String(validate=validate.Length(min=1, max=5000))
    sensitivity = fields.String(validate=validate.OneOf(SENSITIVITIES))
    source_reliability = fields.String(validate=validate.OneOf(RELIABILITIES))
    content_validity = fields.String(validate=validate.OneOf(VALIDITIES))
    review_due = fields.AwareDateTime()
    protected_views = fields.Boolean(metadata={"description": "C4: holds political, religious or social views"})
    protected_views_link = fields.String(validate=validate.Length(max=5000))


class CaseIn(CaseFields):
    title = fields.String(required=True, validate=_short)
    classification = fields.String(load_default="investigative", validate=validate.OneOf(CLASSIFICATIONS))
    attached_to = fields.String(
        validate=_short, metadata={"description": "identifying: the approved criminal intelligence record (C8)"}
    )
    attached_subject = fields.String(
        validate=_short, metadata={"description": "identifying: the subject (name or entity id) it identifies"}
    )


class CasePatch(CaseFields):
    """What a PATCH may change: who submitted a record and for which agency stay as recorded (C3: a
    submitter could otherwise rename themselves and approve their own record)."""

    class Meta(CaseFields.Meta):
        exclude = ("submitter", "submitting_agency")

    status = fields.String(validate=validate.OneOf(STATUSES))
    reason = fields.String(
        validate=validate.Length(max=2000),
        metadata={"description": "why the status changes; required to change unit or sensitivity"},
    )


class ReviewIn(_In):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(("approve", "validate", "purge")),
        metadata={"description": "purge: the purge authority only, the justification is the reason (C17)"},
    )
    justification = fields.String(required=True, validate=validate.Length(min=10, max=5000))
    review_due = fields.AwareDateTime()


class PurgeIn(_In):
    reason = fields.String(required=True, validate=validate.Length(min=10, max=5000))


class HoldIn(_In):
    reference = fields.String(required=True, validate=_short, metadata={"description": "court order, litigation"})
    reason = fields.String(required=True, validate=validate.Length(min=3, max=5000))


class ReleaseIn(_In):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=5000))


class QueueQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String()


class ReportQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    since = fields.AwareDateTime(metadata={"description": "start of the period (default: 30 days ago)"})
    until = fields.AwareDateTime(metadata={"description": "end of the period, exclusive (default: now)"})
    sample = fields.Integer(load_default=0, validate=validate.Range(0, 200), metadata={"description": "records"})


class LinkAlertIn(_In):
    alert_id = fields.String(required=True, validate=_short)
    reason = fields.String(validate=validate.Length(max=2000))
    reasonable_suspicion = fields.String(
        validate=validate.Length(max=20000), metadata={"description": "C7: needed to link into criminal intelligence"}
    )


class UnlinkIn(_In):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class LinkEntityIn(_In):
    entity_id = fields.String(required=True, validate=_short)
    role = fields.String(required=True, validate=validate.OneOf(ENTITY_ROLES))
    note = fields.String(validate=validate.Length(max=2000))


class NoteIn(_In):
    text = fields.String(required=True, validate=_text)


class ReportIn(_In):
    title = fields.String(required=True, validate=_short)
    body = fields.String(required=True, validate=_text)
    report_type = fields.String(load_default="investigative", validate=validate.Length(max=100))


class InterviewIn(_In):
    interviewee = fields.String(required=True, validate=_short, metadata={"description": "who was interviewed"})
    at = fields.AwareDateTime(required=True, metadata={"description": "when"})
    interviewer = fields.String(validate=_short, metadata={"description": "by whom; defaults to the caller"})
    summary = fields.String(required=True, validate=_text)
    location = fields.String(validate=validate.Length(max=300))
    attachment_ids = fields.List(fields.String(validate=_short), load_default=list)


class TaskIn(_In):
    title = fields.String(required=True, validate=_short)
    assignee = fields.String(required=True, validate=_short)
    due = fields.AwareDateTime(required=True)
    detail = fields.String(validate=validate.Length(max=5000))


ITEM_SCHEMAS = {"notes": NoteIn, "reports": ReportIn, "interviews": InterviewIn, "tasks": TaskIn}


class CustodyIn(_In):
    """One transfer of an evidence item."""

    from_ = fields.String(required=True, data_key="from", validate=_short)
    to = fields.String(required=True, validate=_short)
    at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    condition = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class EvidenceIn(_In):
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    evidence_type = fields.String(load_default="physical", validate=validate.Length(max=100))
    collected_at = fields.AwareDateTime(required=True)
    collected_by = fields.String(required=True, validate=_short)
    location = fields.String(validate=validate.Length(max=300))
    custody = fields.List(fields.Nested(CustodyIn), load_default=list, validate=validate.Length(max=100))


class DisseminationIn(_In):
    recipient = fields.String(required=True, validate=_short)
    agency = fields.String(required=True, validate=_short)
    purpose = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    need_to_know = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class ExportIn(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default="pdf", validate=validate.OneOf(("pdf", "json")))
    recipient = fields.String(validate=_short, metadata={"description": "defaults to the caller"})
    agency = fields.String(validate=_short, metadata={"description": "defaults to the caller's agency"})
    need_to_know = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class CasesMergeIn(_In):
    """Two cases into one (the entities' own merge is :class:`casewire.contracts.entity_inputs.MergeIn`)."""

    other_id = fields.String(required=True, validate=_short)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class PromoteIn(CaseIn):
    """Promote into ``case_id``, or open a new case from these fields."""

    title = fields.String(validate=_short)
    case_id = fields.String(validate=_short)
    reason = fields.String(validate=validate.Length(max=2000))


class WebhookIn(_In):
    """A subscription; without a ``secret`` of the subscriber's own, one is made and shown once."""

    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    events = fields.List(
        fields.String(
            validate=validate.OneOf(
                (
                    "case_updated",
                    "case_assigned",
                    "alert_overdue",
                    "control_official_notified",
                    "dissemination_recipient_notified",
                )
            )
        ),
        required=True,
        validate=validate.Length(min=1),
    )
    unit = fields.String(validate=validate.Length(min=1, max=100))
    secret = fields.String(
        load_only=True,
        metadata={"description": "a Standard Webhooks secret (`whsec_` and 24-64 bytes in base64); made if absent"},
    )
    format = fields.String(
        load_default="standard",
        validate=validate.OneOf(WEBHOOK_FORMATS),
        metadata={"description": "`standard` ({type, timestamp, data}) or `chat` ({text}: one line for a chat tool)"},
    )

    @validates("secret")
    def signs(self, value: str, **kwargs) -> None:
        refusal = secret_refusal(value)
        if refusal:
            raise ValidationError(refusal)


class CaseListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(STATUSES))
    assignee = fields.String(validate=_short)
    classification = fields.String(validate=validate.OneOf(CLASSIFICATIONS))
    unit = fields.String(validate=_short)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String()


class DispositionIn(Schema):
    """``POST /api/v1/cases/{id}/disposition``."""

    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES), metadata={"example": "arrest"})
    date = fields.Date(required=True, metadata={"description": "when it happened", "example": "2026-03-01"})
    note = fields.String(validate=validate.Length(max=5000), metadata={"example": "Suspect arrested at home"})
