"""``casewire demo`` as ``scripts/run.sh`` runs it, against the test stack's gateway: the story it tells.

The demo's alerts have fixed event ids and a fixed plate (KGT4471) and handle that no other test
module uses, so this module reads only records the demo made, whatever else the shared stack holds.
"""

import os
import subprocess

import pytest
import requests

from casewire_cli import demo
from tests.e2e.conftest import REPO
from tests.polling import eventually

CASEWIRE = str(REPO / ".venv" / "bin" / "casewire")
PLATE, HANDLE = "KGT4471", "eastend_grey_ghost"


def casewire(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([CASEWIRE, *args], capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def loaded(gateway):
    """Run the loader twice, as run.sh does on every start; the demo alerts' ids, in the demo's order."""
    first = casewire("demo", "--gateway", gateway.url)
    again = casewire("demo", "--gateway", gateway.url)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {gateway.token('source', sub='demo-check')}"
    results = demo.load(lambda body: session.post(f"{gateway.url}/api/v1/alerts", json=body, timeout=60))
    return {"first": first.stdout, "again": again.stdout, "results": results}


@pytest.fixture(scope="module")
def analyst():
    """The token run.sh prints for its example."""
    return casewire("token", "--sub", "analyst1", "--roles", "analyst", "--agency", "TX0000000", "--unit", "rtcc")


def test_the_demo_loads_once_and_a_second_run_stores_nothing(loaded):
    assert "demo data: 5 alerts created, 0 already there" in loaded["first"]
    assert "demo data: 0 alerts created, 5 already there" in loaded["again"]
    assert [status for status, _ in loaded["results"]] == [200] * len(demo.DEMO_ALERTS)


def test_the_readmes_plate_search_finds_the_demo_vehicle_with_its_three_sightings(gateway, loaded, analyst):
    january, _, _, march, april = (alert_id for _, alert_id in loaded["results"])
    token = analyst.stdout.strip()
    headers = {"X-Purpose": "burglary series"}

    def found():
        response = gateway.get("/api/v1/search/plates", token=token, params={"plate": "KGT44?1"}, headers=headers)
        assert response.status_code == 200, response.text
        items = [item for item in response.json()["items"] if item["entity"].get("key") == f"TX:{PLATE}"]
        return items if items and len(items[0]["sightings"]) == 3 else None

    [vehicle] = eventually(found)
    assert vehicle["entity"]["plate"] == PLATE and vehicle["entity"]["plate_state"] == "TX"
    assert {s["record_id"] for s in vehicle["sightings"]} == {january, march, april}


def test_the_demo_alerts_connect_as_the_story_says(gateway, loaded, analyst):
    january, february, gunshot, march, april = (alert_id for _, alert_id in loaded["results"])
    token = analyst.stdout.strip()

    def related(alert_id):
        response = gateway.get(f"/api/v1/alerts/{alert_id}", token=token)
        assert response.status_code == 200, response.text
        return {r["id"]: {e["type"] for e in r["shared_entities"]} for r in response.json()["related"]}

    assert related(january) == {march: {"vehicle"}, april: {"vehicle"}}
    assert related(march) == {january: {"vehicle"}, april: {"vehicle"}}
    assert related(february) == {april: {"social_account"}}
    assert related(april) == {january: {"vehicle"}, march: {"vehicle"}, february: {"social_account"}}
    assert related(gunshot) == {}

    vehicles = gateway.get("/api/v1/entities", token=token, params={"type": "vehicle", "q": PLATE}).json()["items"]
    assert [(v["key"], v["make"]) for v in vehicles] == [(f"TX:{PLATE}", "Nissan")]
    handles = gateway.get("/api/v1/entities", token=token, params={"type": "social_account", "q": HANDLE})
    assert [h["key"] for h in handles.json()["items"]] == [f"instagram:{HANDLE}"]
