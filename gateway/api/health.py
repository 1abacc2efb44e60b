"""``/healthz`` (the process is up) and ``/readyz`` (everything it needs answers)."""

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Response, current_app, jsonify
from kombu import Connection
from marshmallow import Schema, fields

from casewire.mongo import connect
from gateway.errors import problem
from gateway.openapi import Blueprint

SERVICES = ("intake", "entities", "search", "cases", "audit")
PROBE_TIMEOUT = 3.0

blp = Blueprint("health", __name__, description="Liveness and readiness probes (no token needed).")


class Health(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class Ready(Schema):
    status = fields.String(required=True, metadata={"example": "ready"})
    checks = fields.Dict(keys=fields.String(), values=fields.Boolean(), required=True)


def _rabbitmq(config: Mapping) -> bool:
    with Connection(config["AMQP_URI"], connect_timeout=PROBE_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1)
    return True


def _mongodb(config: Mapping) -> bool:
    client = connect(config["MONGODB_URI"], server_selection_timeout_ms=int(PROBE_TIMEOUT * 1000))
    try:
        client.admin.command("ping")
    finally:
        client.close()
    return True


def _elasticsearch(config: Mapping) -> bool:
    """An https cluster with a private CA is verified against ``ELASTICSEARCH_CA_CERTS`` when set."""
    verify = config.get("ELASTICSEARCH_CA_CERTS") or True
    return requests.get(config["ELASTICSEARCH_URL"], timeout=PROBE_TIMEOUT, verify=verify).ok


@blp.route("/healthz")
@blp.response(200, Health)
def healthz() -> Response:
    """The gateway process is up."""
    return jsonify(status="ok")


healthz.casewire_public = True


@blp.route("/readyz")
@blp.response(200, Ready, description="Ready; a 503 problem names what failed in `failed` and `checks`.")
def readyz() -> Response:
    """Ready only when RabbitMQ, MongoDB, Elasticsearch and every service answer; else 503 naming what failed."""
    config, rpc = current_app.config, current_app.extensions["rpc"]
    checks = {"rabbitmq": _rabbitmq, "mongodb": _mongodb, "elasticsearch": _elasticsearch}

    def run(item: tuple[str, Callable[[], bool]]) -> tuple[str, bool]:
        name, check = item
        try:
            return name, bool(check())
        except Exception:  # any failure means not ready; the name says which part
            return name, False

    items = [(name, lambda check=check: check(config)) for name, check in checks.items()]
    items += [(name, lambda name=name: all(rpc.probe(name, "health", PROBE_TIMEOUT).values())) for name in SERVICES]
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        results = dict(pool.map(run, items))
    failed = sorted(name for name, ok in results.items() if not ok)
    if failed:
        response = problem(503, "Service Unavailable", f"not ready: {', '.join(failed)}")
        body = response.get_json()
        body.update(failed=failed, checks=results)
        response.set_data(jsonify(body).get_data())
        return response
    return jsonify(status="ready", checks=results)


readyz.casewire_public = True
