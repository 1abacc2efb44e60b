"""C16 fan-out of a case purged through the API: the cases service's ``record_purged`` reaches entities
and search, and what the case named is gone from the entity page and the plate search. The entities
service's own part, fed a hand-made ``record_purged``, is tests/integration/test_entities.py's C16 test;
the retention sweep's purge of a read is tests/e2e/test_retention.py's."""

import uuid

import pytest

from tests.e2e.test_search_access import PURPOSE, TX, intelligence, name_vehicle, read_naming_a_vehicle
from tests.polling import eventually


@pytest.fixture(scope="module")
def users(gateway):
    return {
        "dana": gateway.token("detective", sub="dana", unit="narcotics"),
        "sam": gateway.token("supervisor", sub="sam", unit="narcotics"),
        "pat": gateway.token("purge_authority", sub="pat", unit="records"),
        "source": gateway.token("source", agency=TX),
    }


def test_C16_a_case_purged_through_the_api_leaves_the_entity_page_and_the_plate_search_of_its_vehicle(gateway, users):
    """A read names a vehicle; an approved case links it. Once the purge authority purges the case, the
    vehicle's page and its plate search list the read alone, and the vehicle, still named by the read,
    stays."""
    plate = f"P{uuid.uuid4().hex[:6].upper()}"
    alert_id, vehicle_id = read_naming_a_vehicle(gateway, users, plate)
    case_id = intelligence(gateway, users, f"{plate} garage", "open")
    name_vehicle(gateway, users, case_id, vehicle_id)

    def page():
        response = gateway.get(f"/api/v1/entities/{vehicle_id}", token=users["dana"], headers=dict(PURPOSE))
        assert response.status_code == 200, response.text
        found = response.json()
        return [c["id"] for c in found["cases"]], {s["record_id"] for s in found["sightings"]}

    def plate_sightings():
        response = gateway.get(
            "/api/v1/search/plates", token=users["dana"], headers=dict(PURPOSE), params={"plate": plate, "state": "TX"}
        )
        assert response.status_code == 200, response.text
        exact = [item for item in response.json()["items"] if item["entity"]["id"] == vehicle_id]
        return {s["record_id"] for s in exact[0]["sightings"]} if exact else set()

    eventually(lambda: page() == ([case_id], {alert_id, case_id}))
    eventually(lambda: plate_sightings() == {alert_id, case_id})

    purged = gateway.post(
        f"/api/v1/cases/{case_id}/purge", token=users["pat"], headers=dict(PURPOSE), json={"reason": "court order 7"}
    )
    assert purged.status_code == 200, purged.text
    eventually(lambda: page() == ([], {alert_id}))
    eventually(lambda: plate_sightings() == {alert_id})
