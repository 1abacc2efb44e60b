"""The RTCC console (console/, issue 20) in a real browser against the real stack: Debian's Chromium under
Playwright runs the flows of console/e2e/flows.mjs, each checking its screens with axe-core (no serious
or critical violation) and the keyboard (every control reached by Tab), and saving a screenshot of each.

The data each flow needs is made here, through the API as any client would make it; the flow then does
the work in the browser, and what it changed is read back here. Screenshots go to CONSOLE_SCREENSHOTS
when it is set (docs/console/ holds the README's), else to a temporary directory.
"""

import hashlib
import json
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import REPO

FLOWS = REPO / "console" / "e2e" / "flows.mjs"
INTELLIGENCE = {  # a criminal intelligence record with its predicate and labels (C2)
    "classification": "criminal_intelligence",
    "subjects": [{"name": "John Roe"}],
    "offense_category": "narcotics_trafficking",
    "reasonable_suspicion": (
        "CI-17, reliable in three prior seizures, reports John Roe distributes fentanyl from 1400 Elm St; two "
        "controlled buys on 2026-02-20 and 2026-03-01 corroborate it."
    ),
    "control_official": "Lt. Vega",
    "source_type": "confidential_informant",
    "obtained_how": "Debriefing of CI-17 on 2026-03-02, recorded by Det. Dana",
    "sensitivity": "agency_only",
    "source_reliability": "B",
    "content_validity": "2",
}


def flow(console: dict, name: str, **arguments) -> dict:
    done = subprocess.run(
        ["node", str(FLOWS), name, json.dumps(arguments)],
        cwd=REPO / "console",
        env={**os.environ, **console},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"the {name} flow failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def shot(console: dict, name: str) -> bool:
    return os.path.getsize(os.path.join(console["CONSOLE_SCREENSHOTS"], f"{name}.png")) > 0


def plate() -> str:
    return f"K{uuid.uuid4().hex[:6].upper()}"


def own_agency() -> str:
    """An ORI no other test uses: what its people see in the queue is what the test made."""
    return f"TX{uuid.uuid4().int % 10**7:07d}"


def read(plate_text: str, when: str, lat: float, lon: float, address: str) -> dict:
    return {
        "source": "alpr",
        "source_system": "flock-houston",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": when,
        "location": {"lat": lat, "lon": lon, "address": address},
        "payload": {"plate": plate_text, "plate_state": "TX", "camera_id": "flock-cam-112"},
    }


def test_an_analyst_signs_in_and_is_offered_only_the_screens_of_the_role(console):
    seen = flow(console, "signin")
    assert "analyst" in seen["who"] and "TX0000000/rtcc" in seen["who"]
    assert seen["screens"] == ["Alert queue", "Plate search"]
    assert seen["aging_queue_filter"] == 0 and seen["review_buttons"] == 0  # no supervisor action, even by URL
    assert shot(console, "sign-in")


def test_a_supervisor_reviews_criminal_intelligence_stating_a_purpose_and_sees_the_queues_and_charts(gateway, console):
    unit = f"intel-{uuid.uuid4().hex[:6]}"  # a unit of its own: its supervisor's review queue holds this case
    title = f"Elm St fentanyl distribution ({unit})"
    due = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    case = gateway.post(
        "/api/v1/cases",
        token=gateway.token("detective", sub="dana", unit=unit),
        json={**INTELLIGENCE, "title": title, "review_due": due},
    )
    assert case.status_code == 201, case.text
    seen = flow(console, "supervisor", unit=unit, case_id=case.json()["id"], title=title)
    assert seen["aging_queue_filter"] == 1
    purpose = {"X-Purpose": "check", "X-Case-Number": "T-1"}
    read = gateway.get(
        f"/api/v1/cases/{case.json()['id']}", token=gateway.token("supervisor", unit=unit), headers=purpose
    )
    assert [(r["decision"], r["reviewer"]) for r in read.json()["reviews"]][-1] == ("approve", "sam")
    assert shot(console, "supervisor")


def test_the_seeds_story_the_march_read_arrives_live_naming_the_january_homicide_case(gateway, console):
    """A plate read near a homicide in January becomes the homicide case, which names the vehicle; the
    same plate read near a burglary in March reaches the detective's open queue without a reload, naming the case."""
    seen_plate = plate()
    # An agency of its own: its queue holds this story's reads only, whatever the rest of the suite left
    # in the shared stack (a full queue scrolls the March read out of the drawn rows).
    agency = own_agency()
    detective = gateway.token("detective", sub="dana", unit="homicide", agency=agency)
    january = gateway.post(
        "/api/v1/alerts",
        token=detective,
        json=read(seen_plate, "2026-01-14T23:41:00-06:00", 29.7499, -95.3584, "2400 block of Rusk St"),
    )
    assert january.status_code == 201, january.text
    title = f"Homicide, 2400 block of Rusk St ({seen_plate})"
    case = gateway.post(
        f"/api/v1/alerts/{january.json()['id']}/promote",
        token=detective,
        json={"title": title, "type": "homicide", "priority": "high"},
    )
    assert case.status_code == 200, case.text
    vehicle = next(e for e in january.json()["entities"] if e["type"] == "vehicle")
    named = gateway.post(
        f"/api/v1/cases/{case.json()['id']}/entities",
        token=detective,
        json={"entity_id": vehicle["id"], "role": "vehicle_of_interest"},
    )
    assert named.status_code in (200, 201), named.text
    march = read(seen_plate, "2026-03-18T03:02:00-05:00", 29.7391, -95.3402, "Navigation Blvd at N Hutcheson St")
    source = gateway.token("source", agency=agency)
    seen = flow(console, "story", plate=seen_plate, case_title=title, source_token=source, march=march, agency=agency)
    assert title in seen["related"]
    answer = gateway.get(f"/api/v1/alerts/{seen['march']}", token=detective).json()
    assert [c["id"] for c in answer["related_cases"]] == [case.json()["id"]]
    assert shot(console, "queue") and shot(console, "alert")


def test_a_queue_of_a_thousand_alerts_loads_as_it_scrolls_and_draws_only_the_rows_on_screen(gateway, console):
    agency = own_agency()  # its analyst sees exactly these
    batch = [
        {
            "source": "cad",
            "source_system": "cad-houston",
            "source_event_id": uuid.uuid4().hex,
            "occurred_at": "2026-03-22T01:00:00-05:00",
            "location": {"lat": 29.75 + number / 100000, "lon": -95.36},
            "payload": {"incident_number": f"I{number:06d}", "call_type": "suspicious vehicle"},
        }
        for number in range(1000)
    ]
    posted = gateway.post("/api/v1/alerts/batch", token=gateway.token("source", agency=agency), json={"alerts": batch})
    assert posted.status_code == 200, posted.text[:500]
    statuses = {result["status"] for result in posted.json()["results"]}
    assert statuses == {201}, posted.json()["results"][0]
    seen = flow(console, "bigqueue", agency=agency, total=1000)
    assert seen["shown"] == "1000 alerts"
    assert seen["drawn"] < 60  # of a thousand loaded


def queued_alert(gateway) -> dict:
    """A read posted for an agency of its own, so its queue holds this alert only (Tab reaches the panel):
    the ``alert_id``, its row's ``summary`` and the ``agency`` a triage flow takes."""
    seen_plate, agency = plate(), own_agency()
    posted = gateway.post(
        "/api/v1/alerts",
        token=gateway.token("source", agency=agency),
        json=read(seen_plate, "2026-03-20T10:00:00-05:00", 29.75, -95.36, "Main St at Walker St"),
    )
    assert posted.status_code == 201, posted.text
    return {"alert_id": posted.json()["id"], "summary": f"{seen_plate} TX", "agency": agency}


def test_an_analyst_triages_an_alert_in_the_queue(gateway, console):
    queued = queued_alert(gateway)
    alert_id, agency = queued["alert_id"], queued["agency"]
    flow(console, "triage", **queued)
    alert = gateway.get(f"/api/v1/alerts/{alert_id}", token=gateway.token("analyst", sub="ann", agency=agency)).json()
    assert alert["status"] == "dismissed" and alert["dismissal"]["reason"] == "handled_by_patrol"
    assert alert["assignee"] == "ann"
    done = [(action["action"], action["actor"]) for action in alert["actions"]]
    assert ("assigned", "ann") in done and ("note", "ann") in done and ("dismissed", "ann") in done
    assert shot(console, "triage")


ADDED = {  # what the detective adds to the case file in the browser
    "note": "Night manager says the rear door alarm was silenced at 02:50",
    "report": {"title": "Scene report, 1400 Navigation Blvd", "body": "Rear door pried open; the safe untouched."},
    "interview": {
        "interviewee": "Maria Lopez, night manager",
        "held_at": "2026-03-18T09:30",
        "location": "Pharmacy back office",
        "summary": "Heard the alarm panel beep twice, then saw a grey pickup leave by the alley.",
    },
    "task": {"title": "Pull the laundromat's CCTV for 02:30-03:30", "assignee": "ruiz", "due": "2026-03-25T17:00"},
}


def test_a_detective_adds_a_note_report_interview_and_task_attaches_a_file_with_its_sha256_shares_and_exports(
    gateway, console
):
    title = f"Pharmacy burglary, Navigation Blvd ({uuid.uuid4().hex[:6]})"
    detective = gateway.token("detective", sub="dana")
    case = gateway.post("/api/v1/cases", token=detective, json={"title": title})
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    content = f"Statement of the night manager, {uuid.uuid4().hex}\n"
    sha256 = hashlib.sha256(content.encode()).hexdigest()
    seen = flow(
        console,
        "case",
        case_id=case_id,
        title=title,
        filename="statement.txt",
        content=content,
        sha256=sha256,
        added=ADDED,
    )
    # The empty note went to the API, whose 422 is shown next to the field and named by it.
    assert seen["refusal"]["invalid"] == "true" and seen["refusal"]["said"] == seen["refusal"]["described"] != ""
    assert len(seen["listed"]) == 4

    def items(kind: str) -> list[dict]:
        answer = gateway.get(f"/api/v1/cases/{case_id}/{kind}", token=detective)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    assert [(n["text"], n["by"]) for n in items("notes")] == [(ADDED["note"], "dana")]  # the empty one stored nothing
    report = ADDED["report"]
    assert [(r["title"], r["body"], r["report_type"], r["by"]) for r in items("reports")] == [
        (report["title"], report["body"], "investigative", "dana")
    ]
    interview = ADDED["interview"]
    [held] = items("interviews")
    assert (held["interviewee"], held["location"], held["summary"], held["interviewer"]) == (
        interview["interviewee"],
        interview["location"],
        interview["summary"],
        "dana",
    )
    assert datetime.fromisoformat(held["at"]) == datetime.fromisoformat(seen["times"]["held_at"])
    [task] = items("tasks")
    assert (task["title"], task["assignee"]) == (ADDED["task"]["title"], ADDED["task"]["assignee"])
    assert datetime.fromisoformat(task["due"]) == datetime.fromisoformat(seen["times"]["due"])

    assert seen["shown"] == sha256 and seen["downloaded"] == content
    assert seen["pdf"] == "%PDF-" and seen["pdf_name"] == f"case-{case_id}.pdf"
    shared = gateway.get(f"/api/v1/cases/{case_id}/disseminations", token=detective)
    assert {(d["recipient"], d.get("kind")) for d in shared.json()["items"]} >= {("Det. Ruiz", "share")}
    timeline = gateway.get(f"/api/v1/cases/{case_id}/timeline", token=detective)
    assert sha256 in {entry.get("sha256") for entry in timeline.json()["items"]}
    assert shot(console, "case")


@pytest.fixture(scope="module")
def read_plate(gateway) -> dict:
    """A read of a plate with a B, which a camera's OCR may read as 8."""
    text = f"ZB{uuid.uuid4().int % 100000:05d}"
    posted = gateway.post(
        "/api/v1/alerts", roles=("source",), json=read(text, "2026-03-21T02:00:00-05:00", 29.76, -95.37, "Rusk St")
    )
    assert posted.status_code == 201, posted.text
    vehicle = next(entity for entity in posted.json()["entities"] if entity["type"] == "vehicle")
    return {"plate": text, "vehicle": vehicle}


def test_a_plate_search_finds_an_ocr_confused_plate(console, read_plate):
    typed = read_plate["plate"].replace("B", "8")
    seen = flow(console, "plates", typed=typed, plate=read_plate["plate"])
    assert read_plate["plate"] in seen["row"]
    assert shot(console, "plates")


def test_an_entity_shows_its_sightings_and_link_graph(console, read_plate):
    vehicle = read_plate["vehicle"]
    seen = flow(console, "entity", entity_id=vehicle["id"], display=vehicle["display"])
    assert "links" in seen["caption"]
    assert shot(console, "entity")


def test_an_auditor_verifies_the_chain_reads_the_event_log_and_runs_the_compliance_report(gateway, console):
    actor = f"reader-{uuid.uuid4().hex[:6]}"
    assert gateway.get("/api/v1/alerts", token=gateway.token("analyst", sub=actor)).status_code == 200
    seen = flow(console, "auditor", actor=actor)
    assert seen["screens"] == ["Auditor"]
    assert seen["verification"].startswith("Chain verified")
    assert "Exceptions" in seen["report"] or "No exceptions" in seen["report"]
    assert shot(console, "auditor")
