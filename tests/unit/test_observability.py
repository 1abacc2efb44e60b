"""JSON log lines with request ids, and the gateway's Prometheus metrics (no server needed)."""

import json
import logging
import sys

import pytest

from casewire.logs import JsonFormatter
from gateway.app import create_app


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("casewire.test", logging.WARNING, __file__, 1, "plate %s seen", ("ABC1234",), None)
    record.__dict__.update(extra)
    return record


def test_a_log_record_becomes_one_json_line_with_its_request_id():
    line = JsonFormatter().format(_record(request_id="req-42", service="intake", unrelated="x"))
    entry = json.loads(line)
    assert entry["message"] == "plate ABC1234 seen" and entry["level"] == "WARNING"
    assert entry["request_id"] == "req-42" and entry["service"] == "intake"
    assert entry["time"].endswith("Z") and "unrelated" not in entry and "\n" not in line


def test_an_exception_is_kept_inside_the_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record(exc_info=sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exception"]


@pytest.fixture
def client():
    return create_app(
        {"STREAM_ENABLED": "false", "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/", "TESTING": True}
    ).test_client()


def test_metrics_count_requests_by_route_and_status_without_a_token(client):
    client.get("/healthz")
    client.get("/no/such/page")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert 'casewire_gateway_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'casewire_gateway_requests_total{method="GET",route="unmatched",status="404"}' in text
    assert 'casewire_gateway_request_duration_seconds_bucket{le="0.01",method="GET",route="/healthz"}' in text


def test_every_request_logs_one_access_line_with_its_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="casewire.access"):
        client.get("/healthz?token=secret", headers={"X-Request-Id": "req-from-client"})
    (record,) = [r for r in caplog.records if r.name == "casewire.access"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "req-from-client" and entry["status"] == 200
    assert entry["path"] == "/healthz" and "secret" not in json.dumps(entry)
