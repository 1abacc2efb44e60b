"""Plate search against the real Elasticsearch: each pattern, each OCR confusion, the ranking order."""

import pytest

from services.search import finder, indexing
from services.search.dependencies import SearchIndex
from tests.integration import search_data as data

HOUSTON, AUSTIN = (29.76, -95.36), (30.27, -97.74)  # about 235 km apart


@pytest.fixture(scope="module")
def index(es, run_id):
    search_index = SearchIndex(es, f"test-{run_id}-plates")
    search_index.ensure_indices()
    return search_index


@pytest.fixture
def add(index):
    """``add("ABC123", state="TX")``: a vehicle read by an ALPR alert, indexed as the handlers do."""

    def add_plate(plate, state="TX", agency="TX0000000", at="2026-03-05T22:14:00+00:00", location=HOUSTON):
        payload = {"plate": plate, "plate_state": state, "camera_id": "c"}
        alert = data.alert(payload=payload, agency=agency, at=at, location=location)
        vehicle = data.vehicle(plate, state)
        indexing.index_alert(index, alert)
        indexing.index_resolutions(index, [data.resolution(alert, vehicle)])
        return vehicle, alert

    yield add_plate


def seen(index, vehicle, at, location=HOUSTON, agency="TX0000000"):
    """Another read of ``vehicle``: an ALPR alert at ``at`` and ``location`` naming it, indexed as the handlers do."""
    plate = vehicle["key"].split(":")[1]
    alert = data.alert(payload={"plate": plate, "camera_id": "c"}, at=at, location=location, agency=agency)
    indexing.index_alert(index, alert)
    indexing.index_resolutions(index, [data.resolution(alert, vehicle)])
    return alert


def find(index, plate, state=None, fuzzy=True, who=None, **filters):
    index.refresh()
    return finder.find_plates(index, who or data.caller(), plate, state, fuzzy, 50, filters)[0]


def plates(items, prefix=""):
    """(plate, match) of each hit; with ``prefix``, only this test's plates: the module shares one index,
    and a random prefix of another test may sit within the fuzzy distance of this one's."""
    return [(item["entity"]["plate"], item["match"]) for item in items if item["entity"]["plate"].startswith(prefix)]


def test_exact_plate_is_found_with_its_sighting(index, add):
    plate = f"{data.tag()}4471"
    vehicle, alert = add(plate)
    items = find(index, plate)
    assert plates(items) == [(plate, "exact")]
    assert items[0]["entity"]["id"] == vehicle["id"]
    assert [s["record_id"] for s in items[0]["sightings"]] == [alert["alert_id"]]


def test_spaces_dashes_and_case_are_ignored(index, add):
    plate = f"{data.tag()}4471"
    add(plate)
    assert plates(find(index, f"{plate[:3].lower()}-{plate[3:]}")) == [(plate, "exact")]
    assert plates(find(index, f"{plate[:3]} {plate[3:]}")) == [(plate, "exact")]


@pytest.mark.parametrize("letter,digit", [("O", "0"), ("I", "1"), ("B", "8"), ("S", "5"), ("Z", "2")])
def test_each_ocr_confusion_folds_both_ways(index, add, letter, digit):
    prefix = data.tag()
    with_letter, with_digit = f"{prefix}{letter}47", f"{prefix}{digit}47"
    add(with_letter)
    assert plates(find(index, with_digit), prefix) == [(with_letter, "folded")]
    other = data.tag()
    add(f"{other}{digit}47")
    assert plates(find(index, f"{other}{letter}47".lower()), other) == [(f"{other}{digit}47", "folded")]


def test_question_mark_is_exactly_one_character(index, add):
    prefix = data.tag()
    add(f"{prefix}X7")
    add(f"{prefix}XY7")
    add(f"{prefix}7")
    assert plates(find(index, f"{prefix}?7")) == [(f"{prefix}X7", "exact")]


def test_star_is_any_run(index, add):
    prefix = data.tag()
    for suffix in ("7", "X7", "XY7"):
        add(f"{prefix}{suffix}")
    add(f"{prefix}X8")
    assert sorted(plates(find(index, f"{prefix}*7"))) == sorted(
        [(f"{prefix}7", "exact"), (f"{prefix}X7", "exact"), (f"{prefix}XY7", "exact")]
    )


def test_a_partial_plate_like_ab_something_12_anything(index, add):
    prefix = data.tag(2)
    matching = [f"{prefix}X12", f"{prefix}X1234", f"{prefix}Q12Y"]
    for plate in [*matching, f"{prefix}XY12", f"{prefix}12"]:
        add(plate)
    assert sorted(plates(find(index, f"{prefix}?12*"))) == sorted((p, "exact") for p in matching)


def test_witness_style_partial_with_a_confusion(index, add):
    """ "A B C, something, 7" typed as ``ABC?7``; the camera read the plate's O as a 0."""
    prefix = data.tag(2)
    add(f"{prefix}O47")
    items = find(index, f"{prefix}0?7")
    assert plates(items) == [(f"{prefix}O47", "folded")]


def test_fuzzy_finds_one_misread_character_and_can_be_turned_off(index, add):
    plate = f"{data.tag()}4471"
    add(plate)
    misread = f"{plate[:-1]}3"
    assert plates(find(index, misread)) == [(plate, "fuzzy")]
    assert find(index, misread, fuzzy=False) == []


def test_ranking_exact_above_folded_above_fuzzy(index, add):
    prefix = data.tag(2)
    exact, folded, fuzzy = f"{prefix}B0B1", f"{prefix}8O81", f"{prefix}B0B4"
    for plate in (fuzzy, folded, exact):
        add(plate)
    items = find(index, exact)
    assert plates(items) == [(exact, "exact"), (folded, "folded"), (fuzzy, "fuzzy")]
    assert items[0]["score"] > items[1]["score"] > items[2]["score"]


def test_state_restricts_the_match(index, add):
    plate = f"{data.tag()}4471"
    add(plate, state="TX")
    louisiana, _ = add(plate, state="LA")
    items = find(index, plate, state="la")
    assert [(item["entity"]["id"], item["entity"]["plate_state"]) for item in items] == [(louisiana["id"], "LA")]


def test_a_state_restricted_search_keeps_reads_without_a_state_and_marks_them_ambiguous(index, add):
    plate = f"{data.tag()}4471"
    texas, _ = add(plate, state="TX")
    unknown, _ = add(plate, state="??")
    add(plate, state="LA")
    items = find(index, plate, state="tx")
    found = {item["entity"]["id"]: (item["entity"]["plate_state"], item["ambiguous"]) for item in items}
    assert found == {texas["id"]: ("TX", False), unknown["id"]: ("??", True)}
    assert {item["entity"]["plate_state"]: item["ambiguous"] for item in find(index, plate)} == {
        "TX": False,
        "LA": False,
        "??": True,
    }


def test_sightings_of_alerts_the_caller_cannot_open_are_left_out(index, add):
    plate = f"{data.tag()}4471"
    vehicle, ours = add(plate)
    other_alert = data.alert(payload={"plate": plate, "plate_state": "TX", "camera_id": "c"}, agency="LA9999999")
    indexing.index_alert(index, other_alert)
    indexing.index_resolutions(index, [data.resolution(other_alert, vehicle)])
    seen = [s["record_id"] for s in find(index, plate)[0]["sightings"]]
    assert seen == [ours["alert_id"]]


def test_C6_a_sighting_in_a_restricted_case_is_hidden_and_reported(index, add):
    """Search's own plate filter over a hand-indexed restricted case and its sighting of the vehicle; a
    read posted and a restricted case linked to its vehicle through the API, and the control
    official told of another unit's plate search, are tests/e2e/test_search_access.py's C6 plate test."""
    plate = f"{data.tag()}4471"
    vehicle, alert = add(plate)
    case = data.intelligence("restricted", title="network")
    indexing.index_case(index, case)
    sighting = {**data.resolution(alert, vehicle)["sightings"][0], "record_type": "case", "record_id": case["case_id"]}
    indexing.index_resolutions(index, [{"alert_id": case["case_id"], "entities": [], "sightings": [sighting]}])
    index.refresh()
    outsider = data.caller(unit="robbery", purpose="burglary series")
    items, restricted = finder.find_plates(index, outsider, plate, None, True, 50)
    assert [s["record_id"] for s in items[0]["sightings"]] == [alert["alert_id"]]
    assert [r["id"] for r in restricted] == [case["case_id"]]
    insider = data.caller(unit="intel", purpose="network", case_number="26-3")
    items, restricted = finder.find_plates(index, insider, plate, None, True, 50)
    assert {s["record_id"] for s in items[0]["sightings"]} == {alert["alert_id"], case["case_id"]}
    assert restricted == []


# The time and place tests search a wildcard without fuzzy matching: the module shares one index, and
# the reads of other tests (by default in Houston in March) within the fuzzy distance would be found.
def found_sightings(items):
    """Each vehicle's id and the records of its sightings shown."""
    return {item["entity"]["id"]: sorted(s["record_id"] for s in item["sightings"]) for item in items}


def test_since_and_until_keep_the_vehicles_seen_in_that_time_with_those_sightings(index, add):
    prefix = data.tag()
    both, january = add(f"{prefix}1", at="2026-01-14T23:41:00+00:00")
    march = seen(index, both, "2026-03-18T08:02:00+00:00")
    only_january, other = add(f"{prefix}2", at="2026-01-20T10:00:00+00:00")
    in_march = find(
        index, f"{prefix}*", fuzzy=False, since="2026-03-01T00:00:00+00:00", until="2026-04-01T00:00:00+00:00"
    )
    assert found_sightings(in_march) == {both["id"]: [march["alert_id"]]}
    before = find(index, f"{prefix}*", fuzzy=False, until="2026-03-18T08:02:00+00:00")  # until is exclusive
    assert found_sightings(before) == {both["id"]: [january["alert_id"]], only_january["id"]: [other["alert_id"]]}
    since = find(index, f"{prefix}*", fuzzy=False, since="2026-03-18T08:02:00+00:00")  # since is inclusive
    assert found_sightings(since) == {both["id"]: [march["alert_id"]]}


def test_near_keeps_the_vehicles_seen_within_km_of_the_point_with_those_sightings(index, add):
    prefix = data.tag()
    both, houston = add(f"{prefix}1", location=HOUSTON)
    austin = seen(index, both, "2026-03-06T09:00:00+00:00", location=AUSTIN)
    only_austin, other = add(f"{prefix}2", location=AUSTIN)
    unplaced, _unplaced_read = add(f"{prefix}3", location=None)  # a read without a place is near nothing
    near_houston = {"lat": HOUSTON[0], "lon": HOUSTON[1] + 0.02, "km": 5}
    assert found_sightings(find(index, f"{prefix}*", fuzzy=False, near=near_houston)) == {
        both["id"]: [houston["alert_id"]]
    }
    near_austin = {"lat": AUSTIN[0], "lon": AUSTIN[1], "km": 1}
    assert found_sightings(find(index, f"{prefix}*", fuzzy=False, near=near_austin)) == {
        both["id"]: [austin["alert_id"]],
        only_austin["id"]: [other["alert_id"]],
    }
    assert unplaced["id"] in found_sightings(find(index, f"{prefix}*", fuzzy=False))


def test_time_and_place_together_need_a_sighting_in_both(index, add):
    prefix = data.tag()
    vehicle, _ = add(f"{prefix}1", at="2026-01-14T23:41:00+00:00", location=HOUSTON)
    seen(index, vehicle, "2026-03-18T08:02:00+00:00", location=AUSTIN)
    march = {"since": "2026-03-01T00:00:00+00:00", "until": "2026-04-01T00:00:00+00:00"}
    near_houston = {"lat": HOUSTON[0], "lon": HOUSTON[1], "km": 5}
    assert (
        find(index, f"{prefix}*", fuzzy=False, near=near_houston, **march) == []
    )  # in Houston in January, in Austin in March
    assert found_sightings(find(index, f"{prefix}*", fuzzy=False, near=near_houston)) != {}


def test_another_agencys_sighting_in_the_time_asked_does_not_place_the_vehicle_for_us(index, add):
    prefix = data.tag()
    vehicle, ours = add(f"{prefix}1", at="2026-01-14T23:41:00+00:00")
    theirs = seen(index, vehicle, "2026-03-18T08:02:00+00:00", agency="LA9999999")
    march = {"since": "2026-03-01T00:00:00+00:00", "until": "2026-04-01T00:00:00+00:00"}
    assert find(index, f"{prefix}*", fuzzy=False, **march) == []
    louisiana = data.caller(agency="LA9999999")
    assert found_sightings(find(index, f"{prefix}*", fuzzy=False, who=louisiana, **march)) == {
        vehicle["id"]: [theirs["alert_id"]]
    }
    assert found_sightings(find(index, f"{prefix}*", fuzzy=False)) == {vehicle["id"]: [ours["alert_id"]]}
