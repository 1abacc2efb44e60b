"""The RTCC console (console/, issue 20) in a real browser against the real stack: Debian's Chromium under
Playwright runs the flows of console/e2e/flows.mjs, each checking its screens with axe-core (no serious
or critical violation) and the keyboard (every control reached by Tab), and saving a screenshot of each.

The data each flow needs is made here, through the API as any client would make it; the flow then does
the work in the browser, and what it changed is read back here. Screenshots go to CONSOLE_SCREENSHOTS
when it is set (docs/console/ holds the README's), else to a temporary directory.
"""

import json
import os
import subprocess
import uuid

import pytest

from tests.e2e.conftest import REPO

FLOWS = REPO / "console" / "e2e" / "flows.mjs"


@pytest.fixture(scope="module")
def console(gateway, tmp_path_factory):
    """The console built (when its sources changed) and Chromium installed; the flows' environment."""
    for step in ("build", "browser"):
        done = subprocess.run([str(REPO / "scripts" / "console.sh"), step], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"scripts/console.sh {step}:\n{done.stderr[-3000:]}"
    shots = os.environ.get("CONSOLE_SCREENSHOTS") or str(tmp_path_factory.mktemp("console-screens"))
    return {"CASEWIRE_URL": gateway.url, "CONSOLE_SCREENSHOTS": shots}


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
    assert "Alert queue" in seen["screens"]
    assert "Supervisor" not in seen["screens"] and "Auditor" not in seen["screens"]
    assert shot(console, "sign-in")


def test_the_seeds_story_the_march_read_arrives_live_naming_the_january_homicide_case(gateway, console):
    """A plate read near a homicide in January becomes the homicide case, which names the vehicle; the
    same plate read near a burglary in March reaches the detective's open queue without a reload, naming the case."""
    seen_plate = plate()
    detective = gateway.token("detective", sub="dana", unit="homicide")
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
    seen = flow(console, "story", plate=seen_plate, case_title=title, source_token=gateway.token("source"), march=march)
    assert title in seen["related"]
    answer = gateway.get(f"/api/v1/alerts/{seen['march']}", token=detective).json()
    assert [c["id"] for c in answer["related_cases"]] == [case.json()["id"]]
    assert shot(console, "queue") and shot(console, "alert")


def test_an_analyst_triages_an_alert_in_the_queue(gateway, console):
    seen_plate = plate()
    posted = gateway.post(
        "/api/v1/alerts",
        roles=("source",),
        json=read(seen_plate, "2026-03-20T10:00:00-05:00", 29.75, -95.36, "Main St at Walker St"),
    )
    assert posted.status_code == 201, posted.text
    alert_id = posted.json()["id"]
    flow(console, "triage", alert_id=alert_id, summary=f"{seen_plate} TX")
    alert = gateway.get(f"/api/v1/alerts/{alert_id}", token=gateway.token("analyst", sub="ann")).json()
    assert alert["status"] == "dismissed" and alert["dismissal"]["reason"] == "handled_by_patrol"
    assert alert["assignee"] == "ann"
    done = [(action["action"], action["actor"]) for action in alert["actions"]]
    assert ("assigned", "ann") in done and ("note", "ann") in done and ("dismissed", "ann") in done
    assert shot(console, "triage")
