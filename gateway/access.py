"""Every endpoint is born behind :func:`guarded`: token, role, then a durable audit event.

Order matters (COMPLIANCE C20, C21, C23): a request without a valid token is refused (401) and the
refusal audited; a role outside the permission table is refused (403) and audited; an allowed
request is audited *before* the action, and if the audit event cannot be stored durably the
request fails with 503 and nothing is done.
"""

from functools import wraps

from flask import current_app, g, request

from casewire.errors import Unavailable
from gateway.auth import Identity, InvalidToken
from gateway.errors import Problem
from gateway.permissions import PERMISSIONS, allowed

_SECRET_ARGS = {"access_token", "token"}


def _audit(action: str, outcome: str, actor: dict | None, record_type, record_ids, **extra) -> None:
    current_app.extensions["audit"].record(
        action,
        outcome,
        actor=actor,
        record_type=record_type,
        record_ids=record_ids,
        client_address=request.remote_addr,
        request_id=g.request_id,
        purpose=request.headers.get("X-Purpose") or request.args.get("purpose"),
        case_number=request.headers.get("X-Case-Number") or request.args.get("case_number"),
        details={
            "method": request.method,
            "path": request.path,
            "query": {k: v for k, v in request.args.items() if k not in _SECRET_ARGS},
            **extra,
        },
    )


def identify() -> Identity:
    """The caller, from ``Authorization: Bearer``; refusals are audited as failed logons."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("no bearer token")
        return current_app.extensions["tokens"].verify(token.strip())
    except InvalidToken as exc:
        _audit("auth.token", "denied", None, None, [], reason=str(exc))
        raise Problem(
            401,
            "Unauthorized",
            "a valid bearer token is required",
            headers={"WWW-Authenticate": 'Bearer realm="casewire"'},
        ) from exc


def guarded(action: str, record_type: str | None = None, record_arg: str | None = None):
    """Guard a view with ``action`` from the permission table; audit the outcome first."""
    if action not in PERMISSIONS:
        raise KeyError(f"{action} is not in the permission table")

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            identity = identify()
            g.identity = identity
            record_ids = [str(kwargs[record_arg])] if record_arg else []
            if not allowed(identity.roles, action):
                _audit(action, "denied", identity.as_actor(), record_type, record_ids, reason="role")
                raise Problem(403, "Forbidden", f"your roles may not {action}")
            try:
                _audit(action, "allowed", identity.as_actor(), record_type, record_ids)
            except Unavailable as exc:
                raise Problem(
                    503, "Service Unavailable", "the audit log cannot record this request; nothing was done"
                ) from exc
            return view(*args, **kwargs)

        wrapper.casewire_action = action
        return wrapper

    return decorator


def context() -> dict:
    """What services need to know about the request they serve."""
    identity: Identity = g.identity
    return {"actor": identity.as_actor(), "unit": identity.unit, "request_id": g.request_id}
