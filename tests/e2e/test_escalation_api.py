"""Escalating an alert by hand through the gateway (docs/outcomes.md): any triaging role escalates, with a
reason; the alert shows who and why, reaches the unit's supervisors on the stream and in the aging
queue, is counted as escalated, and the escalation is audited once with its actor (C20, C21)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.sse import EventStream
from tests.polling import eventually

REASON = "Stolen-car hotlist plate seen twice near Lincoln Elementary in ten minutes"


def own_agency() -> str:
    """An ORI no other test uses: its aging queue and funnel hold this test's alerts alone."""
    return f"TX{uuid.uuid4().int % 10**7:07d}"


def gunshot() -> dict:
    return {
        "source": "gunshot",
        "source_system": "shotspotter",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-02T07:59:00Z",
        "location": {"lat": 29.7, "lon": -95.3},
        "priority": "low",  # due in 30 minutes: only a person escalates it in this test
        "payload": {"rounds": 3},
    }


def escalate(gateway, alert_id: str, token: str, reason: str = REASON, **kwargs):
    return gateway.post(f"/api/v1/alerts/{alert_id}/escalate", token=token, json={"reason": reason}, **kwargs)


def audit_of(gateway, agency: str, alert_id: str) -> list[dict]:
    auditor = gateway.token("auditor", sub="audra", agency=agency)
    page = gateway.get("/api/v1/audit/events", token=auditor, params={"record_id": alert_id, "limit": 500})
    assert page.status_code == 200, page.text
    return page.json()["items"]


def test_C20_an_analyst_escalates_and_the_supervisors_see_it_audited_once(gateway):
    agency = own_agency()
    analyst = gateway.token("analyst", sub="ann", agency=agency)
    supervisor = gateway.token("supervisor", sub="sara", agency=agency)
    alert = gateway.post("/api/v1/alerts", token=analyst, json=gunshot()).json()
    stream = EventStream(f"{gateway.url}/api/v1/stream", supervisor)
    try:
        key = uuid.uuid4().hex
        escalated = escalate(gateway, alert["id"], analyst, headers={"Idempotency-Key": key})
        assert escalated.status_code == 200, escalated.text
        seen = stream.until(lambda e: e["event"] == "alert_overdue" and e["data"]["alert_id"] == alert["id"])
        assert seen[-1]["data"]["status"] == "new" and seen[-1]["data"]["unit"] == "rtcc"
    finally:
        stream.close()
    body = escalated.json()
    assert (body["status"], body["overdue"], body["escalation"]["by"]) == ("new", True, "ann")
    assert body["escalation"]["reason"] == REASON and body["escalated_at"] == body["escalation"]["at"]

    replayed = escalate(gateway, alert["id"], analyst, headers={"Idempotency-Key": key})
    assert replayed.status_code == 200 and replayed.headers.get("Idempotency-Replayed")
    again = escalate(gateway, alert["id"], gateway.token("detective", sub="dana", agency=agency), reason="urgent")
    assert again.status_code == 200 and again.json()["escalation"] == body["escalation"]

    read = gateway.get(f"/api/v1/alerts/{alert['id']}", token=analyst).json()
    assert read["escalation"] == body["escalation"] and read["overdue"] is True
    logged = [(a["action"], a["actor"], a["detail"]) for a in read["actions"] if a["action"] == "escalated"]
    assert logged == [("escalated", "ann", {"reason": REASON})]
    queue = gateway.get("/api/v1/alerts", token=supervisor, params={"overdue": "true", "limit": 500}).json()["items"]
    assert [item["id"] for item in queue] == [alert["id"]] and queue[0]["escalation"]["by"] == "ann"

    events = eventually(
        lambda: (
            (found := audit_of(gateway, agency, alert["id"]))
            and any(e["service"] == "intake" and e["action"] == "alert.escalate" for e in found)
            and found
        )
    )
    made = [e for e in events if e["service"] == "intake" and e["action"] == "alert.escalate"]
    assert len(made) == 1 and made[0]["actor"]["id"] == "ann" and made[0]["details"]["reason"] == REASON
    assert made[0]["request_id"] == escalated.headers["X-Request-Id"]
    asked = [e for e in events if e["service"] == "gateway" and e["action"] == "alert.escalate"]
    assert {(e["actor"]["id"], e["outcome"]) for e in asked} == {("ann", "allowed"), ("dana", "allowed")}

    now = datetime.now(UTC)
    period = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(hours=1)).isoformat()}

    def overdue_figures():
        answer = gateway.get("/api/v1/metrics/overdue", token=supervisor, params=period)
        assert answer.status_code == 200, answer.text
        row = {row["source"]: row for row in answer.json()["sources"]}["gunshot"]
        return row if row["escalated"] else None

    row = eventually(overdue_figures, timeout=30)  # the figures follow the records by a sweep
    assert (row["alerts"], row["escalated"], row["overdue_now"]) == (1, 1, 1)


def test_escalation_refusals_another_agency_a_role_without_triage_a_closed_alert_no_reason(gateway):
    agency = own_agency()
    analyst = gateway.token("analyst", sub="ann", agency=agency)
    alert = gateway.post("/api/v1/alerts", token=analyst, json=gunshot()).json()

    outsider = gateway.token("analyst", "supervisor", sub=f"okc-{uuid.uuid4().hex[:6]}", agency="OK0000000")
    refused = escalate(gateway, alert["id"], outsider)
    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
    for role in ("auditor", "admin", "source", "purge_authority"):
        assert escalate(gateway, alert["id"], gateway.token(role, agency=agency)).status_code == 403, role
    assert escalate(gateway, f"missing-{uuid.uuid4().hex}", analyst).status_code == 404
    for body in ({}, {"reason": ""}, {"reason": "  "}, {"reason": "x" * 2001}):
        invalid = gateway.post(f"/api/v1/alerts/{alert['id']}/escalate", token=analyst, json=body)
        assert invalid.status_code == 422 and "reason" in invalid.json()["errors"], body
    assert gateway.get(f"/api/v1/alerts/{alert['id']}", token=analyst).json().get("escalated_at") is None

    denied = eventually(lambda: [e for e in audit_of(gateway, agency, alert["id"]) if e["outcome"] == "denied"] or None)
    assert {(e["action"], e["details"]["reason"]) for e in denied} >= {("alert.escalate", "record_agency")}

    dismissal = {"reason": "false_read", "text": "fireworks"}
    assert gateway.post(f"/api/v1/alerts/{alert['id']}/dismiss", token=analyst, json=dismissal).status_code == 200
    closed = escalate(gateway, alert["id"], analyst)
    assert closed.status_code == 409 and closed.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("role", ["analyst", "detective", "supervisor"])
def test_every_triaging_role_may_escalate(gateway, role):
    agency = own_agency()
    token = gateway.token(role, sub=f"{role}-1", agency=agency)
    alert = gateway.post("/api/v1/alerts", token=token, json=gunshot()).json()
    escalated = escalate(gateway, alert["id"], token)
    assert escalated.status_code == 200 and escalated.json()["escalation"]["by"] == f"{role}-1"
