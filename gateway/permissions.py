"""Who may do what: the single role × action table the gateway enforces (C12).

Every endpoint declares one action from this table; the authorization matrix test fails when an
endpoint has none. ``source`` is a detection system and may only submit alerts; auditors read the
audit log; admins run the system but never read the audit log; the purge authority purges records
and places legal holds (C17).
"""

from collections.abc import Iterable

ROLES = ("source", "analyst", "detective", "supervisor", "auditor", "admin", "purge_authority")

_STAFF = frozenset({"analyst", "detective", "supervisor"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "alert.create": _STAFF | {"source"},
    "alert.list": _STAFF,
    "alert.read": _STAFF,
    "alert.assign": _STAFF,
    "alert.note": _STAFF,
    "alert.dismiss": _STAFF,
    "alert.escalate": _STAFF,
    "alert.identify": frozenset({"detective", "supervisor"}),  # C26: a human reviewer, never a detection system
    "entity.read": _STAFF,
    "entity.list": _STAFF,
    "entity.create": _STAFF,
    "entity.merge": _STAFF,
    "entity.unmerge": _STAFF,
    "entity.link": _STAFF,
    "stream.read": _STAFF,
    "case.create": _STAFF,
    "case.read": _STAFF,
    "case.list": _STAFF,
    "case.update": _STAFF,
    "case.link": _STAFF,
    "case.content": _STAFF,
    "case.evidence": _STAFF,
    "case.attachment.upload": _STAFF,
    "case.attachment.read": _STAFF,
    "case.review": frozenset({"supervisor", "purge_authority"}),  # purge_authority: decision "purge" only
    "case.merge": frozenset({"detective", "supervisor"}),
    "case.disseminate": _STAFF,
    "case.export": _STAFF,
    "alert.promote": _STAFF,
    "webhook.manage": frozenset({"supervisor"}),  # deliveries are about cases: their readers' supervisors (C12)
    "search.plates": _STAFF,
    "search.query": _STAFF,
    "audit.read": frozenset({"auditor"}),
    "audit.verify": frozenset({"auditor"}),
    "audit.export": frozenset({"auditor"}),
    "alert.overdue": frozenset({"supervisor", "admin"}),  # the aging queue: GET /api/v1/alerts?overdue=true
    "case.disposition": _STAFF,
    "metrics.read": frozenset({"supervisor", "admin"}),
    "case.review_queue": frozenset({"supervisor"}),
    "case.purge": frozenset({"purge_authority"}),
    "case.hold": frozenset({"supervisor", "purge_authority"}),
    "compliance.report": frozenset({"auditor"}),
    "notification.read": _STAFF,
}


def allowed(roles: Iterable[str], action: str) -> bool:
    """True when any of ``roles`` may perform ``action``."""
    return bool(PERMISSIONS[action] & set(roles))
