"""The production token path for real: RS256 and ES256 tokens checked against a local OpenID provider,
found through its discovery document.

Every refusal is a failed logon, audited as ``auth.token`` ``denied`` (C20) in the real audit log.
"""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.app import create_app
from gateway.auth import mint_dev_token
from tests.integration.gateway.support import AUDIENCE, ISSUER, call, claims, es256, rs256

VERIFY = "/api/v1/audit/verify"  # an auditor's endpoint, answered by the real audit service


@pytest.fixture
def make_app(jwks, base_config, close_rpc):
    def make(**config):
        app = create_app(
            {
                "AMQP_URI": base_config["AMQP_URI"],
                "STREAM_ENABLED": "false",  # no stream relay left running after the test
                "OIDC_ISSUER": ISSUER,
                "OIDC_DISCOVERY_URL": jwks.discovery_url,
                "OIDC_AUDIENCE": AUDIENCE,
                "OIDC_JWKS_COOLDOWN": 0,
                "RATE_LIMIT_PER_MINUTE": 0,
                **config,
            }
        )
        close_rpc(app)
        return app.test_client()

    return make


def test_C20_a_valid_rs256_token_is_accepted_and_the_request_audited(make_app, jwks, audit_reader):
    client = make_app()
    response, request_id = call(client, "GET", VERIFY, rs256(jwks.keys["key-1"], "key-1"))
    assert response.status_code == 200, response.json
    assert response.json["ok"] is True
    event = audit_reader.for_request(request_id)[0]
    assert (event["action"], event["outcome"]) == ("audit.verify", "allowed")
    assert event["actor"] == {"id": "alice", "agency": "TX0000000", "roles": ["auditor"]}


def test_an_unknown_kid_refetches_the_keys_and_a_removed_key_stops_working(make_app, jwks, audit_reader):
    client = make_app()
    old_token = rs256(jwks.keys["key-1"], "key-1")
    assert call(client, "GET", VERIFY, old_token)[0].status_code == 200
    fetches = jwks.fetches

    jwks.add_key("key-2")  # the provider rotates its signing key
    del jwks.keys["key-1"]
    response, _ = call(client, "GET", VERIFY, rs256(jwks.keys["key-2"], "key-2"))
    assert response.status_code == 200, response.json
    assert jwks.fetches == fetches + 1

    refused, request_id = call(client, "GET", VERIFY, old_token)
    assert refused.status_code == 401
    assert audit_reader.for_request(request_id)[0]["action"] == "auth.token"


def test_unknown_kids_refetch_at_most_once_per_cooldown(make_app, jwks, audit_reader):
    client = make_app(OIDC_JWKS_COOLDOWN=3600)
    assert call(client, "GET", VERIFY, rs256(jwks.keys["key-1"], "key-1"))[0].status_code == 200
    fetches = jwks.fetches
    for forged_kid in ("forged-1", "forged-2", "forged-3"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert call(client, "GET", VERIFY, rs256(key, forged_kid))[0].status_code == 401
    assert jwks.fetches == fetches


def test_a_token_expired_within_the_30_second_skew_is_still_accepted(make_app, jwks, audit_reader):
    expired_10s_ago = datetime.now(UTC) - timedelta(seconds=10)
    token = rs256(jwks.keys["key-1"], "key-1", exp=expired_10s_ago)
    assert call(make_app(), "GET", VERIFY, token)[0].status_code == 200


def _refused_tokens(jwks):
    key = jwks.keys["key-1"]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "no token": None,
        "not a jwt": "not-a-token",
        "wrong issuer": rs256(key, "key-1", iss="https://evil.example.com"),
        "wrong audience": rs256(key, "key-1", aud="another-app"),
        "expired beyond the skew": rs256(key, "key-1", exp=datetime.now(UTC) - timedelta(seconds=60)),
        "not yet valid": rs256(key, "key-1", nbf=datetime.now(UTC) + timedelta(minutes=5)),
        "no expiry": rs256(key, "key-1", exp=None),
        "signed by another key": rs256(other_key, "key-1"),
        "hs256 dev token": mint_dev_token("casewire-local-development-secret-change-me", "alice", ["auditor"]),
        "hs256 keyed with the public key": _hs256_with_public_key(public_pem),
        "alg none": jwt.encode(claims(), None, algorithm="none", headers={"kid": "key-1"}),
        "roles not a list": rs256(key, "key-1", roles="auditor"),
    }


def _hs256_with_public_key(public_pem: bytes) -> str:
    """The algorithm-confusion attack: an HS256 token whose HMAC secret is the provider's public key.

    PyJWT refuses to use a PEM key as an HMAC secret, so the token is assembled by hand here.
    """

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(datetime.now(UTC).timestamp())
    header = {"alg": "HS256", "typ": "JWT", "kid": "key-1"}
    body = {**claims(), "iat": now, "exp": now + 300}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def test_every_bad_token_is_401_and_audited_as_a_failed_logon(make_app, jwks, audit_reader):
    client = make_app()
    refused = {}
    for name, token in _refused_tokens(jwks).items():
        response, request_id = call(client, "GET", VERIFY, token)
        assert response.status_code == 401, (name, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        refused[name] = request_id
    for name, request_id in refused.items():
        events = audit_reader.for_request(request_id)
        assert [(e["action"], e["outcome"]) for e in events] == [("auth.token", "denied")], name
        assert events[0]["actor"]["id"] == "anonymous" and events[0]["details"]["reason"], name
        assert events[0]["client_address"] == "127.0.0.1"
    forged = audit_reader.for_request(refused["signed by another key"])[0]
    assert forged["details"]["claimed_sub"] == "alice"  # who the token claimed to be, kept apart from actor


def test_when_the_providers_keys_are_out_of_reach_the_answer_is_503_and_audited(base_config, audit_reader, close_rpc):
    app = create_app(
        {
            "AMQP_URI": base_config["AMQP_URI"],
            "STREAM_ENABLED": "false",
            "OIDC_ISSUER": ISSUER,
            "OIDC_DISCOVERY_URL": "http://127.0.0.1:9/.well-known/openid-configuration",  # nothing listens there
            "OIDC_AUDIENCE": AUDIENCE,
        }
    )
    close_rpc(app)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response, request_id = call(app.test_client(), "GET", VERIFY, rs256(key, "key-1"))
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    event = audit_reader.for_request(request_id)[0]
    assert (event["action"], event["outcome"]) == ("auth.token", "failed")


def test_once_the_key_cache_is_stale_an_outage_of_the_provider_fails_no_request(make_app, jwks, audit_reader):
    """Issue 16: the cached keys keep serving while the gateway refetches them in the background."""
    client = make_app(OIDC_JWKS_LIFESPAN=0.001)
    token = rs256(jwks.keys["key-1"], "key-1")
    assert call(client, "GET", VERIFY, token)[0].status_code == 200
    jwks.close()  # the identity provider goes down; every request finds the cache stale
    for _ in range(3):
        response, request_id = call(client, "GET", VERIFY, token)
        assert response.status_code == 200, response.json
    assert audit_reader.for_request(request_id)[0]["outcome"] == "allowed"


def test_oidc_settings_without_issuer_or_audience_are_refused_at_start(jwks):
    with pytest.raises(ValueError):
        create_app({"OIDC_ISSUER": ISSUER, "OIDC_DISCOVERY_URL": jwks.discovery_url, "OIDC_AUDIENCE": ""})


def test_roles_can_come_from_a_nested_claim(make_app, jwks, audit_reader):
    client = make_app(OIDC_ROLES_CLAIM="realm_access.roles")
    token = rs256(jwks.keys["key-1"], "key-1", roles=None, realm_access={"roles": ["auditor"]})
    assert call(client, "GET", VERIFY, token)[0].status_code == 200
    flat = rs256(jwks.keys["key-1"], "key-1")  # roles at the top level no longer count
    assert call(client, "GET", VERIFY, flat)[0].status_code == 403


def test_es256_tokens_are_accepted_beside_rs256_ones(make_app, jwks, audit_reader):
    client = make_app()
    jwks.add_key("ec-1", "ES256")
    response, request_id = call(client, "GET", VERIFY, es256(jwks.keys["ec-1"], "ec-1"))
    assert response.status_code == 200, response.json
    assert audit_reader.for_request(request_id)[0]["actor"]["id"] == "alice"
    assert call(client, "GET", VERIFY, rs256(jwks.keys["key-1"], "key-1"))[0].status_code == 200


def test_an_algorithm_left_out_of_oidc_algorithms_is_refused(make_app, jwks, audit_reader):
    client = make_app(OIDC_ALGORITHMS="RS256")
    jwks.add_key("ec-1", "ES256")
    assert call(client, "GET", VERIFY, es256(jwks.keys["ec-1"], "ec-1"))[0].status_code == 401


def test_roles_agency_and_unit_come_from_configured_claim_paths_and_roles_are_mapped(make_app, jwks, audit_reader):
    client = make_app(
        OIDC_ROLES_CLAIM="groups",
        OIDC_ROLE_MAP="rtcc-auditors=auditor rtcc-analysts=analyst",
        OIDC_AGENCY_CLAIM="casewire.ori",
        OIDC_UNIT_CLAIM="department",
    )
    token = rs256(
        jwks.keys["key-1"],
        "key-1",
        roles=None,
        agency=None,
        groups=["rtcc-auditors", "everyone"],
        casewire={"ori": "LA0000000"},
        department="intel",
    )
    response, request_id = call(client, "GET", VERIFY, token)
    assert response.status_code == 200, response.json
    actor = audit_reader.for_request(request_id)[0]["actor"]
    assert actor == {"id": "alice", "agency": "LA0000000", "roles": ["auditor"]}
    unmapped = rs256(jwks.keys["key-1"], "key-1", roles=None, groups=["auditor"])  # not a mapped provider role
    assert call(client, "GET", VERIFY, unmapped)[0].status_code == 403


def test_a_discovery_document_of_another_issuer_is_not_trusted(make_app, jwks, audit_reader):
    client = make_app(OIDC_ISSUER="https://idp.example.gov/realms/other")
    response, _ = call(
        client, "GET", VERIFY, rs256(jwks.keys["key-1"], "key-1", iss="https://idp.example.gov/realms/other")
    )
    assert response.status_code == 503
