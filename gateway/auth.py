"""Who is calling: bearer tokens verified with PyJWT.

Production (``OIDC_JWKS_URL`` set) verifies RS256 tokens from the agency's OpenID Connect
provider: keys from its JWKS URL, cached and refetched on an unknown ``kid``; issuer, audience and
expiry checked with a small clock skew. Development signs HS256 tokens with a local secret
(``casewire token`` mints them). The two never mix: with a JWKS URL, HS256 tokens are refused.

Development tokens fail closed: the default ``DEV_JWT_SECRET`` is public (it is in this repository),
so without a JWKS URL the gateway refuses to start on it unless development mode is switched on
explicitly (``CASEWIRE_DEV_MODE=1``, as ``scripts/services.sh`` and compose do on loopback).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from casewire.errors import Unavailable

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


OVERSIGHT_CLAIM = "oversight_agencies"  # docs/security.md, "Auditors": the agencies an auditor oversees
EVERY_AGENCY = "*"


@dataclass(frozen=True)
class Identity:
    sub: str
    name: str | None
    roles: tuple[str, ...]
    agency: str | None
    unit: str | None
    oversight: tuple[str, ...] = ()  # ORIs beyond its own an auditor may audit, or ("*",) for every agency

    def audited_agencies(self) -> tuple[str | None, ...] | None:
        """The agencies whose audit log and compliance report this caller reads: its own, plus those of an
        explicit oversight claim; None for every agency (the claim holds ``*``)."""
        if EVERY_AGENCY in self.oversight:
            return None
        return tuple(dict.fromkeys((self.agency, *self.oversight)))

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
        self.jwks_url = config.get("OIDC_JWKS_URL") or None
        self.roles_claim = config.get("OIDC_ROLES_CLAIM") or "roles"
        self.oversight_claim = config.get("OIDC_OVERSIGHT_CLAIM") or OVERSIGHT_CLAIM
        if self.jwks_url:
            self.issuer = config["OIDC_ISSUER"]
            self.audience = config["OIDC_AUDIENCE"]
            if not self.issuer or not self.audience:
                raise ValueError("OIDC_JWKS_URL needs OIDC_ISSUER and OIDC_AUDIENCE")
            self.algorithms = ["RS256"]
            self._jwks = jwt.PyJWKClient(
                self.jwks_url,
                cache_keys=False,
                lifespan=float(_setting(config, "OIDC_JWKS_LIFESPAN", 300)),
                cooldown_duration=float(_setting(config, "OIDC_JWKS_COOLDOWN", 30)),
                timeout=5,
            )
        else:
            self.issuer, self.audience, self.algorithms = DEV_ISSUER, DEV_AUDIENCE, ["HS256"]
            self._secret = config.get("DEV_JWT_SECRET") or ""
            if self._secret in ("", PUBLIC_DEV_SECRET) and not dev_mode(config):
                raise InsecureConfiguration(
                    "no CASEWIRE_JWKS_URL is set and CASEWIRE_DEV_JWT_SECRET is empty or the public default, "
                    "so anyone could forge a token for any role. Set CASEWIRE_JWKS_URL, CASEWIRE_OIDC_ISSUER "
                    "and CASEWIRE_OIDC_AUDIENCE (production), or your own CASEWIRE_DEV_JWT_SECRET, or "
                    "CASEWIRE_DEV_MODE=1 on a development machine"
                )

    def _key(self, token: str):
        if not self.jwks_url:
            return self._secret
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
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise InvalidToken(str(exc)) from exc
        roles = _claim(claims, self.roles_claim) or []
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise InvalidToken("the roles claim must be a list of strings")
        oversight = _claim(claims, self.oversight_claim) or []
        if not isinstance(oversight, list) or not all(isinstance(agency, str) for agency in oversight):
            raise InvalidToken("the oversight claim must be a list of agency ORIs (or *)")
        return Identity(
            sub=str(claims["sub"]),
            name=claims.get("name"),
            roles=tuple(roles),
            agency=claims.get("agency"),
            unit=claims.get("unit"),
            oversight=tuple(oversight),
        )


def dev_mode(config: dict) -> bool:
    """True when ``DEV_MODE`` (``CASEWIRE_DEV_MODE``) is explicitly on: 1, true, yes or on."""
    return str(config.get("DEV_MODE", "")).strip().lower() in {"1", "true", "yes", "on"}


def _setting(config: dict, key: str, default):
    """``config[key]``, or ``default`` when it is absent or empty (0 stays 0)."""
    value = config.get(key)
    return default if value in (None, "") else value


def _claim(claims: dict, path: str):
    """A claim by dotted path, e.g. ``roles`` or Keycloak's ``realm_access.roles``."""
    value = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def mint_dev_token(
    secret: str,
    sub: str,
    roles: list[str],
    agency: str | None = None,
    unit: str | None = None,
    name: str | None = None,
    hours: float = 12,
    oversight: list[str] | None = None,
) -> str:
    """An HS256 development token, as ``casewire token`` prints it."""
    now = datetime.now(UTC)
    claims = {
        "sub": sub,
        "name": name or sub,
        "roles": roles,
        "agency": agency,
        "unit": unit,
        OVERSIGHT_CLAIM: oversight or None,
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(hours=hours),
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")
