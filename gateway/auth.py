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

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from casewire.access_rules import Caller
from casewire.errors import Unavailable
from gateway.oidc import ClaimPaths, Provider, claim

log = logging.getLogger(__name__)

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

    def caller(self) -> Caller:
        """This identity as the per-record rules (:mod:`casewire.access_rules`) take a caller."""
        return Caller(self.sub, self.agency, self.unit, tuple(self.roles))


class KeySet:
    """The identity provider's signing keys by ``kid``, as ``fetch()`` answers them.

    The first use fetches them (a failure is Unavailable: 503). Once they are older than ``lifespan``
    seconds, one background thread refetches them while every request goes on with the keys it has, so
    a slow or unreachable provider never holds a request up; a key the provider removed stops working
    once a refetch succeeds. A token with an unknown ``kid`` (a rotated key) refetches at once. Fetches
    start at most once per ``cooldown`` seconds, so neither forged ``kid`` values nor an outage turn the
    gateway against the provider.
    """

    def __init__(
        self, fetch: Callable[[], dict], lifespan: float, cooldown: float, clock: Callable[[], float] = time.monotonic
    ):
        self.fetch, self.lifespan, self.cooldown, self.clock = fetch, lifespan, cooldown, clock
        self._keys: dict | None = None
        self._fetched_at = self._tried_at = -math.inf
        self._lock, self._refreshing = threading.Lock(), threading.Lock()

    def get(self, kid: str | None) -> object:
        """The key of ``kid``; InvalidToken when the provider has none, Unavailable when none was ever fetched."""
        keys = self._keys if self._keys is not None else self._fetch_now()
        if self.clock() - self._fetched_at >= self.lifespan:
            self._refresh_behind()
        if kid not in keys and self._may_try():
            keys = self._fetch_now()
        if kid not in keys:
            raise InvalidToken(f"the identity provider has no signing key {kid!r}")
        return keys[kid]

    def _may_try(self) -> bool:
        return self.clock() - self._tried_at >= self.cooldown

    def _fetch_now(self) -> dict:
        with self._lock:
            if not self._may_try():  # another thread fetched, or failed to, a moment ago
                if self._keys is None:
                    raise Unavailable("the identity provider's keys cannot be fetched (tried moments ago)")
                return self._keys
            self._tried_at = self.clock()
            self._keys, self._fetched_at = self.fetch(), self.clock()
            return self._keys

    def _refresh_behind(self) -> None:
        if not self._may_try() or not self._refreshing.acquire(blocking=False):
            return

        def refresh() -> None:
            try:
                self._fetch_now()
            except Exception:  # the provider is down or answers nonsense: keep serving the keys we have
                log.warning("the identity provider's keys could not be refetched; the cached ones stay", exc_info=True)
            finally:
                self._refreshing.release()

        threading.Thread(target=refresh, name="casewire-jwks-refresh", daemon=True).start()


def jwks_fetcher(url: str, timeout: float = 5) -> Callable[[], dict]:
    """``fetch()`` for :class:`KeySet`: the JWKS document at ``url`` as ``{kid: key}``."""
    client = jwt.PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=timeout)

    def fetch() -> dict:
        try:
            found = client.get_jwk_set(refresh=True)
        except jwt.PyJWKClientError as exc:
            raise Unavailable(f"the identity provider's keys cannot be fetched: {exc}") from exc
        return {key.key_id: key.key for key in found.keys if key.key_id}

    return fetch


class TokenVerifier:
    """Verifies bearer tokens; configured by ``OIDC_*`` keys (production) or ``DEV_JWT_SECRET``.

    The provider's keys are a :class:`KeySet`: cached for ``OIDC_JWKS_LIFESPAN`` seconds and then
    refetched in the background while the cached ones keep serving; a token with an unknown ``kid``
    forces one refetch, at most once per ``OIDC_JWKS_COOLDOWN`` seconds, so a flood of forged ``kid``
    values cannot turn the gateway against the identity provider.
    """

    def __init__(self, config: dict):
        self.provider = Provider(config) if config.get("OIDC_ISSUER") else None
        self.claims = ClaimPaths.from_config(config)
        self.oversight_claim = config.get("OIDC_OVERSIGHT_CLAIM") or OVERSIGHT_CLAIM
        self.leeway = float(_setting(config, "OIDC_LEEWAY_SECONDS", LEEWAY_SECONDS))
        if self.provider:
            self.issuer, self.audience = self.provider.issuer, self.provider.audience
            # Made once the discovery document names the keys' URL: the cached keys serve while fresh
            # ones are fetched (KeySet), so a slow or absent provider never stops requests.
            self._jwks = KeySet(
                lambda: jwks_fetcher(self.provider.jwks_url)(),
                lifespan=float(_setting(config, "OIDC_JWKS_LIFESPAN", 300)),
                cooldown=float(_setting(config, "OIDC_JWKS_COOLDOWN", 30)),
            )
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

    def _key(self, token: str) -> object:
        if not self.provider:
            return self._secret
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return self._jwks.get(kid)

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
        oversight = claim(claims, self.oversight_claim) or []
        if not isinstance(oversight, list) or not all(isinstance(agency, str) for agency in oversight):
            raise InvalidToken("the oversight claim must be a list of agency ORIs (or *)")
        return Identity(
            sub=str(claims["sub"]),
            name=self.claims.text(claims, "name"),
            roles=roles,
            agency=self.claims.text(claims, "agency"),
            unit=self.claims.text(claims, "unit"),
            oversight=tuple(oversight),
        )


def dev_mode(config: dict) -> bool:
    """True when ``DEV_MODE`` (``CASEWIRE_DEV_MODE``) is explicitly on: 1, true, yes or on."""
    return str(config.get("DEV_MODE", "")).strip().lower() in {"1", "true", "yes", "on"}


def _setting(config: dict, key: str, default: object) -> object:
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
