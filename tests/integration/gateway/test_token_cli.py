"""``casewire token``: the development token it prints is one the gateway accepts, with its claims."""

import jwt
import pytest
from click.testing import CliRunner

from casewire_cli.main import main
from gateway.app import create_app
from gateway.auth import DEV_AUDIENCE, DEV_ISSUER
from gateway.permissions import ROLES
from tests.integration.gateway.support import call

SECRET = "integration-test-secret-of-at-least-32-bytes"
VERIFY = "/api/v1/audit/verify"  # an auditor's endpoint, answered by the real audit service


def mint(*args: str, **environment: str):
    env = {"CASEWIRE_DEV_JWT_SECRET": SECRET, "CASEWIRE_OIDC_ISSUER": "", **environment}
    return CliRunner().invoke(main, ["token", *args], env=env)


@pytest.fixture
def client(base_config, close_rpc):
    app = create_app({"AMQP_URI": base_config["AMQP_URI"], "DEV_JWT_SECRET": SECRET, "STREAM_ENABLED": "false"})
    close_rpc(app)
    return app


def test_a_minted_token_is_accepted_by_the_gateway_with_its_claims(client, audit_reader):
    args = ["--sub", "alice", "--roles", "auditor", "--agency", "TX0000000", "--unit", "rtcc", "--name", "Alice A."]
    minted = mint(*args, "--hours", "1")
    assert minted.exit_code == 0, minted.output
    token = minted.output.strip()

    identity = client.extensions["tokens"].verify(token)
    assert (identity.sub, identity.roles, identity.agency, identity.unit, identity.name) == (
        "alice",
        ("auditor",),
        "TX0000000",
        "rtcc",
        "Alice A.",
    )
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=DEV_AUDIENCE, issuer=DEV_ISSUER)
    assert 3500 <= claims["exp"] - claims["iat"] <= 3600

    response, request_id = call(client.test_client(), "GET", VERIFY, token)
    assert response.status_code == 200, response.json
    event = audit_reader.for_request(request_id)[0]
    assert (event["action"], event["outcome"]) == ("audit.verify", "allowed")
    assert event["actor"] == {"id": "alice", "agency": "TX0000000", "roles": ["auditor"]}


def test_the_roles_of_a_minted_token_are_the_ones_the_gateway_enforces(client, audit_reader):
    token = mint("--sub", "dana", "--roles", "detective, analyst", "--agency", "TX0000000").output.strip()
    assert client.extensions["tokens"].verify(token).roles == ("detective", "analyst")
    response, _ = call(client.test_client(), "GET", VERIFY, token)
    assert response.status_code == 403  # neither role reads the audit log


def test_every_role_is_named_in_the_help_and_an_unknown_one_is_refused():
    help_text = " ".join(CliRunner().invoke(main, ["token", "--help"]).output.split())
    assert all(role in help_text for role in ROLES), help_text
    refused = mint("--sub", "x", "--roles", "analyst,superuser")
    assert refused.exit_code == 2 and "superuser" in refused.output


def test_the_cli_refuses_to_mint_when_the_gateway_verifies_oidc_tokens():
    refused = mint("--sub", "x", "--roles", "analyst", CASEWIRE_OIDC_ISSUER="https://idp.example.gov/realms/rtcc")
    assert refused.exit_code == 2 and "OIDC" in refused.output
