"""What the entities service records in the audit log: every change people make to entities (C20)."""

from casewire.audit import AuditTrail


def record(
    audit: AuditTrail, action: str, context: dict | None, record_ids: list[str], outcome: str = "allowed", **details
) -> None:
    """One audit event of the entities service about ``record_ids`` (entities), as the caller in ``context``."""
    context = context or {}
    audit.record(
        action,
        outcome,
        actor=context.get("actor") or None,
        record_type="entity",
        record_ids=record_ids,
        request_id=context.get("request_id"),
        details=details,
    )


def actor_id(context: dict | None) -> str:
    """Who acts in ``context``; ``system`` for the service's own work."""
    return ((context or {}).get("actor") or {}).get("id", "system")
