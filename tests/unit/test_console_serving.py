"""The gateway serves the console (gateway/console.py): its files from CONSOLE_DIR, a clear 404 when it
is not built, its sign-in settings, and development tokens only in development mode."""

import jwt
import pytest

from gateway.app import create_app
from gateway.auth import DEV_AUDIENCE, PUBLIC_DEV_SECRET
from tests.unit.test_fail_closed import FakeAuditTrail

INDEX = "<!doctype html><title>Casewire console</title>"


def gateway(tmp_path, **config):
    app = create_app({"STREAM_ENABLED": "false", "CONSOLE_DIR": str(tmp_path), **config})
    app.extensions["audit"] = FakeAuditTrail()
    return app


@pytest.fixture
def built(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('casewire')")
    return tmp_path


def test_the_built_console_is_served_at_console_with_its_assets(built):
    client = gateway(built).test_client()
    index = client.get("/console/")
    assert index.status_code == 200 and index.get_data(as_text=True) == INDEX
    assert index.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in index.headers["Content-Security-Policy"]
    asset = client.get("/console/assets/index-abc123.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]


def test_an_absent_build_is_a_clear_404_not_a_500(tmp_path):
    answer = gateway(tmp_path / "nothing").test_client().get("/console/")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"
    assert "scripts/console.sh build" in answer.get_json()["detail"]


@pytest.mark.parametrize("path", ["/console/missing.js", "/console/../gateway/app.py", "/console/%2e%2e/README.md"])
def test_only_the_builds_own_files_are_served(built, path):
    assert gateway(built).test_client().get(path).status_code == 404


def test_the_config_names_the_provider_or_development_mode(built):
    oidc = gateway(built, OIDC_ISSUER="https://idp.example.org/realms/rtcc", OIDC_AUDIENCE="casewire")
    settings = oidc.test_client().get("/console/config.json").get_json()
    assert settings["oidc"] == {
        "issuer": "https://idp.example.org/realms/rtcc",
        "client_id": "casewire-console",
        "scope": "openid profile",
    }
    assert settings["dev_mode"] is False and settings["tile_url"] is None
    index = oidc.test_client().get("/console/")
    assert "connect-src 'self' https://idp.example.org" in index.headers["Content-Security-Policy"]
    dev = gateway(built, DEV_MODE="1").test_client().get("/console/config.json").get_json()
    assert dev["oidc"] is None and dev["dev_mode"] is True


def test_development_mode_mints_the_picked_users_token(built):
    client = gateway(built, DEV_MODE="1", DEV_JWT_SECRET=PUBLIC_DEV_SECRET).test_client()
    answer = client.post("/console/dev-token", json={"sub": "ann", "role": "supervisor", "agency": "TX0000000"})
    assert answer.status_code == 200
    claims = jwt.decode(answer.get_json()["token"], PUBLIC_DEV_SECRET, algorithms=["HS256"], audience=DEV_AUDIENCE)
    assert (claims["sub"], claims["roles"], claims["agency"]) == ("ann", ["supervisor"], "TX0000000")
    session = client.get("/console/session", headers={"Authorization": f"Bearer {answer.get_json()['token']}"})
    assert session.get_json() == {
        "sub": "ann",
        "name": "ann",
        "roles": ["supervisor"],
        "agency": "TX0000000",
        "unit": None,
    }


def test_development_tokens_are_refused_outside_development_mode(built):
    production = gateway(built, DEV_MODE="0", DEV_JWT_SECRET="a-secret-of-this-agency-only")
    with_issuer = gateway(built, DEV_MODE="1", OIDC_ISSUER="https://idp.example.org/realms/rtcc", OIDC_AUDIENCE="c")
    for app in (production, with_issuer):
        assert app.test_client().post("/console/dev-token", json={"sub": "ann", "role": "auditor"}).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"sub": "ann", "role": "root"}, "role"),
        ({"sub": "a b", "role": "analyst"}, "sub"),
        ({"role": "analyst"}, "sub"),
    ],
)
def test_a_development_user_must_be_a_name_and_a_role_of_the_table(built, body, field):
    answer = gateway(built, DEV_MODE="1").test_client().post("/console/dev-token", json=body)
    assert answer.status_code == 422 and field in answer.get_json()["errors"]


def test_a_session_without_a_valid_token_is_a_failed_logon(built):
    app = gateway(built, DEV_MODE="1")
    answer = app.test_client().get("/console/session", headers={"Authorization": "Bearer forged"})
    assert answer.status_code == 401
    assert [(e["action"], e["outcome"]) for e in app.extensions["audit"].events] == [("auth.token", "denied")]
