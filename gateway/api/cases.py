"""Cases, alert promotion and webhook subscriptions.

Bodies are validated by the cases service (422 naming each field); these views pass the caller,
the stated purpose (``X-Purpose``) and case number (``X-Case-Number``) along (C9).
"""

import base64
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, request
from marshmallow import Schema

from casewire.contracts import case_inputs
from casewire.contracts.cases import (
    Attachment,
    CaseBundle,
    CaseOut,
    CasePage,
    CaseRelated,
    ContentItem,
    ContentPage,
    Dissemination,
    DisseminationPage,
    EvidenceItem,
    Timeline,
    Tombstone,
    WebhookCreated,
    WebhookPage,
)
from gateway.errors import Problem
from gateway.guards import context, guarded
from gateway.openapi import Blueprint
from gateway.related import with_related_counts

blp = Blueprint("cases", __name__, url_prefix="/api/v1", description="Case files, their contents and their links.")

BINARY = {"type": "string", "format": "binary"}


def _call(method: str, *args) -> Any:  # the cases service's answer, as JSON
    return current_app.extensions["rpc"].call("cases", method, *args)


def _ctx() -> dict:
    """The caller, with the purpose and case number C9 asks for and the client address the cases
    service's own audit events carry (C21)."""
    return {
        **context(),
        "purpose": request.headers.get("X-Purpose") or request.args.get("purpose"),
        "case_number": request.headers.get("X-Case-Number") or request.args.get("case_number"),
        "client_address": request.remote_addr,
    }


def _attachment(filename: str) -> str:
    """A ``Content-Disposition`` naming ``filename`` safely: an ASCII fallback with quotes, backslashes
    and control or non-ASCII characters replaced by ``_``, and the exact name as RFC 5987 ``filename*``."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Problem(400, "Bad Request", "the body must be a JSON object")
    return body


def _json(schema: type[Schema]) -> dict:
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


@blp.route("/cases", methods=["POST"])
@blp.arguments(case_inputs.CaseIn, invalid="the case is invalid")
@blp.response(201, CaseOut)
@guarded("case.create", record_type="case", purpose_required="intelligence")
def create_case(body: dict) -> dict:
    """Open a case; criminal intelligence must carry its predicate and labels (C2, C5)."""
    return _call("create_case", body, _ctx())


@blp.route("/cases", methods=["GET"])
@blp.arguments(case_inputs.CaseListQuery, location="query")
@blp.response(200, CasePage)
@guarded("case.list", record_type="case", purpose_required="intelligence")
def list_cases(query: dict) -> dict:
    """Cases the caller may see, newest first, with related_count; filters status, assignee, classification, unit."""
    return with_related_counts(
        _call("list_cases", dict(request.args), _ctx()),
        _ctx(),
        lambda case: [case["id"], *(case.get("alert_ids") or [])],
    )


@blp.route("/cases/<case_id>", methods=["GET"])
@blp.response(200, CaseOut)
@guarded("case.read", record_type="case", record_arg="case_id", purpose_required="intelligence")
def get_case(case_id: str) -> dict:
    """One case with its links, labels and review history."""
    return _call("get_case", case_id, _ctx())


# A change is documented, not validated, here: the service opens the case before it judges the change, so
# a caller who may not see the case, or states no purpose, is refused (and audited) first (C6, C9).
@blp.route("/cases/<case_id>", methods=["PATCH"])
@blp.doc(**_json(case_inputs.CasePatch))
@blp.response(200, CaseOut)
@guarded("case.update", record_type="case", record_arg="case_id", purpose_required="intelligence")
def update_case(case_id: str) -> dict:
    """Edit a case or move it through its workflow (illegal transitions are 409)."""
    return _call("update_case", case_id, _body(), _ctx())


@blp.route("/cases/<case_id>/review", methods=["POST"])
@blp.arguments(case_inputs.ReviewIn, invalid="the review is invalid")
@blp.response(200, {"oneOf": [CaseOut, Tombstone]}, description="The case; `decision: purge` answers its tombstone.")
@guarded("case.review", record_type="case", record_arg="case_id", purpose_required="intelligence")
def review_case(body: dict, case_id: str) -> dict:
    """Approve (C3) or validate (C14) criminal intelligence, with a written justification."""
    return _call("review_case", case_id, body, _ctx())


@blp.route("/cases/<case_id>/alerts", methods=["POST"])
@blp.arguments(case_inputs.LinkAlertIn, invalid="the link is invalid")
@blp.response(200, CaseOut)
@guarded("case.link", record_type="case", record_arg="case_id", purpose_required="intelligence")
def link_alert(body: dict, case_id: str) -> dict:
    """Link an alert to the case (an alert may belong to several cases)."""
    return _call("link_alert", case_id, body, _ctx())


@blp.route("/cases/<case_id>/alerts/<alert_id>/unlink", methods=["POST"])
@blp.arguments(case_inputs.UnlinkIn, invalid="the unlink is invalid")
@blp.response(200, CaseOut)
@guarded("case.link", record_type="case", record_arg="case_id", purpose_required="intelligence")
def unlink_alert(body: dict, case_id: str, alert_id: str) -> dict:
    """Unlink an alert, with a reason."""
    return _call("unlink_alert", case_id, alert_id, body, _ctx())


@blp.route("/cases/<case_id>/entities", methods=["POST"])
@blp.arguments(case_inputs.LinkEntityIn, invalid="the link is invalid")
@blp.response(200, CaseOut)
@guarded("case.link", record_type="case", record_arg="case_id", purpose_required="intelligence")
def link_entity(body: dict, case_id: str) -> dict:
    """Link an entity with its role (suspect, victim, witness, vehicle_of_interest...)."""
    return _call("link_entity", case_id, body, _ctx())


@blp.route("/cases/<case_id>/merge", methods=["POST"])
@blp.arguments(case_inputs.CasesMergeIn, invalid="the merge is invalid")
@blp.response(200, CaseOut)
@guarded("case.merge", record_type="case", record_arg="case_id", purpose_required="intelligence")
def merge_case(body: dict, case_id: str) -> dict:
    """Merge another case into this one; every moved part keeps its origin case."""
    return _call("merge_cases", case_id, body, _ctx())


# One route per kind of item, each with its own body; the cases service's ``add_item`` takes them all.
@blp.route("/cases/<case_id>/notes", methods=["POST"])
@blp.arguments(case_inputs.NoteIn, invalid="the note is invalid")
@blp.response(201, ContentItem)
@guarded("case.content", record_type="case", record_arg="case_id", purpose_required="intelligence")
def add_note(body: dict, case_id: str) -> dict:
    """Add a note to the case."""
    return _call("add_item", case_id, "notes", body, _ctx())


@blp.route("/cases/<case_id>/reports", methods=["POST"])
@blp.arguments(case_inputs.ReportIn, invalid="the report is invalid")
@blp.response(201, ContentItem)
@guarded("case.content", record_type="case", record_arg="case_id", purpose_required="intelligence")
def add_report(body: dict, case_id: str) -> dict:
    """Add a report: title, body and report type (investigative unless given)."""
    return _call("add_item", case_id, "reports", body, _ctx())


@blp.route("/cases/<case_id>/interviews", methods=["POST"])
@blp.arguments(case_inputs.InterviewIn, invalid="the interview is invalid")
@blp.response(201, ContentItem)
@guarded("case.content", record_type="case", record_arg="case_id", purpose_required="intelligence")
def add_interview(body: dict, case_id: str) -> dict:
    """Add an interview: who, when, by whom (you unless given), summary and the case's attachments."""
    return _call("add_item", case_id, "interviews", body, _ctx())


@blp.route("/cases/<case_id>/tasks", methods=["POST"])
@blp.arguments(case_inputs.TaskIn, invalid="the task is invalid")
@blp.response(201, ContentItem)
@guarded("case.content", record_type="case", record_arg="case_id", purpose_required="intelligence")
def add_task(body: dict, case_id: str) -> dict:
    """Add a task: title, assignee and due time."""
    return _call("add_item", case_id, "tasks", body, _ctx())


@blp.route("/cases/<case_id>/<any(notes, reports, interviews, tasks, evidence):kind>", methods=["GET"])
@blp.response(200, ContentPage)
@guarded("case.read", record_type="case", record_arg="case_id", purpose_required="intelligence")
def list_items(case_id: str, kind: str) -> dict:
    """A case's notes, reports, interviews, tasks or evidence items, oldest first."""
    return _call("list_items", case_id, kind, _ctx())


@blp.route("/cases/<case_id>/evidence", methods=["POST"])
@blp.arguments(case_inputs.EvidenceIn, invalid="the evidence item is invalid")
@blp.response(201, EvidenceItem)
@guarded("case.evidence", record_type="case", record_arg="case_id", purpose_required="intelligence")
def add_evidence(body: dict, case_id: str) -> dict:
    """Log an evidence item and its first custody entries (the chain can only be appended to)."""
    return _call("add_evidence", case_id, body, _ctx())


@blp.route("/cases/<case_id>/evidence/<evidence_id>", methods=["GET"])
@blp.response(200, EvidenceItem)
@guarded("case.read", record_type="case", record_arg="case_id", purpose_required="intelligence")
def get_evidence(case_id: str, evidence_id: str) -> dict:
    """One evidence item with its whole chain of custody."""
    return _call("get_evidence", case_id, evidence_id, _ctx())


@blp.route("/cases/<case_id>/evidence/<evidence_id>/custody", methods=["POST"])
@blp.arguments(case_inputs.CustodyIn, invalid="the custody entry is invalid")
@blp.response(201, EvidenceItem)
@guarded("case.evidence", record_type="case", record_arg="case_id", purpose_required="intelligence")
def add_custody(body: dict, case_id: str, evidence_id: str) -> dict:
    """Append one custody transfer: from, to, at, reason, condition."""
    return _call("add_custody", case_id, evidence_id, body, _ctx())


@blp.route("/cases/<case_id>/attachments", methods=["POST"])
@blp.doc(
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            }
        }
    }
)
@blp.response(201, Attachment)
@guarded("case.attachment.upload", record_type="case", record_arg="case_id", purpose_required="intelligence")
def upload_attachment(case_id: str) -> dict:
    """Upload a file (multipart field ``file``); its type is sniffed and its SHA-256 recorded."""
    upload = request.files.get("file")
    if upload is None:
        raise Problem(422, "Unprocessable Entity", "a multipart field named file is required", {"file": ["required"]})
    data = base64.b64encode(upload.read()).decode()
    return _call("upload_attachment", case_id, upload.filename, data, upload.mimetype, _ctx())


@blp.route("/cases/<case_id>/attachments/<attachment_id>", methods=["GET"])
@blp.response(200, BINARY, content_type="*/*", description="The file, as the type sniffed at upload names it.")
@guarded("case.attachment.read", record_type="attachment", record_arg="attachment_id", purpose_required="intelligence")
def get_attachment(case_id: str, attachment_id: str) -> Response:
    """Download a file after checking it against its recorded SHA-256 (a mismatch is a 500, audited)."""
    found = _call("get_attachment", case_id, attachment_id, _ctx())
    return Response(
        base64.b64decode(found["data"]),
        mimetype=found["content_type"],
        headers={
            "Content-Disposition": _attachment(found["filename"]),
            "X-Content-SHA256": found["sha256"],
            "X-Content-Type-Options": "nosniff",
        },
    )


@blp.route("/cases/<case_id>/related", methods=["GET"])
@blp.response(200, CaseRelated)
@guarded("case.read", record_type="case", record_arg="case_id", purpose_required="intelligence")
def related(case_id: str) -> dict:
    """Cases and alerts that share entities with this case, with the shared entities named."""
    return _call("related", case_id, _ctx())


@blp.route("/cases/<case_id>/timeline", methods=["GET"])
@blp.response(200, Timeline)
@guarded("case.read", record_type="case", record_arg="case_id", purpose_required="intelligence")
def timeline(case_id: str) -> dict:
    """Every action, link, content item and sighting of the case, oldest first."""
    return _call("timeline", case_id, _ctx())


@blp.route("/cases/<case_id>/disseminations", methods=["POST"])
@blp.arguments(case_inputs.DisseminationIn, invalid="the dissemination is invalid")
@blp.response(201, Dissemination)
@guarded("case.disseminate", record_type="case", record_arg="case_id", purpose_required="intelligence")
def disseminate(body: dict, case_id: str) -> dict:
    """Record a release of the case outside its unit: recipient, agency, purpose, need to know (C10)."""
    return _call("disseminate", case_id, body, _ctx())


@blp.route("/cases/<case_id>/disseminations", methods=["GET"])
@blp.response(200, DisseminationPage)
@guarded("case.read", record_type="case", record_arg="case_id", purpose_required="intelligence")
def list_disseminations(case_id: str) -> dict:
    """The case's dissemination log (C10)."""
    return _call("list_disseminations", case_id, _ctx())


@blp.route("/cases/<case_id>/export", methods=["GET"])
@blp.arguments(case_inputs.ExportIn, location="query")
@blp.response(200, BINARY, content_type="application/pdf", description="The case file as a PDF.")
@blp.alt_response(200, schema=CaseBundle, success=True, description="With `format=json`: the case file as JSON.")
@guarded("case.export", record_type="case", record_arg="case_id", purpose_required="intelligence")
def export_case(query: dict, case_id: str) -> Response | tuple[dict, int, dict]:
    """The whole case file as a PDF or a JSON bundle with attachment hashes; a dissemination (C10)."""
    exported = _call("export_case", case_id, dict(request.args), _ctx())
    headers = {
        "Content-Disposition": _attachment(exported["filename"]),
        "X-Dissemination-Id": exported["dissemination_id"],
    }
    if exported["format"] == "json":
        return exported["bundle"], 200, headers
    return Response(base64.b64decode(exported["data"]), mimetype="application/pdf", headers=headers)


@blp.route("/cases/<case_id>/disposition", methods=["POST"])
@blp.arguments(case_inputs.DispositionIn, invalid="the disposition is invalid")
@blp.response(200, CaseOut, description="The case with its `disposition`; 409 unless the case is closed or referred.")
@guarded("case.disposition", record_type="case", record_arg="case_id", purpose_required="intelligence")
def record_disposition(body: dict, case_id: str) -> dict:
    """Record how a closed or referred case ended: outcome, date, note (who and when are recorded)."""
    return _call("record_disposition", case_id, body, _ctx())


@blp.route("/alerts/<alert_id>/promote", methods=["POST"])
@blp.arguments(case_inputs.PromoteIn, invalid="the promotion is invalid")
@blp.response(200, CaseOut)
@guarded("alert.promote", record_type="alert", record_arg="alert_id", purpose_required="intelligence")
def promote_alert(body: dict, alert_id: str) -> dict:
    """Promote an alert into ``case_id`` or into a new case from the body's fields (C7 for intelligence)."""
    return _call("promote_alert", alert_id, body, _ctx())


@blp.route("/webhooks", methods=["POST"])
@blp.arguments(case_inputs.WebhookIn, invalid="the webhook is invalid")
@blp.response(201, WebhookCreated)
@guarded("webhook.manage", record_type="webhook")
def create_webhook(body: dict) -> dict:
    """Subscribe a URL (its host in ``WEBHOOK_ALLOWED_HOSTS``) to case events; deliveries carry ids, not content."""
    return _call("create_webhook", body, _ctx())


@blp.route("/webhooks/<webhook_id>", methods=["DELETE"])
@blp.response(204)
@guarded("webhook.manage", record_type="webhook", record_arg="webhook_id")
def delete_webhook(webhook_id: str) -> None:
    """Unsubscribe a webhook of your unit; its pending deliveries are cancelled."""
    _call("delete_webhook", webhook_id, _ctx())


@blp.route("/webhooks", methods=["GET"])
@blp.response(200, WebhookPage)
@guarded("webhook.manage", record_type="webhook")
def list_webhooks() -> dict:
    """The agency's webhook subscriptions."""
    return _call("list_webhooks", _ctx())
