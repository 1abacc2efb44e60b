"""The agency's OpenID Connect provider, as its discovery document describes it, and what its tokens claim.

The gateway is given the provider's issuer (``OIDC_ISSUER``) and the audience of Casewire's tokens
(``OIDC_AUDIENCE``); the rest comes from ``<issuer>/.well-known/openid-configuration``: where the
signing keys are (``jwks_uri``) and which algorithms sign (RS256 and ES256 are taken). The document is
read when the first token arrives and kept; if the provider cannot be reached then, that request is
a 503 and the next one tries again.

Who the caller is comes from claims at configurable paths (docs/security.md): the roles (a list, at
``OIDC_ROLES_CLAIM``, e.g. Keycloak's ``realm_access.roles`` or Entra ID's ``roles``), mapped to
Casewire's roles by ``OIDC_ROLE_MAP``; the agency (ORI), unit and name at their own paths.
"""

import threading
from dataclasses import dataclass

import requests

from casewire.errors import Unavailable

DISCOVERY = "/.well-known/openid-configuration"
ALGORITHMS = ("RS256", "ES256")
TIMEOUT = 5


class ProviderError(Unavailable):
    """The provider's discovery document is not one the gateway can trust (a 503 until it is fixed)."""


def claim(claims: dict, path: str) -> object:
    """A claim by dotted path, e.g. ``roles`` or Keycloak's ``realm_access.roles``; a key holding a dot
    itself (a namespaced claim such as ``https://casewire.example/agency``) is taken whole first."""
    if path in claims:
        return claims[path]
    value = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def role_map(setting: str | None) -> dict[str, str]:
    """``OIDC_ROLE_MAP``: ``provider-role=casewire-role`` pairs, comma or space separated. Empty: the
    provider's role names are Casewire's."""
    pairs = [item.split("=", 1) for item in (setting or "").replace(",", " ").split() if item]
    bad = [item for item in pairs if len(item) != 2 or not all(part.strip() for part in item)]
    if bad:
        raise ValueError(f"OIDC_ROLE_MAP takes provider-role=casewire-role pairs, not {bad}")
    return {provider.strip(): casewire.strip() for provider, casewire in pairs}


@dataclass(frozen=True)
class ClaimPaths:
    """Where the caller's roles, agency, unit and name are in a token (config ``OIDC_*_CLAIM``)."""

    roles: str = "roles"
    agency: str = "agency"
    unit: str = "unit"
    name: str = "name"
    role_map: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_config(cls, config: dict) -> "ClaimPaths":
        return cls(
            roles=config.get("OIDC_ROLES_CLAIM") or "roles",
            agency=config.get("OIDC_AGENCY_CLAIM") or "agency",
            unit=config.get("OIDC_UNIT_CLAIM") or "unit",
            name=config.get("OIDC_NAME_CLAIM") or "name",
            role_map=tuple(role_map(config.get("OIDC_ROLE_MAP")).items()),
        )

    def roles_of(self, claims: dict) -> tuple[str, ...] | None:
        """Casewire's roles of a token; None when the roles claim is not a list of strings."""
        found = claim(claims, self.roles) or []
        if not isinstance(found, list) or not all(isinstance(role, str) for role in found):
            return None
        if not self.role_map:
            return tuple(found)
        mapping = dict(self.role_map)
        return tuple(dict.fromkeys(mapping[role] for role in found if role in mapping))

    def text(self, claims: dict, which: str) -> str | None:
        value = claim(claims, getattr(self, which))
        if isinstance(value, list) and len(value) == 1:  # Keycloak's user attributes may come as one-item lists
            value = value[0]
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


class Provider:
    """The provider of ``OIDC_ISSUER``: its discovery document, read once and kept."""

    def __init__(self, config: dict):
        self.issuer = config.get("OIDC_ISSUER") or ""
        self.audience = config.get("OIDC_AUDIENCE") or ""
        if not self.issuer or not self.audience:
            raise ValueError("OIDC_ISSUER needs OIDC_AUDIENCE (the audience Casewire's tokens carry)")
        self.discovery_url = config.get("OIDC_DISCOVERY_URL") or self.issuer.rstrip("/") + DISCOVERY
        wanted = str(config.get("OIDC_ALGORITHMS") or ",".join(ALGORITHMS)).replace(",", " ").split()
        unknown = sorted(set(wanted) - set(ALGORITHMS))
        if unknown:
            raise ValueError(f"OIDC_ALGORITHMS may name {', '.join(ALGORITHMS)}, not {unknown}")
        self.wanted = tuple(wanted)
        self._document: dict | None = None
        self._lock = threading.Lock()

    def document(self) -> dict:
        """The discovery document; Unavailable while the provider cannot be reached."""
        if self._document is None:
            with self._lock:
                if self._document is None:
                    self._document = self._discover()
        return self._document

    def _discover(self) -> dict:
        try:
            answer = requests.get(self.discovery_url, timeout=TIMEOUT)
            answer.raise_for_status()
            document = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise Unavailable(f"the identity provider's discovery document cannot be read: {exc}") from exc
        if document.get("issuer") != self.issuer:
            raise ProviderError(f"{self.discovery_url} names issuer {document.get('issuer')!r}, not {self.issuer!r}")
        if not document.get("jwks_uri"):
            raise ProviderError(f"{self.discovery_url} names no jwks_uri")
        return document

    @property
    def jwks_url(self) -> str:
        return self.document()["jwks_uri"]

    @property
    def algorithms(self) -> list[str]:
        """The algorithms taken: those wanted that the provider says it signs with (all wanted if it does not say)."""
        offered = self.document().get("id_token_signing_alg_values_supported") or self.wanted
        return [algorithm for algorithm in self.wanted if algorithm in offered]
