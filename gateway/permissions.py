"""Who may do what: the single role × action table the gateway enforces (COMPLIANCE C12).

Every endpoint declares one action from this table; the authorization matrix test fails when an
endpoint has none. ``source`` is a detection system and may only submit alerts; auditors read the
audit log; admins run the system but never read the audit log.
"""

ROLES = ("source", "analyst", "detective", "supervisor", "auditor", "admin")

_STAFF = frozenset({"analyst", "detective", "supervisor"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "alert.create": _STAFF | {"source"},
    "alert.list": _STAFF,
    "alert.read": _STAFF,
    "entity.read": _STAFF,
    "case.create": _STAFF,
    "case.read": _STAFF,
    "search.plates": _STAFF,
    "search.query": _STAFF,
    "audit.read": frozenset({"auditor"}),
    "audit.verify": frozenset({"auditor"}),
}


def allowed(roles, action: str) -> bool:
    """True when any of ``roles`` may perform ``action``."""
    return bool(PERMISSIONS[action] & set(roles))
