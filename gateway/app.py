"""``create_app()``: the gateway, its extensions and its blueprints."""

import os
import uuid
from pathlib import Path

import swagger_ui_bundle
from flask import Flask, g, request, send_from_directory
from flask_smorest import Api

from casewire.audit import AuditTrail
from casewire.config import load_config
from gateway import errors
from gateway.api import alerts, audit, cases, health, search
from gateway.auth import TokenVerifier
from gateway.rpc import Rpc

CONFIG_FILE = Path(__file__).with_name("config.yaml")
DOCS_ASSETS = "/api/v1/docs/assets/"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(load_config(os.environ.get("GATEWAY_CONFIG", CONFIG_FILE)))
    app.config.update(config or {})
    app.config.update(
        API_TITLE="Casewire",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        MAX_CONTENT_LENGTH=int(app.config.get("MAX_BODY_BYTES", 8 * 1024 * 1024)),
    )
    app.extensions["tokens"] = TokenVerifier(app.config)
    app.extensions["audit"] = AuditTrail(app.config["AMQP_URI"], "gateway")
    Rpc(app)

    api = Api(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}],
        },
    )
    for module in (health, alerts, search, audit, cases):
        api.register_blueprint(module.blp)
    errors.register(app)

    @app.route(f"{DOCS_ASSETS}<path:filename>")
    def docs_assets(filename):
        """Swagger UI's files, served from the gateway itself (agencies run air-gapped)."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    docs_assets.casewire_public = True

    @app.before_request
    def assign_request_id():
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response):
        response.headers["X-Request-Id"] = g.get("request_id") or uuid.uuid4().hex
        return response

    return app
