"""``casewire compliance report`` over HTTP: its exit code is the report's verdict.

The gateway is a small HTTP server on loopback answering the report as the gateway does; the CLI is
run as an auditor runs it.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from casewire_cli.main import main

CLEAN = {
    "period": {"since": "2026-11-01T00:00:00+00:00", "until": "2026-12-01T00:00:00+00:00"},
    "generated_at": "2026-12-01T00:00:01+00:00",
    "ok": True,
    "intelligence_without_predicate_or_labels": [],
    "review_due_beyond_five_years": [],
    "reads_without_purpose": [],
    "purges": [],
    "disseminations": [],
}
READ_WITHOUT_PURPOSE = {"event_id": "e1", "actor": "mallory", "record_ids": ["c1"], "at": "2026-11-20T10:00:00Z"}


@pytest.fixture
def gateway():
    """A loopback gateway answering ``GET /api/v1/compliance/report`` with ``gateway.report``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = json.dumps(server.report).encode()
            server.asked.append((self.path, self.headers.get("X-Purpose")))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.report, server.asked = CLEAN, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def run(server, *args):
    env = {"CASEWIRE_GATEWAY": f"http://127.0.0.1:{server.server_port}", "CASEWIRE_TOKEN": "auditor-token"}
    return CliRunner().invoke(main, ["compliance", "report", *args], env=env)


def test_C27_a_clean_report_exits_0(gateway):
    result = run(gateway)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].endswith(": OK")
    assert gateway.asked == [("/api/v1/compliance/report", "compliance audit")]


@pytest.mark.parametrize("as_json", [False, True])
def test_C27_a_report_with_an_exception_exits_1_and_names_it(gateway, as_json):
    gateway.report = {**CLEAN, "ok": False, "reads_without_purpose": [READ_WITHOUT_PURPOSE]}
    result = run(gateway, *(["--json"] if as_json else []))
    assert result.exit_code == 1, result.output
    if as_json:
        assert json.loads(result.output)["reads_without_purpose"] == [READ_WITHOUT_PURPOSE]
    else:
        assert "EXCEPTIONS FOUND" in result.output.splitlines()[1]
        assert "Criminal intelligence reads without a purpose (must be none): 1" in result.output
        assert "actor=mallory" in result.output
