"""Who is calling: bearer tokens verified with PyJWT.

Production (``OIDC_JWKS_URL`` set) verifies RS256 tokens from the agency's OpenID Connect
provider: keys from its JWKS URL, cached and refetched on an unknown ``kid``; issuer, audience and
expiry checked with a small clock skew. Development signs HS256 tokens with a local secret
(``casewire token`` mints them). The two never mix: with a JWKS URL, HS256 tokens are refused.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

DEV_ISSUER = "casewire-dev"
DEV_AUDIENCE = "casewire"
LEEWAY_SECONDS = 30


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by a trusted key."""


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
    def __init__(self, config: dict):
        self.jwks_url = config.get("OIDC_JWKS_URL") or None
        if self.jwks_url:
            self.issuer = config["OIDC_ISSUER"]
            self.audience = config["OIDC_AUDIENCE"]
            self.algorithms = ["RS256"]
            self._jwks = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        else:
            self.issuer, self.audience, self.algorithms = DEV_ISSUER, DEV_AUDIENCE, ["HS256"]
            self._secret = config["DEV_JWT_SECRET"]

    def verify(self, token: str) -> Identity:
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key if self.jwks_url else self._secret
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
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise InvalidToken("the roles claim must be a list of strings")
        return Identity(
            sub=str(claims["sub"]),
            name=claims.get("name"),
            roles=tuple(roles),
            agency=claims.get("agency"),
            unit=claims.get("unit"),
        )


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
