"""Where areas meet, through the gateway: an alert names its cases; case lists count related records."""

import uuid

import pytest

from tests.polling import eventually


def alpr(plate: str, when: str = "2026-03-18T03:02:00-05:00") -> dict:
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": when,
        "location": {"lat": 29.74, "lon": -95.34},
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": "cam-207"},
    }


@pytest.fixture(scope="module")
def people(gateway):
    return {
        "dana": gateway.token("detective", sub="dana", unit="narcotics"),
        "olga": gateway.token("detective", sub="olga", unit="homicide"),
    }


def test_an_alert_names_the_cases_it_was_promoted_into_to_those_who_may_see_them(gateway, people):
    plate = f"S{uuid.uuid4().hex[:6].upper()}"
    first = gateway.post("/api/v1/alerts", json=alpr(plate), token=people["dana"]).json()
    second = gateway.post("/api/v1/alerts", json=alpr(plate, "2026-03-19T03:02:00-05:00"), token=people["dana"])
    second = second.json()
    promoted = gateway.post(
        f"/api/v1/alerts/{first['id']}/promote", token=people["dana"], json={"title": "Pharmacy break-in"}
    )
    assert promoted.status_code == 200, promoted.text
    case = promoted.json()

    seen = gateway.get(f"/api/v1/alerts/{first['id']}", token=people["dana"]).json()
    assert seen["status"] == "promoted" and seen["cases"] == [case["id"]]
    assert [c["id"] for c in seen["related_cases"]] == [case["id"]]
    assert seen["related_cases"][0]["title"] == "Pharmacy break-in"
    assert second["id"] in [r["id"] for r in seen["related"] if r["record_type"] == "alert"]

    other_unit = gateway.get(f"/api/v1/alerts/{first['id']}", token=people["olga"]).json()
    assert other_unit["cases"] == [] and other_unit["related_cases"] == []

    def related_count():  # counted from the search index, which holds the second read about a second later
        listed = gateway.get("/api/v1/cases", token=people["dana"], params={"limit": 500}).json()["items"]
        return next(c for c in listed if c["id"] == case["id"])["related_count"]

    assert eventually(lambda: related_count() == 1, timeout=30)  # the second read, through the case's alert
