"""The gateway's audit events: every access as it is decided (allowed, denied, failed), C20 and C21.

Each event carries the caller, the client address, the request id, the stated purpose and case number,
and the method, path and query (tokens left out). An event that cannot be stored raises
:class:`~casewire.errors.Unavailable`: the caller refuses the request (C23).
"""

from flask import Response, current_app, g, request

from casewire.errors import Unavailable
from gateway.auth import Identity
from gateway.errors import Problem
from gateway.purpose import MAX_CASE_NUMBER, MAX_PURPOSE, stated

_SECRET_ARGS = {"access_token", "token"}
ANONYMOUS = {"id": "anonymous", "agency": None, "roles": []}


def audit(
    action: str, outcome: str, actor: dict | None, record_type: str | None, record_ids: list | None, **extra
) -> None:
    """Store one audit event about this request; raises Unavailable when it cannot be stored."""
    purpose, case_number = stated()
    current_app.extensions["audit"].record(
        action,
        outcome,
        actor=actor or ANONYMOUS,
        record_type=record_type,
        record_ids=list(record_ids or []),
        client_address=request.remote_addr,
        request_id=g.get("request_id"),
        purpose=purpose[:MAX_PURPOSE] if purpose else None,
        case_number=case_number[:MAX_CASE_NUMBER] if case_number else None,
        details={
            "method": request.method,
            "path": request.path,
            "query": {k: v for k, v in request.args.items() if k not in _SECRET_ARGS},
            **extra,
        },
    )


def deny(
    action: str, record_type: str | None, identity: Identity | None, record_ids: list, reason: str, **extra
) -> None:
    """Audit a refusal of ``action`` with its ``reason``; the caller raises the matching problem."""
    actor = identity.as_actor() if identity else None
    audit(action, "denied", actor, record_type, record_ids, reason=reason, **extra)
    g.audit_closed = True


def record_disclosed(action: str, record_type: str, record_ids: list[str]) -> None:
    """Inside a guarded view: audit which records the answer discloses when the request named none
    (``search.hits``: the cases a search returned), so every read of criminal intelligence can be
    found by record (C20, C27). Fail closed (C23): if the event cannot be stored, 503 and no answer."""
    try:
        audit(action, "allowed", g.identity.as_actor(), record_type, record_ids)
    except Unavailable as exc:
        raise Problem(503, "Service Unavailable", "the audit log cannot record this answer; it is withheld") from exc


def audit_failure(response: Response) -> Response:
    """An allowed request that did not succeed gets a ``failed`` event after its ``allowed`` one."""
    done = g.get("audit_allowed")
    if done and not g.get("audit_closed") and response.status_code >= 400:
        guard, identity, record_ids = done
        why = {"reason": g.failure_reason} if g.get("failure_reason") else {}
        try:
            audit(
                guard.action,
                "failed",
                identity.as_actor(),
                guard.record_type,
                record_ids,
                status=response.status_code,
                **why,
            )
        except Unavailable:
            current_app.logger.error("audit: could not record that %s failed (request %s)", guard.action, g.request_id)
    return response
