"""Intake's entrypoints: create, read and list alerts; publish ``alert_received`` durably."""

from datetime import timedelta

from marshmallow import ValidationError
from nameko.events import EventDispatcher, event_handler
from nameko.rpc import rpc
from nameko.timer import timer

from casewire import events
from casewire.alerts import load_alert
from casewire.audit import AuditLog
from casewire.clock import Clock
from casewire.errors import EXPECTED, InvalidInput
from casewire.mongo import MongoStore
from services.intake.dependencies import AlertStore
from services.intake.schemas import AlertEvent, AlertExport, AlertOut


class IntakeService:
    name = "intake"

    alerts = MongoStore(AlertStore)
    dispatch = EventDispatcher()
    audit = AuditLog()
    now = Clock()

    @rpc(expected_exceptions=EXPECTED)
    def create_alert(self, submission: dict, context: dict) -> dict:
        """Store one alert durably and announce it.

        ``submission`` is the body of ``POST /api/v1/alerts``, e.g.
        ``{"source": "alpr", "source_system": "flock", "source_event_id": "r-1",
        "occurred_at": "2026-01-05T22:14:00Z", "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"plate": "ABC1234", "plate_state": "TX", "camera_id": "cam-7"}}``;
        ``context`` carries the caller (``actor``) and ``request_id``. Returns
        ``{"alert": ..., "created": bool}``; a repeat of a known event returns the first alert.
        Raises InvalidInput naming each bad field, or Unavailable when storing is impossible.
        """
        try:
            alert = load_alert(submission)
        except ValidationError as exc:
            raise InvalidInput("the alert is invalid", exc.messages) from exc
        existing = self.alerts.find_by_natural_key(alert["source_system"], alert["source_event_id"])
        if existing:
            return {"alert": AlertOut().dump(existing), "created": False}
        received_at = self.now()
        actor = context.get("actor") or {}
        alert.update(
            status="new",
            record_class="sensor" if alert["source"] != "tip" else "tip_lead",
            received_at=received_at,
            agency=actor.get("agency"),
            unit=context.get("unit"),
            assignee=None,
            actions=[{"action": "received", "actor": actor.get("id", "system"), "at": received_at}],
            unpublished=True,
        )
        stored, created = self.alerts.insert(alert)
        if created:
            self.audit.record(
                "alert.create",
                "allowed",
                actor=actor or None,
                record_type="alert",
                record_ids=[stored["_id"]],
                request_id=context.get("request_id"),
            )
            self._publish(stored)
        return {"alert": AlertOut().dump(stored), "created": created}

    @rpc(expected_exceptions=EXPECTED)
    def get_alert(self, alert_id: str) -> dict:
        """One alert with its entities, related records and action log."""
        return AlertOut().dump(self.alerts.get(alert_id))

    @event_handler(events.ENTITIES, events.ALERT_RESOLVED)
    def handle_alert_resolved(self, payload: dict) -> None:
        """Keep the resolved entities and related records on the alert."""
        resolved = events.AlertResolved().load(payload)
        self.alerts.set_resolution(resolved["alert_id"], resolved["entities"], resolved["related"])

    @timer(interval=5)
    def publish_pending(self) -> None:
        """Re-announce alerts whose ``alert_received`` was not confirmed (an outbox sweep)."""
        for alert in self.alerts.unpublished(older_than=self.now() - timedelta(seconds=10)):
            self._publish(alert)

    def _publish(self, alert: dict) -> None:
        self.dispatch(events.ALERT_RECEIVED, events.AlertReceived().load(AlertEvent().dump(alert)))
        self.alerts.mark_published(alert["_id"])

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
