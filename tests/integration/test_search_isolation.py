"""Issue 16 in search, against the real Elasticsearch: an agency finds only the entities and vehicles
its own records name (docs/security.md). A vehicle another agency alone has seen is not returned at all,
not even without sightings: its existence is the leak."""

import pytest

from casewire.alerts import FACE_NOTICE
from services.search import finder, indexing
from services.search.dependencies import SearchIndex
from tests.integration import search_data as data

TX, CA = "TX0000000", "CA0000000"
REGION = "US"


@pytest.fixture(scope="module")
def index(es, run_id):
    search_index = SearchIndex(es, f"test-{run_id}-isolation")
    search_index.ensure_indices()
    return search_index


def named(index, entity, agency=TX, source="tip", at="2026-03-05T22:14:00+00:00", **payload):
    alert = data.alert(source=source, agency=agency, at=at, payload=payload or {"narrative": "n"})
    indexing.index_alert(index, alert)
    indexing.index_resolutions(index, [data.resolution(alert, entity)])
    return alert


def search(index, q, agency, **filters):
    index.refresh()
    return finder.search(index, data.caller(agency=agency), q, {"limit": 50, **filters}, REGION)


def ids(found):
    return [(item["type"], item["id"]) for item in found["items"]]


def test_a_person_only_another_agencys_tip_names_is_not_found(index):
    last = data.tag(7).capitalize()
    person = data.entity("person", f"name:ZEBULON {last.upper()}|1979-02-03", f"Zebulon {last}")
    named(index, person)
    assert ids(search(index, f"Zebulon {last}", TX, types=["entity"])) == [("entity", person["id"])]
    assert ids(search(index, f"Zebulon {last}", CA, types=["entity"])) == []
    assert ids(search(index, f"Zebulon {last}", None, types=["entity"])) == []


def test_a_plate_only_another_agency_saw_is_not_returned_even_without_sightings(index):
    plate = f"{data.tag()}4471"
    vehicle = data.vehicle(plate)
    alert = named(index, vehicle, source="alpr", plate=plate, plate_state="TX", camera_id="c")
    index.refresh()
    ours, _ = finder.find_plates(index, data.caller(agency=TX), plate, None, True, 50)
    assert [(item["entity"]["id"], [s["record_id"] for s in item["sightings"]]) for item in ours] == [
        (vehicle["id"], [alert["alert_id"]])
    ]
    theirs, _ = finder.find_plates(index, data.caller(agency=CA), plate, None, False, 50)
    assert theirs == []


def test_both_agencies_see_a_shared_vehicle_each_with_its_own_sightings(index):
    plate = f"{data.tag()}4471"
    vehicle = data.vehicle(plate)
    texan = named(index, vehicle, source="alpr", plate=plate, plate_state="TX", camera_id="c")
    californian = named(index, vehicle, agency=CA, source="alpr", plate=plate, plate_state="TX", camera_id="d")
    index.refresh()
    for agency, alert in ((TX, texan), (CA, californian)):
        (item,) = finder.find_plates(index, data.caller(agency=agency), plate, None, False, 50)[0]
        assert [s["record_id"] for s in item["sightings"]] == [alert["alert_id"]]


def test_a_page_skips_other_agencies_entities_and_its_cursor_leads_on(index):
    word = data.tag(8).lower()
    ours = [data.entity("person", f"name:{word.upper()} {n}|?", f"{word} {n}") for n in range(3)]
    for entity in ours:
        named(index, entity, agency=CA)
    for n in range(4):
        named(index, data.entity("person", f"name:{word.upper()} TX{n}|?", f"{word} tx{n}"))
    first = search(index, word, CA, types=["entity"], limit=2)
    second = search(index, word, CA, types=["entity"], limit=2, cursor=first["next_cursor"])
    assert len(first["items"]) == 2 and first["next_cursor"]
    assert sorted(item["id"] for item in first["items"] + second["items"]) == sorted(e["id"] for e in ours)


def test_another_agencys_sightings_place_nothing_in_time_or_space(index):
    word = data.tag(8).lower()
    person = data.entity("person", f"name:{word.upper()}|?", word)
    named(index, person, at="2026-01-14T23:41:00+00:00")
    named(index, person, agency=CA, at="2026-03-18T03:02:00+00:00")
    january = {"since": "2026-01-01T00:00:00+00:00", "until": "2026-02-01T00:00:00+00:00"}
    assert ids(search(index, word, TX, types=["entity"], **january)) == [("entity", person["id"])]
    assert ids(search(index, word, CA, types=["entity"], **january)) == []


def test_C26_a_face_derived_name_carries_the_notice_in_search(index):
    """Search's own summary of a hand-indexed entity named by a face alert; the person made of a face
    alert posted through the API is found with the notice in tests/e2e/test_search_access.py's C26 test."""
    word = data.tag(8).lower()
    person = data.entity("person", f"name:{word.upper()}|?", word)
    named(index, person, source="face", candidate={"name": word})
    (item,) = search(index, word, TX, types=["entity"])["items"]
    assert item["summary"]["notice"] == FACE_NOTICE


def test_C6_another_agencys_restricted_intelligence_is_no_hit_and_tells_nobody(index):
    """Search's own filter over a hand-indexed restricted case, asked by two agencies; a restricted case
    made through the API and searched by another agency, whose search tells nobody, is in
    tests/e2e/test_search_access.py's C3/C6/C9 test."""
    word = data.tag(8).lower()
    case = data.intelligence("restricted", title=word)
    indexing.index_case(index, case)
    index.refresh()

    def found(agency):
        who = data.caller(agency=agency, purpose="robbery series", case_number="26-1")
        return finder.search(index, who, word, {"limit": 50, "types": ["case"]}, REGION)

    assert [hit["id"] for hit in found(TX)["restricted"]] == [case["case_id"]]  # rtcc: not its unit
    assert found(CA)["items"] == [] and found(CA)["restricted"] == []
