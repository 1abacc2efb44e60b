"""``casewire import``: reading JSON lines and CSV, counting results, keeping failures."""

import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from casewire_cli.importer import (
    BatchRefused,
    csv_row_to_alert,
    post_with_retries,
    read_records,
    retry_wait,
    run_import,
)
from casewire_cli.main import main


def test_csv_columns_map_to_the_alert_shape():
    row = {
        "source": "gunshot",
        "source_system": "ss",
        "source_event_id": "e1",
        "occurred_at": "2026-01-05T22:14:00Z",
        "lat": "29.7",
        "lon": "-95.3",
        "address": "",
        "payload.rounds": "4",
        "payload.sensor_ids": '["s1", "s2"]',
        "payload.vehicle.make": "Nissan",
    }
    assert csv_row_to_alert(row) == {
        "source": "gunshot",
        "source_system": "ss",
        "source_event_id": "e1",
        "occurred_at": "2026-01-05T22:14:00Z",
        "location": {"lat": "29.7", "lon": "-95.3"},
        "payload": {"rounds": "4", "sensor_ids": ["s1", "s2"], "vehicle": {"make": "Nissan"}},
    }


def test_json_lines_keep_their_line_numbers_and_unreadable_lines_fail(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n\n{broken\n{"b": 2}\n')
    assert [(line, alert, error is not None) for line, alert, error in read_records(path)] == [
        (1, {"a": 1}, False),
        (3, None, True),
        (4, {"b": 2}, False),
    ]


def test_results_are_counted_per_chunk_and_failures_kept():
    records = [(n, {"n": n}, None) for n in range(1, 6)] + [(6, None, "not JSON")]
    statuses = {1: 201, 2: 200, 3: 422, 4: 201, 5: 200}
    posted = []

    def post(alerts):
        posted.append(len(alerts))
        return [{"status": statuses[a["n"]], "near_duplicate": a["n"] == 5, "errors": {"x": ["bad"]}} for a in alerts]

    report = run_import(records, post, 2)
    assert posted == [2, 2, 1]
    assert report["counts"] == {"created": 2, "known": 1, "near_duplicate": 1, "failed": 2}
    assert [f["line"] for f in report["failures"]] == [3, 6]


class Answer:
    """A response as ``requests`` gives it: what ``post_with_retries`` reads."""

    def __init__(self, status_code, retry_after=None, results=None):
        self.status_code, self.text = status_code, f"status {status_code}"
        self.headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._results = results

    def json(self):
        return {"results": self._results}


def sender(*answers):
    queue, sent = list(answers), []

    def send(alerts):
        sent.append(alerts)
        return queue.pop(0)

    return send, sent


def test_a_503_or_429_is_retried_as_retry_after_asks_else_with_a_doubling_backoff():
    send, sent = sender(Answer(503, "3"), Answer(429), Answer(503), Answer(200, results=[{"status": 201}]))
    waits = []
    assert post_with_retries(send, [{"n": 1}], retries=5, sleep=waits.append) == [{"status": 201}]
    assert waits == [3.0, 2.0, 4.0] and len(sent) == 4


def test_a_batch_still_refused_after_the_retries_raises_batch_refused():
    send, sent = sender(*[Answer(503)] * 3)
    with pytest.raises(BatchRefused) as refused:
        post_with_retries(send, [{"n": 1}], retries=2, sleep=lambda _: None)
    assert refused.value.status == 503 and "after 3 attempt(s)" in str(refused.value) and len(sent) == 3


@pytest.mark.parametrize("status", [400, 401, 413, 500])
def test_other_refusals_are_not_retried(status):
    send, sent = sender(Answer(status))
    with pytest.raises(BatchRefused):
        post_with_retries(send, [{"n": 1}], retries=5, sleep=lambda _: pytest.fail("no wait"))
    assert len(sent) == 1


def test_retry_after_as_an_http_date_and_the_wait_is_bounded():
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= retry_wait(soon, 1) <= 30
    assert retry_wait("3600", 1) == 60.0 and retry_wait("soon", 3) == 4.0 and retry_wait(None, 10) == 60.0


def test_a_refused_batch_becomes_failures_and_the_import_goes_on():
    records = [(n, {"n": n}, None) for n in range(1, 5)]

    def post(alerts):
        if alerts[0]["n"] == 1:
            raise BatchRefused(503, "busy", 6)
        return [{"status": 201} for _ in alerts]

    report = run_import(records, post, 2)
    assert report["counts"] == {"created": 2, "known": 0, "near_duplicate": 0, "failed": 2}
    assert [(f["line"], f["alert"]) for f in report["failures"]] == [(1, {"n": 1}), (2, {"n": 2})]
    assert "503" in report["failures"][0]["errors"]["_batch"][0]


def test_the_import_command_retries_a_503_and_honours_retry_after(tmp_path):
    """The CLI over HTTP against a stand-in gateway that is busy once (Retry-After: 0), then takes the batch."""
    answers = [(503, {"Retry-After": "0"}, {"title": "busy"})]
    bodies = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            status, headers, body = answers.pop(0) if answers else (200, {}, None)
            if body is None:
                body = {
                    "results": [{"index": i, "status": 201, "id": str(i)} for i in range(len(bodies[-1]["alerts"]))]
                }
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    source = tmp_path / "a.jsonl"
    source.write_text('{"n": 1}\n{"n": 2}\n')
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = CliRunner().invoke(main, ["import", str(source), "--gateway", url, "--token", "t"])
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and len(bodies) == 2 and bodies[0] == bodies[1]
