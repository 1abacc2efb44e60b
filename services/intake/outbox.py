"""What intake announces, and the outbox that makes sure it is announced.

Every change that must be announced opens an outbox entry first (``AlertStore.open_outbox``), then
is stored, then audited and announced, and only then is the entry closed. A process that dies
anywhere in between leaves the entry, and :func:`resend` (intake's timer) does the rest from what it
finds stored: consumers and the audit log keep each event once (event ids derived from the alert's
id, external versions), so sending again is always safe.
"""

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from casewire import events
from casewire.audit import AuditTrail
from services.intake.schemas import AlertAnnounced, AlertUpdate
from services.intake.triage import overdue_event

if TYPE_CHECKING:
    from services.intake.service import IntakeService

log = logging.getLogger(__name__)


def created_events(
    audit: AuditTrail, alerts: list[dict], actor: dict | None, request_id: str | None, request_ids: dict | None = None
) -> list[dict]:
    """One ``alert.create`` audit event per alert, under an event id derived from the alert's id; an
    alert's request is ``request_ids[alert id]`` when given (a group of requests stored together)."""
    return [
        audit.event(
            "alert.create",
            "allowed",
            actor=actor,
            record_type="alert",
            record_ids=[alert["_id"]],
            request_id=(request_ids or {}).get(alert["_id"], request_id),
            event_id=f"alert.create-{alert['_id']}",
        )
        for alert in alerts
    ]


def announce_received(
    service: "IntakeService",
    entry_id: str,
    alerts: list[dict],
    context: dict | None,
    request_ids: dict | None = None,
    resolving: bool = False,
) -> bool:
    """Audit (one message) and announce (one ``alerts_received``) the alerts a batch stored; close its
    entry, unless intake is ``resolving`` them itself (``services.intake.resolving`` closes it then).
    Whether they were announced. Raises Unavailable when the audit events cannot be stored (the entry
    stays: they are stored once whenever the batch is sent again or the outbox sweep runs)."""
    if alerts:
        context = context or {}
        service.audit.record_many(
            created_events(service.audit, alerts, context.get("actor"), context.get("request_id"), request_ids)
        )
        try:
            announced = {"alerts": AlertAnnounced(many=True).dump(alerts), "resolving": resolving}
            service.dispatch(events.ALERTS_RECEIVED, announced)
        except Exception:  # stored and audited: the outbox announces them later
            log.exception("alerts_received of batch %s not confirmed; the outbox will retry", entry_id)
            return False
        if resolving:
            return True
    service.alerts.close_outbox(entry_id)
    return True


def announce_update(service: "IntakeService", entry_id: str, alert: dict, change: str) -> None:
    """Announce ``alert_updated`` at the alert's version and close the entry; unconfirmed, the entry stays."""
    announce_updates(service, entry_id, [alert], change)


def announce_updates(service: "IntakeService", entry_id: str, alerts: list[dict], change: str) -> None:
    """``alert_updated`` for each alert at its version, then the entry is closed; unconfirmed, it stays."""
    try:
        for alert in alerts:
            service.dispatch(events.ALERT_UPDATED, updated_event(alert, change))
    except Exception:
        log.exception("alert_updated of entry %s not confirmed; the outbox will retry", entry_id)
        return
    service.alerts.close_outbox(entry_id)


def updated_event(alert: dict, change: str) -> dict:
    return events.AlertUpdated().load({**AlertUpdate().dump(alert), "change": change})


def escalated_by(alert: dict) -> dict:
    """Who the ``alert.escalate`` event names: the person who escalated the alert (its ``escalation``:
    actor, request and reason), or the system for the sweep's triage rule."""
    escalation = alert.get("escalation")
    if not escalation:
        return {"details": {"rule": "triage"}}
    return {
        "actor": escalation["actor"],
        "request_id": escalation.get("request_id"),
        "details": {"reason": escalation["reason"]},
    }


def announce_overdue(service: "IntakeService", alert: dict) -> bool:
    """Audit ``alert.escalate`` and announce ``alert_overdue`` and ``alert_updated`` (the escalation is a
    change at a new version) for an alert this service escalated; close its entry. Until all are
    confirmed the entry stays and the outbox sweep repeats them."""
    try:
        service.audit.record(
            "alert.escalate",
            "allowed",
            record_type="alert",
            record_ids=[alert["_id"]],
            event_id=f"alert.escalate-{alert['_id']}",
            **escalated_by(alert),
        )
        service.dispatch(events.ALERT_OVERDUE, events.AlertOverdue().load(overdue_event(alert)))
        service.dispatch(events.ALERT_UPDATED, updated_event(alert, "escalated"))
    except Exception:
        log.exception(
            "alert.escalate / alert_overdue / alert_updated for %s not confirmed; the outbox will retry", alert["_id"]
        )
        return False
    service.alerts.close_outbox(f"escalated-{alert['_id']}")
    return True


def resend(service: "IntakeService", older_than: datetime) -> int:
    """Finish every outbox entry left ``older_than`` ago; how many were finished."""
    finished = 0
    for entry in service.alerts.pending_outbox(older_than):
        alerts = service.alerts.get_many(entry["alert_ids"])
        try:
            if entry["kind"] == "received":
                created = [alert for alert in alerts.values() if alert.get("batch_id") == entry["_id"]]
                service.alerts.tallies.added(f"ingest-{entry['_id']}", created)
                actor = {"id": _receiver(created), "agency": created[0].get("agency"), "roles": []} if created else None
                announce_received(service, entry["_id"], created, {"actor": actor})
            elif entry["kind"] == "escalated":
                overdue = [alert for alert in alerts.values() if alert.get("escalated_at")]
                if not overdue:
                    service.alerts.close_outbox(entry["_id"])
                for alert in overdue:
                    announce_overdue(service, alert)
            else:
                for alert in alerts.values():
                    announce_update(service, entry["_id"], alert, "republished")
                if not alerts:
                    service.alerts.close_outbox(entry["_id"])
        except Exception:
            log.exception("outbox entry %s not finished; the next sweep retries", entry["_id"])
            continue
        finished += 1
    return finished


def _receiver(alerts: list[dict]) -> str:
    """Who submitted a batch, from its first alert's ``received`` action."""
    return ((alerts[0].get("actions") or [{}])[0]).get("actor", "system")
