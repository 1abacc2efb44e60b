"""The authorization matrix: every endpoint that exists × every role × every agency (own, other, none),
and every kind of bad token.

The endpoints are read from the gateway's own URL map when the tests are collected, so a new
endpoint is walked without anyone listing it, and one added without an action from the permission
table fails ``test_every_endpoint_is_public_or_in_the_permission_table`` (at run time the gateway
refuses it with 500: ``tests/unit/test_fail_closed.py``). A rule with an ``<any(...)>`` argument is
walked once per choice (``/cases/<id>/notes``, ``/reports``, ...), and a query flag that makes a
request another action (``GET /api/v1/alerts?overdue=true``: ``alert.overdue``) once more with the
flag set. Each endpoint is called on real records made for this module (a case, a criminal
intelligence case, an alert, an entity, evidence, an attachment, a legal hold), with a body it
accepts, by:

- every role: a role in the permission table must get the endpoint's success status (2xx, or the one
  documented exception in :data:`EXCEPTIONS`), any other role 403;
- no token, an expired token, one signed with another key, one for another audience (HS256 and, for
  a signature, RS256): 401;
- a permitted role stating no purpose, on every endpoint that declares ``purpose_required``: 400
  (C9, C25), or for a list or search that leaves criminal intelligence out, its success status;
- every role again with a token of another agency and with a token naming no agency (issue 16): on a
  record of the first agency (any endpoint whose path names one) a permitted role is refused, 403 or
  exactly what a miss returns (404), and the refusal audited; elsewhere it gets its success status, and
  ``test_another_agency_sees_nothing_of_ours`` proves that lists, each kind of search hit, entity
  reads, the graph, related records, the stream, the audit log and the compliance report hold nothing
  of the first agency's records.

For each call the real audit service must have appended the event that request deserves, with that
request's ``X-Request-Id``, the actor and the outcome (C12, C20, C21).
"""

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pymongo import MongoClient

from casewire.vendors import FORMATS
from gateway.app import create_app
from gateway.auth import DEV_AUDIENCE, DEV_ISSUER, mint_dev_token
from gateway.guards import guard_for
from gateway.permissions import PERMISSIONS, ROLES
from tests.e2e.sse import EventStream
from tests.integration.test_cases import PNG, ci_fields
from tests.polling import eventually
from tests.unit.test_vendor_adapters import fresh as vendor_body

BAD_TOKENS = ("no token", "expired token", "wrong key", "wrong key (RS256)", "wrong audience")
NO_PURPOSE = "no purpose"
PURPOSE = {"X-Purpose": "authorization matrix test", "X-Case-Number": "TEST-0001"}
AGENCY, UNIT = "TX0000000", "rtcc"
OTHER_AGENCIES = {"other": "CA0000000", "none": None}  # the agency axis beside the records' own
ARGUMENT = re.compile(r"<(?:([a-z]+)(?:\(([^)]*)\))?:)?([^<>]+)>")


def _action(view, method: str) -> str | None:
    guard = guard_for(view, method)
    return guard.action if guard else getattr(view, "casewire_action", None)


def _routes():
    app = create_app({"STREAM_ENABLED": "false"})
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, view


def _choices(arguments: str) -> list[str]:
    """The choices of an ``<any(notes, reports):kind>`` argument."""
    return [choice.strip(" '\"") for choice in arguments.split(",")]


def concrete(rule: str, values: dict) -> str:
    """``rule`` with each ``<any(...)>`` argument replaced by its value in ``values`` (default: the first
    choice); other arguments stay, e.g. ``/api/v1/cases/<case_id>/reports``."""

    def value(match: re.Match) -> str:
        converter, arguments, name = match.groups()
        if converter == "any":
            return str(values.get(name) or _choices(arguments)[0])
        return match.group(0)

    return ARGUMENT.sub(value, rule)


def _walks(rule: str, method: str, view):
    """``(rule, method, action, mode, values, flags)`` for each way the matrix calls a guarded endpoint:
    once per choice of its ``<any(...)>`` arguments (``values``), and with each query flag that makes it
    another action (``flags``, e.g. ``{"overdue": "true"}`` for ``alert.overdue``)."""
    guard = guard_for(view, method)
    kinds = [{}]
    for converter, arguments, name in ARGUMENT.findall(rule):
        if converter == "any":
            kinds = [{**values, name: choice} for values in kinds for choice in _choices(arguments)]
    for values in kinds:
        yield rule, method, guard.action, guard.purpose_required, values, {}
        if guard.flag_action:
            flag, action = guard.flag_action
            yield rule, method, action, guard.purpose_required, values, {flag: "true"}


ROUTES = list(_routes())
GUARDED = [walk for rule, method, view in ROUTES if _action(view, method) for walk in _walks(rule.rule, method, view)]


def test_every_endpoint_is_public_or_in_the_permission_table():
    unlisted = [
        f"{method} {rule.rule}"
        for rule, method, view in ROUTES
        if not getattr(view, "casewire_public", False) and _action(view, method) not in PERMISSIONS
    ]
    assert not unlisted, f"endpoints without an action in gateway/permissions.py: {unlisted}"
    assert len(GUARDED) >= 5


def test_the_matrix_walks_every_kind_of_a_rule_and_every_flag_action():
    walked = {
        (method, concrete(rule, values), action, urlencode(flags)) for rule, method, action, _, values, flags in GUARDED
    }
    for kind in ("notes", "reports", "interviews", "tasks", "evidence"):
        assert ("GET", f"/api/v1/cases/<case_id>/{kind}", "case.read", "") in walked
    for kind in ("notes", "reports", "interviews", "tasks"):
        assert ("POST", f"/api/v1/cases/<case_id>/{kind}", "case.content", "") in walked
    assert ("GET", "/api/v1/alerts", "alert.list", "") in walked
    assert ("GET", "/api/v1/alerts", "alert.overdue", "overdue=true") in walked


# Records -------------------------------------------------------------------------------------------


def alpr() -> dict:
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-05T22:14:00Z",
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"plate": f"M{uuid.uuid4().hex[:6].upper()}", "plate_state": "TX", "camera_id": uuid.uuid4().hex},
    }


def face() -> dict:
    probe = "https://faces.example.gov/probes/matrix.jpg"
    payload = {"candidate": {"name": "John Roe", "subject_id": "S-9"}, "score": 88, "probe_image_url": probe}
    return {**alpr(), "source": "face", "source_system": "clearview", "payload": payload}


class Records:
    """Records made through the gateway by a supervisor of the callers' own unit and agency: one of
    each kind, shared by the endpoints that leave them usable, and fresh ones for those that use
    them up (a dismissed alert cannot be dismissed again)."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.token = gateway.token("supervisor", sub="matrix-setup", agency=AGENCY, unit=UNIT)
        self.named: list[str] = []  # the entities the records' alerts name
        self.plate = f"M{uuid.uuid4().hex[:6].upper()}"
        self.alert = self.new_alert({**alpr(), "payload": {"plate": self.plate, "plate_state": "TX", "camera_id": "c"}})
        self.vehicle = self.named[0]
        self.entity = self.new_entity()
        self.case = self.new_case()
        self.ci = self.new_case(**ci_fields(sensitivity="restricted"))  # pending review: its unit's alone
        self.evidence = {case: self.new_evidence(case) for case in (self.case, self.ci)}
        self.attachment = {case: self.new_attachment(case) for case in (self.case, self.ci)}

    def post(self, path: str, method: str = "POST", token: str | None = None, **kwargs) -> dict:
        response = self.gateway.request(method, path, token=token or self.token, headers=dict(PURPOSE), **kwargs)
        assert response.status_code in (200, 201), f"setup {method} {path}: {response.status_code} {response.text}"
        return response.json()

    def new_alert(self, body: dict | None = None) -> str:
        made = self.post("/api/v1/alerts", json=body or alpr())
        self.named.extend(entity["id"] for entity in made.get("entities") or [])
        return made["id"]

    def new_entity(self) -> str:
        plate = f"E{uuid.uuid4().hex[:6].upper()}"
        return self.post("/api/v1/entities", json={"type": "vehicle", "plate": plate, "plate_state": "TX"})["id"]

    def new_case(self, **fields) -> str:
        return self.post("/api/v1/cases", json={"title": "Matrix burglaries", **fields})["id"]

    def closed_case(self) -> str:
        case = self.new_case()
        self.post(f"/api/v1/cases/{case}", method="PATCH", json={"status": "closed"})
        return case

    def new_evidence(self, case: str) -> str:
        body = {"description": "Crowbar", "collected_at": "2026-03-18T04:00:00Z", "collected_by": "Det. Dana"}
        return self.post(f"/api/v1/cases/{case}/evidence", json=body)["id"]

    def new_attachment(self, case: str) -> str:
        files = {"file": ("scene.png", PNG + uuid.uuid4().bytes, "image/png")}
        return self.post(f"/api/v1/cases/{case}/attachments", files=files)["id"]

    def linked_alert(self, case: str) -> str:
        alert = self.new_alert()
        self.post(f"/api/v1/cases/{case}/alerts", json={"alert_id": alert})
        return alert

    def new_hold(self, case: str) -> str:
        reference = f"2026-CV-{uuid.uuid4().hex[:6]}"  # one hold per reference and case
        return self.post(f"/api/v1/cases/{case}/holds", json={"reference": reference, "reason": "lawsuit"})["id"]

    def new_webhook(self) -> str:
        return self.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["case_updated"]})["id"]

    def merged_entities(self) -> tuple[str, str]:
        survivor, merged = self.new_entity(), self.new_entity()
        self.post(f"/api/v1/entities/{survivor}/merge", json={"other_id": merged})
        return survivor, merged


@dataclass
class Call:
    """What one caller sends: URL arguments beyond the defaults, and a body or query."""

    values: dict = field(default_factory=dict)
    json: dict | None = None
    params: dict | None = None
    files: dict | None = None


def _unmerge(r: Records, caller: str, case: str) -> Call:
    survivor, merged = r.merged_entities()
    return Call({"entity_id": survivor}, json={"other_id": merged})


def _review(r: Records, caller: str, case: str) -> Call:
    """A supervisor approves; the purge authority may only decide ``purge`` (permissions.py)."""
    decision = "purge" if role_and_axis(caller)[0] == "purge_authority" else "approve"
    return Call({"case_id": r.new_case(**ci_fields())}, json={"decision": decision, "justification": "matrix review"})


# How each endpoint is called (method, rule) → Call, the rule with its ``<any(...)>`` choice made
# (:func:`concrete`); a GET without an entry is called with its path alone. Each builder gets the
# records, the caller and the case the path names.
CALLS = {
    ("POST", "/api/v1/alerts"): lambda r, caller, case: Call(json=alpr()),
    ("POST", "/api/v1/alerts/batch"): lambda r, caller, case: Call(json={"alerts": [alpr()]}),
    **{
        ("POST", f"/api/v1/alerts/vendors/{vendor}"): (lambda v: lambda r, caller, case: Call(json=vendor_body(v)))(
            vendor
        )
        for vendor in FORMATS
    },
    ("POST", "/api/v1/alerts/<alert_id>/assign"): lambda r, caller, case: Call(json={"unit": UNIT}),
    ("POST", "/api/v1/alerts/<alert_id>/notes"): lambda r, caller, case: Call(json={"text": "Patrol notified"}),
    ("POST", "/api/v1/alerts/<alert_id>/dismiss"): lambda r, caller, case: Call(
        {"alert_id": r.new_alert()}, json={"reason": "false_read", "text": "8 read as B"}
    ),
    ("POST", "/api/v1/alerts/<alert_id>/escalate"): lambda r, caller, case: Call(
        {"alert_id": r.new_alert()}, json={"reason": "Hotlist plate seen twice near the school"}
    ),
    ("POST", "/api/v1/alerts/<alert_id>/identify"): lambda r, caller, case: Call(
        {"alert_id": r.new_alert(face())}, json={"evidence": [{"type": "dna", "reference": "CODIS-2026-17"}]}
    ),
    ("POST", "/api/v1/alerts/<alert_id>/promote"): lambda r, caller, case: Call(
        {"alert_id": r.new_alert()}, json={"title": "Promoted by the matrix"}
    ),
    ("GET", "/api/v1/audit/events"): lambda r, caller, case: Call(params={"limit": 5}),
    ("GET", "/api/v1/audit/export"): lambda r, caller, case: Call(
        params={"since": (datetime.now(UTC) - timedelta(seconds=5)).isoformat()}
    ),
    ("POST", "/api/v1/cases"): lambda r, caller, case: Call(json={"title": "Opened by the matrix"}),
    ("PATCH", "/api/v1/cases/<case_id>"): lambda r, caller, case: Call(json={"summary": f"seen by {caller}"}),
    ("POST", "/api/v1/cases/<case_id>/review"): _review,
    ("POST", "/api/v1/cases/<case_id>/alerts"): lambda r, caller, case: Call(json={"alert_id": r.new_alert()}),
    ("POST", "/api/v1/cases/<case_id>/alerts/<alert_id>/unlink"): lambda r, caller, case: Call(
        # On intelligence (no purpose) the refusal comes first: an alert link there needs a predicate (C7).
        {"alert_id": r.linked_alert(case) if case == r.case else r.alert},
        json={"reason": "not the same vehicle"},
    ),
    ("POST", "/api/v1/cases/<case_id>/entities"): lambda r, caller, case: Call(
        json={"entity_id": r.entity, "role": "suspect"}
    ),
    ("POST", "/api/v1/cases/<case_id>/merge"): lambda r, caller, case: Call(
        json={"other_id": r.new_case(), "reason": "same burglary series"}
    ),
    ("POST", "/api/v1/cases/<case_id>/notes"): lambda r, caller, case: Call(json={"text": "CCTV requested"}),
    ("POST", "/api/v1/cases/<case_id>/reports"): lambda r, caller, case: Call(
        json={"title": "Canvass", "body": "Two neighbours heard glass break at 03:40"}
    ),
    ("POST", "/api/v1/cases/<case_id>/interviews"): lambda r, caller, case: Call(
        json={"interviewee": "Neighbour at 12", "at": "2026-03-18T06:00:00Z", "summary": "Heard glass break"}
    ),
    ("POST", "/api/v1/cases/<case_id>/tasks"): lambda r, caller, case: Call(
        json={"title": "Pull the CCTV", "assignee": f"matrix-{caller}", "due": "2026-03-25T17:00:00Z"}
    ),
    ("POST", "/api/v1/cases/<case_id>/evidence"): lambda r, caller, case: Call(
        json={"description": "Gloves", "collected_at": "2026-03-18T04:00:00Z", "collected_by": "Det. Dana"}
    ),
    ("POST", "/api/v1/cases/<case_id>/evidence/<evidence_id>/custody"): lambda r, caller, case: Call(
        {"evidence_id": r.new_evidence(case)},  # each transfer starts from the collector
        json={
            "from": "Det. Dana",
            "to": "Property room",
            "at": "2026-03-18T05:00:00Z",
            "reason": "storage",
            "condition": "sealed",
        },  # fmt: skip
    ),
    ("POST", "/api/v1/cases/<case_id>/attachments"): lambda r, caller, case: Call(
        files={"file": ("scene.png", PNG + uuid.uuid4().bytes, "image/png")}
    ),
    ("POST", "/api/v1/cases/<case_id>/disseminations"): lambda r, caller, case: Call(
        json={"recipient": "ADA Patel", "agency": "Harris County DA", "purpose": "charging", "need_to_know": "charging"}
    ),
    ("GET", "/api/v1/cases/<case_id>/export"): lambda r, caller, case: Call(
        params={"format": "json", "need_to_know": "charging decision"}
    ),
    ("POST", "/api/v1/cases/<case_id>/disposition"): lambda r, caller, case: Call(
        {"case_id": r.closed_case() if case == r.case else case}, json={"outcome": "arrest", "date": "2026-03-01"}
    ),
    ("POST", "/api/v1/cases/<case_id>/holds"): lambda r, caller, case: Call(
        json={"reference": f"2026-CV-{uuid.uuid4().hex[:6]}", "reason": "lawsuit"}
    ),
    ("POST", "/api/v1/cases/<case_id>/holds/<hold_id>/release"): lambda r, caller, case: Call(
        {"hold_id": r.new_hold(case)}, json={"reason": "suit settled"}
    ),
    ("POST", "/api/v1/cases/<case_id>/purge"): lambda r, caller, case: Call(
        {"case_id": r.new_case(**ci_fields()) if case == r.case else case}, json={"reason": "court order 2026-17"}
    ),
    ("POST", "/api/v1/entities"): lambda r, caller, case: Call(
        json={"type": "vehicle", "plate": f"N{uuid.uuid4().hex[:6].upper()}", "plate_state": "TX"}
    ),
    ("POST", "/api/v1/entities/<entity_id>/merge"): lambda r, caller, case: Call(
        {"entity_id": r.new_entity()}, json={"other_id": r.new_entity()}
    ),
    ("POST", "/api/v1/entities/<entity_id>/unmerge"): _unmerge,
    ("POST", "/api/v1/entities/<entity_id>/links"): lambda r, caller, case: Call(
        json={"other_id": r.new_entity(), "relation": "associate_of", "source": "DMV registration"}
    ),
    ("GET", "/api/v1/search"): lambda r, caller, case: Call(params={"q": "burglaries"}),
    ("GET", "/api/v1/search/plates"): lambda r, caller, case: Call(params={"plate": "ABC123"}),
    ("POST", "/api/v1/webhooks"): lambda r, caller, case: Call(
        json={"url": "http://127.0.0.1:9/hook", "events": ["case_updated"]}
    ),
    ("DELETE", "/api/v1/webhooks/<webhook_id>"): lambda r, caller, case: Call({"webhook_id": r.new_webhook()}),
}


# A documented status other than 2xx that a permitted role gets, (method, rule) → (status, why the
# matrix cannot make the call succeed). Empty today: every endpoint gets a body it accepts.
EXCEPTIONS: dict[tuple[str, str], tuple[int, str]] = {}

# How a permitted caller that states no purpose is refused, for the endpoints that ask for one. The
# rules naming a case are called on the criminal intelligence case (the cases service decides, C9);
# the others as listed here. ``None``: the answer leaves criminal intelligence out instead (docs/security.md,
# Purpose of use), so it is the usual success.
NO_PURPOSE_CALLS = {
    ("POST", "/api/v1/cases"): lambda r: Call(
        json={"title": "Identifying only", "classification": "identifying", "attached_to": r.ci}
    ),
    ("GET", "/api/v1/cases"): lambda r: Call(params={"classification": "criminal_intelligence"}),
    ("POST", "/api/v1/alerts/<alert_id>/promote"): lambda r: Call({"alert_id": r.new_alert()}, json={"case_id": r.ci}),
    ("GET", "/api/v1/compliance/report"): lambda r: Call(params={"sample": 1}),
    ("GET", "/api/v1/search/plates"): lambda r: Call(params={"plate": "ABC123"}),
}
LEAVES_INTELLIGENCE_OUT = {("GET", "/api/v1/search"), ("GET", "/api/v1/stream")}


# Calling ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def callers(gateway) -> dict[str, str | None]:
    """A token for every role (the callers' unit and agency) and every kind of bad token."""
    now = datetime.now(UTC)
    every_role = list(ROLES)
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"sub": "matrix-forger", "roles": every_role, "agency": AGENCY, "iss": DEV_ISSUER, "aud": DEV_AUDIENCE}
    wrong_audience = {**claims, "sub": "matrix-wrong-aud", "aud": "another-app", "exp": now + timedelta(hours=1)}
    return {
        **{role: gateway.token(role, sub=f"matrix-{role}", agency=AGENCY, unit=UNIT) for role in ROLES},
        **{
            axis_caller(role, axis): gateway.token(role, sub=f"matrix-{role}-{axis}", agency=agency, unit=UNIT)
            for role in ROLES
            for axis, agency in OTHER_AGENCIES.items()
        },
        "no token": None,
        "expired token": mint_dev_token(gateway.secret, "matrix-expired", every_role, agency=AGENCY, hours=-1),
        "wrong key": mint_dev_token("not-the-gateway-secret-but-just-as-long", "matrix-forger", every_role),
        "wrong key (RS256)": jwt.encode({**claims, "exp": now + timedelta(hours=1)}, foreign_key, "RS256"),
        "wrong audience": jwt.encode(wrong_audience, gateway.secret, "HS256"),
    }


def names_a_record(rule: str) -> bool:
    """Whether the path names a record (``<case_id>``), not just a kind (``<any(notes, reports):kind>``)."""
    return any(converter != "any" for converter, _, _ in ARGUMENT.findall(rule))


def axis_caller(role: str, axis: str) -> str:
    """The caller of ``role`` with a token of another agency (``other``) or of none (``none``)."""
    return f"{role} ({axis} agency)"


def role_and_axis(caller: str) -> tuple[str, str | None]:
    role, _, axis = caller.partition(" (")
    return role, axis.removesuffix(" agency)") or None


def path_of(rule: str, values: dict) -> str:
    """``/api/v1/cases/<case_id>`` with the call's values; for ``<any(...):kind>`` the value of ``kind``
    (default: the first choice)."""
    return ARGUMENT.sub(lambda match: str(values[match.group(3)]), concrete(rule, values))


def build(
    records: Records, method: str, rule: str, caller: str, case: str, values=None, flags=None
) -> tuple[str, Call]:
    """The path and call of one walk (``values``: its ``<any(...)>`` choices; ``flags``: its query flag)."""
    values = values or {}
    builder = CALLS.get((method, concrete(rule, values))) or CALLS.get((method, rule), lambda r, who, c: Call())
    call = builder(records, caller, case)
    if flags:
        call.params = {**(call.params or {}), **flags}
    case = call.values.get("case_id", case)
    defaults = {
        "case_id": case,
        "alert_id": records.alert,
        "entity_id": records.entity,
        "evidence_id": records.evidence.get(case, "none"),
        "attachment_id": records.attachment.get(case, "none"),
    }
    return path_of(rule, {**defaults, **values, **call.values}), call


def send(gateway, method: str, path: str, call: Call, token: str | None, purpose: bool = True):
    """One call; returns (status, request id). A stream is closed as soon as its status is in."""
    request_id = uuid.uuid4().hex
    headers = {"X-Request-Id": request_id, **(PURPOSE if purpose else {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = gateway.http.request(
        method,
        f"{gateway.url}{path}",
        headers=headers,
        json=call.json,
        params=call.params,
        files=call.files,
        stream=True,
        timeout=(5, 60),
    )
    response.close()
    return response.status_code, request_id


@pytest.fixture(scope="module")
def audit_log(stack):
    client = MongoClient("mongodb://127.0.0.1:27017/", tz_aware=True)
    yield client[stack["AUDIT_DATABASE"]]["events"]
    client.close()


@pytest.fixture(scope="module")
def records(gateway) -> Records:
    return Records(gateway)


@dataclass
class Expected:
    """The status a call must get and the audit event it must leave."""

    status: str | int  # an int, or "2xx"
    action: str
    outcome: str
    actor: str | None = None  # the actor id, for a token the gateway trusted
    reason: str | None = None
    service: str | None = "gateway"  # None: whichever service decides

    def matches(self, event: dict) -> bool:
        outcomes = ("denied", "failed") if self.outcome == "refused" else (self.outcome,)
        return (
            (self.service is None or event["service"] == self.service)
            and (self.action is None or event["action"] == self.action)
            and event["outcome"] in outcomes
            and (self.reason is None or event["details"].get("reason") == self.reason)
            and (self.actor is None or (event.get("actor") or {}).get("id") == self.actor)
        )

    def status_ok(self, status: int) -> bool:
        if self.status == "refused":  # 403, or exactly what a miss returns
            return status in (403, 404)
        return 200 <= status < 300 if self.status == "2xx" else status == self.status


def expectation(caller: str, method: str, rule: str, action: str) -> Expected:
    if caller in BAD_TOKENS:
        return Expected(401, "auth.token", "denied")
    role, axis = role_and_axis(caller)
    actor = f"matrix-{role}" + (f"-{axis}" if axis else "")
    if role not in PERMISSIONS[action]:
        return Expected(403, action, "denied", actor, "role")
    if axis and names_a_record(rule):  # a record of the matrix's agency: refused, by whichever party decides
        return Expected("refused", None, "refused", actor, service=None)
    status = EXCEPTIONS.get((method, rule), ("2xx",))[0]
    return Expected(status, action, "allowed", actor)


def no_purpose_expectation(caller: str, method: str, rule: str, action: str, mode) -> Expected:
    actor = f"matrix-{caller}"
    if (method, rule) in LEAVES_INTELLIGENCE_OUT:
        return Expected("2xx", action, "allowed", actor)
    if mode in (True, "purpose"):  # the gateway refuses before anything is done
        return Expected(400, action, "denied", actor, "purpose")
    return Expected(400, None, "denied", actor, "purpose", None)  # decided by the record's service, as its action


def wait_for_events(audit_log, wanted: dict[str, Expected], timeout=60.0) -> dict[str, list]:
    """The audit events of every request id in ``wanted``, once each has the one it expects."""
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, list] = {}
        for event in audit_log.find({"request_id": {"$in": list(wanted)}}, {"_id": 0}):
            found.setdefault(event["request_id"], []).append(event)
        missing = [rid for rid, want in wanted.items() if not any(want.matches(e) for e in found.get(rid, []))]
        if not missing or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def _walk_id(rule: str, method: str, values: dict, flags: dict) -> str:
    return f"{method} {concrete(rule, values)}" + (f"?{urlencode(flags)}" if flags else "")


@pytest.mark.parametrize(
    "rule, method, action, mode, values, flags",
    GUARDED,
    ids=[_walk_id(rule, method, values, flags) for rule, method, _, _, values, flags in GUARDED],
)
def test_every_caller_gets_its_status_and_an_audit_event(
    gateway, callers, records, audit_log, rule, method, action, mode, values, flags
):
    calls = {}
    for caller, token in callers.items():
        path, call = build(records, method, rule, caller, records.case, values, flags)
        calls[caller] = (path, expectation(caller, method, rule, action), *send(gateway, method, path, call, token))
    if mode:
        caller = sorted(PERMISSIONS[action])[0]
        if (method, rule) in NO_PURPOSE_CALLS:
            call = NO_PURPOSE_CALLS[(method, rule)](records)
            path = path_of(rule, {"alert_id": records.alert, **values, **call.values})
        else:
            assert "<case_id>" in rule or (method, rule) in LEAVES_INTELLIGENCE_OUT, f"no no-purpose call for {rule}"
            path, call = build(records, method, rule, caller, records.ci, values, flags)
        want = no_purpose_expectation(caller, method, rule, action, mode)
        calls[NO_PURPOSE] = (path, want, *send(gateway, method, path, call, callers[caller], purpose=False))

    wrong = [
        f"{caller}: {status}, expected {want.status}"
        for caller, (path, want, status, _) in calls.items()
        if not want.status_ok(status)
    ]
    assert not wrong, f"{method} {rule} ({action}): {wrong}"

    events = wait_for_events(audit_log, {request_id: want for _, want, _, request_id in calls.values()})
    for caller, (path, want, _, request_id) in calls.items():
        seen = [(e["action"], e["outcome"], e["details"].get("reason")) for e in events.get(request_id, [])]
        assert any(want.matches(e) for e in events.get(request_id, [])), f"{caller} on {method} {path}: audit {seen}"
        event = next(e for e in events[request_id] if want.matches(e))
        if event["service"] == "gateway":
            assert event["client_address"] and event["details"]["path"] == path
        if caller in ROLES and event["service"] == "gateway":  # they stated a purpose (the no-purpose caller none)
            assert event["actor"] == {"id": f"matrix-{caller}", "agency": AGENCY, "roles": [caller]}
            assert (event["purpose"], event["case_number"]) == (PURPOSE["X-Purpose"], PURPOSE["X-Case-Number"])
        if want.status == "2xx" and caller != NO_PURPOSE:
            assert not [e for e in events[request_id] if e["outcome"] == "failed"], f"{caller}: {seen}"


AUDIT_ENDPOINTS = [(rule, method, action) for rule, method, action, *_ in GUARDED if action.startswith("audit.")]


def test_C12_admins_are_refused_every_audit_endpoint_and_auditors_let_in(gateway, records, audit_log):
    assert AUDIT_ENDPOINTS
    wanted = {}
    for rule, method, action in AUDIT_ENDPOINTS:
        path, call = build(records, method, rule, "auditor", records.case)
        admin, admin_request = send(gateway, method, path, call, gateway.token("admin", sub="matrix-admin"))
        auditor, _ = send(gateway, method, path, call, gateway.token("auditor", sub="matrix-auditor"))
        assert admin == 403 and 200 <= auditor < 300, f"{method} {path}: admin {admin}, auditor {auditor}"
        wanted[admin_request] = Expected(403, action, "denied", "matrix-admin", "role")
    events = wait_for_events(audit_log, wanted)
    for request_id, want in wanted.items():
        assert any(want.matches(e) for e in events.get(request_id, []))


# The agency axis: what another agency's answers hold ------------------------------------------------


def test_another_agency_sees_nothing_of_ours(gateway, callers, records):
    """Issue 16: a permitted caller of another agency, or of none, finds none of the matrix's records in a
    list, any kind of search hit (an alert, a case, an entity, a plate, a C6 pointer), an entity read, the
    graph, related records, the audit log or the compliance report; the matrix's own agency finds them in
    the answers that are not paged past them (so each is an answer that could hold them)."""
    title = f"Matrix {uuid.uuid4().hex[:8]}"
    case = records.new_case(title=title)
    shared = records.new_case(**ci_fields(title=title, sensitivity="open"))
    approver = gateway.token("supervisor", sub="matrix-approver", agency=AGENCY, unit=UNIT)
    approval = {"decision": "approve", "justification": "matrix approval"}
    records.post(f"/api/v1/cases/{shared}/review", json=approval, token=approver)
    records.post(f"/api/v1/cases/{case}/entities", json={"entity_id": records.vehicle, "role": "suspect"})
    ours = {records.alert, records.vehicle, records.entity, records.case, records.ci, case, shared}
    reads = {
        "alerts": ("/api/v1/alerts", {"limit": 500}),
        "cases": ("/api/v1/cases", {"limit": 500}),
        "entities": ("/api/v1/entities", {"q": records.plate}),
        "search": ("/api/v1/search", {"q": records.plate}),
        "search cases": ("/api/v1/search", {"q": title}),
        "plates": ("/api/v1/search/plates", {"plate": records.plate}),
        "entity": (f"/api/v1/entities/{records.vehicle}", {}),
        "graph": (f"/api/v1/entities/{records.vehicle}/graph", {"depth": 2}),
        "related": (f"/api/v1/cases/{case}/related", {}),
        "alert": (f"/api/v1/alerts/{records.alert}", {}),
    }
    paged = {"alerts", "cases"}  # newest first: the matrix may have paged past its first records

    def read(token, path, params):
        return gateway.get(path, token=token, params=params, headers=dict(PURPOSE))

    analyst = callers["analyst"]
    eventually(lambda: records.vehicle in read(analyst, *reads["plates"]).text)
    eventually(lambda: case in read(analyst, *reads["search cases"]).text)
    for name, (path, params) in reads.items():
        answer = read(analyst, path, params)
        assert answer.status_code == 200 and (name in paged or set(ours) & set(_ids(answer))), name
    outsider = read(
        gateway.token("analyst", sub="matrix-outsider", agency=AGENCY, unit="homicide"), *reads["search cases"]
    )
    assert [hit["summary"]["contact"] for hit in outsider.json()["items"] if hit.get("pointer")]  # C6, its agency
    for axis in OTHER_AGENCIES:
        theirs = callers[axis_caller("analyst", axis)]
        for name, (path, params) in reads.items():
            answer = read(theirs, path, params)
            assert answer.status_code in (200, 403, 404), (axis, name, answer.status_code)
            assert not set(ours) & set(_ids(answer)), (axis, name, answer.text[:300])
        auditor = callers[axis_caller("auditor", axis)]
        log = read(auditor, "/api/v1/audit/events", {"actor": "matrix-setup"})
        assert log.status_code == 200 and log.json()["items"] == [], axis
        report = read(auditor, "/api/v1/compliance/report", {"sample": 200})
        assert report.status_code == 200 and not set(ours) & set(_ids(report)), axis
    assert read(callers["auditor"], "/api/v1/audit/events", {"actor": "matrix-setup"}).json()["items"]


def test_another_agencys_stream_hears_nothing_of_ours(gateway, callers, records):
    url = f"{gateway.url}/api/v1/stream"
    streams = {axis: EventStream(url, callers[axis_caller("analyst", axis)]) for axis in OTHER_AGENCIES}
    ours = EventStream(url, callers["analyst"])
    try:
        mine = records.new_alert()
        ours.until(lambda event: event["data"].get("alert_id") == mine)
        for axis, agency in OTHER_AGENCIES.items():
            token = gateway.token("source", sub=f"matrix-source-{axis}", agency=agency, unit=UNIT)
            theirs = gateway.post("/api/v1/alerts", token=token, json=alpr()).json()["id"]
            heard = streams[axis].until(lambda event, theirs=theirs: event["data"].get("alert_id") == theirs)
            assert mine not in json.dumps([event["data"] for event in heard]), axis  # theirs came after ours
    finally:
        for stream in (ours, *streams.values()):
            stream.close()


def _ids(answer) -> list[str]:
    """Every string of a JSON answer (ids among them); nothing for a refusal."""
    if answer.status_code != 200:
        return []
    found, stack = [], [answer.json()]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            found.append(value)
    return found
