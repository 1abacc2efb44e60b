"""Helpers for the gateway's integration tests: reading the audit log, a local OpenID provider's
discovery document and JWKS."""

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://idp.example.gov/realms/rtcc"
AUDIENCE = "casewire-api"


class AuditReader:
    """The audit events the real audit service stored, found by request id."""

    def __init__(self, events):
        self.events = events

    def for_request(self, request_id: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = list(self.events.find({"request_id": request_id}, {"_id": 0}).sort("seq", 1))
            if len(found) >= count:
                return found
            time.sleep(0.1)
        pytest.fail(f"fewer than {count} audit events for request {request_id}: {found}")


def call(client, method: str, path: str, token: str | None = None, headers: dict | None = None, **kwargs):
    """One request through the test client with a fresh ``X-Request-Id``; returns (response, request id)."""
    request_id = uuid.uuid4().hex
    headers = {"X-Request-Id": request_id, **(headers or {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.open(path, method=method, headers=headers, **kwargs), request_id


class Jwks:
    """An identity provider on 127.0.0.1: its discovery document (issuer :data:`ISSUER`) and its JWKS,
    serving the public halves of its RSA and EC keys. ``fetches`` counts reads of the JWKS."""

    def __init__(self):
        self.keys: dict[str, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] = {}
        self.fetches = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/.well-known/openid-configuration"):
                    document = jwks.discovery()
                else:
                    jwks.fetches += 1
                    document = jwks.document()
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{base}/protocol/openid-connect/certs"
        self.discovery_url = f"{base}/.well-known/openid-configuration"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def add_key(self, kid: str, algorithm: str = "RS256"):
        if algorithm == "ES256":
            self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        else:
            self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.keys[kid]

    def discovery(self) -> dict:
        return {
            "issuer": ISSUER,
            "jwks_uri": self.url,
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "PS256"],
        }

    def document(self) -> dict:
        keys = []
        for kid, key in self.keys.items():
            if isinstance(key, ec.EllipticCurvePrivateKey):
                jwk, algorithm = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "ES256"
            else:
                jwk, algorithm = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "RS256"
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": algorithm})
        return {"keys": keys}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def claims(**overrides) -> dict:
    now = datetime.now(UTC)
    base = {
        "sub": "alice",
        "name": "Alice Analyst",
        "roles": ["auditor"],
        "agency": "TX0000000",
        "unit": "rtcc",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def rs256(key, kid: str | None, **overrides) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims(**overrides), key, algorithm="RS256", headers=headers)


def es256(key, kid: str, **overrides) -> str:
    return jwt.encode(claims(**overrides), key, algorithm="ES256", headers={"kid": kid})
