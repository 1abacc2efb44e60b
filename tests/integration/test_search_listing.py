"""The alert list and the related counts of list items, served from the real Elasticsearch."""

import pytest

from services.search import indexing, listing, merges
from services.search.dependencies import SearchIndex
from tests.integration import search_data as data


@pytest.fixture
def index(es, run_id):
    search_index = SearchIndex(es, f"test-{run_id}-listing-{data.uid()[:6]}")
    search_index.ensure_indices()
    yield search_index
    es.indices.delete(index=",".join(es.indices.get(index=f"{search_index.prefix}-*")))


def put(index, *alerts, entities_of=None):
    indexing.index_alerts(index, list(alerts))
    for alert in alerts:
        found = (entities_of or {}).get(alert["alert_id"])
        if found:
            indexing.index_resolutions(index, [data.resolution(alert, *found)])
    index.refresh()


def at(minute: int) -> str:
    return f"2026-03-05T22:{minute:02d}:00+00:00"


def ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


def test_pages_are_newest_first_filtered_and_scoped_to_the_callers_alerts(index):
    texas = [data.alert(received_at=at(n)) for n in range(7)]
    dismissed = data.alert(received_at=at(30), status="dismissed")
    other = data.alert(received_at=at(40), agency="CA0000000")
    handed = data.alert(received_at=at(41), agency="CA0000000", assignee="alice", version=2)
    put(index, *texas, dismissed, other)
    indexing.index_alert(index, {**handed, "change": "assigned"})
    index.refresh()
    caller = data.caller(sub="alice")
    first = listing.alert_page(index, caller, {"status": "new"}, 3, None)
    expected = [handed["alert_id"], *(a["alert_id"] for a in reversed(texas))]
    assert ids(first) == expected[:3] and first["next_cursor"]
    rest = listing.alert_page(index, caller, {"status": "new"}, 10, first["next_cursor"])
    assert ids(rest) == expected[3:] and rest["next_cursor"] is None
    assert ids(listing.alert_page(index, caller, {"status": "dismissed"}, 10, None)) == [dismissed["alert_id"]]
    window = {"since": at(2), "until": at(4)}
    assert ids(listing.alert_page(index, caller, window, 10, None)) == [texas[3]["alert_id"], texas[2]["alert_id"]]
    assert other["alert_id"] not in ids(listing.alert_page(index, caller, {}, 100, None))
    assert ids(listing.alert_page(index, data.caller(sub="bob"), {"assignee": "alice"}, 10, None)) == []
    with pytest.raises(ValueError):
        listing.alert_page(index, caller, {}, 10, "not-a-cursor")


def test_an_item_is_the_one_announced_at_the_alerts_version_with_its_sightings_entities_and_count(index):
    car, person = data.vehicle(data.tag(6)), data.entity("person", f"name:{data.tag(8)}|1990-01-01")
    first, second = data.alert(received_at=at(1)), data.alert(received_at=at(2))
    put(index, first, second, entities_of={first["alert_id"]: [person, car], second["alert_id"]: [car]})
    dismissed = {**first, "status": "dismissed", "version": 2}
    indexing.index_alert(index, {**dismissed, "item": data.list_item(dismissed), "change": "dismissed"})
    indexing.index_alerts(index, [first])  # a late replay of the first version changes nothing
    index.refresh()
    page = listing.alert_page(index, data.caller(), {}, 10, None)
    assert ids(page) == [second["alert_id"], first["alert_id"]]
    newest, oldest = page["items"]
    assert (oldest["status"], oldest["version"], oldest["related_count"]) == ("dismissed", 2, 1)
    assert oldest["entities"] == [
        {key: entity[key] for key in ("id", "type", "key", "display", "ambiguous")} for entity in (person, car)
    ]  # by type and key
    assert [e["id"] for e in newest["entities"]] == [car["id"]] and newest["related_count"] == 1


def test_an_items_entities_follow_a_merge_to_the_survivor(index):
    plate = data.tag(6)
    car, same = data.vehicle(plate), data.vehicle(plate, state="LA")
    read = data.alert(received_at=at(3))
    put(index, read, entities_of={read["alert_id"]: [same]})
    survivor = {**car, "revision": 2, "aliases": [same["key"]], "sightings": []}
    merges.apply_merge(
        index,
        {
            "survivor_id": car["id"],
            "merged_id": same["id"],
            "undone": False,
            "at": at(4),
            "entities": [survivor, {**same, "revision": 2, "merged_into": car["id"], "sightings": []}],
        },
    )
    index.refresh()
    [item] = listing.alert_page(index, data.caller(), {}, 10, None)["items"]
    assert [(e["id"], e["key"]) for e in item["entities"]] == [(car["id"], car["key"])]


def test_an_item_another_agency_may_not_see_is_never_served_whatever_the_document_says(index):
    """The page's query filters by the caller's scope; each item is checked again by
    ``access_rules.alert_visible``, as intake's items were, so the item and the filter must agree."""
    mine, theirs = data.alert(received_at=at(5)), data.alert(received_at=at(6))
    theirs["item"] = {**theirs["item"], "agency": "CA0000000"}  # an item out of step with its document
    put(index, mine, theirs)
    assert ids(listing.alert_page(index, data.caller(), {}, 10, None)) == [mine["alert_id"]]
    assert ids(listing.alert_page(index, data.caller(agency="CA0000000"), {}, 10, None)) == []


def test_related_counts_count_the_other_records_of_shared_entities_that_the_caller_may_open(index):
    plate = data.tag(6)
    car, person = data.vehicle(plate), data.entity("person", f"name:{data.tag(8)}|1990-01-01")
    stateless = data.vehicle(plate, state="??")
    january, march, april = data.alert(at=at(1)), data.alert(at=at(2)), data.alert(at=at(3))
    unrelated = data.alert(at=at(4))
    elsewhere = data.alert(at=at(5), agency="CA0000000")
    put(
        index,
        january,
        march,
        april,
        unrelated,
        elsewhere,
        entities_of={
            january["alert_id"]: [car],
            march["alert_id"]: [car, person],
            april["alert_id"]: [stateless],
            unrelated["alert_id"]: [data.vehicle(data.tag(6))],
            elsewhere["alert_id"]: [car],
        },
    )
    groups = {a["alert_id"]: [a["alert_id"]] for a in (january, march, april, unrelated)}
    counts = listing.related_counts(index, data.caller(), groups)
    # January and March share the car; April's read without a state matches the plate in Texas;
    # California's read of the car is not the caller's to open.
    assert counts == {january["alert_id"]: 2, march["alert_id"]: 2, april["alert_id"]: 2, unrelated["alert_id"]: 0}
    assert listing.related_counts(index, data.caller(), {"c1": [january["alert_id"], march["alert_id"]]}) == {"c1": 1}


def test_C16_a_purged_alerts_item_and_the_sightings_naming_its_entities_leave_with_its_document(index):
    car = data.vehicle(data.tag(6))
    kept, purged = data.alert(received_at=at(7)), data.alert(received_at=at(8))
    put(index, kept, purged, entities_of={kept["alert_id"]: [car], purged["alert_id"]: [car]})
    indexing.purge(index, "alert", purged["alert_id"])
    indexing.index_alerts(index, [purged])  # a late replay does not bring it back
    index.refresh()
    [item] = listing.alert_page(index, data.caller(), {}, 10, None)["items"]
    assert (item["id"], item["related_count"]) == (kept["alert_id"], 0)
    assert index.sources("alerts", [purged["alert_id"]]) == {}
