"""``create_app()``: the gateway, its extensions and its blueprints."""

import os
import re
import uuid
from pathlib import Path

import swagger_ui_bundle
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, g, request, send_from_directory

from casewire.audit import AuditTrail
from casewire.config import load_config
from gateway import console, errors, guard_docs, guards, limits, observability, openapi
from gateway.api import alerts, audit, cases, compliance, entities, health, search, stream
from gateway.api import metrics as outcome_metrics
from gateway.auth import TokenVerifier
from gateway.idempotency import Idempotency, IdempotencyDocs
from gateway.rpc import Rpc

CONFIG_FILE = Path(__file__).with_name("config.yaml")
DOCS_ASSETS = "/api/v1/docs/assets/"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # a caller's id is echoed and audited only if it is tame


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)  # no static route: every route is guarded or public
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

    api = errors.ProblemApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}],
            "extra_plugins": [guard_docs.GuardDocs(app), IdempotencyDocs(), openapi.ContractDocs()],
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=openapi.schema_names()),
        },
    )
    for module in (health, alerts, search, audit, entities, stream, cases, compliance):
        api.register_blueprint(module.blp)
    api.register_blueprint(outcome_metrics.blp)
    stream.init_app(app)
    errors.register(app)
    observability.init_app(app)

    @app.route(f"{DOCS_ASSETS}<path:filename>")
    def docs_assets(filename: str) -> Response:
        """Swagger UI's files, served from the gateway itself (agencies run air-gapped)."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    docs_assets.casewire_public = True
    console.init_app(app)

    @app.before_request
    def assign_request_id() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    limits.init_app(app)
    guards.init_app(app)
    Idempotency(app)  # after the access checks: only a caller they let through reaches a key

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id") or uuid.uuid4().hex
        return response

    return app
