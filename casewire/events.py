"""The event contract: every event name and payload schema, imported by producers and consumers.

Events are named in the past tense and carry only JSON primitives (ISO datetimes as strings).
Producers dump with the schema before dispatching; consumers load with it on receipt.
"""

from marshmallow import EXCLUDE, Schema, fields

# Source service names, as nameko event handlers bind to them.
INTAKE = "intake"
ENTITIES = "entities"
CASES = "cases"
SEARCH = "search"
RESTRICTED_HIT = "restricted_hit"  # search (event type): someone outside its unit hit restricted intelligence (C6)

# Event types. Alerts travel in batches: one message for all the alerts of one submission.
ALERTS_RECEIVED = "alerts_received"  # intake: new alerts are durably stored
ALERTS_RESOLVED = "alerts_resolved"  # entities: alerts' entities are resolved and sighted
LINKS_FOUND = "links_found"  # entities: new alerts share entities with earlier records
# What the stream calls one alert of ``alerts_received`` and one link of ``links_found``.
ALERT_RECEIVED = "alert_received"
LINK_FOUND = "link_found"
CASE_UPDATED = "case_updated"  # cases: a case was created or changed (its searchable fields)
RECORD_PURGED = "record_purged"  # cases, intake, entities: a record was purged; remove it everywhere (C16)
ALERT_ASSIGNED = "alert_assigned"  # intake: an alert was assigned to a person or a unit
ALERT_OVERDUE = "alert_overdue"  # intake: an alert passed its triage deadline (relayed by the stream)
CASE_ASSIGNED = "case_assigned"  # cases: someone was assigned to a case (notifications)
ALERT_UPDATED = "alert_updated"  # intake: an alert changed (triage, escalation, cases, holds); at a new version
ENTITIES_MERGED = "entities_merged"  # entities: one entity was merged into another, or a merge undone
ENTITY_RECORDED = "entity_recorded"  # entities: an entity was made by hand, or a case named or stopped naming it
CONTROL_OFFICIAL_NOTIFIED = "control_official_notified"  # cases: a restricted record was hit outside its unit (C6)
DISSEMINATION_RECIPIENT_NOTIFIED = "dissemination_recipient_notified"  # cases: a released record changed (C11)

MERGE_SIGHTINGS = 5000  # sightings per entity an entities_merged event carries at most: the oldest ones


class _Event(Schema):
    class Meta:
        unknown = EXCLUDE


class Location(_Event):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    address = fields.String(allow_none=True)


class AlertReceived(_Event):
    """One alert of ``alerts_received``, as stored."""

    alert_id = fields.String(required=True)
    source = fields.String(required=True)
    source_system = fields.String(required=True)
    source_event_id = fields.String(required=True)
    occurred_at = fields.String(required=True)
    received_at = fields.String(required=True)
    location = fields.Nested(Location, allow_none=True)
    payload = fields.Dict(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)
    record_class = fields.String(required=True)
    agency = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    version = fields.Integer(load_default=1)  # increases with every change; search writes it as an external version
    # The alert as the alert list shows it at this version (``casewire.contracts.alerts.AlertSummary``
    # without ``entities``, which the entities service owns): search keeps it to serve the list's items.
    item = fields.Dict(load_default=None)


class AlertUpdated(AlertReceived):
    """``intake`` → ``alert_updated``: the alert as it is now, at a higher ``version`` than before.

    The same fields as ``alert_received`` (``notes`` also holds the notes added since), plus who
    holds it and what changed. Consumers keep only the highest version (search: external versions).
    """

    assignee = fields.String(allow_none=True)
    assigned_unit = fields.String(allow_none=True)
    case_ids = fields.List(fields.String(), load_default=list)
    change = fields.String(required=True)  # assigned, note, dismissed, promoted, escalated, linked, held...


class EntityRef(_Event):
    id = fields.String(required=True)
    type = fields.String(required=True)
    key = fields.String(required=True)
    display = fields.String(required=True)
    ambiguous = fields.Boolean(load_default=False)


class IndexedEntity(EntityRef):
    """An entity with what search indexes of it. ``revision`` rises with every change to the entity
    itself (made, enriched, merged, unmerged): copies (search: external versions) keep only the highest."""

    aliases = fields.List(fields.String(), load_default=list)  # other keys it is known by (merged plates, VINs)
    name = fields.String(allow_none=True)
    revision = fields.Integer(load_default=0)


class RelatedRecord(_Event):
    record_type = fields.String(required=True)  # "alert" or "case"
    id = fields.String(required=True)
    occurred_at = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)  # the agency the record's sighting was recorded for
    shared_entities = fields.List(fields.Nested(EntityRef), required=True)


class SightingRef(_Event):
    """Which sighting: one entity named by one record."""

    entity_id = fields.String(required=True)
    record_type = fields.String(required=True)
    record_id = fields.String(required=True)


class Sighting(SightingRef):
    at = fields.String(required=True)
    location = fields.Nested(Location, allow_none=True)
    source = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)  # the agency the record was recorded for: who may find the entity


class MergedEntity(IndexedEntity):
    """One entity of an ``entities_merged`` event, as it is now, with its current sightings: the oldest
    :data:`MERGE_SIGHTINGS` (by ``at``), so a list that long may leave newer ones out."""

    merged_into = fields.String(allow_none=True)  # set: a merged-away entity, which has no sightings of its own
    sightings = fields.List(fields.Nested(Sighting), load_default=list)


class EntitiesMerged(_Event):
    """``entities`` → ``entities_merged``: ``merged_id`` was folded into ``survivor_id`` (or, ``undone``, came back).

    ``entities`` holds both as they are after the change: copies elsewhere (search) replace what they
    hold of each, dropping a merged-away entity and re-pointing sightings to their current entity.
    """

    survivor_id = fields.String(required=True)
    merged_id = fields.String(required=True)
    undone = fields.Boolean(load_default=False)
    at = fields.String(required=True)
    entities = fields.List(fields.Nested(MergedEntity), required=True)


class EntityRecorded(_Event):
    """``entities`` → ``entity_recorded``: an entity made by hand, or named (``sightings``) or no longer
    named (``removed``) by a case. ``entity`` is the entity as it is now."""

    entity = fields.Nested(IndexedEntity, required=True)
    sightings = fields.List(fields.Nested(Sighting), load_default=list)
    removed = fields.List(fields.Nested(SightingRef), load_default=list)


class RestrictedHit(_Event):
    """``search`` → ``restricted_hit``: a search outside the controlling unit matched a restricted case (C6).

    The searcher was answered as if nothing matched; the control official is told who searched what.
    """

    case_id = fields.String(required=True)
    control_official = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    searcher = fields.String(required=True)
    searcher_agency = fields.String(allow_none=True)
    searcher_unit = fields.String(allow_none=True)
    terms = fields.String(required=True)
    purpose = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    at = fields.String(required=True)


class AlertResolved(_Event):
    """One alert of ``alerts_resolved``: its entities, its sightings and what it relates to, with the
    alert's source, agency and arrival (intake counts connected alerts by them)."""

    alert_id = fields.String(required=True)
    entities = fields.List(fields.Nested(IndexedEntity), required=True)
    sightings = fields.List(fields.Nested(Sighting), required=True)
    related = fields.List(fields.Nested(RelatedRecord), required=True)
    source = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    received_at = fields.String(allow_none=True)


class AlertsReceived(_Event):
    """``intake`` → ``alerts_received``: the alerts one submission stored (a single alert is a batch of one)."""

    alerts = fields.List(fields.Nested(AlertReceived), required=True)
    # Intake asks the entities service for these alerts' entities itself, to answer their submitters with
    # them: the entities service leaves them. When that fails, intake's outbox sends them again without it.
    resolving = fields.Boolean(load_default=False)


class AlertsResolved(_Event):
    """``entities`` → ``alerts_resolved``: the alerts of one ``alerts_received`` it resolved anew."""

    resolutions = fields.List(fields.Nested(AlertResolved), required=True)


class LinkFound(_Event):
    """One link of ``links_found``: ``alert_id`` touches entities that ``related`` records touch.

    ``agency`` and ``unit`` are the new alert's; with each related record's ``record_type``, ``id``
    and ``agency`` they let the gateway's stream route the event to the people who may see it.
    """

    alert_id = fields.String(required=True)
    related = fields.List(fields.Nested(RelatedRecord), required=True)
    occurred_at = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)


class LinksFound(_Event):
    """``entities`` → ``links_found``: the new alerts of one batch that relate to earlier records."""

    links = fields.List(fields.Nested(LinkFound), required=True)


class CaseUpdated(_Event):
    """``cases`` → ``case_updated``: the fields search indexes and the stream relays."""

    case_id = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String(load_default="")
    status = fields.String(required=True)
    classification = fields.String(required=True)
    sensitivity = fields.String(allow_none=True)  # criminal intelligence: open, agency_only, restricted
    review_state = fields.String(allow_none=True)  # criminal intelligence: pending_review, approved
    control_official = fields.String(allow_none=True)  # criminal intelligence: who hears of restricted hits (C6)
    submitting_unit = fields.String(allow_none=True)  # criminal intelligence: who sees it while pending review (C3)
    unit = fields.String(required=True)
    agency = fields.String(allow_none=True)
    assignees = fields.List(fields.String(), load_default=list)
    opened_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    entity_ids = fields.List(fields.String(), load_default=list)
    alert_ids = fields.List(fields.String(), load_default=list)
    version = fields.Integer(required=True)  # increases with every change; search writes it as an external version
    change = fields.String(allow_none=True)  # what happened: created, updated, status_changed, alert_linked...


class CaseAssigned(_Event):
    """``cases`` → ``case_assigned``: ``assignee`` now works ``case_id`` (the stream and webhooks tell them)."""

    case_id = fields.String(required=True)
    title = fields.String(required=True)
    unit = fields.String(required=True)
    assignee = fields.String(required=True)
    assigned_by = fields.String(allow_none=True)
    at = fields.String(required=True)
    version = fields.Integer(required=True)


class RecordPurged(_Event):
    """A record is gone (C16): every service that holds a copy removes it."""

    record_type = fields.String(required=True)  # "case", "alert", "entity"
    record_id = fields.String(required=True)
    reason = fields.String(required=True)  # entities: "no sightings left" when the last record naming it was purged


class AlertAssigned(_Event):
    """``intake`` → ``alert_assigned``: who (a person, a unit or both) now owns the alert."""

    alert_id = fields.String(required=True)
    assignee = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    assigned_by = fields.String(required=True)
    assigned_at = fields.String(required=True)
    source = fields.String(required=True)
    priority = fields.String(required=True)
    agency = fields.String(allow_none=True)


class AlertOverdue(_Event):
    """``intake`` → ``alert_overdue``: nobody triaged the alert by its deadline (docs/outcomes.md).

    Sent once per alert. ``unit`` is the unit answerable for it (the unit it is assigned to, else the
    unit it came in through) and ``agency`` its agency: the stream shows it to that unit's
    supervisors and to the assignee; webhooks subscribed to ``alert_overdue`` get it by agency and unit.
    """

    alert_id = fields.String(required=True)
    source = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)  # new or assigned
    agency = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    received_at = fields.String(required=True)
    triage_due = fields.String(required=True)
    escalated_at = fields.String(required=True)


class ControlOfficialNotified(_Event):
    """``cases`` → ``control_official_notified``: someone outside its unit hit a restricted record (C6).

    Relayed to the stream (the control official, the controlling unit's supervisors) and to webhooks of
    the controlling unit. ``notification_id`` names the stored notification.
    """

    notification_id = fields.String(required=True)
    case_id = fields.String(required=True)
    control_official = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    searcher = fields.String(required=True)
    searcher_agency = fields.String(allow_none=True)
    searcher_unit = fields.String(allow_none=True)
    terms = fields.String(required=True)
    purpose = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True)
    at = fields.String(required=True)


class DisseminationRecipientNotified(_Event):
    """``cases`` → ``dissemination_recipient_notified``: a record released to ``recipient`` was corrected
    or purged (C11). ``fields`` names what changed (never its content)."""

    notification_id = fields.String(required=True)
    case_id = fields.String(required=True)
    dissemination_id = fields.String(required=True)
    recipient = fields.String(required=True)
    agency = fields.String(required=True)
    change = fields.String(required=True)  # "corrected" or "purged"
    fields_changed = fields.List(fields.String(), load_default=list)
    unit = fields.String(allow_none=True)  # the record's owning unit and agency (for routing)
    record_agency = fields.String(allow_none=True)
    at = fields.String(required=True)
