"""The authorization matrix: every endpoint that exists × every role and every kind of bad token.

The endpoints are read from the gateway's own URL map when the tests are collected, so a new
endpoint is walked without anyone listing it, and one added without an action from the permission
table fails ``test_every_endpoint_is_public_or_in_the_permission_table``. For each call the test
checks the status (401 for bad tokens, 403 for roles outside the table, neither for roles in it) and
that the real audit service appended an event with that request's ``X-Request-Id`` and the right
outcome (C12, C20, C21).
"""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests
from pymongo import MongoClient

from gateway.access import guard_for
from gateway.app import create_app
from gateway.auth import DEV_ISSUER, mint_dev_token
from gateway.permissions import PERMISSIONS, ROLES

BAD_TOKENS = ("no token", "expired token", "wrong key", "wrong audience")
PURPOSE = {"X-Purpose": "authorization matrix test", "X-Case-Number": "TEST-0001"}
WRITES = {"POST", "PUT", "PATCH"}


def _action(view, method: str) -> str | None:
    guard = guard_for(view, method)
    return guard.action if guard else getattr(view, "casewire_action", None)


def _routes():
    app = create_app()
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, view


ROUTES = list(_routes())
GUARDED = [(rule.rule, method, _action(view, method)) for rule, method, view in ROUTES if _action(view, method)]


def test_every_endpoint_is_public_or_in_the_permission_table():
    unlisted = [
        f"{method} {rule.rule}"
        for rule, method, view in ROUTES
        if not getattr(view, "casewire_public", False) and _action(view, method) not in PERMISSIONS
    ]
    assert not unlisted, f"endpoints without an action in gateway/permissions.py: {unlisted}"
    assert len(GUARDED) >= 5


def concrete(path: str) -> str:
    """``/api/v1/cases/<case_id>`` → ``/api/v1/cases/matrix-0000``; numbers for number converters."""

    def dummy(match: re.Match) -> str:
        converter, arguments = match.group(1) or "", match.group(2) or ""
        if converter == "any":  # one of the listed values, e.g. <any(notes, reports):kind>
            return arguments.split(",")[0].strip(" '\"")
        return "1" if converter.startswith(("int", "float")) else "matrix-0000"

    return re.sub(r"<(?:([a-z]+)(?:\(([^)]*)\))?:)?[^<>]+>", dummy, path)


def tokens(gateway) -> dict[str, str | None]:
    now = datetime.now(UTC)
    wrong_audience = {"sub": "matrix-wrong-aud", "roles": list(ROLES), "iss": DEV_ISSUER, "aud": "another-app"}
    return {
        **{role: gateway.token(role, sub=f"matrix-{role}") for role in ROLES},
        "no token": None,
        "expired token": mint_dev_token(gateway.secret, "matrix-expired", list(ROLES), hours=-1),
        "wrong key": mint_dev_token("not-the-gateway-secret-but-just-as-long", "matrix-forger", list(ROLES)),
        "wrong audience": jwt.encode({**wrong_audience, "exp": now + timedelta(hours=1)}, gateway.secret, "HS256"),
    }


def send(gateway, method: str, path: str, token: str | None) -> tuple[int | None, str]:
    """One call; ``None`` for a permitted stream that is still open when the read times out."""
    request_id = uuid.uuid4().hex
    headers = {"X-Request-Id": request_id, **PURPOSE}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = gateway.http.request(
            method,
            f"{gateway.url}{path}",
            headers=headers,
            json={} if method in WRITES else None,
            stream=True,
            timeout=(5, 30),
        )
    except requests.ReadTimeout:
        return None, request_id
    response.close()
    return response.status_code, request_id


def expectation(caller: str, action: str) -> tuple[int | None, tuple[str, str]]:
    """The status ``caller`` must get on ``action`` (None: anything but 401, 403 and 429) and its audit event."""
    if caller in BAD_TOKENS:
        return 401, ("auth.token", "denied")
    if caller in PERMISSIONS[action]:
        return None, (action, "allowed")
    return 403, (action, "denied")


def let_through(status: int | None) -> bool:
    return status not in (401, 403, 429)


@pytest.fixture(scope="module")
def audit_log(stack):
    client = MongoClient("mongodb://127.0.0.1:27017/", tz_aware=True)
    yield client[stack["AUDIT_DATABASE"]]["events"]
    client.close()


def wait_for_events(audit_log, wanted: dict[str, tuple[str, str]], timeout=60.0) -> dict[str, list]:
    """The audit events of every request id in ``wanted``, once each has its (action, outcome)."""
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, list] = {}
        for event in audit_log.find({"request_id": {"$in": list(wanted)}}, {"_id": 0}):
            found.setdefault(event["request_id"], []).append(event)
        missing = {
            rid: want
            for rid, want in wanted.items()
            if want not in {(e["action"], e["outcome"]) for e in found.get(rid, [])}
        }
        if not missing or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


@pytest.mark.parametrize("path, method, action", GUARDED, ids=[f"{m} {p}" for p, m, _ in GUARDED])
def test_every_caller_gets_its_status_and_an_audit_event(gateway, audit_log, path, method, action):
    url = concrete(path)
    calls = {caller: send(gateway, method, url, token) for caller, token in tokens(gateway).items()}
    wrong = []
    for caller, (status, _) in calls.items():
        want, _ = expectation(caller, action)
        if not (let_through(status) if want is None else status == want):
            wrong.append(f"{caller}: {status}, expected {want or 'to be let through'}")
    assert not wrong, f"{method} {url} ({action}): {wrong}"

    wanted = {request_id: expectation(caller, action)[1] for caller, (_, request_id) in calls.items()}
    events = wait_for_events(audit_log, wanted)
    for caller, (_, request_id) in calls.items():
        seen = [(e["action"], e["outcome"]) for e in events.get(request_id, [])]
        assert wanted[request_id] in seen, f"{caller} on {method} {url}: audit has {seen}"
        event = next(e for e in events[request_id] if (e["action"], e["outcome"]) == wanted[request_id])
        assert event["client_address"] and event["details"]["path"] == url
        if caller in ROLES:
            assert event["actor"] == {"id": f"matrix-{caller}", "agency": "TX0000000", "roles": [caller]}
            assert (event["purpose"], event["case_number"]) == (PURPOSE["X-Purpose"], PURPOSE["X-Case-Number"])


AUDIT_ENDPOINTS = [(path, method, action) for path, method, action in GUARDED if action.startswith("audit.")]


def test_C12_admins_are_refused_every_audit_endpoint_and_auditors_let_in(gateway, audit_log):
    assert AUDIT_ENDPOINTS
    wanted = {}
    for path, method, action in AUDIT_ENDPOINTS:
        url = concrete(path)
        admin, admin_request = send(gateway, method, url, gateway.token("admin", sub="matrix-admin"))
        auditor, _ = send(gateway, method, url, gateway.token("auditor", sub="matrix-auditor"))
        assert admin == 403 and let_through(auditor), f"{method} {url}: admin {admin}, auditor {auditor}"
        wanted[admin_request] = (action, "denied")
    events = wait_for_events(audit_log, wanted)
    for request_id, want in wanted.items():
        assert want in [(e["action"], e["outcome"]) for e in events.get(request_id, [])]
