"""Intake's entrypoints: take alerts in (one or a batch), triage them, list them, expire them."""

import uuid
from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import RpcProxy
from nameko.timer import timer

from casewire import events
from casewire.alerts import AssignBody, DismissBody, IdentifyBody, NoteBody
from casewire.audit import AuditLog
from casewire.clock import Clock
from casewire.errors import EXPECTED, InvalidInput
from casewire.messaging import event_handler
from casewire.mongo import MongoStore
from casewire.monitor import Monitor
from casewire.rpc import rpc
from services.intake import identification, outbox, outcomes, resolving, updates
from services.intake.deadlines import Deadlines
from services.intake.dependencies import AlertStore
from services.intake.grouping import GroupCommit, caller_of
from services.intake.ingest import ingest
from services.intake.retention import RetentionPolicy, purge_due, purge_timer
from services.intake.schemas import (
    AlertExport,
    AlertOut,
    AlertSummary,
    ListIn,
    decode_cursor,
    encode_cursor,
    load,
)
from services.intake.triage import TRANSITIONS, TRIAGE_FLAGS, action

OUTBOX_AGE = timedelta(seconds=10)


# The module, not the class, is imported: ``nameko run`` takes every class with entrypoints in this module.
class IntakeService(outcomes.OutcomeEntrypoints):
    name = "intake"

    alerts = MongoStore(AlertStore)
    dispatch = EventDispatcher()
    audit = AuditLog()
    now = Clock()
    config = Config()
    monitor = Monitor()
    deadlines = Deadlines()
    groups = GroupCommit()
    entities_rpc = RpcProxy("entities", expiration=resolving.RESOLVE_SECONDS)

    @rpc(expected_exceptions=EXPECTED)
    def create_alert(self, submission: dict, context: dict) -> dict:
        """Store one alert durably and announce it.

        ``submission`` is the body of ``POST /api/v1/alerts`` (``casewire.alerts.AlertSubmission``);
        ``context`` carries the caller (``actor``, ``unit``) and ``request_id``. Returns
        ``{"alert", "created", "near_duplicate", "resolution"}``: a repeat of a known event, or a
        near-duplicate read folded into an earlier alert, returns that first alert with ``created``
        false; a new one its ``{"entities", "related"}`` (None: not given in time, ``resolving``).
        Raises InvalidInput naming each bad field, or Unavailable when storing is impossible.
        """
        result = self.groups.submit(caller_of(context), (submission, context), self._ingest_group)
        if result["status"] == 422:
            raise InvalidInput("the alert is invalid", result["errors"])
        return {
            "alert": AlertOut().dump(self.alerts.described(result["id"])),
            "created": result["status"] == 201,
            "near_duplicate": result.get("near_duplicate", False),
            "resolution": result.get("resolution"),
        }

    @rpc(expected_exceptions=EXPECTED)
    def create_alerts(self, submissions: list, context: dict) -> dict:
        """Store a batch: ``{"results": [{"index", "status": 201|200|422, "id"?, "errors"?}, ...]}`` in order."""
        return {"results": self._ingest(submissions, context)}

    def _ingest(self, submissions: list, context: dict, request_ids: list | None = None) -> list[dict]:
        """Store, then audit and announce in one message each (``services.intake.outbox``); a group of
        requests (``request_ids``) is answered with each new alert's ``resolution`` too."""
        window = timedelta(seconds=float(self.config.get("NEAR_DUPLICATE_SECONDS", 120)))
        policy, batch_id = RetentionPolicy.from_config(self.config), uuid.uuid4().hex
        results, created = ingest(
            self.alerts, submissions, context or {}, self.now(), window, policy, self.deadlines, batch_id
        )
        requests = {r["id"]: request_ids[r["index"]] for r in results if request_ids and r["status"] == 201}
        grouped = request_ids is not None
        if outbox.announce_received(self, batch_id, created, context, requests, resolving=grouped) and grouped:
            resolving.answer(self, batch_id, created, results)
        return results

    def _ingest_group(self, group: list[tuple[dict, dict]]) -> list[dict]:
        """The submissions of one caller's concurrent requests (``grouping``), as one batch."""
        contexts = [context or {} for _, context in group]
        return self._ingest(
            [submission for submission, _ in group], contexts[0], [c.get("request_id") for c in contexts]
        )

    @rpc(expected_exceptions=EXPECTED)
    def get_alert(self, alert_id: str) -> dict:
        """One alert with its entities, related records, repeat sightings and action log."""
        return AlertOut().dump(self.alerts.described(alert_id))

    @rpc(expected_exceptions=EXPECTED)
    def overdue_alerts(self, filters: dict) -> dict:
        """The aging queue of ``filters["agency"]``: its alerts past their triage deadline that nobody has
        triaged yet, the longest overdue first, filtered by ``source``, ``assignee`` or ``status``; e.g.
        ``{"agency": "TX0000000", "limit": 50, "cursor": ...}`` → ``{"items": [...], "next_cursor"}``.
        (The alert list itself is served from the search index: ``search.alert_page``.)"""
        query = load(ListIn(), {k: v for k, v in (filters or {}).items() if v is not None}, "list query")
        limit = query["limit"]
        after = decode_cursor(query["cursor"]) if query.get("cursor") else None
        items = self.alerts.overdue_page(query, limit + 1, after)
        next_cursor = encode_cursor(items[limit - 1], "triage_due") if len(items) > limit else None
        page = self.alerts.with_entities(items[:limit])
        return {"items": AlertSummary(many=True).dump(page), "next_cursor": next_cursor}

    @rpc(expected_exceptions=EXPECTED)
    def assign_alert(self, alert_id: str, body: dict, context: dict) -> dict:
        """Assign to a person and/or a unit, e.g. ``{"assignee": "alice"}``; announces ``alert_assigned``."""
        target = load(AssignBody(), body, "assignment")
        at = self.now()
        entry = action("assigned", context, at, assignee=target.get("assignee"), unit=target.get("unit"))
        allowed_from, status = TRANSITIONS["assign"]
        changes = {"status": status, "assignee": target.get("assignee"), "assigned_unit": target.get("unit")}
        write = lambda: self.alerts.transition(alert_id, allowed_from, changes, entry)  # noqa: E731
        then = lambda alert: updates.announce_assigned(self, alert, target, entry)  # noqa: E731
        return AlertOut().dump(updates.apply(self, alert_id, "assigned", write, entry, context, then))

    @rpc(expected_exceptions=EXPECTED)
    def add_note(self, alert_id: str, body: dict, context: dict) -> dict:
        """Append a note to the alert's action log, e.g. ``{"text": "Patrol notified"}`` (any status)."""
        note = load(NoteBody(), body, "note")
        entry = action("note", context, self.now(), text=note["text"])
        write = lambda: self.alerts.transition(alert_id, (), {}, entry)  # noqa: E731
        return AlertOut().dump(updates.apply(self, alert_id, "note", write, entry, context))

    @rpc(expected_exceptions=EXPECTED)
    def dismiss_alert(self, alert_id: str, body: dict, context: dict) -> dict:
        """Dismiss with a reason, e.g. ``{"reason": "false_read", "text": "plate is 8, not B"}``."""
        dismissal = load(DismissBody(), body, "dismissal")
        at = self.now()
        entry = action("dismissed", context, at, **dismissal)
        allowed_from, status = TRANSITIONS["dismiss"]
        changes = {"status": status, "dismissal": {**dismissal, "by": entry["actor"], "at": at.isoformat()}}
        write = lambda: self.alerts.transition(alert_id, allowed_from, changes, entry, unset=TRIAGE_FLAGS)  # noqa: E731
        return AlertOut().dump(updates.apply(self, alert_id, "dismissed", write, entry, context))

    @rpc(expected_exceptions=EXPECTED)
    def identify_alert(self, alert_id: str, body: dict, context: dict) -> dict:
        """C26: the caller, a human reviewer, marks a face alert ``identified`` on independent evidence, e.g.
        ``{"evidence": [{"type": "fingerprint", "reference": "AFIS-2026-004471"}], "note": "examiner confirmed"}``.

        Raises Conflict for an alert that is not a face alert, already identified or dismissed, and
        InvalidInput for evidence that is the face match itself (its probe image or candidate id).
        """
        data = load(IdentifyBody(), body, "identification")
        reviewer = identification.reviewer_of(context)
        identification.check(self.alerts.get(alert_id), data["evidence"])
        at = self.now()
        record = identification.identification(reviewer, at, data["evidence"], data.get("note"))
        entry = action("identified", context, at, evidence=data["evidence"], note=data.get("note"))
        write = lambda: self.alerts.mark_identified(alert_id, record, entry, identification.IDENTIFIABLE)  # noqa: E731
        return AlertOut().dump(updates.apply(self, alert_id, "identified", write, entry, context))

    @rpc(expected_exceptions=EXPECTED)
    def mark_promoted(self, alert_id: str, case_id: str, context: dict) -> dict:
        """The alert became (part of) case ``case_id``: ``promoted`` from new or assigned; idempotent.

        Called by the cases service. An alert may be promoted into several cases (each is one
        action); a dismissed alert raises Conflict.
        """
        actor = (context or {}).get("actor") or {}
        entry = {"action": "promoted", "actor": actor.get("id", "system"), "at": self.now()}
        entry["detail"] = {"case_id": case_id}
        write = lambda: self.alerts.mark_promoted(alert_id, case_id, entry)  # noqa: E731
        return AlertOut().dump(updates.apply(self, alert_id, "promoted", write, entry, context))

    @rpc(expected_exceptions=EXPECTED)
    def set_legal_hold(self, alert_ids: list, case_id: str, held: bool, context: dict) -> int:
        """C17: a legal hold on case ``case_id`` keeps its linked alerts from retention (``held=False`` lets
        go of that case's hold; an alert stays held while another case's hold names it). Called by cases."""
        ids, now = list(alert_ids or []), self.now()
        write = lambda: self.alerts.set_legal_hold(ids, case_id, bool(held), now)  # noqa: E731
        return updates.apply_to_many(self, ids, "held" if held else "hold_released", write)

    @rpc(expected_exceptions=EXPECTED)
    def link_case(self, alert_ids: list, case_id: str, linked: bool, context: dict) -> int:
        """C19: case ``case_id`` names these alerts (``linked``) or no longer does: an alert a case names
        is kept past its retention deadline until no case names it. Called by cases."""
        ids, now = list(alert_ids or []), self.now()
        write = lambda: self.alerts.link_case(ids, case_id, bool(linked), now)  # noqa: E731
        return updates.apply_to_many(self, ids, "linked" if linked else "unlinked", write)

    @event_handler(events.CASES, events.RECORD_PURGED)
    def handle_case_purged(self, payload: dict) -> None:
        """C16: a purged case leaves no link behind: its id leaves the alerts' ``case_ids`` and holds."""
        purged = events.RecordPurged().load(payload)
        if purged["record_type"] == "case":
            ids, now = self.alerts.naming_case(purged["record_id"]), self.now()
            write = lambda: self.alerts.forget_case(ids, purged["record_id"], now)  # noqa: E731
            updates.apply_to_many(self, ids, "case_purged", write)

    @event_handler(events.ENTITIES, events.ALERTS_RESOLVED)
    def handle_alerts_resolved(self, payload: dict) -> None:
        """Keep what the entities service resolved of each alert (its entities and related records)."""
        self.alerts.save_resolutions(events.AlertsResolved().load(payload)["resolutions"])

    @timer(interval=5)
    def publish_pending(self) -> int:
        """Finish what the outbox holds: audit and announce what was stored but not confirmed."""
        return outbox.resend(self, older_than=self.now() - OUTBOX_AGE)

    @purge_timer
    def purge_expired_reads(self) -> int:
        """C19: delete ALPR reads that are not hits, past their jurisdiction's retention deadline
        (every ``ALPR_PURGE_SECONDS``, shorter than the smallest profile)."""
        return purge_due(self, "sensor")

    @timer(interval=3600, eager=True)
    def expire_tips(self) -> int:
        """C18: delete tip leads older than ``TIP_RETENTION_DAYS`` that were not promoted."""
        return purge_due(self, "tip_lead")

    @rpc(expected_exceptions=EXPECTED)
    def export_alerts(self, after: str | None = None, limit: int = 500) -> dict:
        """A page of every alert in id order, for rebuilding the search index.

        ``export_alerts(None, 500)`` → ``{"items": [alert_received fields + notes, assignee, version],
        "next": <last id, or None at the end>, "total": <about how many, on the first page>}``; pass
        ``next`` back as ``after``.
        """
        limit = max(1, min(int(limit), 5000))
        page = self.alerts.export(after, limit)
        answer = {"items": AlertExport(many=True).dump(page), "next": page[-1]["_id"] if len(page) == limit else None}
        if after is None:
            answer["total"] = self.alerts.count()
        return answer

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.alerts.ping()}
