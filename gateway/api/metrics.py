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
from gateway.guards import guarded
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
# Each view: its figures, the first line of its OpenAPI description, and what its 200 says when it
# says more than the figures' schema does.
VIEWS = {
    "funnel": (
        FUNNEL,
        "The funnel per source: alerts, assigned, dismissed (by reason), promoted, cases by outcome, timings.",
        "Per source and in total; `text/csv` with `?format=csv`.",
    ),
    "overdue": (
        ("alerts", "open", "escalated", "overdue_now"),
        "Alerts that passed their triage deadline untriaged (escalated), and those still overdue now.",
        None,
    ),
    "dismissals": (("alerts", "dismissed", "dismissed_by_reason"), "Dismissed alerts per source, by reason.", None),
    "sources": (
        ("alerts", "assigned", "promoted", "cases", "cases_by_outcome"),
        "Which sources led to cases, and to arrests and charges (cases by outcome).",
        None,
    ),
    "entity-reuse": (
        ("alerts", "connected_to_earlier_records", "connected_to_earlier_cases"),
        "Alerts that connected to earlier records (any, and cases) through shared entities.",
        None,
    ),
    "timings": (
        ("alerts", "time_to_assignment", "time_to_first_action"),
        "Time to assignment and to first action, in seconds (count, p50, p90).",
        None,
    ),
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


def _figures(view: str, query: dict) -> dict | Response:
    rpc = current_app.extensions["rpc"]
    wanted = {
        "agency": g.identity.agency,
        "source": query.get("source"),
        **{key: query[key].isoformat() for key in ("since", "until") if query.get(key)},
    }
    funnel = rpc.call("intake", "alert_metrics", wanted)
    cases = rpc.call("cases", "outcome_metrics", wanted) if view in NEEDS_CASES else None
    rows = outcomes.project(outcomes.combine(funnel, cases), VIEWS[view][0])
    if query["format"] == "csv":
        name = f"{view}-{funnel['since'][:10]}-{funnel['until'][:10]}.csv"
        return Response(
            outcomes.to_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    answer = {"agency": g.identity.agency, "since": funnel["since"], "until": funnel["until"]}
    return {**answer, "sources": rows[:-1], "total": rows[-1]}


def _route(view: str, summary: str, description: str | None) -> None:
    """Serve ``GET /api/v1/metrics/<view>``: the view's figures as JSON, or CSV with ``?format=csv``."""

    def answer(query: dict) -> dict | Response:
        return _figures(view, query)

    answer.__name__ = answer.__qualname__ = view.replace("-", "_")
    answer.__doc__ = summary
    answer = guarded("metrics.read", record_type="metrics")(answer)
    answer = blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="with `format=csv`")(
        answer
    )
    answer = blp.response(200, Figures, description=description)(answer)
    answer = blp.arguments(MetricsQuery, location="query")(answer)
    blp.route(f"/{view}")(answer)


for _view, (_, _summary, _description) in VIEWS.items():
    _route(_view, _summary, _description)
