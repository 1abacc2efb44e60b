"""Audit (API.md, Audit and compliance): the append-only log, for auditors only."""

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from gateway.access import guarded

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The audit log (auditors only).")


class EventQuery(Schema):
    actor = fields.String()
    record_id = fields.String()
    action = fields.String()
    outcome = fields.String(validate=validate.OneOf(("allowed", "denied", "failed")))
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "the `next_cursor` of the previous page"},
    )


@blp.route("/events")
@blp.arguments(EventQuery, location="query")
@blp.response(200)
@guarded("audit.read", record_type="audit_event")
def list_events(query):
    """Audit events in chain order, filtered; reading the log is itself audited."""
    filters = {key: query.get(key) for key in ("actor", "record_id", "action", "outcome")}
    for key in ("since", "until"):
        if query.get(key):
            filters[key] = query[key].isoformat()
    page = current_app.extensions["rpc"].call("audit", "list_events", filters, query["cursor"], query["limit"])
    items = [{**event, "record_id": (event.get("record_ids") or [None])[0]} for event in page["items"]]
    return {"items": items, "next_cursor": page["next_seq"]}


@blp.route("/verify")
@blp.response(200)
@guarded("audit.verify", record_type="audit_event")
def verify():
    """Recompute the hash chain; name the first altered, removed or reordered event."""
    return current_app.extensions["rpc"].call("audit", "verify")
