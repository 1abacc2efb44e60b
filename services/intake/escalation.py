"""A person escalates an alert: the supervisors are to look at it now, not at its triage deadline.

It is marked as the overdue sweep marks an alert (``AlertStore.escalate_by_hand``), with who and why,
then audited (``alert.escalate``, the person as actor) and announced (``alert_overdue``) through the
sweep's outbox entry, so the stream, the webhooks, the aging queue and the funnel treat both alike.
An alert is escalated once: asking again answers that escalation. docs/outcomes.md describes it.
"""

from typing import TYPE_CHECKING

from casewire.alerts import EscalateBody
from services.intake import outbox, updates
from services.intake.schemas import load
from services.intake.triage import OPEN, action

if TYPE_CHECKING:
    from services.intake.service import IntakeService


def escalate(worker: "IntakeService", alert_id: str, body: dict, context: dict | None) -> dict:
    """Escalate ``alert_id`` for the caller of ``context`` with ``body["reason"]``; the alert as it is now.

    Raises InvalidInput for a missing or blank reason, NotFound, or Conflict for an alert dismissed or
    promoted. The announcement, when unconfirmed, is repeated by the outbox sweep.
    """
    reason = load(EscalateBody(), body, "escalation")["reason"]
    now = worker.now()
    at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON dates keep milliseconds: as read back
    entry = action("escalated", context, at, reason=reason)
    escalation = {
        "by": entry["actor"],
        "at": at,
        "reason": reason,
        "actor": (context or {}).get("actor") or {"id": entry["actor"]},
        "request_id": entry["request_id"],
    }
    alert, escalated = worker.alerts.escalate_by_hand(alert_id, at, entry, escalation, OPEN)
    if escalated:
        alert = updates.record_timings(worker.alerts, alert, entry, context, triages=False)
        outbox.announce_overdue(worker, alert)
    return alert
