"""A change to an alert (a person's assign, note, dismiss, identify, promote; a case's link or hold):
written, what it also records (first action, first assignment, triage), and announced through the
outbox as ``alert_updated``.

The functions take the intake worker (its ``alerts`` store, ``now`` clock and ``dispatch``), as
:mod:`services.intake.outbox` does.
"""

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from casewire import events
from services.intake import outbox
from services.intake.dependencies import AlertStore
from services.intake.triage import TRANSITIONS, TRIAGE_FLAGS, by_a_person, owns, timings

if TYPE_CHECKING:
    from services.intake.service import IntakeService


def apply(
    worker: "IntakeService",
    alert_id: str,
    change: str,
    write: Callable[[], dict],
    entry: dict,
    context: dict | None,
    then: Callable[[dict], None] | None = None,
) -> dict:
    """Open an outbox entry, ``write`` the change, record what it also records (:func:`record_timings`),
    run ``then`` and announce ``alert_updated``; the entry is closed once that is confirmed."""
    entry_id = f"updated-{uuid.uuid4().hex}"
    worker.alerts.open_outbox(entry_id, [alert_id], worker.now(), kind="updated")
    try:
        alert = write()
    except Exception:
        worker.alerts.close_outbox(entry_id)
        raise
    alert = record_timings(worker.alerts, alert, entry, context)
    if then is not None:
        then(alert)
    outbox.announce_update(worker, entry_id, alert, change)
    return alert


def apply_to_many(worker: "IntakeService", alert_ids: list[str], change: str, write: Callable[[], list[dict]]) -> int:
    """A change to several alerts made for another service (a case's link or hold): one outbox entry
    for them, ``write`` (the alerts it changed, as they are now), then ``alert_updated`` for each; the
    entry is closed once all are confirmed (left to the outbox sweep if ``write`` fails half way).
    How many alerts changed."""
    if not alert_ids:
        return 0
    entry_id = f"updated-{uuid.uuid4().hex}"
    worker.alerts.open_outbox(entry_id, alert_ids, worker.now(), kind="updated")
    changed = write()
    outbox.announce_updates(worker, entry_id, changed, change)
    return len(changed)


def record_timings(alerts: AlertStore, alert: dict, entry: dict, context: dict | None, triages: bool = True) -> dict:
    """What a person's action also records: the first action and first assignment times, and
    triage when the assignee acts (docs/outcomes.md), unless the action ``triages`` not (an
    escalation asks for triage). Each is set once; returns the alert."""
    if not by_a_person(context) or entry["at"] < alert["received_at"]:
        return alert
    for empty_field, changes in timings(alert, entry):
        if alert.get(empty_field) is None and alerts.set_once(alert["_id"], empty_field, changes):
            alert.update(changes)
    if not triages:
        return alert
    if alert["status"] in TRANSITIONS["assign"][0] and owns(alert, context) and alert.get("touched_at") is None:
        if alerts.mark_triaged(alert["_id"], entry["at"]):
            alert["touched_at"] = entry["at"]
            for flag in TRIAGE_FLAGS:
                alert.pop(flag, None)
    return alert


def announce_assigned(worker: "IntakeService", alert: dict, target: dict, entry: dict) -> None:
    """``alert_assigned``: who now owns ``alert`` (the stream and webhooks tell them)."""
    body = {
        "alert_id": alert["_id"],
        "assignee": target.get("assignee"),
        "unit": target.get("unit"),
        "assigned_by": entry["actor"],
        "assigned_at": entry["at"].isoformat(),
        "source": alert["source"],
        "priority": alert["priority"],
        "agency": alert.get("agency"),
    }
    worker.dispatch(events.ALERT_ASSIGNED, events.AlertAssigned().dump(events.AlertAssigned().load(body)))
