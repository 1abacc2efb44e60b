"""C19 in the running stack: ALPR reads go by intake's real retention sweep unless a case, linked or
holding them through the API, keeps them (docs/retention.md).

The stack keeps a New Hampshire agency's reads ``RETENTION_NH`` (a few seconds) and sweeps every
second (tests/e2e/conftest.py). Each test stores its reads as they happen, in one batch (one deadline),
and links them well inside that profile; it waits for the sweep to judge them (:func:`swept`), never
for a fixed time.
"""

import json
import uuid
from datetime import UTC, datetime

import pytest

from tests.e2e.sse import EventStream
from tests.integration.test_cases import ci_fields
from tests.polling import eventually

NH = "NH0100000"
LONG_AGO = "2026-01-05T22:14:00Z"  # a read taken then is due as soon as it is stored
PURPOSE = {"X-Purpose": "investigation", "X-Case-Number": "HPD-2026-0042"}


@pytest.fixture(scope="module")
def users(gateway):
    return {
        "reader": gateway.token("source", sub="nh-reader", agency=NH),
        "dana": gateway.token("detective", sub="dana", agency=NH, unit="narcotics"),
        "pat": gateway.token("purge_authority", sub="pat", agency=NH, unit="records"),
    }


def reads(gateway, users, count: int, at: str | None = None) -> list[str]:
    """The ids of ``count`` reads taken ``at`` (now by default), posted in one batch."""
    at = at or datetime.now(UTC).isoformat()
    batch = [
        {
            "source": "alpr",
            "source_system": "flock",
            "source_event_id": uuid.uuid4().hex,
            "occurred_at": at,
            "location": {"lat": 43.2, "lon": -71.5},
            "payload": {
                "plate": f"R{uuid.uuid4().hex[:6].upper()}",
                "plate_state": "NH",
                "camera_id": f"cam-{uuid.uuid4().hex[:6]}",
            },
        }
        for _ in range(count)
    ]
    response = gateway.post("/api/v1/alerts/batch", token=users["reader"], json={"alerts": batch})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["status"] for result in results] == [201] * count, results
    return [result["id"] for result in results]


def alert(gateway, users, alert_id: str) -> dict | None:
    """The alert as its agency's detective reads it, or None once it is gone (404)."""
    response = gateway.get(f"/api/v1/alerts/{alert_id}", token=users["dana"])
    assert response.status_code in (200, 404), response.text
    return response.json() if response.status_code == 200 else None


def gone(gateway, users, alert_id: str) -> bool:
    return alert(gateway, users, alert_id) is None


def swept(gateway, users, witness: str) -> None:
    """Wait until every read of ``witness``'s batch was judged by a sweep past their deadline.

    ``witness``, a read nothing keeps, is deleted by a sweep past the deadline; a read stored after that,
    already due, can only be found by a later pass over the slots, once its batch was judged whole.
    """
    eventually(lambda: gone(gateway, users, witness), timeout=60)
    [later] = reads(gateway, users, 1, at=LONG_AGO)
    eventually(lambda: gone(gateway, users, later), timeout=60)


def new_case(gateway, users) -> str:
    created = gateway.post("/api/v1/cases", token=users["dana"], json={"title": "Catalytic converter thefts"})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def link(gateway, users, case_id: str, alert_id: str) -> None:
    linked = gateway.post(
        f"/api/v1/cases/{case_id}/alerts", token=users["dana"], json={"alert_id": alert_id, "reason": "near the scene"}
    )
    assert linked.status_code == 200, linked.text


def unlink(gateway, users, case_id: str, alert_id: str) -> None:
    path = f"/api/v1/cases/{case_id}/alerts/{alert_id}/unlink"
    unlinked = gateway.post(path, token=users["dana"], json={"reason": "another vehicle"})
    assert unlinked.status_code == 200, unlinked.text


def test_C19_a_read_linked_through_the_api_outlives_its_deadline_until_it_is_unlinked(gateway, users):
    linked, witness = reads(gateway, users, 2)
    case_id = new_case(gateway, users)
    link(gateway, users, case_id, linked)
    swept(gateway, users, witness)
    kept = alert(gateway, users, linked)
    assert kept is not None and datetime.fromisoformat(kept["purge_after"]) < datetime.now(UTC)
    assert case_id in kept["cases"]

    unlink(gateway, users, case_id, linked)
    eventually(lambda: gone(gateway, users, linked), timeout=30)


def test_C19_a_read_promoted_into_a_case_is_deleted_once_the_case_is_purged(gateway, users):
    promoted, witness = reads(gateway, users, 2)
    body = ci_fields(title="Elm St deliveries", unit="narcotics")
    case = gateway.post(f"/api/v1/alerts/{promoted}/promote", token=users["dana"], headers=PURPOSE, json=body)
    assert case.status_code in (200, 201), case.text
    case_id = case.json()["id"]
    swept(gateway, users, witness)
    assert alert(gateway, users, promoted)["status"] == "promoted"

    purge = gateway.post(
        f"/api/v1/cases/{case_id}/purge", token=users["pat"], headers=PURPOSE, json={"reason": "predicate did not hold"}
    )
    assert purge.status_code == 200, purge.text
    eventually(lambda: gone(gateway, users, promoted), timeout=30)


def test_C17_C19_a_held_case_holds_its_reads_and_those_linked_after_the_hold_until_it_is_released(gateway, users):
    before, after, witness = reads(gateway, users, 3)
    case_id = new_case(gateway, users)
    link(gateway, users, case_id, before)
    hold = gateway.post(
        f"/api/v1/cases/{case_id}/holds",
        token=users["pat"],
        headers=PURPOSE,
        json={"reference": f"2026-CV-{uuid.uuid4().hex[:6]}", "reason": "civil suit over the stops"},
    )
    assert hold.status_code == 201, hold.text
    link(gateway, users, case_id, after)
    swept(gateway, users, witness)
    for alert_id in (before, after):
        assert alert(gateway, users, alert_id)["legal_hold"] == [case_id]

    release = gateway.post(
        f"/api/v1/cases/{case_id}/holds/{hold.json()['id']}/release",
        token=users["pat"],
        headers=PURPOSE,
        json={"reason": "suit settled"},
    )
    assert release.status_code == 200, release.text
    assert alert(gateway, users, before)["legal_hold"] is None  # still linked: kept, but no longer held
    unlink(gateway, users, case_id, before)
    unlink(gateway, users, case_id, after)
    eventually(lambda: gone(gateway, users, before) and gone(gateway, users, after), timeout=30)


def test_C19_unlinking_a_read_from_a_held_case_lets_go_of_what_the_link_held(gateway, users):
    held, witness = reads(gateway, users, 2)
    case_id = new_case(gateway, users)
    link(gateway, users, case_id, held)
    hold = gateway.post(
        f"/api/v1/cases/{case_id}/holds",
        token=users["pat"],
        headers=PURPOSE,
        json={"reference": f"2026-CV-{uuid.uuid4().hex[:6]}", "reason": "records request"},
    )
    assert hold.status_code == 201, hold.text
    swept(gateway, users, witness)
    assert alert(gateway, users, held)["legal_hold"] == [case_id]

    unlink(gateway, users, case_id, held)  # the hold stays on the case, but no longer covers this read
    eventually(lambda: gone(gateway, users, held), timeout=30)


def test_C16_C19_a_swept_read_leaves_the_plate_search_and_takes_the_vehicle_only_it_named(gateway, users):
    """The real sweep's ``record_purged`` reaches entities and search: the read's sighting and the vehicle
    nothing else names are gone from the plate search and the entity API."""
    [read_id] = reads(gateway, users, 1)
    plate = alert(gateway, users, read_id)["payload"]["plate"]

    def sightings():
        response = gateway.get(
            "/api/v1/search/plates",
            token=users["dana"],
            params={"plate": plate, "state": "NH", "purpose": "retention check"},
        )
        assert response.status_code == 200, response.text
        return [item for item in response.json()["items"] if item["sightings"]]

    [hit] = eventually(sightings)  # indexed before the sweep
    assert [s["record_id"] for s in hit["sightings"]] == [read_id]
    swept(gateway, users, read_id)
    eventually(lambda: not sightings(), timeout=30)
    vehicle = f"/api/v1/entities/{hit['entity']['id']}"
    eventually(lambda: gateway.get(vehicle, token=users["dana"]).status_code == 404, timeout=30)


def test_C16_C19_a_purged_case_and_the_read_it_let_go_leave_the_stream(gateway, users):
    """What the stream stored of a case and of its read goes when they are purged: a client resuming
    from before them replays neither, up to an event that came after the purges."""
    url = f"{gateway.url}/api/v1/stream?purpose=investigation&case_number=HPD-2026-0042"
    live = EventStream(url, users["dana"])
    try:
        promoted, witness = reads(gateway, users, 2)
        heard = live.until(lambda e: e["event"] == "alert_received" and e["data"]["alert_id"] == promoted)
        resume = min(int(e["id"]) for e in heard if e["data"].get("alert_id") in (promoted, witness)) - 1
        body = ci_fields(title="Elm St deliveries", unit="narcotics")
        case = gateway.post(f"/api/v1/alerts/{promoted}/promote", token=users["dana"], headers=PURPOSE, json=body)
        assert case.status_code in (200, 201), case.text
        case_id = case.json()["id"]
        live.until(lambda e: e["event"] == "case_updated" and e["data"]["case_id"] == case_id)
    finally:
        live.close()
    swept(gateway, users, witness)
    purge = gateway.post(
        f"/api/v1/cases/{case_id}/purge", token=users["pat"], headers=PURPOSE, json={"reason": "predicate did not hold"}
    )
    assert purge.status_code == 200, purge.text
    eventually(lambda: gone(gateway, users, promoted), timeout=30)

    def replay_without_them():
        sentinel = new_case(gateway, users)  # an event after the purges: the replay is read up to it
        resumed = EventStream(url, users["dana"], last_event_id=str(resume))
        try:
            replayed = resumed.until(lambda e: e["event"] == "case_updated" and e["data"]["case_id"] == sentinel)
        finally:
            resumed.close()
        return not [e for e in replayed if {promoted, witness, case_id} & set(json.dumps(e["data"]).split('"'))]

    eventually(replay_without_them, timeout=30)  # the purges reach the stream's store by their own queue
