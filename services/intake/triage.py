"""The triage workflow: ``new → assigned → dismissed | promoted``, each step a logged action.

:data:`TRANSITIONS` names, for each step, the statuses it may start from and the status it leaves;
:meth:`AlertStore.transition` applies one atomically and answers Conflict (409) otherwise. Notes may
be added in any status. Promotion (``promote``) is done by ``IntakeService.mark_promoted``.
"""

from datetime import datetime

OPEN = ("new", "assigned")
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "assign": (OPEN, "assigned"),
    "dismiss": (OPEN, "dismissed"),
    "promote": (OPEN, "promoted"),
}


def action(name: str, context: dict, at: datetime, **detail) -> dict:
    """One entry of the alert's action log: what, who, when and the particulars."""
    actor = (context or {}).get("actor") or {}
    return {
        "action": name,
        "actor": actor.get("id", "system"),
        "agency": actor.get("agency"),
        "at": at,
        "request_id": (context or {}).get("request_id"),
        "detail": {key: value for key, value in detail.items() if value is not None},
    }


# -- deadlines and timings (docs/outcomes.md) ------------------------------------------------------

TRIAGE_FLAGS = ("triage_open", "overdue")
"""Cleared when an alert is triaged: it leaves the escalation sweep and the aging queue."""


def by_a_person(context: dict | None) -> bool:
    """Actions by people count for the timings and for triage; the system's (escalation) do not."""
    return bool(((context or {}).get("actor") or {}).get("id"))


def owns(alert: dict, context: dict | None) -> bool:
    """Whether the caller is who the alert is assigned to: the assignee, or for an alert assigned to a
    unit alone, anyone of that unit. Their first action after the assignment triages the alert."""
    actor = ((context or {}).get("actor") or {}).get("id")
    if alert.get("assignee"):
        return actor == alert["assignee"]
    return bool(alert.get("assigned_unit")) and (context or {}).get("unit") == alert["assigned_unit"]


def seconds_since_received(alert: dict, at: datetime) -> float:
    return round((at - alert["received_at"]).total_seconds(), 3)


def timings(alert: dict, entry: dict) -> list[tuple[str, dict]]:
    """The set-once fields this action may fill: ``(field that must still be empty, fields to set)``."""
    at, seconds = entry["at"], seconds_since_received(alert, entry["at"])
    found = [("first_action_at", {"first_action_at": at, "seconds_to_first_action": seconds})]
    if entry["action"] == "assigned":
        found.append(("assigned_at", {"assigned_at": at, "seconds_to_assignment": seconds}))
    return found


def overdue_event(alert: dict) -> dict:
    """The ``alert_overdue`` payload: who is answerable (unit, assignee) and since when."""
    return {
        "alert_id": alert["_id"],
        "source": alert["source"],
        "priority": alert.get("priority") or "normal",
        "status": alert["status"],
        "agency": alert.get("agency"),
        "unit": alert.get("assigned_unit") or alert.get("unit"),
        "assignee": alert.get("assignee"),
        "received_at": alert["received_at"].isoformat(),
        "triage_due": alert["triage_due"].isoformat(),
        "escalated_at": alert["escalated_at"].isoformat(),
    }
