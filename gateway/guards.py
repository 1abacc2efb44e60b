"""Every endpoint is born behind :func:`guarded`: token, rate, role, purpose, then a durable audit event.

Order matters (C9, C20, C21, C23): a request without a valid token is refused (401) and
the refusal audited as a failed logon (``auth.token``); a caller over its rate limit gets 429, a
role outside the permission table 403, an endpoint that always reads criminal intelligence without
a purpose and case number 400, each audited as ``denied``. Where only the record tells whether it is
criminal intelligence (``purpose_required="intelligence"``), the service that loads it decides: a
record of intelligence without a purpose is 400, a list or search leaves intelligence out. An
allowed request is audited *before* the action, and if that event cannot be stored durably the
request fails with 503 and nothing is done. An allowed request that then fails (any status from 400
up) gets a second event, ``failed``.

The checks run in a ``before_request`` hook, so they come before flask-smorest parses the query or
body: an unauthenticated caller never learns how a request would have been validated. The
``guarded`` wrapper itself runs them only if the hook did not (a view called some other way). The
hook fails closed: a request to a view that is neither guarded nor marked :func:`public` is refused
with 500 before the view runs, logged and audited (``gateway.unguarded``, ``denied``).

Per-record access is decided by the rules of ``casewire/access_rules.py``: for cases and criminal
intelligence by the cases service itself (every case read goes through it), for alerts by views
calling :func:`gateway.records.require_alert_access` after loading one. docs/security.md, "The gateway's checks".

The steps live by job: :mod:`gateway.purpose` (the stated purpose), :mod:`gateway.audit_trail` (the
events), :mod:`gateway.nul` (text no record may hold), :mod:`gateway.records` (per-record refusals),
:mod:`gateway.guard_docs` (what the OpenAPI document says of each guard).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import wraps

from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from marshmallow import fields

from casewire.errors import Unavailable
from gateway import purpose
from gateway.audit_trail import audit, audit_failure, deny
from gateway.auth import Identity, InvalidToken, unverified_claims
from gateway.errors import PURPOSE_REQUIRED, Problem
from gateway.limits import check_failed_logon, check_rate
from gateway.nul import nul_text
from gateway.permissions import PERMISSIONS, allowed
from gateway.purpose import PURPOSE_MODES, Purpose

UNGUARDED = "gateway.unguarded"  # the audited action of a request refused because its endpoint has no guard


TRUE_FLAGS = {str(value).lower() for value in fields.Boolean.truthy}


@dataclass(frozen=True)
class Guard:
    """What :func:`guarded` declares about one view."""

    action: str
    record_type: str | None = None
    record_arg: str | None = None
    purpose_required: bool | str = False  # see PURPOSE_MODES
    flag_action: tuple[str, str] | None = None  # (query flag, action): with ``?flag=true`` the action is this one

    def for_request(self, args: Mapping) -> "Guard":
        """The guard of this request: ``flag_action``'s action instead of ``action`` when its flag is true
        (``GET /api/v1/alerts?overdue=true`` is the aging queue, ``alert.overdue``, not ``alert.list``)."""
        if self.flag_action and str(args.get(self.flag_action[0], "")).lower() in TRUE_FLAGS:
            return replace(self, action=self.flag_action[1], flag_action=None)
        return self


def _deny(guard: Guard, identity: Identity | None, record_ids: list, reason: str, **extra) -> None:
    deny(guard.action, guard.record_type, identity, record_ids, reason, **extra)


def identify() -> Identity:
    """The caller, from ``Authorization: Bearer``; refusals are audited as failed logons (``auth.token``).

    Past ``LOGON_FAILURES_PER_MINUTE`` refusals from one client address, a refusal is 429 and only the
    first of them is audited (:func:`gateway.limits.check_failed_logon`).
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    try:
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("no bearer token")
        return current_app.extensions["tokens"].verify(token)
    except Unavailable as exc:
        audit("auth.token", "failed", None, None, [], reason=str(exc))
        raise
    except InvalidToken as exc:
        too_many, audited = check_failed_logon(request.remote_addr)
        if audited:
            reason = "logon_rate_limit" if too_many else str(exc)
            audit("auth.token", "denied", None, None, [], reason=reason, **unverified_claims(token))
        if too_many:
            raise too_many from exc
        raise Problem(
            401,
            "Unauthorized",
            "a valid bearer token is required",
            headers={"WWW-Authenticate": 'Bearer realm="casewire"'},
        ) from exc


def require_purpose(
    action: str | None = None,
    record_type: str | None = None,
    record_ids: Iterable[str] = (),
    case_number_required: bool = True,
) -> Purpose:
    """The request's purpose of use and case or incident number (C9), or a 400 problem, audited.

    Read from the headers ``X-Purpose`` and ``X-Case-Number`` or the query fields ``purpose`` and
    ``case_number``. ``action`` defaults to the guarded endpoint's action. Views that decide at run
    time that they touch criminal intelligence may call it directly; most declare
    ``guarded(..., purpose_required=True)`` instead.
    """
    errors = purpose.missing(case_number_required)
    if errors:
        declared = g.get("casewire_guard") or Guard("purpose.check")
        guard = Guard(action or declared.action, record_type or declared.record_type)
        _deny(guard, g.get("identity"), list(record_ids), "purpose")
        detail = (
            "reading or searching criminal intelligence needs a purpose and a case or incident number"
            if case_number_required
            else "an ALPR query needs a stated purpose (C25)"
        )
        raise Problem(400, PURPOSE_REQUIRED, detail, errors)
    return Purpose(*purpose.stated())


def enforce(guard: Guard, view_args: dict) -> Identity:
    """Run every check of ``guard`` for this request; audit the outcome; raise the refusal."""
    g.casewire_guard = guard
    identity = identify()
    g.identity = identity
    arg = view_args.get(guard.record_arg) if guard.record_arg else None
    record_ids = [str(arg)] if arg is not None else []
    try:
        check_rate(identity.sub)
    except Problem:
        _deny(guard, identity, record_ids, "rate_limit")
        raise
    if not allowed(identity.roles, guard.action):
        _deny(guard, identity, record_ids, "role")
        raise Problem(403, "Forbidden", f"your roles may not {guard.action}")
    if guard.purpose_required in (True, "purpose"):
        require_purpose(guard.action, guard.record_type, record_ids, guard.purpose_required is True)
    if any("\x00" in str(value) for value in view_args.values()):
        _deny(guard, identity, record_ids, "nul_text")
        raise Problem(404, "Not Found", "no such record")
    where = nul_text()
    if where:
        _deny(guard, identity, record_ids, "nul_text")
        raise Problem(422, "Unprocessable Entity", "text may not hold a NUL character", {where: ["holds a NUL"]})
    try:
        audit(guard.action, "allowed", identity.as_actor(), guard.record_type, record_ids)
    except Unavailable as exc:
        raise Problem(503, "Service Unavailable", "the audit log cannot record this request; nothing was done") from exc
    g.audit_allowed = (guard, identity, record_ids)
    return identity


def guarded(
    action: str,
    record_type: str | None = None,
    record_arg: str | None = None,
    purpose_required: bool | str = False,
    flag_action: tuple[str, str] | None = None,
) -> Callable[[Callable], Callable]:
    """Guard a view with ``action`` from the permission table; audit the outcome before the action.

    ``record_arg`` names the URL argument holding the record id. ``purpose_required`` is one of
    :data:`PURPOSE_MODES`: ``True`` makes the endpoint refuse (400, audited) a request without a purpose
    and case number (C9), ``"purpose"`` asks for the purpose alone (C25: ALPR queries), and
    ``"intelligence"`` marks an endpoint that may read or search criminal intelligence where only the
    record says so: the OpenAPI document shows the purpose fields and the 400, the service decides.
    Every endpoint that can read or search criminal intelligence declares ``True`` or ``"intelligence"``.
    ``flag_action=("overdue", "alert.overdue")`` guards a request with ``?overdue=true`` by that action
    instead (a view whose query flag answers something else).
    """
    for needed in (action, *(flag_action or ())[1:]):
        if needed not in PERMISSIONS:
            raise KeyError(f"{needed} is not in the permission table")
    if purpose_required not in PURPOSE_MODES:
        raise ValueError(f"purpose_required is one of {list(PURPOSE_MODES)}")
    guard = Guard(action, record_type, record_arg, purpose_required, flag_action)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs) -> ResponseReturnValue:
            done, active = g.get("audit_allowed"), guard.for_request(request.args)
            if not done or done[0] != active:
                enforce(active, kwargs)
            return view(*args, **kwargs)

        wrapper.casewire_action = action
        wrapper.casewire_guard = guard
        return wrapper

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view that needs no token (health probes, metrics, the API documents)."""
    view.casewire_public = True
    return view


def _handler(view: Callable | None, method: str) -> Callable | None:
    """What answers ``method`` on ``view``: the function itself, or that method of a MethodView."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    return getattr(view_class, "get" if method.upper() == "HEAD" else method.lower(), None)


def guard_for(view: Callable | None, method: str) -> Guard | None:
    """The guard of ``view`` for ``method`` (a function view, or one method of a MethodView)."""
    return getattr(_handler(view, method), "casewire_guard", None)


def is_public(view: Callable | None, method: str) -> bool:
    """True when ``view`` (or its handler of ``method``) is marked :func:`public`."""
    return bool(getattr(view, "casewire_public", False) or getattr(_handler(view, method), "casewire_public", False))


def _guard_request() -> None:
    """Run the guard of the view this request reaches; refuse it when the view has neither a guard nor
    :func:`public` (fail closed: a view that forgot ``guarded`` never runs without a token)."""
    rule = request.url_rule
    if rule is None:  # 404, 405 or a redirect: no view runs
        return
    if request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
        return  # Flask's own answer (the allowed methods, a CORS preflight): no view runs
    view = current_app.view_functions.get(request.endpoint)
    guard = guard_for(view, request.method)
    if guard is not None:
        enforce(guard.for_request(request.args), request.view_args or {})
    elif not is_public(view, request.method):
        _refuse_unguarded(rule.rule)


def _refuse_unguarded(rule: str) -> None:
    """500, logged and audited (``gateway.unguarded``, ``denied``): the endpoint is a defect, not the
    caller's fault, and ``tests/e2e/test_authorization_matrix.py`` should have caught it."""
    current_app.logger.error(
        "refused %s %s: endpoint %s has no guard (an action from the permission table) and is not public",
        request.method,
        rule,
        request.endpoint,
    )
    try:
        audit(UNGUARDED, "denied", None, None, [], reason="unguarded", endpoint=request.endpoint, rule=rule)
    except Unavailable:
        current_app.logger.error("audit: could not record the refusal of the unguarded %s", rule)
    raise Problem(500, "Internal Server Error", "this endpoint declares no access rule, so it is refused")


def context() -> dict:
    """What services need to know about the request they serve."""
    identity: Identity = g.identity
    stated_purpose, case_number = purpose.stated()
    found = {
        "actor": identity.as_actor(),
        "unit": identity.unit,
        "request_id": g.request_id,
        "purpose": stated_purpose,
        "case_number": case_number,
        "idempotency_key": (g.get("idempotency") or (None,))[0],  # gateway/idempotency.py
    }
    if identity.oversight:  # an auditor's explicit oversight claim (docs/security.md, "Auditors")
        found["oversight"] = list(identity.oversight)
    return found


def _public_view(view: Callable) -> Callable:
    """``view`` (perhaps a bound method, which cannot carry attributes) as a public function."""

    @wraps(view)
    def wrapper(*args, **kwargs) -> ResponseReturnValue:
        return view(*args, **kwargs)

    return public(wrapper)


def init_app(app: Flask) -> None:
    """Run the guards before flask-smorest parses anything, and audit failures after.

    Call it after the blueprints are registered: it also marks flask-smorest's OpenAPI document and
    docs page (the ``api-docs`` endpoints) public.
    """
    app.before_request(_guard_request)
    app.after_request(audit_failure)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api-docs."):
            app.view_functions[endpoint] = _public_view(view)
