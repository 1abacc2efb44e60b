"""Outcome metrics: what each detection source led to, for supervisors and admins.

Every figure is of the caller's agency. Alert figures count alerts received in ``[since, until)``;
case figures count cases opened in it. The period is taken in whole UTC hours (``since`` rounded down,
``until`` up; the answer names the period counted), and the figures come from tallies the services
recompute every few seconds (docs/outcomes.md). ``?format=csv`` answers the same rows as CSV.
"""

from flask import Response, current_app, g
from marshmallow import Schema, fields, validate

from casewire.alerts import SOURCES
from casewire.contracts.metrics import Figures
from gateway import outcomes
from gateway.access import guarded
from gateway.openapi import Blueprint

blp = Blueprint(
    "metrics", __name__, url_prefix="/api/v1/metrics", description="Outcomes: the funnel from alert to case outcome."
)

FUNNEL = (
    "alerts",
    "assigned",
    "dismissed",
    "dismissed_by_reason",
    "promoted",
    "cases",
    "cases_by_outcome",
    "open",
    "escalated",
    "overdue_now",
    "time_to_assignment",
    "time_to_first_action",
)
VIEWS = {
    "funnel": FUNNEL,
    "overdue": ("alerts", "open", "escalated", "overdue_now"),
    "dismissals": ("alerts", "dismissed", "dismissed_by_reason"),
    "sources": ("alerts", "assigned", "promoted", "cases", "cases_by_outcome"),
    "entity-reuse": ("alerts", "connected_to_earlier_records", "connected_to_earlier_cases"),
    "timings": ("alerts", "time_to_assignment", "time_to_first_action"),
}
NEEDS_CASES = {"funnel", "sources"}
CSV = {"type": "string", "description": "the same rows as CSV, nested figures as `outer_inner` columns"}


class MetricsQuery(Schema):
    since = fields.AwareDateTime(
        metadata={
            "description": "from (inclusive; default: 30 days before until), rounded down to the whole UTC hour; "
            "the answer's `since` is the start counted"
        }
    )
    until = fields.AwareDateTime(
        metadata={
            "description": "to (exclusive; default: now), rounded up to the whole UTC hour; the answer's `until` "
            "is the end counted. Figures lag the records by a few seconds (the tallies' sweep)"
        }
    )
    source = fields.String(validate=validate.OneOf(SOURCES))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


def _figures(view: str, query: dict):
    rpc = current_app.extensions["rpc"]
    wanted = {
        "agency": g.identity.agency,
        "source": query.get("source"),
        **{key: query[key].isoformat() for key in ("since", "until") if query.get(key)},
    }
    funnel = rpc.call("intake", "alert_metrics", wanted)
    cases = rpc.call("cases", "outcome_metrics", wanted) if view in NEEDS_CASES else None
    rows = outcomes.project(outcomes.combine(funnel, cases), VIEWS[view])
    if query["format"] == "csv":
        name = f"{view}-{funnel['since'][:10]}-{funnel['until'][:10]}.csv"
        return Response(
            outcomes.to_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    answer = {"agency": g.identity.agency, "since": funnel["since"], "until": funnel["until"]}
    return {**answer, "sources": rows[:-1], "total": rows[-1]}


@blp.route("/funnel")
@blp.arguments(MetricsQuery, location="query")
@blp.response(200, Figures, description="Per source and in total; `text/csv` with `?format=csv`.")
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="with `format=csv`")
@guarded("metrics.read", record_type="metrics")
def funnel(query):
    """The funnel per source: alerts, assigned, dismissed (by reason), promoted, cases by outcome, timings."""
    return _figures("funnel", query)


@blp.route("/overdue")
@blp.arguments(MetricsQuery, location="query")
@blp.response(200, Figures)
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="with `format=csv`")
@guarded("metrics.read", record_type="metrics")
def overdue(query):
    """Alerts that passed their triage deadline untriaged (escalated), and those still overdue now."""
    return _figures("overdue", query)


@blp.route("/dismissals")
@blp.arguments(MetricsQuery, location="query")
@blp.response(200, Figures)
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="with `format=csv`")
@guarded("metrics.read", record_type="metrics")
def dismissals(query):
    """Dismissed alerts per source, by reason."""
    return _figures("dismissals", query)


@blp.route("/sources")
@blp.arguments(MetricsQuery, location="query")
@blp.response(200, Figures)
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="with `format=csv`")
@guarded("metrics.read", record_type="metrics")
def sources(query):
    """Which sources led to cases, and to arrests and charges (cases by outcome)."""
    return _figures("sources", query)


@blp.route("/entity-reuse")
@blp.arguments(MetricsQuery, location="query")
@blp.response(200, Figures)
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="with `format=csv`")
@guarded("metrics.read", record_type="metrics")
def entity_reuse(query):
    """Alerts that connected to earlier records (any, and cases) through shared entities."""
    return _figures("entity-reuse", query)


@blp.route("/timings")
@blp.arguments(MetricsQuery, location="query")
@blp.response(200, Figures)
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="with `format=csv`")
@guarded("metrics.read", record_type="metrics")
def timings(query):
    """Time to assignment and to first action, in seconds (count, p50, p90)."""
    return _figures("timings", query)
