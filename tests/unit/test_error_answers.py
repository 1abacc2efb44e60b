"""No answer carries internal documents, exception text or tracebacks: a fixed message and the request
id go to the caller, the detail goes to the log (the gateway's own errors and those of the services)."""

import logging

import pytest
from nameko.exceptions import RemoteError, RpcTimeout

from casewire.errors import Unavailable
from gateway.app import create_app
from gateway.auth import mint_dev_token
from tests.unit.test_fail_closed import FakeAuditTrail

INTERNAL = "InvalidDocument: cannot encode object: datetime.date(1990, 2, 3), of type: <class 'datetime.date'>"
FACE_ALERT = {
    "source": "face",
    "source_system": "clearview",
    "source_event_id": "f-1",
    "occurred_at": "2026-01-05T22:14:00Z",
    "location": {"lat": 29.76, "lon": -95.36},
    "payload": {"candidate": {"name": "John Doe", "dob": "1990-02-03"}, "score": 91.5},
}


class Broken:
    """A cluster proxy whose every call fails the way ``failure`` says."""

    def __init__(self, failure: Exception):
        self.failure = failure

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        raise self.failure


@pytest.fixture
def app():
    app = create_app({"STREAM_ENABLED": "false"})
    app.extensions["audit"] = FakeAuditTrail()
    return app


@pytest.fixture
def detective(app) -> dict:
    token = mint_dev_token(app.config["DEV_JWT_SECRET"], "det-1", ["detective"], agency="TX0000000", unit="rtcc")
    return {"Authorization": f"Bearer {token}", "X-Request-Id": "req-errors-1"}


@pytest.mark.parametrize(
    "failure",
    [RemoteError("InvalidDocument", INTERNAL), Unavailable(f"the alert store is unavailable: {INTERNAL}")],
    ids=["a crash in the service", "a service's own Unavailable"],
)
def test_a_503_carries_a_fixed_message_and_the_request_id_never_the_internals(app, detective, failure, caplog):
    app.extensions["rpc"]._proxy = lambda: Broken(failure)
    with caplog.at_level(logging.WARNING):
        response = app.test_client().post("/api/v1/alerts", json=FACE_ALERT, headers=detective)
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == "application/problem+json", body
    assert "InvalidDocument" not in body and "datetime" not in body and "1990" not in body
    assert response.json["request_id"] == "req-errors-1"
    logged = [r for r in caplog.records if "InvalidDocument" in r.getMessage()]
    assert logged and all(getattr(r, "request_id", None) == "req-errors-1" for r in logged)


@pytest.mark.parametrize(
    "failure,reason",
    [
        (RpcTimeout(30), "no_answer"),
        (RemoteError("InvalidDocument", INTERNAL), "service_error"),
        (ConnectionRefusedError(111, "Connection refused"), "unreachable"),
        (Unavailable("the alert store is unavailable"), "unavailable"),
    ],
)
def test_the_failed_audit_event_says_why_a_service_gave_no_answer(app, detective, failure, reason):
    """The audit log records the true outcome: a call that got no answer expired at the broker (the
    service's own event says what it did if it had started), a crash, a broker out of reach, or a
    service that refused because a backend was down."""
    app.extensions["rpc"]._proxy = lambda: Broken(failure)
    response = app.test_client().post("/api/v1/alerts", json=FACE_ALERT, headers=detective)
    assert response.status_code == 503
    allowed, failed = app.extensions["audit"].events
    assert allowed["outcome"] == "allowed" and failed["outcome"] == "failed"
    assert failed["details"]["status"] == 503 and failed["details"]["reason"] == reason


def test_an_unexpected_error_is_a_fixed_500_with_the_request_id_and_the_traceback_in_the_log(app, detective, caplog):
    app.extensions["rpc"].call = lambda *args, **kwargs: {}["no such key in an internal document"]
    with caplog.at_level(logging.ERROR):
        response = app.test_client().post("/api/v1/alerts", json=FACE_ALERT, headers=detective)
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "application/problem+json", body
    assert "KeyError" not in body and "internal document" not in body and "Traceback" not in body
    assert response.json["request_id"] == "req-errors-1"
    assert any(r.exc_info and "internal document" in str(r.exc_info[1]) for r in caplog.records)


def test_every_problem_names_its_request(app):
    response = app.test_client().get("/api/v1/alerts", headers={"X-Request-Id": "req-errors-2"})
    assert response.status_code == 401 and response.json["request_id"] == "req-errors-2"
