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
