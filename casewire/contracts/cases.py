"""Cases as the cases service dumps them and the gateway answers them (C2-C17).

Stored values nested in a case (links, reviews, holds...) are sent as JSON primitives by :class:`Plain`
fields, each documented by the schema of what it holds.
"""

from marshmallow import EXCLUDE, INCLUDE, Schema, fields

from casewire.contracts.common import page_of

IDENTIFYING = "identifying"
IDENTIFYING_NOTICE = "Identifying information only, no criminal connotation"  # C8, wherever shown
CLASSIFICATIONS = ("investigative", "criminal_intelligence", IDENTIFYING)


def plain(value: object) -> object:
    """Nested stored values as JSON primitives: datetimes become ISO strings."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if key != "_id"} | (
            {"id": value["_id"]} if "_id" in value else {}
        )
    if isinstance(value, list):
        return [plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class Plain(fields.Nested):
    """A stored value sent as :func:`plain` makes it, documented as the nested schema ``nested``."""

    def _serialize(self, value: object, attr: str | None, obj: object, **kwargs) -> object:
        return plain(value)


def _time(description: str | None = None) -> fields.String:
    return fields.String(
        allow_none=True, metadata={"format": "date-time", **({"description": description} if description else {})}
    )


class _Stored(Schema):
    """A part of a stored record; fields a later version adds may follow."""

    class Meta:
        unknown = INCLUDE


class LinkedAlert(_Stored):
    alert_id = fields.String(required=True)
    source = fields.String(allow_none=True)
    occurred_at = _time()
    linked_at = _time()
    linked_by = fields.String()
    reason = fields.String(allow_none=True)
    reasonable_suspicion = fields.String(metadata={"description": "C7: why a sensor hit belongs in intelligence"})
    promoted = fields.Boolean(metadata={"description": "linked by promoting the alert"})
    origin_case_id = fields.String(metadata={"description": "the case it came from in a merge"})


class LinkedEntity(_Stored):
    entity_id = fields.String(required=True)
    type = fields.String()
    display = fields.String()
    role = fields.String(required=True)
    note = fields.String(allow_none=True)
    linked_at = _time()
    linked_by = fields.String()
    origin_case_id = fields.String()


class CaseSubject(_Stored):
    entity_id = fields.String()
    name = fields.String()
    description = fields.String()


class Review(_Stored):
    """One approval, validation or review-date change (C3, C14)."""

    decision = fields.String()
    justification = fields.String()
    reviewer = fields.String()
    at = _time()
    review_due = _time()


class HoldRef(_Stored):
    id = fields.String(required=True)
    reference = fields.String(required=True)


class MergedFrom(_Stored):
    case_id = fields.String(required=True)
    title = fields.String()
    merged_at = _time()
    merged_by = fields.String()


class Disposition(_Stored):
    outcome = fields.String(metadata={"example": "arrest"})
    date = fields.String(metadata={"format": "date"})
    note = fields.String(allow_none=True)
    recorded_by = fields.String()
    recorded_at = _time()


class CaseOut(Schema):
    """A case file: its fields, links, labels (C5) and review state (C3, C13)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(attribute="_id", required=True)
    title = fields.String(required=True)
    summary = fields.String()
    type = fields.String()
    priority = fields.String()
    unit = fields.String()
    agency = fields.String(allow_none=True)
    assignees = fields.List(fields.String())
    classification = fields.String(required=True, metadata={"enum": list(CLASSIFICATIONS)})
    record_class = fields.String()
    status = fields.String(required=True)
    opened_at = fields.AwareDateTime()
    opened_by = fields.String()
    updated_at = fields.AwareDateTime()
    version = fields.Integer()
    alerts = Plain(LinkedAlert, many=True)
    alert_ids = fields.List(fields.String())
    unlinked_alerts = Plain(LinkedAlert, many=True)
    entities = Plain(LinkedEntity, many=True)
    entity_ids = fields.List(fields.String())
    subjects = Plain(CaseSubject, many=True)
    offense_category = fields.String()
    reasonable_suspicion = fields.String()
    submitter = fields.String()
    submitting_agency = fields.String()
    submitting_unit = fields.String()
    control_official = fields.String()
    source_type = fields.String()
    obtained_how = fields.String()
    sensitivity = fields.String()
    source_reliability = fields.String()
    content_validity = fields.String()
    protected_views = fields.Boolean()
    protected_views_link = fields.String()
    review_state = fields.String()
    review_due = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime()
    approved_by = fields.String()
    approved_at = fields.AwareDateTime()
    last_validated_at = fields.AwareDateTime()
    reviews = Plain(Review, many=True)
    legal_holds = Plain(HoldRef, many=True)
    merged_from = Plain(MergedFrom, many=True)
    merged_into = fields.String()
    promoted_from_alert = fields.String()
    disposition = Plain(Disposition, allow_none=True)
    dispositions = Plain(Disposition, many=True)
    attached_to = fields.String()
    attached_subject = fields.String()
    notice = fields.Method("identifying_notice", allow_none=True, metadata={"enum": [IDENTIFYING_NOTICE, None]})

    def identifying_notice(self, case: dict) -> str | None:
        """C8: identifying information says, wherever it is shown, that it carries no criminal connotation."""
        return IDENTIFYING_NOTICE if case.get("classification") == IDENTIFYING else None


class CaseListItem(CaseOut):
    related_count = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "records sharing its or its alerts' entities that you may see; null when not known"},
    )


CasePage = page_of(CaseListItem, "CasePage")


class ContentItem(Schema):
    """A note, report, interview or task (the fields of its kind's body), with who recorded it and when."""

    id = fields.String(required=True)
    case_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["notes", "reports", "interviews", "tasks", "evidence"]})
    recorded_at = _time()
    by = fields.String()
    text = fields.String(metadata={"description": "a note's"})
    title = fields.String(metadata={"description": "a report's or a task's"})
    body = fields.String(metadata={"description": "a report's"})
    report_type = fields.String()
    interviewee = fields.String()
    interviewer = fields.String()
    at = _time("when an interview was held")
    summary = fields.String()
    location = fields.String()
    attachment_ids = fields.List(fields.String())
    assignee = fields.String(metadata={"description": "a task's"})
    due = _time("a task's due time")
    detail = fields.String()


class CustodyEntry(_Stored):
    id = fields.String()
    evidence_id = fields.String()
    seq = fields.Integer(metadata={"description": "its place in the chain, from 1"})
    from_ = fields.String(data_key="from", required=True)
    to = fields.String(required=True)
    at = _time()
    reason = fields.String()
    condition = fields.String()
    recorded_by = fields.String()
    recorded_at = _time()


class EvidenceItem(ContentItem):
    """An evidence item with its whole chain of custody (append-only)."""

    description = fields.String()
    evidence_type = fields.String()
    collected_at = _time()
    collected_by = fields.String()
    custody = fields.List(fields.Nested(CustodyEntry), required=True)


ContentPage = page_of(ContentItem, "ContentPage")


class Attachment(Schema):
    id = fields.String(required=True)
    filename = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    content_type = fields.String(allow_none=True, metadata={"description": "sniffed from the content"})
    declared_content_type = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)
    uploaded_by = fields.String(allow_none=True)
    uploaded_at = _time()
    origin_case_id = fields.String(allow_none=True)


class SharedEntity(Schema):
    id = fields.String(required=True)
    type = fields.String()
    display = fields.String()


class RelatedToCase(Schema):
    record_type = fields.String(required=True, metadata={"enum": ["alert", "case"]})
    id = fields.String(required=True)
    shared_entities = fields.List(fields.Nested(SharedEntity), required=True)


class CaseRelated(Schema):
    """Cases and alerts sharing entities with the case or its alerts, that you may open."""

    cases = fields.List(fields.Nested(RelatedToCase), required=True)
    alerts = fields.List(fields.Nested(RelatedToCase), required=True)


class TimelineEntry(_Stored):
    at = fields.String(required=True, metadata={"format": "date-time"})
    kind = fields.String(
        required=True,
        metadata={"description": "action, notes, reports, interviews, tasks, evidence, evidence_collected, "
                  "interview_held, custody, attachment or sighting"},
    )  # fmt: skip
    id = fields.String()
    action = fields.String()
    actor = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    detail = fields.Dict()
    sha256 = fields.String(metadata={"description": "an attachment's"})
    from_ = fields.String(data_key="from", allow_none=True, metadata={"description": "a custody transfer's"})
    to = fields.String()
    reason = fields.String()
    condition = fields.String()
    entity_id = fields.String(metadata={"description": "a sighting's"})
    record_type = fields.String()
    record_id = fields.String()
    source = fields.String(allow_none=True)
    location = fields.Dict(allow_none=True)


class Timeline(Schema):
    items = fields.List(fields.Nested(TimelineEntry), required=True)


class Dissemination(Schema):
    """A release of a record outside its unit (C10)."""

    id = fields.String(required=True)
    kind = fields.String(metadata={"enum": ["share", "export"]})
    format = fields.String(metadata={"enum": ["pdf", "json"], "description": "an export's"})
    recipient = fields.String(required=True)
    agency = fields.String(required=True)
    purpose = fields.String()
    need_to_know = fields.String()
    record_ids = fields.List(fields.String(), required=True)
    classification = fields.String()
    sensitivity = fields.String(allow_none=True)
    at = _time()
    by = fields.String(allow_none=True)
    by_agency = fields.String(allow_none=True)
    by_unit = fields.String(allow_none=True)
    record_agency = fields.String(allow_none=True, metadata={"description": "the released record's agency"})


DisseminationPage = page_of(Dissemination, "DisseminationPage")


class ReviewStep(Schema):
    """Who created, approved, validated or moved the review date of a purged record, and when."""

    action = fields.String(
        required=True, metadata={"enum": ["created", "reschedule", "review.approve", "review.validate"]}
    )
    actor = fields.String(allow_none=True)
    at = _time()
    to = fields.String(allow_none=True, metadata={"description": "a reschedule's new review date"})
    from_ = fields.String(
        data_key="from", allow_none=True, metadata={"description": "a reschedule's earlier review date"}
    )


class Tombstone(Schema):
    """What is left of a purged record (C16): its id and a hash of its content, never the content."""

    id = fields.String()
    record_type = fields.String(required=True)
    record_id = fields.String(required=True)
    record_class = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    content_hash = fields.String(required=True)
    reason = fields.String(required=True)
    actor = fields.String(allow_none=True)
    at = _time()
    automatic = fields.Boolean()
    review_trail = fields.List(fields.Nested(ReviewStep))


class LegalHold(Schema):
    id = fields.String(required=True)
    case_id = fields.String(required=True)
    reference = fields.String(required=True)
    reason = fields.String()
    placed_by = fields.String()
    placed_at = _time()
    agency = fields.String(allow_none=True, metadata={"description": "the placer's agency"})
    unit = fields.String(
        allow_none=True, metadata={"description": "the placer's unit: with the agency, who may release it"}
    )
    released_at = _time()
    released_by = fields.String()
    release_reason = fields.String()


HoldPage = page_of(LegalHold, "HoldPage")


class QueueEntry(Schema):
    """A record due for review (C15): enough to open it, no narrative."""

    case_id = fields.String(required=True)
    title = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    review_state = fields.String(allow_none=True)
    review_due = fields.String(metadata={"format": "date-time"})
    days_left = fields.Integer()
    overdue = fields.Boolean()
    last_validated_at = _time()
    legal_holds = fields.List(fields.String())


QueuePage = page_of(QueueEntry, "QueuePage")


class Notification(_Stored):
    """A notice for a person: a restricted record hit outside its unit (C6), or a released record that
    changed (C11)."""

    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["restricted_hit", "recipient_notified"]})
    recipient = fields.String(allow_none=True)
    recipient_agency = fields.String(allow_none=True)
    case_id = fields.String(allow_none=True)
    dissemination_id = fields.String()
    change = fields.String(metadata={"description": "corrected or purged (C11)"})
    fields_changed = fields.List(fields.String())
    unit = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    at = _time()
    detail = fields.Dict(metadata={"description": "C6: who searched (`searcher`, `searcher_agency`, `terms`...)"})


NotificationPage = page_of(Notification, "NotificationPage")


class Webhook(Schema):
    """A webhook subscription; its secret is never shown again."""

    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    format = fields.String(metadata={"enum": ["standard", "chat"], "description": "the deliveries' body"})
    agency = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = _time()


WebhookPage = page_of(Webhook, "WebhookPage")


class WebhookCreated(Webhook):
    secret = fields.String(
        required=True,
        metadata={
            "description": "the Standard Webhooks secret every delivery is signed with; shown this once",
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        },
    )


class ComplianceReport(Schema):
    """The 28 CFR Part 23 report for a period (C27): rows of records, each list's count and `ok`."""

    period = fields.Dict(required=True, metadata={"description": "`since` and `until`"})
    generated_at = fields.String(required=True, metadata={"format": "date-time"})
    generated_by = fields.String(allow_none=True)
    intelligence_without_predicate_or_labels = fields.List(fields.Dict(), required=True)
    review_due_beyond_five_years = fields.List(fields.Dict(), required=True)
    reviews_overdue = fields.List(fields.Dict(), required=True)
    purges = fields.List(fields.Nested(Tombstone), required=True)
    disseminations = fields.List(fields.Dict(), required=True)
    restricted_disseminated = fields.List(fields.Dict(), required=True)
    reads_without_purpose = fields.List(fields.Dict(), required=True)
    recipient_notifications = fields.List(fields.Dict(), required=True)
    control_official_notifications = fields.List(fields.Dict(), required=True)
    sample = fields.List(fields.Dict(), required=True, metadata={"description": "`sample=N` records in full"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    ok = fields.Boolean(required=True, metadata={"description": "every exception row is empty"})


class CaseBundle(Schema):
    """``export?format=json``: the whole case file, with attachment hashes and its own dissemination (C10)."""

    case = fields.Nested(CaseOut, required=True)
    notes = fields.List(fields.Nested(ContentItem), required=True)
    reports = fields.List(fields.Nested(ContentItem), required=True)
    interviews = fields.List(fields.Nested(ContentItem), required=True)
    tasks = fields.List(fields.Nested(ContentItem), required=True)
    evidence = fields.List(fields.Nested(EvidenceItem), required=True)
    attachments = fields.List(fields.Nested(Attachment), required=True)
    disseminations = fields.List(fields.Nested(Dissemination), required=True)
    history = fields.List(fields.Dict(), required=True, metadata={"description": "the case's action log"})
    exported_at = fields.String(required=True, metadata={"format": "date-time"})
    exported_by = fields.String(allow_none=True)
    recipient = fields.String(required=True)
    agency = fields.String(required=True)
    need_to_know = fields.String(required=True)
    dissemination_id = fields.String(required=True)
