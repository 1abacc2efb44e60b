"""Who is calling: bearer tokens verified with PyJWT.

Production (``OIDC_ISSUER`` set) verifies RS256 or ES256 tokens from the agency's OpenID Connect
provider (:mod:`gateway.oidc`: its discovery document names the keys and algorithms): keys cached
and refetched on an unknown ``kid``; issuer, audience and expiry checked with a small clock skew;
roles, agency, unit and name read at configurable claim paths. Development signs HS256 tokens with a
local secret (``casewire token`` mints them). The two never mix: with an issuer, HS256 tokens are refused.

Development tokens fail closed: the default ``DEV_JWT_SECRET`` is public (it is in this repository),
so without an issuer the gateway refuses to start on it unless development mode is switched on
explicitly (``CASEWIRE_DEV_MODE=1``, as ``scripts/services.sh`` and compose do on loopback).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from casewire.errors import Unavailable
from gateway.oidc import ClaimPaths, Provider

DEV_ISSUER = "casewire-dev"
PUBLIC_DEV_SECRET = "casewire-local-development-secret-change-me"  # gateway/config.yaml's default
DEV_AUDIENCE = "casewire"
LEEWAY_SECONDS = 30


class InsecureConfiguration(RuntimeError):
    """The gateway would accept tokens anyone can forge; it refuses to start."""


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by a trusted key."""


def unverified_claims(token: str) -> dict:
    """What a refused token *claims* (``sub``, ``iss``), for the failed-logon audit event only.

    Never trust these: the signature was not (or could not be) verified.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return {f"claimed_{key}": str(claims[key])[:200] for key in ("sub", "iss") if claims.get(key) is not None}


@dataclass(frozen=True)
class Identity:
    sub: str
    name: str | None
    roles: tuple[str, ...]
    agency: str | None
    unit: str | None

    def as_actor(self) -> dict:
        return {"id": self.sub, "agency": self.agency, "roles": list(self.roles)}


class TokenVerifier:
    """Verifies bearer tokens; configured by ``OIDC_*`` keys (production) or ``DEV_JWT_SECRET``.

    The JWKS document is cached for ``OIDC_JWKS_LIFESPAN`` seconds (a key the provider removed
    stops being trusted within that time); a token with an unknown ``kid`` forces one refetch, at
    most once per ``OIDC_JWKS_COOLDOWN`` seconds, so a flood of forged ``kid`` values cannot turn
    the gateway against the identity provider. Individual keys are never cached beyond the set.
    """

    def __init__(self, config: dict):
        self.provider = Provider(config) if config.get("OIDC_ISSUER") else None
        self.claims = ClaimPaths.from_config(config)
        self.leeway = float(_setting(config, "OIDC_LEEWAY_SECONDS", LEEWAY_SECONDS))
        if self.provider:
            self.issuer, self.audience = self.provider.issuer, self.provider.audience
            self._jwks_settings = {
                "cache_keys": False,
                "lifespan": float(_setting(config, "OIDC_JWKS_LIFESPAN", 300)),
                "cooldown_duration": float(_setting(config, "OIDC_JWKS_COOLDOWN", 30)),
                "timeout": 5,
            }
            self._jwks: jwt.PyJWKClient | None = None  # made once the discovery document names the URL
        else:
            self.issuer, self.audience, self.algorithms = DEV_ISSUER, DEV_AUDIENCE, ["HS256"]
            self._secret = config.get("DEV_JWT_SECRET") or ""
            if self._secret in ("", PUBLIC_DEV_SECRET) and not dev_mode(config):
                raise InsecureConfiguration(
                    "no CASEWIRE_OIDC_ISSUER is set and CASEWIRE_DEV_JWT_SECRET is empty or the public default, "
                    "so anyone could forge a token for any role. Set CASEWIRE_OIDC_ISSUER and "
                    "CASEWIRE_OIDC_AUDIENCE (production), or your own CASEWIRE_DEV_JWT_SECRET, or "
                    "CASEWIRE_DEV_MODE=1 on a development machine"
                )

    def _key(self, token: str):
        if not self.provider:
            return self._secret
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(self.provider.jwks_url, **self._jwks_settings)
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable(f"the identity provider's keys cannot be fetched: {exc}") from exc

    def verify(self, token: str) -> Identity:
        """The caller a token names; InvalidToken if it is not valid, Unavailable if the keys are out of reach."""
        try:
            key = self._key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=self.provider.algorithms if self.provider else self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise InvalidToken(str(exc)) from exc
        roles = self.claims.roles_of(claims)
        if roles is None:
            raise InvalidToken("the roles claim must be a list of strings")
        return Identity(
            sub=str(claims["sub"]),
            name=self.claims.text(claims, "name"),
            roles=roles,
            agency=self.claims.text(claims, "agency"),
            unit=self.claims.text(claims, "unit"),
        )


def dev_mode(config: dict) -> bool:
    """True when ``DEV_MODE`` (``CASEWIRE_DEV_MODE``) is explicitly on: 1, true, yes or on."""
    return str(config.get("DEV_MODE", "")).strip().lower() in {"1", "true", "yes", "on"}


def _setting(config: dict, key: str, default):
    """``config[key]``, or ``default`` when it is absent or empty (0 stays 0)."""
    value = config.get(key)
    return default if value in (None, "") else value


def mint_dev_token(
    secret: str,
    sub: str,
    roles: list[str],
    agency: str | None = None,
    unit: str | None = None,
    name: str | None = None,
    hours: float = 12,
) -> str:
    """An HS256 development token, as ``casewire token`` prints it."""
    now = datetime.now(UTC)
    claims = {
        "sub": sub,
        "name": name or sub,
        "roles": roles,
        "agency": agency,
        "unit": unit,
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(hours=hours),
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")
