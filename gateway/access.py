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

Per-record access is decided by the rules of ``casewire/access.py``: for cases and criminal
intelligence by the cases service itself (every case read goes through it), for alerts by views
calling :func:`require_alert_access` after loading one. docs/security.md, "The gateway's checks".
"""

from dataclasses import dataclass, replace
from functools import wraps

from apispec import BasePlugin
from flask import Flask, current_app, g, request
from marshmallow import fields

from casewire import access as shared
from casewire.errors import Forbidden, Unavailable
from gateway.auth import Identity, InvalidToken, unverified_claims
from gateway.errors import PURPOSE_REQUIRED, Problem
from gateway.limits import check_failed_logon, check_rate
from gateway.permissions import PERMISSIONS, allowed

_SECRET_ARGS = {"access_token", "token"}
ANONYMOUS = {"id": "anonymous", "agency": None, "roles": []}
PURPOSE_HEADER, CASE_NUMBER_HEADER = "X-Purpose", "X-Case-Number"
MAX_PURPOSE, MAX_CASE_NUMBER = 500, 100
PURPOSE_MODES = {
    False: "no purpose asked for (one may still be sent: it is audited)",
    True: "the gateway refuses (400) a request without a purpose and a case number (C9)",
    "purpose": "the gateway refuses (400) a request without a purpose (C25: ALPR queries)",
    "intelligence": "documented, decided by the service per record (C9): a record of criminal intelligence "
    "without a purpose and case number is 400, a list or search leaves intelligence out",
}
NO_PURPOSE = f"state the purpose of use ({PURPOSE_HEADER} header or purpose query field)"
NO_CASE_NUMBER = f"give the case or incident number ({CASE_NUMBER_HEADER} header or case_number query field)"
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

    def for_request(self, args) -> "Guard":
        """The guard of this request: ``flag_action``'s action instead of ``action`` when its flag is true
        (``GET /api/v1/alerts?overdue=true`` is the aging queue, ``alert.overdue``, not ``alert.list``)."""
        if self.flag_action and str(args.get(self.flag_action[0], "")).lower() in TRUE_FLAGS:
            return replace(self, action=self.flag_action[1], flag_action=None)
        return self


@dataclass(frozen=True)
class Purpose:
    """The stated purpose of use and the case or incident number it serves (C9)."""

    purpose: str
    case_number: str


def _purpose_fields() -> tuple[str | None, str | None]:
    purpose = request.headers.get(PURPOSE_HEADER) or request.args.get("purpose")
    case_number = request.headers.get(CASE_NUMBER_HEADER) or request.args.get("case_number")
    return (purpose or "").strip() or None, (case_number or "").strip() or None


def _audit(action: str, outcome: str, actor: dict | None, record_type, record_ids, **extra) -> None:
    purpose, case_number = _purpose_fields()
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


def _deny(guard: Guard, identity: Identity | None, record_ids: list, reason: str, **extra) -> None:
    """Audit a refusal of ``guard.action`` with its ``reason``; the caller raises the matching problem."""
    actor = identity.as_actor() if identity else None
    _audit(guard.action, "denied", actor, guard.record_type, record_ids, reason=reason, **extra)
    g.audit_closed = True


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
        _audit("auth.token", "failed", None, None, [], reason=str(exc))
        raise
    except InvalidToken as exc:
        too_many, audited = check_failed_logon(request.remote_addr)
        if audited:
            reason = "logon_rate_limit" if too_many else str(exc)
            _audit("auth.token", "denied", None, None, [], reason=reason, **unverified_claims(token))
        if too_many:
            raise too_many from exc
        raise Problem(
            401,
            "Unauthorized",
            "a valid bearer token is required",
            headers={"WWW-Authenticate": 'Bearer realm="casewire"'},
        ) from exc


def require_purpose(
    action: str | None = None, record_type: str | None = None, record_ids=(), case_number_required: bool = True
) -> Purpose:
    """The request's purpose of use and case or incident number (C9), or a 400 problem, audited.

    Read from the headers ``X-Purpose`` and ``X-Case-Number`` or the query fields ``purpose`` and
    ``case_number``. ``action`` defaults to the guarded endpoint's action. Views that decide at run
    time that they touch criminal intelligence may call it directly; most declare
    ``guarded(..., purpose_required=True)`` instead.
    """
    purpose, case_number = _purpose_fields()
    errors = {}
    if not purpose:
        errors["purpose"] = [NO_PURPOSE]
    elif len(purpose) > MAX_PURPOSE:
        errors["purpose"] = [f"at most {MAX_PURPOSE} characters"]
    if not case_number and case_number_required:
        errors["case_number"] = [NO_CASE_NUMBER]
    elif case_number and len(case_number) > MAX_CASE_NUMBER:
        errors["case_number"] = [f"at most {MAX_CASE_NUMBER} characters"]
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
    return Purpose(purpose, case_number)


def purpose_errors() -> dict[str, list[str]]:
    """The ``errors`` of a C9 refusal decided by a service (it knows the record is intelligence): the
    same field names and messages as :func:`require_purpose`, for whichever of the two is missing."""
    purpose, case_number = _purpose_fields()
    errors = {} if purpose else {"purpose": [NO_PURPOSE]}
    return errors if case_number else {**errors, "case_number": [NO_CASE_NUMBER]}


def _nul_text() -> str | None:
    """Where the query or JSON body holds a NUL character, which no Casewire record may store (a
    document store may refuse it, and no detection system sends one on purpose)."""
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "query"
    if request.is_json:
        stack = [("body", request.get_json(silent=True))]
        while stack:
            path, value = stack.pop()
            if isinstance(value, str) and "\x00" in value:
                return path
            if isinstance(value, dict):
                stack += [(f"{path}.{k}", v) for k, v in value.items()] + [(path, k) for k in value]
            elif isinstance(value, list):
                stack += [(f"{path}.{i}", v) for i, v in enumerate(value)]
    return None


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
    where = _nul_text()
    if where:
        _deny(guard, identity, record_ids, "nul_text")
        raise Problem(422, "Unprocessable Entity", "text may not hold a NUL character", {where: ["holds a NUL"]})
    try:
        _audit(guard.action, "allowed", identity.as_actor(), guard.record_type, record_ids)
    except Unavailable as exc:
        raise Problem(503, "Service Unavailable", "the audit log cannot record this request; nothing was done") from exc
    g.audit_allowed = (guard, identity, record_ids)
    return identity


def record_disclosed(action: str, record_type: str, record_ids: list[str]) -> None:
    """Inside a guarded view: audit which records the answer discloses when the request named none
    (``search.hits``: the cases a search returned), so every read of criminal intelligence can be
    found by record (C20, C27). Fail closed (C23): if the event cannot be stored, 503 and no answer."""
    try:
        _audit(action, "allowed", g.identity.as_actor(), record_type, record_ids)
    except Unavailable as exc:
        raise Problem(503, "Service Unavailable", "the audit log cannot record this answer; it is withheld") from exc


def guarded(
    action: str,
    record_type: str | None = None,
    record_arg: str | None = None,
    purpose_required=False,
    flag_action: tuple[str, str] | None = None,
):
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

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            done, active = g.get("audit_allowed"), guard.for_request(request.args)
            if not done or done[0] != active:
                enforce(active, kwargs)
            return view(*args, **kwargs)

        wrapper.casewire_action = action
        wrapper.casewire_guard = guard
        return wrapper

    return decorator


def public(view):
    """Mark a view that needs no token (health probes, metrics, the API documents)."""
    view.casewire_public = True
    return view


def _handler(view, method: str):
    """What answers ``method`` on ``view``: the function itself, or that method of a MethodView."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    return getattr(view_class, "get" if method.upper() == "HEAD" else method.lower(), None)


def guard_for(view, method: str) -> Guard | None:
    """The guard of ``view`` for ``method`` (a function view, or one method of a MethodView)."""
    return getattr(_handler(view, method), "casewire_guard", None)


def is_public(view, method: str) -> bool:
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
        _audit(UNGUARDED, "denied", None, None, [], reason="unguarded", endpoint=request.endpoint, rule=rule)
    except Unavailable:
        current_app.logger.error("audit: could not record the refusal of the unguarded %s", rule)
    raise Problem(500, "Internal Server Error", "this endpoint declares no access rule, so it is refused")


def _audit_failure(response):
    """An allowed request that did not succeed gets a ``failed`` event after its ``allowed`` one."""
    done = g.get("audit_allowed")
    if done and not g.get("audit_closed") and response.status_code >= 400:
        guard, identity, record_ids = done
        why = {"reason": g.failure_reason} if g.get("failure_reason") else {}
        try:
            _audit(
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


def context() -> dict:
    """What services need to know about the request they serve."""
    identity: Identity = g.identity
    purpose, case_number = _purpose_fields()
    found = {
        "actor": identity.as_actor(),
        "unit": identity.unit,
        "request_id": g.request_id,
        "purpose": purpose,
        "case_number": case_number,
        "idempotency_key": (g.get("idempotency") or (None,))[0],  # gateway/idempotency.py
    }
    if identity.oversight:  # an auditor's explicit oversight claim (docs/security.md, "Auditors")
        found["oversight"] = list(identity.oversight)
    return found


# Per-record access --------------------------------------------------------------------------------
# The rule itself is casewire/access.py, shared with the cases service, search and the stream.


def require_alert_access(alert: dict, identity: Identity | None = None) -> dict:
    """``alert`` when the caller may read and triage it (:func:`casewire.access.alert_visible`: its
    agency's alerts and those assigned to it); otherwise audit the refusal and raise 403."""
    identity = identity or g.identity
    if shared.alert_visible(identity.caller(), alert):
        return alert
    guard = g.get("casewire_guard") or Guard("alert.read", "alert")
    # record_agency: the alert's agency's auditors see who was refused it (docs/security.md, "Auditors")
    _deny(
        Guard(guard.action, "alert"),
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
    guard = g.get("casewire_guard") or Guard("scope.check")
    _deny(guard, g.identity, [], reason)
    raise Forbidden(message)


# Wiring and documentation ------------------------------------------------------------------------


class AccessDocs(BasePlugin):
    """apispec plugin: each guarded operation documents its action, roles, refusals and purpose fields."""

    PURPOSE_PARAMETERS = [
        {
            "in": "header",
            "name": PURPOSE_HEADER,
            "schema": {"type": "string", "maxLength": MAX_PURPOSE},
            "description": "Purpose of use (C9): this header or the `purpose` query field.",
        },
        {
            "in": "header",
            "name": CASE_NUMBER_HEADER,
            "schema": {"type": "string", "maxLength": MAX_CASE_NUMBER},
            "description": "Case or incident number (C9): this header or the `case_number` query field.",
        },
        {"in": "query", "name": "purpose", "schema": {"type": "string"}, "description": "Same as `X-Purpose`."},
        {"in": "query", "name": "case_number", "schema": {"type": "string"}, "description": "Same as `X-Case-Number`."},
    ]
    NEEDED = {
        True: "Required, with the case number.",
        "purpose": "The purpose is required.",
        "intelligence": "Required to read criminal intelligence; without them a list or search leaves it out.",
    }
    PURPOSE_REFUSALS = {
        True: "No purpose of use or case number (C9; audited); `errors` names `purpose` and `case_number`.",
        "purpose": "No purpose of use (C25; audited); `errors` names `purpose`.",
        "intelligence": "The record is criminal intelligence (or a sample of it is asked for) and the request states "
        "no purpose or case number (C9; audited); `errors` names `purpose` and `case_number`.",
    }
    REFUSALS = {
        "401": "No valid bearer token (audited as a failed logon).",
        "403": "The caller's roles may not do this, or the record is another unit's (audited).",
        "429": "Over the per-caller rate limit; see `Retry-After`.",
    }

    def __init__(self, app: Flask):
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            guard = guard_for(view, method) if view is not None else None
            if guard is None:
                continue
            operation["x-casewire-action"] = guard.action
            operation["x-casewire-roles"] = sorted(PERMISSIONS[guard.action])
            responses = operation.setdefault("responses", {})
            refusals = dict(self.REFUSALS)
            if guard.purpose_required:
                operation["x-casewire-purpose"] = PURPOSE_MODES[guard.purpose_required]
                parameters = operation.setdefault("parameters", [])
                present = {(p.get("in"), p.get("name")) for p in parameters if isinstance(p, dict)}
                parameters.extend(
                    {**p, "required": False, "description": f"{p['description']} {self.NEEDED[guard.purpose_required]}"}
                    for p in self.PURPOSE_PARAMETERS
                    if (p["in"], p["name"]) not in present
                )
                refusals["400"] = self.PURPOSE_REFUSALS[guard.purpose_required]
            if path and "{" in path:
                refusals["404"] = "No such record, or one the caller may not know exists."
            refusals.setdefault("422", "Invalid input, e.g. text holding a NUL character.")
            for status, description in refusals.items():
                if status not in responses and int(status) not in responses:
                    responses[status] = {"description": description}


def _public_view(view):
    """``view`` (perhaps a bound method, which cannot carry attributes) as a public function."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    return public(wrapper)


def init_app(app: Flask) -> None:
    """Run the guards before flask-smorest parses anything, and audit failures after.

    Call it after the blueprints are registered: it also marks flask-smorest's OpenAPI document and
    docs page (the ``api-docs`` endpoints) public.
    """
    app.before_request(_guard_request)
    app.after_request(_audit_failure)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api-docs."):
            app.view_functions[endpoint] = _public_view(view)
