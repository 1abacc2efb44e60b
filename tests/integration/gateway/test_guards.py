"""The guard's refusals and the audit events they leave, over the real broker and audit service.

Test-only routes stand in for the endpoints other areas build: one that reads criminal
intelligence (``purpose_required``), one that loads a case. Per-record access to cases is the cases
service's (``tests/integration/test_cases.py``, ``tests/e2e/test_cases.py``), not the gateway's.
C23 is proven on real write endpoints too, against the real cases, intake and entities services.
"""

import uuid
from datetime import datetime, timedelta

import pytest

from casewire.audit import AuditTrail
from casewire.errors import NotFound
from gateway.app import create_app
from gateway.auth import mint_dev_token
from gateway.guards import guarded
from services.cases.service import CasesService
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from tests.integration.gateway.support import call

SECRET = "integration-test-secret-of-at-least-32-bytes"
PURPOSE = {"X-Purpose": "armed robbery follow-up", "X-Case-Number": "HPD-2026-000123"}
CASES = {
    "homicide-1": {"id": "homicide-1", "unit": "homicide", "agency": "TX0000000", "assignees": ["carol"]},
    "gang-intel": {
        "id": "gang-intel",
        "unit": "gangs",
        "agency": "TX0000000",
        "assignees": [],
        "record_class": "criminal_intelligence",
        "sensitivity": "restricted",
        "review_state": "approved",
    },
}


def token(*roles, sub="dana", unit="homicide"):
    return mint_dev_token(SECRET, sub, list(roles), agency="TX0000000", unit=unit)


def build(base_config, **config):
    settings = {"AMQP_URI": base_config["AMQP_URI"], "DEV_JWT_SECRET": SECRET, "STREAM_ENABLED": "false"}
    app = create_app({**settings, **config})
    ran = []

    @guarded("case.read", record_type="case", record_arg="case_id", purpose_required=True)
    def read_intelligence(case_id):
        ran.append(case_id)
        return {"id": case_id}

    @guarded("case.read", record_type="case", record_arg="case_id")
    def read_case(case_id):
        ran.append(case_id)
        if case_id not in CASES:
            raise NotFound(f"no case {case_id}")
        return CASES[case_id]

    app.add_url_rule("/test/intelligence/<case_id>", view_func=read_intelligence)
    app.add_url_rule("/test/cases/<case_id>", view_func=read_case)
    app.ran = ran
    return app


@pytest.fixture
def app(base_config, close_rpc):
    app = build(base_config)
    close_rpc(app)
    return app


def outcomes(events):
    return [(e["action"], e["outcome"], e["details"].get("reason")) for e in events]


def test_C9_reading_intelligence_without_a_purpose_is_400_and_audited(app, audit_reader):
    client = app.test_client()
    refusals = (
        {},
        {"X-Purpose": "deconfliction"},
        {"X-Case-Number": "HPD-1"},
        {"X-Purpose": "   ", "X-Case-Number": "HPD-1"},
        {"X-Purpose": "x" * 501, "X-Case-Number": "HPD-1"},
    )
    for headers in refusals:
        response, request_id = call(client, "GET", "/test/intelligence/gang-intel", token("analyst"), headers)
        assert response.status_code == 400, response.json
        assert response.mimetype == "application/problem+json"
        assert set(response.json["errors"]) <= {"purpose", "case_number"} and response.json["errors"]
        event = audit_reader.for_request(request_id)[0]
        assert outcomes([event]) == [("case.read", "denied", "purpose")]
        assert event["record_ids"] == ["gang-intel"]
    assert app.ran == []


def test_C9_purpose_and_case_number_in_headers_or_query_let_the_read_through(app, audit_reader):
    client = app.test_client()
    response, by_header = call(client, "GET", "/test/intelligence/gang-intel", token("analyst"), PURPOSE)
    assert response.status_code == 200
    query = "purpose=deconfliction&case_number=INC-77"
    response, by_query = call(client, "GET", f"/test/intelligence/gang-intel?{query}", token("analyst"))
    assert response.status_code == 200
    first, second = audit_reader.for_request(by_header)[0], audit_reader.for_request(by_query)[0]
    assert (first["purpose"], first["case_number"]) == (PURPOSE["X-Purpose"], PURPOSE["X-Case-Number"])
    assert (second["purpose"], second["case_number"]) == ("deconfliction", "INC-77")


def test_C21_an_audit_event_holds_everything_the_rule_lists(app, audit_reader):
    response, request_id = call(
        app.test_client(),
        "GET",
        "/test/intelligence/gang-intel",
        token("analyst", sub="erin"),
        PURPOSE,
        environ_base={"REMOTE_ADDR": "10.20.30.40"},
    )
    assert response.status_code == 200
    event = audit_reader.for_request(request_id)[0]
    at = event["at"]  # stored as a BSON date (UTC by definition), or an ISO string ending in UTC
    assert (isinstance(at, datetime) and at.utcoffset() in (None, timedelta(0))) or at.endswith(("+00:00", "Z"))
    assert event["service"] == "gateway"
    assert (event["action"], event["outcome"]) == ("case.read", "allowed")
    assert event["actor"] == {"id": "erin", "agency": "TX0000000", "roles": ["analyst"]}
    assert event["client_address"] == "10.20.30.40"
    assert (event["record_type"], event["record_ids"]) == ("case", ["gang-intel"])
    assert (event["purpose"], event["case_number"], event["request_id"]) == (
        PURPOSE["X-Purpose"],
        PURPOSE["X-Case-Number"],
        request_id,
    )
    assert event["hash"] and event["prev_hash"] and event["seq"] >= 1


def test_C20_a_refused_role_is_403_and_audited_with_the_actor(app, audit_reader):
    response, request_id = call(app.test_client(), "GET", "/test/cases/homicide-1", token("auditor", sub="audrey"))
    assert response.status_code == 403
    event = audit_reader.for_request(request_id)[0]
    assert outcomes([event]) == [("case.read", "denied", "role")]
    assert event["actor"]["id"] == "audrey" and event["record_ids"] == ["homicide-1"]
    assert app.ran == []


def test_an_allowed_request_that_fails_gets_a_failed_event(app, audit_reader):
    response, request_id = call(app.test_client(), "GET", "/test/cases/nothing-here", token("detective"))
    assert response.status_code == 404
    events = audit_reader.for_request(request_id, 2)
    assert [(e["outcome"], e["details"].get("status")) for e in events] == [("allowed", None), ("failed", 404)]


def test_a_caller_over_the_rate_limit_gets_429_with_retry_after_and_is_audited(base_config, audit_reader, close_rpc):
    app = build(base_config, RATE_LIMIT_PER_MINUTE=2)
    close_rpc(app)
    client = app.test_client()
    answers = [call(client, "GET", "/test/cases/homicide-1", token("detective")) for _ in range(3)]
    assert [response.status_code for response, _ in answers] == [200, 200, 429]
    limited, request_id = answers[-1]
    assert limited.mimetype == "application/problem+json" and int(limited.headers["Retry-After"]) >= 1
    assert outcomes(audit_reader.for_request(request_id)) == [("case.read", "denied", "rate_limit")]
    other, _ = call(client, "GET", "/test/cases/homicide-1", token("detective", sub="frank"))
    assert other.status_code == 200  # the limit is per caller
    assert app.ran == ["homicide-1"] * 3


def test_refused_tokens_from_one_address_are_limited_with_429_and_audited_once(base_config, audit_reader, close_rpc):
    app = build(base_config, LOGON_FAILURES_PER_MINUTE=3)
    close_rpc(app)
    client = app.test_client()
    forged = mint_dev_token("not-the-gateway-secret-but-just-as-long", "mallory", ["admin"])

    def attempt(address, bearer=forged):
        return call(client, "GET", "/test/cases/homicide-1", bearer, environ_base={"REMOTE_ADDR": address})

    answers = [attempt("10.9.9.9") for _ in range(6)]
    assert [response.status_code for response, _ in answers] == [401, 401, 401, 429, 429, 429]
    limited = answers[3][0]
    assert limited.mimetype == "application/problem+json" and int(limited.headers["Retry-After"]) >= 1
    for _, request_id in answers[:3]:
        assert outcomes(audit_reader.for_request(request_id)) == [
            ("auth.token", "denied", "Signature verification failed")
        ]
    first_over = audit_reader.for_request(answers[3][1])[0]
    assert outcomes([first_over]) == [("auth.token", "denied", "logon_rate_limit")]
    assert first_over["client_address"] == "10.9.9.9" and first_over["details"]["claimed_sub"] == "mallory"
    valid, valid_id = attempt("10.9.9.9", token("detective"))  # only refusals count: a real user there passes
    elsewhere, _ = attempt("10.8.8.8")
    assert (valid.status_code, elsewhere.status_code) == (200, 401)
    audit_reader.for_request(valid_id)  # one audit worker, in order: the refusals before it are all in
    assert not list(audit_reader.events.find({"request_id": {"$in": [rid for _, rid in answers[4:]]}}))


def test_C23_when_the_audit_log_is_out_of_reach_nothing_is_done(close_rpc):
    app = build({"AMQP_URI": "amqp://guest:guest@127.0.0.1:9/"})  # no broker listens there
    close_rpc(app)
    response, _ = call(app.test_client(), "GET", "/test/cases/homicide-1", token("detective"))
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert app.ran == []


@pytest.fixture
def write_services(container_factory, config_for, mongo):
    """The real cases, intake and entities services the write endpoints call; their databases."""
    for service in (CasesService, IntakeService, EntitiesService):
        container_factory(service, config_for(service.name)).start()
    return {name: mongo[config_for(name)["MONGODB_DATABASE"]] for name in ("cases", "intake")}


def test_C23_a_real_write_with_the_audit_log_out_of_reach_is_503_and_stores_nothing(
    base_config, write_services, audit_reader, close_rpc
):
    app = build(base_config)
    close_rpc(app)
    client = app.test_client()
    plate = f"C{uuid.uuid4().hex[:6].upper()}"
    alert = {
        "source": "alpr",
        "source_system": "flock",
        "occurred_at": "2026-03-05T22:14:00Z",
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": "cam-23"},
    }
    writes = {
        "case": ("/api/v1/cases", lambda title: {"title": title}),
        "alert": ("/api/v1/alerts", lambda event_id: {**alert, "source_event_id": event_id}),
    }
    stored = {
        "case": lambda title: write_services["cases"]["cases"].count_documents({"title": title}),
        "alert": lambda event_id: write_services["intake"]["alerts"].count_documents({"source_event_id": event_id}),
    }
    for kind, (path, body) in writes.items():  # with the audit log in reach the same write is stored
        marker = f"c23-{uuid.uuid4().hex}"
        response, _ = call(client, "POST", path, token("detective"), json=body(marker))
        assert response.status_code == 201 and stored[kind](marker) == 1, response.json

    app.extensions["audit"] = AuditTrail("amqp://guest:guest@127.0.0.1:9/", "gateway")  # no broker listens there
    for kind, (path, body) in writes.items():
        marker = f"c23-{uuid.uuid4().hex}"
        response, request_id = call(client, "POST", path, token("detective"), json=body(marker))
        assert response.status_code == 503 and response.mimetype == "application/problem+json", response.json
        assert "nothing was done" in response.json["detail"]
        assert stored[kind](marker) == 0
        assert not list(audit_reader.events.find({"request_id": request_id}))


def test_checks_run_before_the_body_or_query_is_parsed(app, audit_reader):
    """An unauthenticated caller learns nothing about validation: 401 comes before 422."""
    client = app.test_client()
    no_token, request_id = call(client, "GET", "/api/v1/search/plates")  # ``plate`` is required
    assert no_token.status_code == 401
    assert outcomes(audit_reader.for_request(request_id)) == [("auth.token", "denied", "no bearer token")]
    wrong_role, _ = call(client, "POST", "/api/v1/alerts", token("auditor"), json={})
    assert wrong_role.status_code == 403
    invalid, _ = call(client, "GET", "/api/v1/search/plates", token("analyst"), {"X-Purpose": "patrol stop"})
    assert invalid.status_code == 422
