"""Per-record refusals the gateway makes itself: another agency's alert, an auditor's scope.

The rules are :mod:`casewire.access_rules`, shared with the services, search and the stream; case access
is decided by the cases service, which loads every case. A refusal is a second audit event,
``denied``, with its reason, after the request's ``allowed`` one.
"""

from flask import g

from casewire import access_rules as shared
from casewire.errors import Forbidden
from gateway.audit_trail import deny
from gateway.auth import Identity


def require_alert_access(alert: dict, identity: Identity | None = None) -> dict:
    """``alert`` when the caller may read and triage it (:func:`casewire.access_rules.alert_visible`: its
    agency's alerts and those assigned to it); otherwise audit the refusal and raise 403."""
    identity = identity or g.identity
    if shared.alert_visible(identity.caller(), alert):
        return alert
    guard = g.get("casewire_guard")
    # record_agency: the alert's agency's auditors see who was refused it (docs/security.md, "Auditors")
    deny(
        guard.action if guard else "alert.read",
        "alert",
        identity,
        [str(alert.get("id"))],
        "record_agency",
        record_agency=alert.get("agency"),
    )
    raise Forbidden(f"you may not open alert {alert.get('id')}: it is another agency's")


def require_scope(within: bool, reason: str, message: str) -> None:
    """Inside a guarded view: audit a refusal (``denied`` with ``reason``) and raise 403 unless ``within``
    (an auditor asking for an agency outside its scope)."""
    if within:
        return
    guard = g.get("casewire_guard")
    deny(guard.action if guard else "scope.check", guard.record_type if guard else None, g.identity, [], reason)
    raise Forbidden(message)
