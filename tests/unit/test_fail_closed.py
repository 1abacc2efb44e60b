"""The gateway fails closed: a route that is neither guarded nor public is refused before its view runs.

The routes are added to a real ``create_app()`` gateway, as a developer would add one and forget its
``guarded(...)``; the audit trail is a fake that keeps the events (no broker is touched).
"""

import logging
from pathlib import Path

import pytest
from flask.views import MethodView

from gateway.app import DOCS_ASSETS, create_app
from gateway.auth import mint_dev_token
from gateway.guards import UNGUARDED, guarded, is_public

README = Path(__file__).resolve().parents[2] / "README.md"


class FakeAuditTrail:
    """What ``gateway.guards`` calls on ``app.extensions["audit"]``; keeps every event."""

    def __init__(self):
        self.events = []

    def record(self, action: str, outcome: str, actor=None, **fields) -> dict:
        event = {"action": action, "outcome": outcome, "actor": actor, **fields}
        self.events.append(event)
        return event


@pytest.fixture
def app():
    app = create_app({"STREAM_ENABLED": "false"})
    app.extensions["audit"] = FakeAuditTrail()
    return app


@pytest.fixture
def supervisor(app) -> dict:
    token = mint_dev_token(app.config["DEV_JWT_SECRET"], "sup-1", ["supervisor"], agency="TX0000000")
    return {"Authorization": f"Bearer {token}"}


def test_a_route_without_a_guard_is_refused_500_logged_and_audited_and_its_view_never_runs(app, supervisor, caplog):
    ran = []

    @app.route("/api/v1/forgotten", methods=["GET", "POST"])
    def forgotten():
        ran.append(True)
        return {"every": "record"}

    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        answers = [
            client.get("/api/v1/forgotten"),
            client.get("/api/v1/forgotten", headers=supervisor),  # a valid token does not help
            client.post("/api/v1/forgotten", json={}, headers=supervisor),
        ]
    for response in answers:
        assert response.status_code == 500 and response.mimetype == "application/problem+json"
        assert response.get_json()["detail"] == "this endpoint declares no access rule, so it is refused"
    assert not ran
    assert "refused GET /api/v1/forgotten" in caplog.text and "has no guard" in caplog.text
    events = app.extensions["audit"].events
    assert [(e["action"], e["outcome"], e["details"]["reason"]) for e in events] == [
        (UNGUARDED, "denied", "unguarded")
    ] * 3
    assert events[0]["details"]["endpoint"] == "forgotten" and events[0]["details"]["path"] == "/api/v1/forgotten"


def test_one_unguarded_method_of_a_method_view_is_refused_while_its_guarded_one_is_checked(app, supervisor):
    ran = []

    class Things(MethodView):
        @guarded("alert.list")
        def get(self):
            ran.append("get")
            return {"items": []}

        def delete(self):
            ran.append("delete")
            return {"deleted": True}

    app.add_url_rule("/api/v1/things", view_func=Things.as_view("things"))
    client = app.test_client()
    assert client.get("/api/v1/things").status_code == 401  # the guarded method: the usual checks
    assert client.get("/api/v1/things", headers=supervisor).status_code == 200
    assert client.delete("/api/v1/things", headers=supervisor).status_code == 500
    assert ran == ["get"]


def test_flasks_own_options_answer_runs_no_view_and_is_not_refused(app):
    ran = []

    @app.route("/api/v1/forgotten")
    def forgotten():
        ran.append(True)
        return {}

    response = app.test_client().options("/api/v1/forgotten")
    assert response.status_code == 200 and "GET" in response.headers["Allow"] and not ran


def test_a_view_answering_options_itself_is_refused_when_unguarded(app):
    ran = []

    @app.route("/api/v1/preflight", methods=["OPTIONS"], provide_automatic_options=False)
    def preflight():
        ran.append(True)
        return {}

    assert app.test_client().options("/api/v1/preflight").status_code == 500 and not ran


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/metrics", "/api/v1/openapi.json", "/api/v1/docs", f"{DOCS_ASSETS}swagger-ui.css"],
)
def test_the_public_endpoints_answer_without_a_token(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    assert app.extensions["audit"].events == []


def test_readyz_is_public_too():
    """Called here it would probe the servers and services; that it is marked public is what counts."""
    app = create_app({"STREAM_ENABLED": "false"})
    assert is_public(app.view_functions["health.readyz"], "GET")


def test_every_public_endpoint_is_named_in_the_readmes_security_section():
    app = create_app({"STREAM_ENABLED": "false"})
    public = {rule.rule for rule in app.url_map.iter_rules() if is_public(app.view_functions[rule.endpoint], "GET")}
    assert public == {
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/openapi.json",
        "/api/v1/docs",
        f"{DOCS_ASSETS}<path:filename>",
        "/console/",
        "/console/<path:filename>",
        "/console/config.json",
        "/console/session",
        "/console/dev-token",
    }
    security = README.read_text().split("## Security", 1)[1].split("\n## ", 1)[0]
    named = " ".join(security.split("need no token", 1)[0].rsplit("\n\n", 1)[-1].split())
    for rule in public:
        assert f"`{rule.split('<', 1)[0]}`" in named, f"README Security does not name {rule} among the public paths"


def test_a_guarded_endpoint_still_wants_a_token(app):
    response = app.test_client().get("/api/v1/alerts")
    assert response.status_code == 401
    assert [(e["action"], e["outcome"]) for e in app.extensions["audit"].events] == [("auth.token", "denied")]
