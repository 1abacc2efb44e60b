"""The RTCC console (``console/``, built by ``scripts/console.sh build``), served at ``/console/``.

The console is static files: the gateway hands them out from ``CONSOLE_DIR`` and the browser calls the
API like any other client, so every rule stays the gateway's. What it serves here is public (the files
hold no data) and so is ``/console/config.json``: how to sign in (the OpenID Connect issuer and the
console's public client id, or that development mode is on) and the map's tile URL.

In development mode (``CASEWIRE_DEV_MODE=1`` and no issuer, the only case in which the gateway accepts
development tokens at all) ``POST /console/dev-token`` mints the token ``casewire token`` would, so a
developer can pick a user and a role in the browser. Anywhere else it answers 404.

``GET /console/session`` verifies the caller's token as every API request does and answers who it names.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, request, send_from_directory
from werkzeug.security import safe_join

from gateway.audit_trail import audit
from gateway.auth import dev_mode, mint_dev_token
from gateway.errors import INVALID_INPUT, Problem
from gateway.guards import identify, public
from gateway.permissions import ROLES

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "console" / "dist"
NOT_BUILT = "the console is not built here: run scripts/console.sh build (or set CONSOLE_DIR to a built console)"
NAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")
AGENCY = re.compile(r"[A-Za-z0-9]{1,20}")
DEV_TOKEN_HOURS = 8


def console_dir(config: Mapping) -> Path:
    return Path(config.get("CONSOLE_DIR") or DEFAULT_DIR)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(config: Mapping) -> str:
    """Only the gateway itself, the identity provider (sign-in) and the tile server (the map) are reached."""
    issuer = _origin(config.get("CONSOLE_OIDC_ISSUER") or config.get("OIDC_ISSUER") or "")
    tiles = _origin((config.get("CONSOLE_TILE_URL") or "").replace("{s}", "a"))
    return "; ".join(
        [
            "default-src 'self'",
            f"connect-src 'self' {issuer}".strip(),
            f"img-src 'self' data: blob: {tiles}".strip(),
            "style-src 'self' 'unsafe-inline'",  # the map and the graph position their elements inline
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _send(filename: str) -> Response:
    root = console_dir(current_app.config)
    if not (root / "index.html").is_file():
        raise Problem(404, "Not Found", NOT_BUILT)
    if safe_join(str(root), filename) is None or not (root / filename).is_file():
        raise Problem(404, "Not Found", f"the console has no file {filename!r}")
    response = send_from_directory(root, filename)
    # Vite names built assets by their content: they never change, index.html always may.
    immutable = filename.startswith("assets/")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
    response.headers["Content-Security-Policy"] = content_security_policy(current_app.config)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _dev_tokens(config: Mapping) -> bool:
    return dev_mode(config) and not config.get("OIDC_ISSUER")


def init_app(app: Flask) -> None:
    @app.route("/console/")
    @public
    def console_index() -> Response:
        return _send("index.html")

    @app.route("/console/<path:filename>")
    @public
    def console_file(filename: str) -> Response:
        return _send(filename)

    @app.route("/console/config.json")
    @public
    def console_config() -> Response:
        """How the console signs in, and its map's tiles; nothing secret (the client id is public)."""
        config = current_app.config
        issuer = config.get("CONSOLE_OIDC_ISSUER") or config.get("OIDC_ISSUER") or None
        oidc = None
        if issuer:
            oidc = {
                "issuer": issuer,
                "client_id": config.get("CONSOLE_OIDC_CLIENT_ID") or "casewire-console",
                "scope": config.get("CONSOLE_OIDC_SCOPE") or "openid profile",
            }
        response = jsonify(
            {"oidc": oidc, "dev_mode": _dev_tokens(config), "tile_url": config.get("CONSOLE_TILE_URL") or None}
        )
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.route("/console/session")
    @public
    def console_session() -> Response:
        """Who the bearer token names, as the gateway reads it (its claim paths and role map), so the
        console shows only what those roles may do. A refused token is a failed logon, audited and
        limited as on the API; a sign-in is audited as ``auth.session``."""
        identity = identify()
        audit("auth.session", "allowed", identity.as_actor(), None, [])
        return jsonify(
            {
                "sub": identity.sub,
                "name": identity.name,
                "roles": list(identity.roles),
                "agency": identity.agency,
                "unit": identity.unit,
            }
        )

    @app.route("/console/dev-token", methods=["POST"])
    @public
    def console_dev_token() -> Response:
        """A development token for the user and role picked on the sign-in screen (development mode only)."""
        if not _dev_tokens(current_app.config):
            raise Problem(404, "Not Found", "development sign-in is off: sign in through the identity provider")
        body = request.get_json(silent=True) or {}
        sub, role = str(body.get("sub") or ""), str(body.get("role") or "")
        agency, unit = str(body.get("agency") or ""), str(body.get("unit") or "")
        errors = {}
        if not NAME.fullmatch(sub):
            errors["sub"] = ["a user name: letters, digits and ._@-, at most 100"]
        if role not in ROLES:
            errors["role"] = [f"one of {', '.join(ROLES)}"]
        if agency and not AGENCY.fullmatch(agency):
            errors["agency"] = ["an ORI: letters and digits"]
        if unit and not NAME.fullmatch(unit):
            errors["unit"] = ["a unit name: letters, digits and ._@-"]
        if errors:
            raise Problem(422, INVALID_INPUT, "the development user is not valid", errors)
        token = mint_dev_token(
            current_app.config["DEV_JWT_SECRET"],
            sub,
            [role],
            agency=agency or None,
            unit=unit or None,
            hours=DEV_TOKEN_HOURS,
        )
        return jsonify({"token": token})
