"""28 CFR Part 23 oversight (C6, C11, C15-C17, C27).

The review queue, manual purges and legal holds of criminal intelligence, the caller's notifications
and the compliance report. The cases service decides; these views pass the caller along.
"""

from typing import Any

from flask import current_app, request

from casewire.contracts import case_inputs
from casewire.contracts.cases import ComplianceReport, HoldPage, LegalHold, NotificationPage, QueuePage, Tombstone
from gateway.api.cases import _ctx
from gateway.guards import guarded, require_purpose
from gateway.openapi import Blueprint

blp = Blueprint(
    "compliance", __name__, url_prefix="/api/v1", description="Review queue, purges, legal holds, compliance report."
)


def _call(method: str, *args) -> Any:  # the cases service's answer, as JSON
    return current_app.extensions["rpc"].call("cases", method, *args)


@blp.route("/cases/review-queue", methods=["GET"])
@blp.arguments(case_inputs.QueueQuery, location="query")
@blp.response(200, QueuePage)
@guarded("case.review_queue", record_type="case")
def review_queue(query: dict) -> dict:
    """Criminal intelligence of the caller's unit due for review within REVIEW_QUEUE_DAYS, soonest first (C15)."""
    return _call("review_queue", dict(request.args), _ctx())


@blp.route("/cases/<case_id>/purge", methods=["POST"])
@blp.arguments(case_inputs.PurgeIn, invalid="the purge is invalid")
@blp.response(200, Tombstone)
@guarded("case.purge", record_type="case", record_arg="case_id", purpose_required="intelligence")
def purge_case(body: dict, case_id: str) -> dict:
    """Purge a record by hand, with a reason (purge authority, C17); answers its content-free tombstone (C16)."""
    return _call("purge_case", case_id, body, _ctx())


@blp.route("/cases/<case_id>/holds", methods=["POST"])
@blp.arguments(case_inputs.HoldIn, invalid="the legal hold is invalid")
@blp.response(201, LegalHold)
@guarded("case.hold", record_type="case", record_arg="case_id", purpose_required="intelligence")
def place_hold(body: dict, case_id: str) -> dict:
    """Place a legal hold: the automatic purge skips the record and intake keeps its alerts (C17)."""
    return _call("place_hold", case_id, body, _ctx())


@blp.route("/cases/<case_id>/holds", methods=["GET"])
@blp.response(200, HoldPage)
@guarded("case.hold", record_type="case", record_arg="case_id", purpose_required="intelligence")
def list_holds(case_id: str) -> dict:
    """The record's legal holds, active and released."""
    return _call("list_holds", case_id, _ctx())


@blp.route("/cases/<case_id>/holds/<hold_id>/release", methods=["POST"])
@blp.arguments(case_inputs.ReleaseIn, invalid="the release is invalid")
@blp.response(200, LegalHold)
@guarded("case.hold", record_type="case", record_arg="case_id", purpose_required="intelligence")
def release_hold(body: dict, case_id: str, hold_id: str) -> dict:
    """Release a legal hold, with a reason."""
    return _call("release_hold", case_id, hold_id, body, _ctx())


@blp.route("/notifications", methods=["GET"])
@blp.response(200, NotificationPage)
@guarded("notification.read", record_type="notification")
def notifications() -> dict:
    """Notifications addressed to the caller, e.g. restricted hits for a control official (C6)."""
    return _call("list_notifications", dict(request.args), _ctx())


@blp.route("/compliance/report", methods=["GET"])
@blp.arguments(case_inputs.ReportQuery, location="query")
@blp.response(200, ComplianceReport)
@guarded("compliance.report", record_type="compliance_report", purpose_required="intelligence")
def report(query: dict) -> dict:
    """The 28 CFR Part 23 compliance report for a period (C27); a sample (`sample=N`) needs a purpose (C9)."""
    if query.get("sample"):
        require_purpose()
    return _call("compliance_report", dict(request.args), _ctx())
