"""C26 at the gateway: ``POST /api/v1/alerts/{id}/identify`` is for human reviewers, validated and documented.

The gateway runs in-process with its audit trail and RPC client replaced by recorders, so no server is
needed; the intake side is proved in test_intake_service.py and tests/integration/test_intake.py.
"""

import pytest

from gateway.app import create_app
from gateway.auth import mint_dev_token
from gateway.permissions import PERMISSIONS, ROLES, allowed

SECRET = "unit-test-secret-of-at-least-32-bytes-long"
PATH = "/api/v1/alerts/a-1/identify"
BODY = {"evidence": [{"type": "fingerprint", "reference": "AFIS-2026-004471"}], "note": "examiner confirmed"}


class Recorder:
    """Stands in for the audit trail and the RPC client: keeps what the gateway sends."""

    def __init__(self):
        self.events, self.calls = [], []

    def record(self, action, outcome, actor=None, **fields):
        self.events.append((action, outcome, (actor or {}).get("id")))

    def call(self, service, method, *args):
        self.calls.append((service, method, *args))
        return {"id": args[0], "agency": "TX0000000", "identified": True}


@pytest.fixture
def app():
    app = create_app({"STREAM_ENABLED": "false", "DEV_JWT_SECRET": SECRET})
    app.extensions["audit"] = app.extensions["rpc"] = Recorder()
    return app


def post(app, roles, body=BODY, sub="dana"):
    token = mint_dev_token(SECRET, sub, list(roles), agency="TX0000000", unit="rtcc")
    return app.test_client().post(PATH, json=body, headers={"Authorization": f"Bearer {token}"})


def test_C26_only_the_human_reviewer_roles_may_identify():
    assert PERMISSIONS["alert.identify"] == {"detective", "supervisor"}
    assert [role for role in ROLES if allowed((role,), "alert.identify")] == ["detective", "supervisor"]


@pytest.mark.parametrize("role", ["source", "analyst", "auditor", "admin", "purge_authority"])
def test_C26_other_roles_are_refused_and_audited(app, role):
    response = post(app, (role,))
    assert response.status_code == 403
    assert app.extensions["audit"].events == [("alert.identify", "denied", "dana")]
    assert app.extensions["rpc"].calls == []


def test_C26_a_reviewer_is_passed_to_intake_as_the_actor(app):
    response = post(app, ("detective",))
    assert response.status_code == 200 and response.json == {"id": "a-1", "agency": "TX0000000", "identified": True}
    opened, (service, method, alert_id, body, context) = app.extensions["rpc"].calls
    assert opened == ("intake", "get_alert", "a-1")  # the caller's agency may open it
    assert (service, method, alert_id, body) == ("intake", "identify_alert", "a-1", BODY)
    assert context["actor"]["id"] == "dana" and context["actor"]["roles"] == ["detective"]
    assert app.extensions["audit"].events[0] == ("alert.identify", "allowed", "dana")


@pytest.mark.parametrize(
    "body",
    [{}, {"evidence": []}, {"evidence": [{"type": "hunch", "reference": "x"}]}, {"evidence": [{"type": "dna"}]}],
    ids=["none", "empty", "unknown-type", "no-reference"],
)
def test_C26_an_identification_without_evidence_is_422_naming_it(app, body):
    response = post(app, ("supervisor",), body)
    assert response.status_code == 422 and "evidence" in str(response.json["errors"])
    assert app.extensions["rpc"].calls == []


def test_C26_the_openapi_document_shows_the_endpoint_and_its_evidence(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/alerts/{alert_id}/identify"]["post"]
    assert operation["x-casewire-action"] == "alert.identify"
    assert operation["x-casewire-roles"] == ["detective", "supervisor"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    evidence = spec["components"]["schemas"][body]["properties"]["evidence"]
    assert evidence["type"] == "array" and evidence["minItems"] == 1
    item = spec["components"]["schemas"][evidence["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(item["required"]) == {"type", "reference"}
    assert item["properties"]["type"]["enum"] == [
        "fingerprint",
        "dna",
        "document",
        "witness",
        "interview",
        "records_check",
        "other",
    ]
