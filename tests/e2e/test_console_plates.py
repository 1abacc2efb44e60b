"""The console's plate search filtered by time and place, the supervisor's outcome charts and face
identification, in a real browser against the real stack (console/e2e/flows-plates.mjs).

As in tests/e2e/test_console.py, the data each flow needs is made here through the API, the flow works in
the browser, and what it did is read back here.
"""

import uuid
from datetime import datetime

from casewire.alerts import FACE_NOTICE
from tests.e2e.test_console import flow, own_agency, plate, read, shot
from tests.polling import eventually


def test_a_plate_search_by_time_and_place_leaves_out_the_reads_of_other_times_and_places(gateway, console):
    """The filters go to the API (the audit event of the search names them, C25), which answers only the
    March read near the burglary: the January read there and the March read in Austin are left out."""
    seen_plate, agency = plate(), own_agency()
    source = gateway.token("source", agency=agency)
    reads = {
        "january_houston": read(seen_plate, "2026-01-14T23:41:00-06:00", 29.7499, -95.3584, "2400 block of Rusk St"),
        "march_houston": read(seen_plate, "2026-03-18T03:02:00-05:00", 29.7391, -95.3402, "Navigation Blvd"),
        "march_austin": read(seen_plate, "2026-03-20T12:00:00-05:00", 30.2672, -97.7431, "Congress Ave, Austin"),
    }
    ids = {}
    for name, body in reads.items():
        posted = gateway.post("/api/v1/alerts", token=source, json=body)
        assert posted.status_code == 201, posted.text
        ids[name] = posted.json()["id"]
    analyst = gateway.token("analyst", sub="ann", agency=agency)
    purpose = {"X-Purpose": "wait for the reads"}

    def indexed():
        answer = gateway.get("/api/v1/search/plates", token=analyst, params={"plate": seen_plate}, headers=purpose)
        return answer.status_code == 200 and sum(len(item["sightings"]) for item in answer.json()["items"]) == 3

    eventually(indexed)
    asked = f"pharmacy burglary, Navigation Blvd ({seen_plate})"
    seen = flow(
        console,
        "platesFiltered",
        agency=agency,
        plate=seen_plate,
        purpose=asked,
        since="2026-03-01T00:00",
        until="2026-04-01T00:00",
        lat=29.75,
        lon=-95.36,
        km=5,
    )
    assert seen["refusal"]["invalid"] == "true" and seen["refusal"]["said"] == "must be after since"
    assert seen["shown"] == [ids["march_houston"]]
    assert shot(console, "plates-filtered")

    auditor = gateway.token("auditor", agency=agency)  # an auditor reads the events of their own agency

    def searched():
        events = gateway.get(
            "/api/v1/audit/events", token=auditor, params={"actor": "ann", "action": "search.plates"}
        ).json()["items"]
        return [e for e in events if e["purpose"] == asked and "near" in e["details"]["query"]] or None

    [event] = eventually(searched)
    query = event["details"]["query"]
    assert (query["plate"], query["near"]) == (seen_plate, "29.75,-95.36,5")
    sent = {key: datetime.fromisoformat(query[key].replace("Z", "+00:00")) for key in ("since", "until")}
    assert sent == {key: datetime.fromisoformat(seen["times"][key].replace("Z", "+00:00")) for key in sent}


def test_the_supervisors_charts_count_the_alerts_received_today_and_say_when_they_were_read(gateway, console):
    """The figures come from tallies folded every few seconds (TALLY_SECONDS): the screen counts today's
    alerts once folded, says what it counts and when it read it, and reads again on "Refresh figures"."""
    agency = own_agency()  # its funnel counts this test's alerts only
    source = gateway.token("source", agency=agency)
    for _ in range(2):
        body = read(plate(), "2026-03-18T03:02:00-05:00", 29.74, -95.34, "Navigation Blvd")
        posted = gateway.post("/api/v1/alerts", token=source, json=body)
        assert posted.status_code == 201, posted.text
    supervisor = gateway.token("supervisor", sub="sam", agency=agency)

    def counted():
        answer = gateway.get("/api/v1/metrics/funnel", token=supervisor)
        assert answer.status_code == 200, answer.text
        return answer.json()["total"]["alerts"] == 2

    eventually(counted, timeout=30)
    another = read(plate(), "2026-03-18T03:05:00-05:00", 29.74, -95.34, "Navigation Blvd")
    seen = flow(console, "funnel", agency=agency, source_token=source, another=another)
    assert "alerts 2," in seen["first"][0] and "alpr 2," in seen["first"][1]
    assert f"Alerts of {agency} received from" in seen["freshness"] and "read at" in seen["freshness"]
    assert "alerts 3," in seen["refreshed"][0] and "alpr 3," in seen["refreshed"][1]
    assert shot(console, "supervisor-funnel")


def test_C26_a_detective_identifies_a_face_candidate_with_independent_evidence_and_the_notice_stays(gateway, console):
    agency = own_agency()
    probe = f"https://faces.example.gov/probes/{uuid.uuid4().hex}.jpg"
    face = {
        "source": "face",
        "source_system": "clearview",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-18T03:10:00-05:00",
        "location": {"lat": 29.7391, "lon": -95.3402, "address": "Navigation Blvd"},
        "payload": {"candidate": {"name": "John Roe", "subject_id": "S-9"}, "score": 88, "probe_image_url": probe},
    }
    posted = gateway.post("/api/v1/alerts", token=gateway.token("source", agency=agency), json=face)
    assert posted.status_code == 201, posted.text
    alert_id = posted.json()["id"]
    evidence = [
        {"type": "fingerprint", "reference": "AFIS-2026-004471"},
        {"type": "witness", "reference": "Statement 26-17-3", "description": "the night manager knows him"},
    ]
    note = "AFIS hit confirmed by the examiner; the night manager named him"
    seen = flow(console, "identify", agency=agency, alert_id=alert_id, probe=probe, evidence=evidence, note=note)
    assert seen["analyst"] == {"notice": FACE_NOTICE, "forms": 0}  # the notice, and no action an analyst may not take
    assert seen["refusal"] == {"invalid": "true", "said": "the alert's probe image is not independent evidence"}
    assert seen["notice"] == FACE_NOTICE and "AFIS-2026-004471" in seen["identification"]
    assert shot(console, "identify")
    alert = gateway.get(f"/api/v1/alerts/{alert_id}", token=gateway.token("detective", agency=agency)).json()
    assert alert["identified"] is True and alert["notice"] == FACE_NOTICE
    done = alert["identification"]
    assert (done["reviewer"], done["evidence"], done["note"]) == ("dana", evidence, note)
