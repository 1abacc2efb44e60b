"""Problem bodies name their kind by a stable URI and a title in words (docs/problems.md), whoever raised them."""

import pytest

from casewire.errors import EXPECTED, Conflict, Forbidden, InvalidInput, NotFound, PurposeRequired, Unavailable
from gateway.app import create_app
from gateway.auth import mint_dev_token
from gateway.errors import RAISED, problem

SECRET = "unit-test-secret-of-at-least-32-bytes-long"
TYPES = "https://casewire.io/problems/"


class Raising:
    """The audit trail and every service in one: records nothing, and each call raises ``error``."""

    def __init__(self, error: Exception):
        self.error = error

    def record(self, action, outcome, **fields):
        pass

    def call(self, service, method, *args):
        raise self.error


@pytest.fixture
def app():
    return create_app({"DEV_JWT_SECRET": SECRET, "STREAM_ENABLED": "false"})


def get(app, path: str, role: str | None = "detective"):
    headers = {"Authorization": f"Bearer {mint_dev_token(SECRET, 'dana', [role], agency='TX0000000')}"} if role else {}
    response = app.test_client().get(path, headers=headers)
    assert response.mimetype == "application/problem+json"
    return response.status_code, response.json


@pytest.mark.parametrize(
    "error, status, slug, title",
    [
        (NotFound("no case c-1"), 404, "not-found", "Not found"),
        (InvalidInput("the query is invalid", {"limit": ["too big"]}), 422, "invalid-input", "Invalid input"),
        (Conflict("the case is closed"), 409, "conflict", "Conflicts with the record's state"),
        (Forbidden("another unit's case"), 403, "forbidden", "Not permitted"),
        (Unavailable("the cases service does not answer"), 503, "unavailable", "Service unavailable"),
        (PurposeRequired("criminal intelligence needs a purpose"), 400, "purpose-required", "Purpose of use required"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_service_error_answers_its_kind_in_words_never_its_class_name(app, error, status, slug, title):
    app.extensions["audit"] = app.extensions["rpc"] = Raising(error)
    code, body = get(app, "/api/v1/cases/c-1")
    assert (code, body["type"], body["title"]) == (status, TYPES + slug, title)


@pytest.mark.parametrize(
    "path, role, status, slug",
    [
        ("/api/v1/cases/c-1", None, 401, "unauthorized"),
        ("/api/v1/audit/events", "detective", 403, "forbidden"),
        ("/api/v1/search/plates?plate=KGT4471", "analyst", 400, "purpose-required"),
    ],
)
def test_the_gateways_own_refusals_have_kinds_too(app, path, role, status, slug):
    app.extensions["audit"] = Raising(None)
    code, body = get(app, path, role)
    assert (code, body["type"]) == (status, TYPES + slug)


def test_a_status_without_a_kind_is_about_blank_with_its_http_phrase(app):
    with app.test_request_context():
        body = problem(418, "I'm a Teapot", "no such kind").get_json()
    assert (body["type"], body["title"], body["status"]) == ("about:blank", "I'm a Teapot", 418)


def test_a_method_the_path_does_not_take_is_its_own_kind(app):
    response = app.test_client().open("/healthz", method="PUT")
    assert response.status_code == 405 and response.json["type"] == TYPES + "method-not-allowed"


def test_every_error_a_service_raises_on_purpose_is_in_the_one_table():
    """Each error of casewire/errors.py answers the same problem whichever blueprint's view meets it."""
    assert set(RAISED) == set(EXPECTED)
