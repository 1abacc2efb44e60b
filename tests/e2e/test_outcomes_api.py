"""Outcomes through the gateway: overdue alerts on the stream and in the aging
queue, dispositions, and the metrics as JSON and CSV for supervisors and admins only."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from casewire.tallies import whole_hours
from tests.e2e.sse import EventStream
from tests.polling import eventually


def tip(narrative="Blue sedan behind the pharmacy every night", priority="normal", subjects=()):
    payload = {"narrative": narrative, **({"subjects": list(subjects)} if subjects else {})}
    return {
        "source": "tip",
        "source_system": "hotline",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-02T07:00:00Z",
        "priority": priority,
        "payload": payload,
    }


def social():
    return {
        "source": "social",
        "source_system": "monitor",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-02T07:00:00Z",
        "priority": "low",  # the e2e stack gives low social alerts a 1 s triage deadline
        "payload": {"platform": "x", "handle": f"h{uuid.uuid4().hex[:6]}", "text": "meet at the lot"},
    }


def test_an_untriaged_alert_reaches_the_units_supervisor_and_the_aging_queue(gateway):
    supervisor = gateway.token("supervisor", sub="sara", unit="rtcc")
    stream = EventStream(f"{gateway.url}/api/v1/stream", supervisor)
    try:
        alert = gateway.post("/api/v1/alerts", json=social()).json()
        seen = stream.until(lambda e: e["event"] == "alert_overdue" and e["data"]["alert_id"] == alert["id"])
        assert seen[-1]["data"]["unit"] == "rtcc" and seen[-1]["data"]["status"] == "new"
    finally:
        stream.close()
    queue = gateway.get("/api/v1/alerts?overdue=true&limit=500", token=supervisor)
    assert queue.status_code == 200 and alert["id"] in [item["id"] for item in queue.json()["items"]]
    dues = [item["triage_due"] for item in queue.json()["items"]]
    assert dues == sorted(dues)
    assert gateway.get("/api/v1/alerts?overdue=true").status_code == 403  # analysts
    admin = gateway.get("/api/v1/alerts?overdue=true&limit=500", roles=("admin",))  # supervisors and admins
    assert admin.status_code == 200 and alert["id"] in [item["id"] for item in admin.json()["items"]]
    assert gateway.get("/api/v1/alerts", roles=("admin",)).status_code == 403  # but not the alert list
    gateway.post(
        f"/api/v1/alerts/{alert['id']}/assign", token=gateway.token("analyst", sub="ann"), json={"assignee": "ann"}
    )
    queue = gateway.get("/api/v1/alerts?overdue=true&limit=500", token=supervisor).json()
    assert alert["id"] not in [item["id"] for item in queue["items"]]


def test_a_disposition_is_recorded_when_the_case_is_closed(gateway):
    detective = gateway.token("detective", sub="dana", unit="robbery")
    case = gateway.post("/api/v1/cases", token=detective, json={"title": "Gas station robbery", "unit": "robbery"})
    path = f"/api/v1/cases/{case.json()['id']}"
    body = {"outcome": "arrest", "date": "2026-03-01", "note": "Arrested on a warrant"}
    refused = gateway.post(f"{path}/disposition", token=detective, json=body)
    assert refused.status_code == 409 and refused.headers["Content-Type"] == "application/problem+json"
    assert gateway.request("PATCH", path, token=detective, json={"status": "closed"}).status_code == 200
    invalid = gateway.post(f"{path}/disposition", token=detective, json={"outcome": "solved", "date": "2026-03-01"})
    assert invalid.status_code == 422 and "outcome" in invalid.json()["errors"]
    recorded = gateway.post(f"{path}/disposition", token=detective, json=body)
    assert recorded.status_code == 200 and recorded.json()["disposition"]["recorded_by"] == "dana"
    timeline = gateway.get(f"{path}/timeline", token=detective).json()["items"]
    assert any(item.get("action") == "disposition_recorded" for item in timeline)


def test_the_funnel_counts_an_alert_connected_to_an_earlier_case(gateway):
    """Each step by its real producer: a tip names a van, a case links the van's entity, a later tip names
    the van again; the entities service relates it to the case, and the entity-reuse view counts it."""
    agency = f"TX{uuid.uuid4().hex[:7]}"
    analyst = gateway.token("analyst", sub="ann", agency=agency, unit="rtcc")
    van = {"type": "vehicle", "plate": f"V{uuid.uuid4().hex[:6].upper()}", "plate_state": "TX"}
    first = gateway.post("/api/v1/alerts", token=analyst, json=tip(subjects=[van])).json()

    def vehicles():
        alert = gateway.get(f"/api/v1/alerts/{first['id']}", token=analyst).json()
        return [entity["id"] for entity in alert["entities"] if entity["type"] == "vehicle"]

    [vehicle] = eventually(vehicles)
    case = gateway.post("/api/v1/cases", token=analyst, json={"title": "Van thefts"})
    assert case.status_code == 201, case.text
    link = {"entity_id": vehicle, "role": "vehicle_of_interest"}
    linked = gateway.post(f"/api/v1/cases/{case.json()['id']}/entities", token=analyst, json=link)
    assert linked.status_code == 200, linked.text
    gateway.post("/api/v1/alerts", token=analyst, json=tip("The van is back at the lot", subjects=[van]))

    supervisor = gateway.token("supervisor", sub="sara", agency=agency)
    now = datetime.now(UTC)
    period = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(hours=1)).isoformat()}

    def reuse():
        answer = gateway.get("/api/v1/metrics/entity-reuse", token=supervisor, params=period)
        assert answer.status_code == 200, answer.text
        row = {row["source"]: row for row in answer.json()["sources"]}["tip"]
        return row if row["connected_to_earlier_cases"] else None

    row = eventually(reuse, timeout=30)  # the figures follow the records by a sweep (TALLY_SECONDS)
    assert row == {"source": "tip", "alerts": 2, "connected_to_earlier_records": 1, "connected_to_earlier_cases": 1}


def test_the_funnel_of_an_agency_as_json_and_csv_for_supervisors_and_admins(gateway):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    analyst = gateway.token("analyst", sub="ann", agency=agency, unit="rtcc")
    van = {"type": "vehicle", "plate": f"V{uuid.uuid4().hex[:6].upper()}", "plate_state": "TX"}
    dropped = gateway.post("/api/v1/alerts", token=analyst, json=tip(subjects=[van])).json()
    kept = gateway.post("/api/v1/alerts", token=analyst, json=tip("Stolen bikes sold from a van", subjects=[van]))
    kept = kept.json()  # names the van the first tip named: connected to an earlier record
    gateway.post(f"/api/v1/alerts/{dropped['id']}/dismiss", token=analyst, json={"reason": "duplicate", "text": "x"})
    gateway.post(f"/api/v1/alerts/{kept['id']}/assign", token=analyst, json={"assignee": "ann"})
    case = gateway.post(f"/api/v1/alerts/{kept['id']}/promote", token=analyst, json={"title": "Bike thefts"}).json()
    gateway.request("PATCH", f"/api/v1/cases/{case['id']}", token=analyst, json={"status": "closed"})
    body = {"outcome": "arrest", "date": "2026-03-01"}
    assert gateway.post(f"/api/v1/cases/{case['id']}/disposition", token=analyst, json=body).status_code == 200

    supervisor = gateway.token("supervisor", sub="sara", agency=agency)
    now = datetime.now(UTC)
    since, until = now - timedelta(hours=1), now + timedelta(hours=1)
    period = {"since": since.isoformat(), "until": until.isoformat()}
    rounded = tuple(at.isoformat() for at in whole_hours(since, until))  # the tallies count whole hours

    def view(name, **query):
        answer = gateway.get(f"/api/v1/metrics/{name}", token=supervisor, params={**period, **query})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["since"], answer.json()["until"]) == rounded
        rows = {row["source"]: row for row in answer.json()["sources"]}
        return rows["tip"], answer.json()["total"]

    def settled():  # the figures follow the records by a sweep (TALLY_SECONDS, short in the e2e stack)
        row = view("funnel", source="tip")[0]
        counts = {key: row[key] for key in ("alerts", "assigned", "dismissed", "promoted", "cases", "open")}
        wanted = {"alerts": 2, "assigned": 1, "dismissed": 1, "promoted": 1, "cases": 1, "open": 0}
        return counts == wanted and row["cases_by_outcome"]["arrest"] == 1

    eventually(settled, timeout=30)
    row = view("funnel", source="tip")[0]
    assert row["dismissed_by_reason"]["duplicate"] == 1 and row["cases_by_outcome"]["arrest"] == 1
    assert row["time_to_assignment"]["count"] == 1 and row["time_to_first_action"]["count"] == 2
    assert (row["escalated"], row["overdue_now"]) == (0, 0)

    assert view("overdue")[0] == {"source": "tip", "alerts": 2, "open": 0, "escalated": 0, "overdue_now": 0}
    dismissals = view("dismissals")[0]
    assert (dismissals["dismissed"], dismissals["dismissed_by_reason"]["duplicate"]) == (1, 1)
    sources, total = view("sources")
    assert {key: sources[key] for key in ("alerts", "assigned", "promoted", "cases")} == {
        "alerts": 2,
        "assigned": 1,
        "promoted": 1,
        "cases": 1,
    }
    assert sources["cases_by_outcome"]["arrest"] == 1 and total["cases"] == 1
    reuse = eventually(lambda: (found := view("entity-reuse")[0])["connected_to_earlier_records"] == 1 and found)
    assert reuse == {"source": "tip", "alerts": 2, "connected_to_earlier_records": 1, "connected_to_earlier_cases": 0}
    timings = view("timings")[0]
    assert timings["time_to_assignment"]["count"] == 1 and timings["time_to_first_action"]["count"] == 2
    assert timings["time_to_assignment"]["p50"] == timings["time_to_assignment"]["p90"] >= 0
    earlier = {"since": (now - timedelta(days=2)).isoformat(), "until": (now - timedelta(days=1)).isoformat()}
    before = gateway.get("/api/v1/metrics/funnel", token=supervisor, params=earlier).json()
    assert before["total"]["alerts"] == 0 and before["total"]["cases"] == 0

    exported = gateway.get("/api/v1/metrics/funnel?format=csv", token=gateway.token("admin", agency=agency))
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = {r["source"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert (
        rows["tip"]["alerts"] == "2"
        and rows["tip"]["cases_by_outcome_arrest"] == "1"
        and rows["total"]["alerts"] == "2"
    )
    assert gateway.get("/api/v1/metrics/funnel", token=analyst).status_code == 403
    assert gateway.get("/api/v1/metrics/funnel?since=yesterday", token=supervisor).status_code == 422
