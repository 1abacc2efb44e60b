"""Alerts: submit (one, a batch, or a vendor's own format), read, list and triage."""

from flask import current_app, g, request
from marshmallow import Schema, ValidationError, fields, validate

from casewire.alerts import (
    SOURCES,
    STATUSES,
    AlertSubmission,
    AssignBody,
    DismissBody,
    EscalateBody,
    IdentifyBody,
    NoteBody,
)
from casewire.contracts.alerts import (
    AlertOut,
    AlertPage,
    AlertRead,
    AlertSubmitted,
    BatchResults,
    VendorAlerts,
)
from casewire.vendors import ADAPTERS, Adapter, NothingToStore, adapt, settings_from_config
from gateway.errors import Problem
from gateway.guards import context, guarded
from gateway.limits import check_batch_size
from gateway.openapi import Blueprint
from gateway.records import require_alert_access
from gateway.related import Seen, alert_with_cases, with_related_counts
from gateway.rpc import Rpc

blp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts", description="Detection hits and their triage.")


KNOWN_EVENT = "A repeat of a known event, or a near-duplicate read folded into it: the first alert."
ONE_OR_MORE = {"oneOf": [AlertSubmitted, VendorAlerts]}  # a vendor post of one read, or of several


class AlertBody(AlertSubmission):
    """A detection hit; ``payload`` fields depend on ``source`` (see docs/api.md)."""


class BatchBody(Schema):
    alerts = fields.List(fields.Nested(AlertBody), required=True, metadata={"description": "up to MAX_BATCH"})


class AlertListQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    source = fields.String(validate=validate.OneOf(SOURCES))
    assignee = fields.String(validate=validate.Length(min=1, max=200))
    since = fields.String(metadata={"description": "received at or after (ISO 8601 with offset)"})
    until = fields.String(metadata={"description": "received before (ISO 8601 with offset)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(metadata={"description": "the `next_cursor` of the previous page"})
    overdue = fields.Boolean(
        load_default=False,
        metadata={
            "description": "the aging queue (supervisors, admins): alerts past their triage deadline, oldest first"
        },
    )


def _rpc() -> Rpc:
    return current_app.extensions["rpc"]


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Problem(400, "Bad Request", "the body must be a JSON object")
    return body


def _submit(body: dict) -> tuple[dict, int]:
    """Store through intake, which validates it, and answer with its entities and related records."""
    result = _rpc().call("intake", "create_alert", body, context())
    alert = result["alert"]
    if result.get("near_duplicate"):
        alert["near_duplicate"] = True
    if result["created"]:
        resolved = result.get("resolution")
        if resolved is None:  # the entities service was slow or down: it resolves the alert later
            alert["resolution"] = "pending"
        else:
            # The submitter is told only of the earlier records it may open (C3, C6; another agency's alerts).
            related = resolved["related"]
            seen = Seen(context(), [r["id"] for r in related if r["record_type"] == "case"])
            related = [r for r in related if seen.shows(r["record_type"], r["id"], r.get("agency"))]
            alert.update(entities=resolved["entities"], related=related)
    return alert, 201 if result["created"] else 200


@blp.route("", methods=["POST"])
@blp.doc(requestBody={"content": {"application/json": {"schema": AlertBody}}})
@blp.response(201, AlertSubmitted, description="The alert was stored; a repeat of a known event, or a "
              "near-duplicate read (same plate, same camera, in the same NEAR_DUPLICATE_SECONDS window) answers "
              "200 with the first alert. Concurrent posts of one caller are stored together (group commit), each "
              "answered once stored.")  # fmt: skip
@blp.alt_response(200, schema=AlertSubmitted, success=True, description=KNOWN_EVENT)
@guarded("alert.create", record_type="alert")
def create_alert() -> tuple[dict, int]:
    """Submit one detection hit."""
    return _submit(_json_body())


@blp.route("/batch", methods=["POST"])
@blp.doc(requestBody={"content": {"application/json": {"schema": BatchBody}}})
@blp.response(200, BatchResults, description="One result per alert, in order; one bad alert rejects no other.")
@blp.alt_response(413, description="More alerts than MAX_BATCH (1,000 by default).")
@guarded("alert.create", record_type="alert")
def create_alerts() -> dict:
    """Submit up to MAX_BATCH detection hits at once."""
    body = _json_body()
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise Problem(422, "Unprocessable Entity", "the batch is invalid", {"alerts": ["a list of alerts"]})
    check_batch_size(alerts, "alerts")
    return _rpc().call("intake", "create_alerts", alerts, context())


def _vendor_view(vendor_format: str, adapter: Adapter) -> None:
    """One documented endpoint per vendor format: ``POST /api/v1/alerts/vendors/<format>``."""

    def create_vendor_alert() -> tuple[dict, int]:
        try:
            mapped = adapt(vendor_format, _json_body(), current_app.extensions["vendors"])
        except ValidationError as exc:
            raise Problem(422, "Unprocessable Entity", f"not a valid {vendor_format} body", exc.messages) from exc
        except NothingToStore as exc:
            return {"alerts": [], "detail": f"nothing to store: {exc}"}, 202
        if len(mapped) == 1:
            return _submit(mapped[0])
        answers = [_submit(alert) for alert in mapped]
        return {"alerts": [alert for alert, _ in answers]}, 201 if any(s == 201 for _, s in answers) else 200

    create_vendor_alert.__doc__ = (
        f"Submit {adapter.summary}.\n\n"
        "Mapped to alerts (docs/vendor-formats.md), then validated and stored like POST /api/v1/alerts. "
        'A body holding several reads answers `{"alerts": [...]}`, 201 when any of them is new.'
    )
    view = guarded("alert.create", record_type="alert")(create_vendor_alert)
    view.__name__ = f"create_{vendor_format}_alert"
    view = blp.alt_response(
        202, schema=VendorAlerts, success=True, description="A well-formed post holding no read or hit: not stored."
    )(view)
    view = blp.alt_response(200, schema=ONE_OR_MORE, success=True, description=KNOWN_EVENT)(view)
    view = blp.response(201, ONE_OR_MORE, description="Stored (200 for a known or folded event).")(view)
    view = blp.doc(requestBody={"content": {"application/json": {"schema": adapter.body}}})(view)
    blp.route(f"/vendors/{vendor_format}", methods=["POST"], endpoint=view.__name__)(view)


for _format, _adapter in ADAPTERS.items():
    _vendor_view(_format, _adapter)

# VENDOR_CAMERAS is read once, when the gateway registers this blueprint: a bad table stops it there.
blp.record_once(lambda state: state.app.extensions.setdefault("vendors", settings_from_config(state.app.config)))


@blp.route("")
@blp.arguments(AlertListQuery, location="query")
@blp.response(200, AlertPage)
@guarded("alert.list", record_type="alert", flag_action=("overdue", "alert.overdue"))
def list_alerts(query: dict) -> dict:
    """Alerts newest first, filtered; each with ``related_count`` (records sharing its entities that you
    may see, counted now); ``next_cursor`` pages on. The list is read from the search index, so a
    change reaches it within about a second (docs/search.md).

    With ``overdue=true`` (supervisors and admins, ``alert.overdue`` instead of ``alert.list``): the
    agency's alerts past their triage deadline that nobody has triaged yet, the longest overdue first.
    """
    if query.get("overdue"):
        filters = {key: value for key, value in query.items() if key != "overdue"}
        page = _rpc().call("intake", "overdue_alerts", {**filters, "agency": g.identity.agency})
        return with_related_counts(page, context(), lambda alert: [alert["id"]])
    filters = {key: query[key] for key in ("status", "source", "assignee", "since", "until") if query.get(key)}
    return _rpc().call("search", "alert_page", filters, context(), query["limit"], query.get("cursor"))


def _open_alert(alert_id: str) -> dict:
    """The alert, when the caller may open it (its agency's, or assigned to it); else 403, audited."""
    return require_alert_access(_rpc().call("intake", "get_alert", alert_id))


@blp.route("/<alert_id>")
@blp.response(200, AlertRead)
@guarded("alert.read", record_type="alert", record_arg="alert_id")
def get_alert(alert_id: str) -> dict:
    """One alert with its entities, related records, related cases, the cases it was promoted into and action log."""
    return alert_with_cases(_open_alert(alert_id), context())


@blp.route("/<alert_id>/assign", methods=["POST"])
@blp.arguments(AssignBody)
@blp.response(200, AlertOut, description="The alert, now `assigned`; 409 when it is dismissed or promoted.")
@guarded("alert.assign", record_type="alert", record_arg="alert_id")
def assign_alert(body: dict, alert_id: str) -> dict:
    """Assign an alert to a person (`assignee`), a unit, or both."""
    _open_alert(alert_id)
    return _rpc().call("intake", "assign_alert", alert_id, body, context())


@blp.route("/<alert_id>/notes", methods=["POST"])
@blp.arguments(NoteBody)
@blp.response(200, AlertOut, description="The alert with the note at the end of its action log.")
@guarded("alert.note", record_type="alert", record_arg="alert_id")
def add_note(body: dict, alert_id: str) -> dict:
    """Add a note to an alert's action log."""
    _open_alert(alert_id)
    return _rpc().call("intake", "add_note", alert_id, body, context())


@blp.route("/<alert_id>/dismiss", methods=["POST"])
@blp.arguments(DismissBody)
@blp.response(200, AlertOut, description="The alert, now `dismissed`; 409 when it is already dismissed or promoted.")
@guarded("alert.dismiss", record_type="alert", record_arg="alert_id")
def dismiss_alert(body: dict, alert_id: str) -> dict:
    """Dismiss an alert with a reason from the controlled list and words."""
    _open_alert(alert_id)
    return _rpc().call("intake", "dismiss_alert", alert_id, body, context())


@blp.route("/<alert_id>/escalate", methods=["POST"])
@blp.arguments(EscalateBody)
@blp.response(
    200,
    AlertOut,
    description="The alert, `overdue` with `escalated_at` and `escalation` (who, when, why): in the aging queue, "
    "announced to its unit's supervisors (`alert_overdue`). An alert escalated already (by a person or at its "
    "triage deadline) answers that escalation unchanged. 409 when it is dismissed or promoted.",
)
@guarded("alert.escalate", record_type="alert", record_arg="alert_id")
def escalate_alert(body: dict, alert_id: str) -> dict:
    """Escalate an alert to the supervisors now, saying why."""
    _open_alert(alert_id)
    return _rpc().call("intake", "escalate_alert", alert_id, body, context())


@blp.route("/<alert_id>/identify", methods=["POST"])
@blp.arguments(IdentifyBody)
@blp.response(
    200,
    AlertOut,
    description="The face alert with `identified: true` and its `identification` (reviewer, time, evidence, "
    "note); it keeps the investigative-lead notice. 409 when the alert is not a face alert, is dismissed or "
    "is already identified; 422 when the evidence is missing, of an unknown type, or is the face match itself.",
)
@guarded("alert.identify", record_type="alert", record_arg="alert_id")
def identify_alert(body: dict, alert_id: str) -> dict:
    """Mark a face alert identified: you, a human reviewer, and at least one independent evidence reference (C26).

    The face match is an investigative lead only; its probe image or candidate subject id is not
    evidence of identity. Evidence `type` is one of `fingerprint`, `dna`, `document`, `witness`,
    `interview`, `records_check`, `other` (`other` needs a `description`).
    """
    _open_alert(alert_id)
    return _rpc().call("intake", "identify_alert", alert_id, body, context())
