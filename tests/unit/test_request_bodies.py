"""A body the cases service takes is validated by the gateway's ``@blp.arguments`` with the service's own schema:
an invalid one is refused before any call, in the words and with the fields the service's refusal has."""

import pytest
from nameko.testing.services import worker_factory

from casewire.errors import InvalidInput
from gateway.app import create_app
from gateway.auth import mint_dev_token
from services.cases.service import CasesService

SECRET = "unit-test-secret-of-at-least-32-bytes-long"
ROLES = ["detective", "supervisor", "purge_authority"]


class Service:
    """The audit trail and the cases service in one: records nothing, and answers every call it gets."""

    def __init__(self):
        self.calls, self.sent = [], []

    def record(self, action, outcome, **fields):
        pass

    def call(self, service, method, *args):
        self.calls.append((method, *args[:1]))
        self.sent.append((method, *args[:-1]))  # all but the caller's context
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


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/cases/c-1/notes"])
@pytest.mark.parametrize("body", [{"json": [1]}, {"data": "{not json", "content_type": "application/json"}, {}])
def test_a_body_that_is_not_a_json_object_is_400(app, path, body):
    response = post(app, path, **body)
    assert response.status_code == 400 and response.json["detail"] == "the body must be a JSON object"
    assert app.extensions["rpc"].calls == []


def test_a_valid_body_goes_to_the_service_as_it_came(app):
    body = {"title": "Burglary ring", "review_due": "2026-03-01T10:00:00-05:00"}  # no default added, no date rewritten
    response = post(app, "/api/v1/cases", json=body)
    assert response.status_code == 201 and app.extensions["rpc"].calls == [("create_case", body)]


ITEMS = {
    "notes": ("NoteIn", {"text": ""}),
    "reports": ("ReportIn", {"title": "No body"}),
    "interviews": ("InterviewIn", {"interviewee": "Maria Lopez", "at": "yesterday", "summary": "Grey Altima.", "x": 1}),
    "tasks": ("TaskIn", {"title": "No due date", "assignee": "bob"}),
}


def refusal_of_the_cases_service(kind: str, body: dict) -> dict:
    """What the cases service's ``add_item`` refuses ``body`` with, before it reads anything."""
    with pytest.raises(InvalidInput) as refused:
        worker_factory(CasesService).add_item("c-1", kind, body, {})
    return {"detail": refused.value.message, "errors": refused.value.errors}


@pytest.mark.parametrize("kind", ITEMS)
def test_an_invalid_note_report_interview_or_task_is_refused_before_any_call_as_the_service_refuses_it(app, kind):
    body = ITEMS[kind][1]
    response = post(app, f"/api/v1/cases/c-1/{kind}", json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert {key: response.json[key] for key in ("detail", "errors")} == refusal_of_the_cases_service(kind, body)
    assert app.extensions["rpc"].calls == []


@pytest.mark.parametrize("kind", ITEMS)
def test_each_kind_of_case_item_declares_its_own_body_in_the_openapi_document(app, kind):
    document = app.test_client().get("/api/v1/openapi.json").json
    body = document["paths"][f"/api/v1/cases/{{case_id}}/{kind}"]["post"]["requestBody"]
    assert body["required"] and body["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{ITEMS[kind][0]}"
    }


def test_a_valid_item_goes_to_the_service_as_it_came_with_its_kind(app):
    body = {"title": "Pull pharmacy CCTV", "assignee": "bob", "due": "2026-03-25T12:00:00-05:00"}
    response = post(app, "/api/v1/cases/c-1/tasks", json=body)
    assert response.status_code == 201 and app.extensions["rpc"].sent == [("add_item", "c-1", "tasks", body)]
