"""Alerts (API.md, Alerts): submit, read and list detection hits."""

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import ValidationError

from casewire.alerts import AlertSubmission
from casewire.errors import Unavailable
from gateway.access import context, guarded
from gateway.errors import Problem

blp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts", description="Detection hits and their triage.")


class AlertBody(AlertSubmission):
    """A detection hit; ``payload`` fields depend on ``source`` (see API.md)."""


def _rpc():
    return current_app.extensions["rpc"]


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Problem(400, "Bad Request", "the body must be a JSON object")
    return body


@blp.route("", methods=["POST"])
@blp.doc(requestBody={"content": {"application/json": {"schema": AlertBody}}})
@blp.response(201, description="The alert was stored; a repeat of a known event answers 200 with the first one.")
@guarded("alert.create", record_type="alert")
def create_alert():
    """Submit one detection hit."""
    body = _json_body()
    try:
        AlertSubmission().load(body)
    except ValidationError as exc:
        raise Problem(422, "Unprocessable Entity", "the alert is invalid", exc.messages) from exc
    result = _rpc().call("intake", "create_alert", body, context())
    alert = result["alert"]
    if result["created"]:
        # The alert is stored; resolving here only fills the answer. If the entities service is
        # slow or down, the alert_received event resolves it later and GET shows the result.
        try:
            resolved = _rpc().call("entities", "resolve_alert", _alert_event(alert))
            alert.update(entities=resolved["entities"], related=resolved["related"])
        except Unavailable:
            alert["resolution"] = "pending"
    return alert, 201 if result["created"] else 200


def _alert_event(alert: dict) -> dict:
    keys = (
        "source",
        "source_system",
        "source_event_id",
        "occurred_at",
        "received_at",
        "location",
        "payload",
        "priority",
        "status",
        "record_class",
        "agency",
        "unit",
    )
    return {"alert_id": alert["id"], **{key: alert.get(key) for key in keys}}


@blp.route("/<alert_id>")
@blp.response(200)
@guarded("alert.read", record_type="alert", record_arg="alert_id")
def get_alert(alert_id):
    """One alert with its entities, related records and action log."""
    return _rpc().call("intake", "get_alert", alert_id)
