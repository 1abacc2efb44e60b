"""Escalation in the console (issue 20, the alert queue's triage): an analyst escalates an alert from the
queue by keyboard, saying why, in a real browser against the real stack (console/e2e/flows-escalate.mjs);
the screen passes axe and the Tab check; what the browser did is read back through the API: the alert is
escalated by the analyst with that reason, in the supervisors' aging queue, and the escalation audited."""

from tests.e2e.test_console import flow, queued_alert, shot
from tests.polling import eventually

REASON = "Same plate seen twice near Lincoln Elementary in ten minutes"


def test_an_analyst_escalates_an_alert_from_the_queue_and_the_supervisors_see_it(gateway, console):
    queued = queued_alert(gateway)
    alert_id, agency = queued["alert_id"], queued["agency"]
    seen = flow(console, "escalate", **queued, reason=REASON)
    assert "escalated by ann" in seen["row"] and seen["offered_after"] == 0
    assert REASON in seen["supervisor_sees"]
    assert shot(console, "escalate") and shot(console, "escalated")

    analyst = gateway.token("analyst", sub="ann", agency=agency)
    alert = gateway.get(f"/api/v1/alerts/{alert_id}", token=analyst).json()
    assert (alert["status"], alert["overdue"]) == ("new", True)
    assert (alert["escalation"]["by"], alert["escalation"]["reason"]) == ("ann", REASON)
    assert [(a["actor"], a["detail"]) for a in alert["actions"] if a["action"] == "escalated"] == [
        ("ann", {"reason": REASON})
    ]
    supervisor = gateway.token("supervisor", sub="sara", agency=agency)
    queue = gateway.get("/api/v1/alerts", token=supervisor, params={"overdue": "true"}).json()["items"]
    assert [item["id"] for item in queue] == [alert_id]

    auditor = gateway.token("auditor", sub="audra", agency=agency)

    def escalations():
        page = gateway.get("/api/v1/audit/events", token=auditor, params={"record_id": alert_id, "limit": 500})
        return [e for e in page.json()["items"] if e["action"] == "alert.escalate"]

    events = eventually(lambda: (found := escalations()) and len(found) == 2 and found)  # asked, and done
    assert {(e["service"], e["actor"]["id"], e["outcome"]) for e in events} == {
        ("gateway", "ann", "allowed"),
        ("intake", "ann", "allowed"),
    }
    assert [e["details"]["reason"] for e in events if e["service"] == "intake"] == [REASON]
