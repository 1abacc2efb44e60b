"""Sign-in through a real OpenID Connect provider: Keycloak (scripts/keycloak.sh) and a second gateway
configured for it only by its issuer, audience and claim paths, over the same running services.

Keycloak's realm `casewire` (scripts/keycloak/) has users in groups carrying the agency (ORI) and
unit, realm roles named as an agency might (`rtcc-analyst`) mapped to Casewire's roles, RS256 and
ES256 keys, and clients: `casewire` (RS256), `casewire-es256`, `casewire-short` (tokens live 2 s) and
`other-app` (another audience). Realm `other-agency` is another issuer.
"""

import base64
import json
import time
import uuid

import pytest
import requests

from casewire.config import load_config
from gateway.auth import mint_dev_token
from tests.e2e import keycloak as keycloak_server
from tests.e2e.conftest import GATEWAY_PORT, REPO, second_gateway, stack_env
from tests.e2e.keycloak import KEYCLOAK
from tests.e2e.test_console import flow

ISSUER = f"{KEYCLOAK}/realms/casewire"
PASSWORD = "casewire-local-test-password"  # scripts/keycloak/*-realm.json
OIDC_PORT = GATEWAY_PORT + 1
KEY_PROVIDER = "org.keycloak.keys.KeyProvider"
ROLE_MAP = "rtcc-analyst=analyst rtcc-detective=detective rtcc-supervisor=supervisor rtcc-auditor=auditor"


@pytest.fixture(scope="module")
def keycloak(servers):
    """Keycloak on KEYCLOAK_PORT: the running one, or the one this session started (tests/e2e/keycloak.py)
    and stops after the module."""
    yield keycloak_server.wait()
    keycloak_server.stop()


@pytest.fixture(scope="module")
def gateway_for_keycloak(stack, run_id, keycloak, tmp_path_factory):
    """A gateway that knows Keycloak by its issuer alone, beside the test stack's (same services)."""
    env = {
        **stack_env(run_id),
        "CASEWIRE_DEV_MODE": "0",
        "CASEWIRE_OIDC_ISSUER": ISSUER,
        "CASEWIRE_OIDC_AUDIENCE": "casewire",
        "CASEWIRE_OIDC_ROLES_CLAIM": "realm_access.roles",
        "CASEWIRE_OIDC_ROLE_MAP": ROLE_MAP,
        "CASEWIRE_OIDC_LEEWAY_SECONDS": "0",  # an expired token is refused the moment it expires
        "CASEWIRE_JWKS_COOLDOWN": "0",  # a rotated key's first token refetches the keys at once
        "STREAM_ENABLED": "false",
    }
    with second_gateway(env, OIDC_PORT, tmp_path_factory.mktemp("oidc-gateway") / "gateway.log") as url:
        yield url


def token(client: str = "casewire", user: str = "ann", realm: str = "casewire") -> str:
    """An access token from Keycloak for ``user`` through ``client`` (the password grant)."""
    answer = requests.post(
        f"{KEYCLOAK}/realms/{realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": client,
            "client_secret": f"{client}-secret",
            "username": user,
            "password": PASSWORD,
            "scope": "openid",
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def part(jwt: str, index: int) -> dict:
    segment = jwt.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def alert(plate: str) -> dict:
    return {
        "source": "alpr",
        "source_system": "flock-houston",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-18T03:02:00-05:00",
        "location": {"lat": 29.7391, "lon": -95.3402},
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": "flock-cam-207"},
    }


def call(url: str, access_token: str, method: str = "GET", path: str = "/api/v1/alerts", **kwargs):
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.request(method, f"{url}{path}", headers=headers, timeout=60, **kwargs)


def test_a_keycloak_user_signs_in_with_roles_agency_and_unit_from_the_tokens_claims(gateway_for_keycloak):
    access = token(user="ann")
    assert part(access, 0)["alg"] == "RS256" and part(access, 1)["realm_access"]["roles"] == ["rtcc-analyst"]
    created = call(gateway_for_keycloak, access, "POST", json=alert(f"O{uuid.uuid4().hex[:6].upper()}"))
    assert created.status_code == 201, created.text
    assert (created.json()["agency"], created.json()["unit"]) == ("TX0000000", "rtcc")  # the group's attributes
    assert call(gateway_for_keycloak, access, path="/api/v1/audit/events").status_code == 403  # an analyst
    auditor = call(gateway_for_keycloak, token(user="audra"), path="/api/v1/audit/events", params={"limit": 5})
    assert auditor.status_code == 200, auditor.text


def test_the_console_signs_in_through_keycloak_with_the_authorization_code_and_pkce(gateway_for_keycloak, console):
    """Keycloak's public client `casewire-console` (PKCE S256 required): the browser goes to Keycloak's
    login page and back; the gateway reads the access token's roles through its role map."""
    seen = flow({**console, "CASEWIRE_URL": gateway_for_keycloak}, "oidc", user="ann", password=PASSWORD)
    assert seen["who"].startswith("Ann Analyst · analyst") and "TX0000000/rtcc" in seen["who"]
    assert seen["screens"] == ["Alert queue", "Plate search"]
    assert seen["went_to"].startswith(f"{ISSUER}/protocol/openid-connect/auth")
    assert "code_challenge_method=S256" in seen["went_to"]


def test_an_es256_token_signs_in_as_an_rs256_one_does(gateway_for_keycloak):
    access = token("casewire-es256", user="dana")
    assert part(access, 0)["alg"] == "ES256"
    answer = call(gateway_for_keycloak, access)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "which, make",
    [
        ("another issuer", lambda: token(realm="other-agency")),
        ("another audience", lambda: token("other-app")),
        ("a development token", lambda: _dev_token()),
    ],
)
def test_a_token_of_another_issuer_or_audience_is_refused(gateway_for_keycloak, which, make):
    refused = call(gateway_for_keycloak, make())
    assert refused.status_code == 401, which
    assert refused.json()["type"] == "https://casewire.io/problems/unauthorized"


def _dev_token() -> str:
    return mint_dev_token(load_config(REPO / "gateway" / "config.yaml")["DEV_JWT_SECRET"], "ann", ["analyst"])


def test_an_expired_token_is_refused(gateway_for_keycloak):
    access = token("casewire-short")  # Keycloak gives this client's tokens two seconds
    assert call(gateway_for_keycloak, access).status_code == 200
    time.sleep(max(0.0, part(access, 1)["exp"] - time.time()) + 1.5)
    refused = call(gateway_for_keycloak, access)  # the same token, accepted a moment ago
    assert refused.status_code == 401 and refused.json()["type"] == "https://casewire.io/problems/unauthorized"


def test_a_key_rotation_at_the_provider_is_picked_up(gateway_for_keycloak):
    before = token()
    assert call(gateway_for_keycloak, before).status_code == 200
    admin = _admin_token()
    realm = requests.get(f"{KEYCLOAK}/admin/realms/casewire", headers=admin, timeout=30).json()
    providers = requests.get(
        f"{KEYCLOAK}/admin/realms/casewire/components", params={"type": KEY_PROVIDER}, headers=admin, timeout=30
    ).json()
    highest = max(int(p["config"].get("priority", ["0"])[0]) for p in providers)
    rotated = {
        "name": f"rsa-rotated-{uuid.uuid4().hex[:6]}",
        "providerId": "rsa-generated",
        "providerType": KEY_PROVIDER,
        "parentId": realm["id"],
        "config": {"priority": [str(highest + 100)], "keySize": ["2048"]},  # the key Keycloak signs with now
    }
    added = requests.post(f"{KEYCLOAK}/admin/realms/casewire/components", json=rotated, headers=admin, timeout=30)
    assert added.status_code == 201, added.text
    after = token()
    assert part(after, 0)["kid"] != part(before, 0)["kid"], "Keycloak signs with the new key"
    answer = call(gateway_for_keycloak, after)
    assert answer.status_code == 200, answer.text


def _admin_token() -> dict:
    answer = requests.post(
        f"{KEYCLOAK}/realms/master/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
