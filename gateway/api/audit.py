"""Audit: the append-only log, for auditors only.

Only GET routes: the log has no update or delete path in the API (C22). Every read, verify and
export is itself audited by :func:`guarded` before it runs (C20).
"""

import csv
import io
import json
from collections.abc import Iterator

from flask import Response, current_app, g, stream_with_context
from marshmallow import Schema, fields, validate

from casewire.contracts.audit import AuditEventPage, Verification
from gateway.guards import guarded
from gateway.openapi import Blueprint
from gateway.records import require_scope
from gateway.rpc import Rpc

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit",
    description="The audit log (auditors only), within the auditor's agency or oversight claim.",
)

EXPORT_PAGE = 2000
CSV_COLUMNS = (
    "seq",
    "at",
    "service",
    "action",
    "outcome",
    "actor_id",
    "actor_agency",
    "actor_roles",
    "record_type",
    "record_ids",
    "purpose",
    "case_number",
    "client_address",
    "request_id",
    "event_id",
    "details",
    "prev_hash",
    "hash",
)


CSV = {"type": "string", "description": f"a header row, then one event per row: {', '.join(CSV_COLUMNS)}"}


class Filters(Schema):
    actor = fields.String(metadata={"description": "actor id (`sub`)"})
    agency = fields.String(metadata={"description": "actor agency (ORI)"})
    record_id = fields.String()
    record_type = fields.String()
    action = fields.String(metadata={"description": "e.g. `alert.read`, `search.plates`"})
    outcome = fields.String(validate=validate.OneOf(("allowed", "denied", "failed")))
    service = fields.String()
    request_id = fields.String()
    since = fields.AwareDateTime(metadata={"description": "events at or after this time"})
    until = fields.AwareDateTime(metadata={"description": "events before this time"})


class EventQuery(Filters):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(metadata={"description": "the `next_cursor` of the previous page"})


class ExportQuery(Filters):
    format = fields.String(load_default="jsonl", validate=validate.OneOf(("jsonl", "csv")))


def _rpc() -> Rpc:
    return current_app.extensions["rpc"]


def _filters(query: dict) -> dict:
    """The auditor's filters, within its scope: its own agency's people and records, or those of the
    agencies its token's oversight claim names (``*``: every agency). Another agency is 403, audited."""
    filters = {key: query[key] for key in Filters._declared_fields if query.get(key) is not None}
    for key in ("since", "until"):
        if key in filters:
            filters[key] = filters[key].isoformat()
    agencies = g.identity.audited_agencies()
    if agencies is not None:
        require_scope(
            filters.get("agency", agencies[0]) in agencies,
            "audit_scope",
            "that agency is outside your audit scope (an oversight claim names the agencies you audit)",
        )
        filters["agencies"] = list(agencies)
    return filters


@blp.route("/events")
@blp.arguments(EventQuery, location="query")
@blp.response(200, AuditEventPage)
@guarded("audit.read", record_type="audit_event")
def list_events(query: dict) -> dict:
    """Audit events in chain order, filtered; reading the log is itself audited."""
    page = _rpc().call("audit", "list_events", _filters(query), query.get("cursor"), query["limit"])
    items = [{**event, "record_id": (event.get("record_ids") or [None])[0]} for event in page["items"]]
    return {"items": items, "next_cursor": page["next_cursor"]}


@blp.route("/verify")
@blp.response(200, Verification)
@guarded("audit.verify", record_type="audit_event")
def verify() -> dict:
    """Recompute the hash chain and check the signed checkpoints; name the first altered, removed
    or reordered event (`first_bad_seq`) or the failing checkpoint (`failed_checkpoint`)."""
    return _rpc().call("audit", "verify")


@blp.route("/export")
@blp.arguments(ExportQuery, location="query")
@blp.response(200, {"type": "string", "description": "one audit event (`AuditEvent`) per line"},
              content_type="application/x-ndjson")  # fmt: skip
@blp.alt_response(
    200, schema={"type": "string"}, content_type="text/csv", success=True, description="with `format=csv`"
)
@guarded("audit.export", record_type="audit_event")
def export(query: dict) -> Response:
    """Stream the (filtered) log as JSON lines or CSV, up to the head when the export started.

    `X-Total-Count` says how many events follow and `X-Audit-Head-Seq` where the export stops."""
    head = _rpc().call("audit", "head")
    filters = {**_filters(query), "through_seq": head["seq"]}
    total = _rpc().call("audit", "count_events", filters)
    lines = _jsonl(filters) if query["format"] == "jsonl" else _csv(filters)
    extension = query["format"]
    return Response(
        stream_with_context(lines),
        mimetype="application/x-ndjson" if extension == "jsonl" else "text/csv",
        headers={
            "X-Total-Count": str(total),
            "X-Audit-Head-Seq": str(head["seq"]),
            "Content-Disposition": f'attachment; filename="audit-{head["seq"]}.{extension}"',
        },
    )


def _events(filters: dict) -> Iterator[dict]:
    cursor = None
    while True:
        page = _rpc().call("audit", "list_events", filters, cursor, EXPORT_PAGE)
        yield from page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return


def _jsonl(filters: dict) -> Iterator[str]:
    for event in _events(filters):
        yield json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _csv(filters: dict) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for event in _events(filters):
        writer.writerow(_row(event))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _row(event: dict) -> list:
    actor = event.get("actor") or {}
    flat = {
        **event,
        "actor_id": actor.get("id"),
        "actor_agency": actor.get("agency"),
        "actor_roles": " ".join(actor.get("roles") or []),
        "record_ids": " ".join(event.get("record_ids") or []),
        "details": json.dumps(event.get("details") or {}, sort_keys=True, ensure_ascii=False),
    }
    return [_cell(flat.get(column)) for column in CSV_COLUMNS]


def _cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula is prefixed with ``'`` (OWASP)."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
