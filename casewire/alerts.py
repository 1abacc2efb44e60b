"""The alert submission contract: validated by the gateway and again by intake.

Each detection source has a payload schema with the fields the API requires. Fields a vendor sends
that the schema does not know are never thrown away: they are kept under ``source_payload``.
"""

from collections.abc import Mapping
from datetime import UTC

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from casewire.extras import Open, merge, pop_unknown

SOURCES = ("alpr", "face", "gunshot", "social", "cad", "database", "tip")
PRIORITIES = ("low", "normal", "high", "critical")
STATUSES = ("new", "assigned", "dismissed", "promoted")
LOCATION_OPTIONAL = {"social", "database", "tip"}
FACE_NOTICE = "Investigative lead only, not a positive identification or probable cause"
DISMISS_REASONS = (
    "false_read",  # OCR or match error: not the plate, face or sound reported
    "duplicate",  # another alert already covers it
    "not_actionable",  # true hit, nothing to do (e.g. the hotlist entry is stale)
    "handled_by_patrol",  # resolved in the field
    "out_of_jurisdiction",
    "unfounded",  # a tip or report that checked out as nothing
    "other",  # the text must say why
)
"""Why an alert may be dismissed (``POST /api/v1/alerts/{id}/dismiss``); ``text`` adds the words."""
EVIDENCE_TYPES = (
    "fingerprint",  # a fingerprint comparison (e.g. an AFIS hit confirmed by an examiner)
    "dna",  # a DNA comparison (e.g. a CODIS hit)
    "document",  # an identity document examined in person
    "witness",  # a witness who knows the person identified them
    "interview",  # the person's own statement, or an interview that identified them
    "records_check",  # booking photo, DMV, or another records system checked by a person
    "other",  # the description must say what it is
)
"""Independent evidence that can support identifying a face-recognition candidate (C26)."""

_short = validate.Length(min=1, max=200)
_text = validate.Length(max=20000)


class _KeepsUnknown(Open):
    """Loads declared fields; moves anything else, at any depth, into ``source_payload`` under its path
    (``payload.vehicle.body_style`` → ``payload.source_payload.vehicle.body_style``)."""

    @post_load
    def keep_unknown(self, data: dict, **kwargs) -> dict:
        unknown = pop_unknown(self, data)
        if unknown:
            merge(data.setdefault("source_payload", {}), unknown)
        return data


class IsoDate(fields.Date):
    """A calendar date, checked as ISO 8601 and kept as that text (``"1990-02-03"``): BSON stores datetimes
    only, and only JSON primitives cross the bus."""

    def _deserialize(self, value: object, attr: str | None, data: Mapping | None, **kwargs) -> str:
        return super()._deserialize(value, attr, data, **kwargs).isoformat()


class Vehicle(Open):
    make = fields.String(validate=_short)
    model = fields.String(validate=_short)
    color = fields.String(validate=_short)
    year = fields.Integer(validate=validate.Range(1900, 2100))
    vin = fields.String(validate=validate.Length(max=17))
    plate = fields.String(validate=validate.Length(min=1, max=12))
    plate_state = fields.String(validate=validate.Length(min=2, max=3))


class Person(Open):
    """A face alert's candidate: a match names someone, by name or by the gallery's subject id."""

    name = fields.String(validate=_short)
    dob = IsoDate()
    subject_id = fields.String(validate=_short)
    ncic_number = fields.String(validate=_short)
    state_id = fields.String(validate=_short)

    @validates_schema
    def names_someone(self, data: dict, **kwargs) -> None:
        if not (data.get("name") or "").strip() and not (data.get("subject_id") or "").strip():
            raise ValidationError("give the candidate's name or subject_id", "name")


class Subject(Open):
    """A person, vehicle, phone, email or handle named in a tip or database hit."""

    type = fields.String(
        required=True,
        validate=validate.OneOf(
            ("person", "vehicle", "phone", "email", "social_account", "address", "weapon", "organization")
        ),
    )
    name = fields.String(validate=_short)
    dob = IsoDate()
    plate = fields.String(validate=validate.Length(min=1, max=12))
    plate_state = fields.String(validate=validate.Length(min=2, max=3))
    vin = fields.String(validate=validate.Length(max=17))
    number = fields.String(validate=validate.Length(max=40))
    address = fields.String(validate=validate.Length(max=300))
    platform = fields.String(validate=_short)
    handle = fields.String(validate=_short)
    ncic_number = fields.String(validate=_short)
    state_id = fields.String(validate=_short)
    description = fields.String(validate=_text)


class AlprPayload(_KeepsUnknown):
    plate = fields.String(required=True, validate=validate.Length(min=1, max=12))
    plate_state = fields.String(validate=validate.Length(min=2, max=3))
    camera_id = fields.String(required=True, validate=_short)
    hotlist = fields.String(validate=_short)
    hotlist_reason = fields.String(validate=validate.Length(max=500))
    confidence = fields.Float(validate=validate.Range(0, 100))
    vehicle = fields.Nested(Vehicle)
    image_url = fields.Url(validate=validate.Length(max=2000))
    source_payload = fields.Dict()


class FacePayload(_KeepsUnknown):
    candidate = fields.Nested(Person, required=True)
    score = fields.Float(required=True, validate=validate.Range(0, 100))
    camera_id = fields.String(validate=_short)
    probe_image_url = fields.Url(validate=validate.Length(max=2000))
    source_payload = fields.Dict()


class GunshotPayload(_KeepsUnknown):
    rounds = fields.Integer(required=True, validate=validate.Range(0, 1000))
    incident_type = fields.String(validate=_short)
    sensor_ids = fields.List(fields.String(validate=_short), validate=validate.Length(max=100))
    audio_url = fields.Url(validate=validate.Length(max=2000))
    source_payload = fields.Dict()


class SocialPayload(_KeepsUnknown):
    platform = fields.String(required=True, validate=_short)
    handle = fields.String(required=True, validate=_short)
    profile_url = fields.Url(validate=validate.Length(max=2000))
    post_url = fields.Url(validate=validate.Length(max=2000))
    text = fields.String(validate=_text)
    threat_category = fields.String(validate=_short)
    source_payload = fields.Dict()


class CadPayload(_KeepsUnknown):
    incident_number = fields.String(required=True, validate=_short)
    call_type = fields.String(validate=_short)
    priority = fields.String(validate=validate.Length(max=20))
    narrative = fields.String(validate=_text)
    units = fields.List(fields.String(validate=_short), validate=validate.Length(max=100))
    subjects = fields.List(fields.Nested(Subject), validate=validate.Length(max=50))
    source_payload = fields.Dict()


class DatabasePayload(_KeepsUnknown):
    system = fields.String(required=True, validate=_short)
    hit_type = fields.String(required=True, validate=_short)
    record_ref = fields.String(validate=_short)
    subject = fields.Nested(Subject)
    source_payload = fields.Dict()


class TipPayload(_KeepsUnknown):
    narrative = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    reporter = fields.String(validate=_short)
    contact = fields.String(validate=_short)
    subjects = fields.List(fields.Nested(Subject), validate=validate.Length(max=50))
    source_payload = fields.Dict()


PAYLOAD_SCHEMAS = {
    "alpr": AlprPayload,
    "face": FacePayload,
    "gunshot": GunshotPayload,
    "social": SocialPayload,
    "cad": CadPayload,
    "database": DatabasePayload,
    "tip": TipPayload,
}


class AlertLocation(Open):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    address = fields.String(validate=validate.Length(max=300))


INT64 = (-(2**63), 2**63 - 1)  # BSON's widest integer


def unstorable(value: object, path: str = "") -> list[str]:
    """Where ``value`` holds what a MongoDB-protocol store may refuse: arrays directly inside arrays,
    keys starting with ``$`` or holding a dot or a NUL character, text holding a NUL character, and
    whole numbers beyond 64 bits (BSON). Vendors' extra fields are kept as they came (``source_payload``),
    so they are checked before anything is stored."""
    problems = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("$") or "." in key or "\x00" in key:
                problems.append(f"{path}{key!r}: a key may not start with $ or hold a dot or a NUL character")
            problems += unstorable(item, f"{path}{key}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, list):
                problems.append(f"{path}{index}: arrays inside arrays are not supported")
            problems += unstorable(item, f"{path}{index}.")
    elif isinstance(value, str) and "\x00" in value:
        problems.append(f"{path.rstrip('.') or 'value'}: text may not hold a NUL character")
    elif isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
        problems.append(f"{path.rstrip('.') or 'value'}: a whole number beyond 64 bits cannot be stored")
    return problems


class AlertSubmission(_KeepsUnknown):
    """``POST /api/v1/alerts``: one detection hit."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    source_system = fields.String(required=True, validate=_short)
    source_event_id = fields.String(required=True, validate=_short)
    occurred_at = fields.AwareDateTime(required=True, default_timezone=None)
    location = fields.Nested(AlertLocation)
    payload = fields.Dict(required=True)
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    notes = fields.String(validate=validate.Length(max=5000))
    source_payload = fields.Dict()

    @validates_schema(skip_on_field_errors=False)
    def check_source_fields(self, data: dict, **kwargs) -> None:
        source, errors = data.get("source"), {}
        if source in SOURCES and source not in LOCATION_OPTIONAL and "location" not in data:
            errors["location"] = [f"an alert from source {source} needs a location"]
        payload_schema = _PAYLOADS.get(source)
        if payload_schema and isinstance(data.get("payload"), dict):
            try:  # loaded here, once: what validates is what is kept
                data["payload"] = payload_schema.load(data["payload"])
            except ValidationError as exc:
                errors["payload"] = exc.messages
        problems = unstorable(data)
        if problems:
            errors["_schema"] = problems[:20]
        if errors:
            raise ValidationError(errors)

    @post_load
    def in_utc(self, data: dict, **kwargs) -> dict:
        data["occurred_at"] = data["occurred_at"].astimezone(UTC)
        return data


_PAYLOADS = {source: schema() for source, schema in PAYLOAD_SCHEMAS.items()}
_SUBMISSION = AlertSubmission()  # a schema instance is reusable; building one copies every field


def load_alert(raw: dict) -> dict:
    """Validate one submission; raises marshmallow's ValidationError naming each bad field."""
    return _SUBMISSION.load(raw)


class AssignBody(Schema):
    """``POST /api/v1/alerts/{id}/assign``: to a person, a unit, or both."""

    assignee = fields.String(validate=_short, metadata={"example": "alice"})
    unit = fields.String(validate=_short, metadata={"example": "rtcc"})

    @validates_schema
    def needs_someone(self, data: dict, **kwargs) -> None:
        if not data.get("assignee") and not data.get("unit"):
            raise ValidationError("give an assignee, a unit, or both", "assignee")


class NoteBody(Schema):
    """``POST /api/v1/alerts/{id}/notes``."""

    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class DismissBody(Schema):
    """``POST /api/v1/alerts/{id}/dismiss``: a reason from :data:`DISMISS_REASONS` and words saying why."""

    reason = fields.String(required=True, validate=validate.OneOf(DISMISS_REASONS))
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))

    @validates_schema
    def text_says_why(self, data: dict, **kwargs) -> None:
        if "text" in data and not data["text"].strip():
            raise ValidationError("say why the alert is dismissed", "text")


class EscalateBody(Schema):
    """``POST /api/v1/alerts/{id}/escalate``: words saying why the alert needs the supervisors now."""

    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"example": "Plate on the stolen-vehicle hotlist seen twice near the school in ten minutes"},
    )

    @validates_schema
    def reason_says_why(self, data: dict, **kwargs) -> None:
        if "reason" in data and not data["reason"].strip():
            raise ValidationError("say why the alert is escalated", "reason")


class EvidenceReference(Schema):
    """One piece of evidence, independent of the face match, that supports the identification (C26)."""

    type = fields.String(required=True, validate=validate.OneOf(EVIDENCE_TYPES), metadata={"example": "fingerprint"})
    reference = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "where the evidence is recorded", "example": "AFIS-2026-004471"},
    )
    description = fields.String(validate=validate.Length(max=2000))

    @validates_schema
    def says_what_it_is(self, data: dict, **kwargs) -> None:
        if "reference" in data and not data["reference"].strip():
            raise ValidationError("give the evidence's reference", "reference")
        if data.get("type") == "other" and not (data.get("description") or "").strip():
            raise ValidationError("say what the evidence is", "description")


class IdentifyBody(Schema):
    """``POST /api/v1/alerts/{id}/identify``: a face alert's candidate identified by a human reviewer with
    at least one independent evidence reference (C26). The face match itself is not such evidence."""

    evidence = fields.List(fields.Nested(EvidenceReference), required=True, validate=validate.Length(min=1, max=20))
    note = fields.String(validate=validate.Length(max=5000))
