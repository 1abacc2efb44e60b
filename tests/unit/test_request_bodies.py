"""A body the cases service takes is validated by the gateway's ``@blp.arguments`` with the service's own schema:
an invalid one is refused before any call, in the words and with the fields the service's refusal has."""

import pytest

from gateway.app import create_app
from gateway.auth import mint_dev_token

SECRET = "unit-test-secret-of-at-least-32-bytes-long"
ROLES = ["detective", "supervisor", "purge_authority"]


class Service:
    """The audit trail and the cases service in one: records nothing, and answers every call it gets."""

    def __init__(self):
        self.calls = []

    def record(self, action, outcome, **fields):
        pass

    def call(self, service, method, *args):
        self.calls.append((method, *args[:1]))
        return {"id": "c-1"}


@pytest.fixture
def app():
    app = create_app({"DEV_JWT_SECRET": SECRET, "STREAM_ENABLED": "false"})
    app.extensions["audit"] = app.extensions["rpc"] = Service()
    return app


def post(app, path: str, **body):
    token = mint_dev_token(SECRET, "dana", ROLES, agency="TX0000000", unit="gangs")
    return app.test_client().post(path, headers={"Authorization": f"Bearer {token}"}, **body)


@pytest.mark.parametrize(
    "path, body, detail, fields",
    [
        ("/api/v1/cases", {"title": 5, "classification": "rumour"}, "the case is invalid", {"title", "classification"}),
        ("/api/v1/cases/c-1/review", {"decision": "maybe"}, "the review is invalid", {"decision", "justification"}),
        ("/api/v1/cases/c-1/disseminations", {"recipient": "x"}, "the dissemination is invalid", {"agency"}),
        ("/api/v1/cases/c-1/purge", {"why": "old"}, "the purge is invalid", {"reason", "why"}),
        ("/api/v1/cases/c-1/holds", {}, "the legal hold is invalid", {"reference"}),
    ],
)
def test_an_invalid_body_is_refused_before_any_call_in_the_services_words(app, path, body, detail, fields):
    response = post(app, path, json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.json["detail"] == detail and fields <= set(response.json["errors"])
    assert app.extensions["rpc"].calls == []


@pytest.mark.parametrize("body", [{"json": [1]}, {"data": "{not json", "content_type": "application/json"}, {}])
def test_a_body_that_is_not_a_json_object_is_400(app, body):
    response = post(app, "/api/v1/cases", **body)
    assert response.status_code == 400 and response.json["detail"] == "the body must be a JSON object"
    assert app.extensions["rpc"].calls == []


def test_a_valid_body_goes_to_the_service_as_it_came(app):
    body = {"title": "Burglary ring", "review_due": "2026-03-01T10:00:00-05:00"}  # no default added, no date rewritten
    response = post(app, "/api/v1/cases", json=body)
    assert response.status_code == 201 and app.extensions["rpc"].calls == [("create_case", body)]
