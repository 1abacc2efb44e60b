"""The gateway's side of outcomes: who hears of an overdue alert, who reads metrics, the CSV."""

import csv
import io

import pytest

from gateway.app import create_app
from gateway.auth import Identity, mint_dev_token
from gateway.outcomes import combine, project, to_csv
from gateway.permissions import PERMISSIONS, allowed
from gateway.visibility import Visibility

OVERDUE = {
    "alert_id": "a-1",
    "source": "alpr",
    "priority": "high",
    "status": "assigned",
    "agency": "TX0000000",
    "unit": "patrol",
    "assignee": "bob",
    "received_at": "2026-03-02T08:00:00+00:00",
    "triage_due": "2026-03-02T08:05:00+00:00",
    "escalated_at": "2026-03-02T08:05:00+00:00",
}


def sees(sub, role, unit, agency="TX0000000", event=OVERDUE):
    identity = Identity(sub=sub, name=sub, roles=(role,), agency=agency, unit=unit)
    return Visibility(identity, lambda _: None, lambda _: None).view("alert_overdue", event) is not None


@pytest.mark.parametrize(
    "sub, role, unit, agency, seen",
    [
        ("sara", "supervisor", "patrol", "TX0000000", True),  # the answerable unit's supervisor
        ("bob", "analyst", "rtcc", "TX0000000", True),  # the assignee, wherever they sit
        ("ann", "analyst", "patrol", "TX0000000", False),  # the unit, but not a supervisor
        ("sam", "supervisor", "rtcc", "TX0000000", False),  # another unit's supervisor
        ("sara", "supervisor", "patrol", "LA0000000", False),  # another agency
    ],
)
def test_an_overdue_alert_reaches_its_units_supervisors_and_its_assignee(sub, role, unit, agency, seen):
    assert sees(sub, role, unit, agency) is seen


def test_an_overdue_alert_without_a_unit_reaches_every_supervisor_of_the_agency():
    event = {**OVERDUE, "unit": None, "assignee": None}
    assert sees("sam", "supervisor", "rtcc", event=event) and not sees("ann", "analyst", "rtcc", event=event)


def test_metrics_and_the_aging_queue_are_for_supervisors_and_admins():
    """Outcomes are for supervisors and admins."""
    assert PERMISSIONS["metrics.read"] == PERMISSIONS["alert.overdue"] == {"supervisor", "admin"}
    assert not allowed(("analyst", "detective", "auditor", "source"), "metrics.read")
    assert not allowed(("analyst", "detective", "auditor", "source"), "alert.overdue")


class Recorder:
    """Stands in for the gateway's audit trail and RPC client."""

    def __init__(self):
        self.events, self.calls = [], []

    def record(self, action, outcome, actor=None, **fields):
        self.events.append((action, outcome))

    ANSWERS = {"alert_page": {"items": [], "next_cursor": None}, "related_counts": {}}

    def call(self, service, method, *args):
        self.calls.append((service, method, *args))
        return self.ANSWERS.get(method, {"items": [], "next_cursor": None})


@pytest.mark.parametrize(
    "role, path, status, audited",
    [
        ("admin", "/api/v1/alerts?overdue=true", 200, ("alert.overdue", "allowed")),
        ("supervisor", "/api/v1/alerts?overdue=True&limit=5", 200, ("alert.overdue", "allowed")),
        ("analyst", "/api/v1/alerts?overdue=true", 403, ("alert.overdue", "denied")),
        ("admin", "/api/v1/alerts", 403, ("alert.list", "denied")),  # admins do not read the alert list
        ("admin", "/api/v1/alerts?overdue=false", 403, ("alert.list", "denied")),
        ("analyst", "/api/v1/alerts?overdue=false", 200, ("alert.list", "allowed")),
    ],
)
def test_the_aging_queue_is_guarded_by_alert_overdue_and_the_list_by_alert_list(role, path, status, audited):
    secret = "unit-test-secret-of-at-least-32-bytes-long"
    app = create_app({"STREAM_ENABLED": "false", "DEV_JWT_SECRET": secret})
    app.extensions["audit"] = app.extensions["rpc"] = recorder = Recorder()
    token = mint_dev_token(secret, "dana", [role], agency="TX0000000", unit="rtcc")
    response = app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.json
    assert recorder.events[0] == audited
    if status == 200 and "overdue=t" in path.lower():
        [(_, method, query)] = recorder.calls
        assert method == "overdue_alerts" and query["agency"] == "TX0000000" and "overdue" not in query


FUNNEL = {
    "sources": {
        "tip": {"alerts": 2, "dismissed_by_reason": {"duplicate": 1}, "time_to_assignment": {"p50": None}},
        "alpr": {"alerts": 3, "dismissed_by_reason": {"duplicate": 0}, "time_to_assignment": {"p50": 60.0}},
    },
    "total": {"alerts": 5, "dismissed_by_reason": {"duplicate": 1}, "time_to_assignment": {"p50": 60.0}},
}
OUTCOMES = {
    "sources": {"alpr": {"cases": 1, "cases_by_outcome": {"arrest": 1}}},
    "total": {"cases": 1, "cases_by_outcome": {"arrest": 1}},
}


def test_the_funnel_and_the_outcomes_combine_per_source_in_source_order():
    rows = combine(FUNNEL, OUTCOMES)
    assert [row["source"] for row in rows] == ["alpr", "tip", "total"]
    assert rows[0]["cases_by_outcome"] == {"arrest": 1} and rows[1]["cases"] is None
    assert project(rows, ("alerts",)) == [
        {"source": "alpr", "alerts": 3},
        {"source": "tip", "alerts": 2},
        {"source": "total", "alerts": 5},
    ]


def test_the_csv_has_one_row_per_source_and_a_column_per_figure():
    text = to_csv(project(combine(FUNNEL, OUTCOMES), ("alerts", "dismissed_by_reason", "time_to_assignment")))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["source", "alerts", "dismissed_by_reason_duplicate", "time_to_assignment_p50"]
    assert [(r["source"], r["alerts"], r["time_to_assignment_p50"]) for r in rows] == [
        ("alpr", "3", "60.0"),
        ("tip", "2", ""),
        ("total", "5", "60.0"),
    ]


def test_the_openapi_document_says_the_period_is_rounded_to_whole_hours():
    app = create_app({"STREAM_ENABLED": "false", "DEV_JWT_SECRET": "unit-test-secret-of-at-least-32-bytes-long"})
    spec = app.test_client().get("/api/v1/openapi.json").json
    for path in ("/api/v1/metrics/funnel", "/api/v1/metrics/timings"):
        parameters = {p["name"]: p.get("description", "") for p in spec["paths"][path]["get"]["parameters"]}
        assert "rounded down to the whole UTC hour" in parameters["since"]
        assert "rounded up to the whole UTC hour" in parameters["until"]
