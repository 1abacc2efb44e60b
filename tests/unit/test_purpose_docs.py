"""C9 in the OpenAPI document and in refusals: every endpoint that can read or search criminal
intelligence shows the purpose fields and the 400, and every 400 names the same two fields."""

import pytest

from casewire.errors import PurposeRequired
from gateway.app import create_app
from gateway.auth import mint_dev_token
from gateway.guards import guard_for
from gateway.purpose import NO_CASE_NUMBER, NO_PURPOSE

SECRET = "unit-test-secret-of-at-least-32-bytes-long"
PURPOSE_FIELDS = {("header", "X-Purpose"), ("header", "X-Case-Number"), ("query", "purpose"), ("query", "case_number")}
# The endpoints whose answer can hold criminal intelligence, by action. ``case.review_queue`` lists the
# caller's own unit's records due for review (C15) by id and date only; ``search.plates`` asks for a
# purpose of its own (C25). The stream sends intelligence only when it was opened with them.
INTELLIGENCE_ACTIONS = {"search.query", "alert.promote", "compliance.report", "stream.read"}
NOT_INTELLIGENCE = {"case.review_queue"}


@pytest.fixture(scope="module")
def app():
    return create_app({"DEV_JWT_SECRET": SECRET, "STREAM_ENABLED": "false"})


def can_read_intelligence(path: str, action: str) -> bool:
    return action in INTELLIGENCE_ACTIONS or (path.startswith("/api/v1/cases") and action not in NOT_INTELLIGENCE)


def operations(app):
    with app.test_request_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "x-casewire-action" in operation:
                yield path, method, operation


def test_C9_every_endpoint_that_can_read_intelligence_documents_the_purpose_fields_and_the_400(app):
    missing, extra = [], []
    for path, method, operation in operations(app):
        documented = "x-casewire-purpose" in operation
        if can_read_intelligence(path, operation["x-casewire-action"]):
            parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            if not (documented and PURPOSE_FIELDS <= parameters and "400" in map(str, operation["responses"])):
                missing.append(f"{method.upper()} {path}")
        elif documented and operation["x-casewire-action"] != "search.plates":
            extra.append(f"{method.upper()} {path}")
    assert not missing, f"no C9 documentation: {missing}"
    assert not extra, f"C9 documented where no intelligence is read: {extra}"


def test_C9_case_reads_and_general_search_say_who_decides(app):
    guards = {rule.rule: guard_for(app.view_functions[rule.endpoint], "GET") for rule in app.url_map.iter_rules()}
    assert guards["/api/v1/cases/<case_id>"].purpose_required == "intelligence"
    assert guards["/api/v1/search"].purpose_required == "intelligence"
    assert guards["/api/v1/search/plates"].purpose_required == "purpose"


class Refusing:
    """The audit trail and the cases service in one: records events; the service refuses for C9."""

    def __init__(self):
        self.events = []

    def record(self, action, outcome, **fields):
        self.events.append((action, outcome))

    def call(self, service, method, *args):
        raise PurposeRequired("criminal intelligence is read only with a stated purpose and a case number")


@pytest.mark.parametrize(
    "headers, fields",
    [
        ({}, {"purpose": [NO_PURPOSE], "case_number": [NO_CASE_NUMBER]}),
        ({"X-Purpose": "gang violence"}, {"case_number": [NO_CASE_NUMBER]}),
        ({"X-Case-Number": "26-0042"}, {"purpose": [NO_PURPOSE]}),
    ],
    ids=["neither", "no case number", "no purpose"],
)
def test_C9_a_refusal_by_the_cases_service_names_the_fields_as_the_gateway_does(app, headers, fields):
    app.extensions["audit"] = app.extensions["rpc"] = Refusing()
    token = mint_dev_token(SECRET, "dana", ["detective"], agency="TX0000000", unit="gangs")
    response = app.test_client().get("/api/v1/cases/ci-1", headers={"Authorization": f"Bearer {token}", **headers})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["errors"] == fields
