"""The tallies' sweep, lease and rebuild on the real FerretDB (``casewire/tallies.py``, README, Outcomes),
through intake's alert store on a database of each test's own: a record changed while a sweep runs,
a sweep that writes no record, a stale sweeper, a sweeper that lost its lease, deleted records, and
the rebuild against the sweeps."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from casewire import tallies
from casewire.clock import utcnow
from services.intake.dependencies import AlertStore
from services.intake.metrics import alert_funnel

AGENCY = "TX0000001"
DAY = datetime(2026, 5, 4, tzinfo=UTC)
WHOLE_DAY = (DAY, DAY + timedelta(days=1))
EIGHT_TO_NINE = (DAY + timedelta(hours=8), DAY + timedelta(hours=9))


@pytest.fixture
def store(mongo):
    database = mongo[f"tallies_{uuid.uuid4().hex[:8]}"]
    store = AlertStore(database)
    store.ensure_indexes()
    yield store
    mongo.drop_database(database.name)


def alert(n, hour, agency=AGENCY, day=DAY, **fields):
    received = day + timedelta(hours=hour, minutes=n)
    return {
        "_id": f"{agency}-{n}",
        "agency": agency,
        "source": "alpr",
        "source_system": "test",
        "source_event_id": f"{agency}-{n}",
        "status": "new",
        "received_at": received,
        "received_hour": tallies.hour_of(received),
        "actions": [],
        **fields,
    }


def total(store, period=WHOLE_DAY):
    return alert_funnel(store, AGENCY, *period)["total"]


def dismiss(store, alert_id):
    entry = {"action": "dismissed", "actor": "bob", "at": DAY, "detail": {}}
    changes = {"status": "dismissed", "dismissal": {"reason": "false_read", "text": "no"}}
    store.transition(alert_id, ("new", "assigned"), changes, entry)


def markers(store):
    return sorted(marker["hour"] for marker in store.tallies.state.find({"dirty": True}))


def expire_markers(store):
    """As if the markers had all been written more than ``grace`` ago."""
    store.tallies.grace = timedelta(seconds=-60)


def once(store, action):
    """Run ``action`` the first time the sweep counts an alert (after it read the hour's alerts)."""
    contribute, done = store.tallies.contribute, []

    def hooked(record):
        if not done:
            done.append(True)
            action()
        return contribute(record)

    store.tallies.contribute = hooked


def test_an_alert_changed_while_a_sweep_runs_is_counted_by_the_next_sweep(store):
    store.insert_many([alert(1, 8), alert(2, 8)])
    once(store, lambda: dismiss(store, f"{AGENCY}-2"))
    assert store.tallies.sweep()["swept"]
    assert total(store)["dismissed"] == 0  # the sweep read the hour before the dismissal
    assert markers(store) == ["2026-05-04T08"]  # younger than the grace: kept for the next sweeps
    assert store.tallies.sweep() == {"swept": True, "marks": 1, "hours": 1, "days": 1}
    assert total(store)["dismissed"] == total(store, EIGHT_TO_NINE)["dismissed"] == 1
    expire_markers(store)
    store.tallies.sweep()
    assert (total(store)["alerts"], markers(store)) == (2, [])


def test_a_sweep_writes_no_record(store):
    """FerretDB writes a whole document back on update: a sweep writing records could undo an edit."""
    store.insert_many([alert(1, 8), alert(2, 9, status="dismissed")])
    dismiss(store, f"{AGENCY}-1")
    before = list(store.alerts.find().sort("_id"))
    expire_markers(store)
    assert store.tallies.sweep()["swept"]
    assert list(store.alerts.find().sort("_id")) == before
    assert total(store)["dismissed"] == 2 and markers(store) == []


def test_a_stale_sweeper_cannot_overwrite_a_newer_sweepers_bucket(store):
    store.insert_many([alert(1, 8)])
    newer = []

    def overtaken():
        dismiss(store, f"{AGENCY}-1")
        store.tallies.state.update_one({"_id": "lease"}, {"$set": {"expires": utcnow() - timedelta(minutes=1)}})
        newer.append(store.tallies.sweep())  # takes the expired lease with a newer epoch

    once(store, overtaken)
    assert store.tallies.sweep()["swept"] is False  # its write (the alert still new) was refused
    assert newer[0]["swept"] and total(store)["dismissed"] == total(store, EIGHT_TO_NINE)["dismissed"] == 1
    bucket = store.tallies.hours.find_one({"_id": f"{AGENCY}|2026-05-04T08"})
    assert bucket["epoch"] == store.tallies.state.find_one({"_id": "lease"})["epoch"]


def test_a_sweeper_that_lost_its_lease_deletes_no_marker(store):
    store.insert_many([alert(1, 8)])
    expire_markers(store)
    other = tallies.Lease(store.tallies.state)

    def lost():
        store.tallies.state.update_one({"_id": "lease"}, {"$set": {"expires": utcnow() - timedelta(minutes=1)}})
        assert other.acquire() is not None

    once(store, lost)
    assert store.tallies.sweep()["swept"] is False
    assert markers(store) == ["2026-05-04T08"]  # the next sweep counts it again
    assert store.tallies.sweep(wait=0.5)["swept"] is False  # the other holds the lease
    other.release()
    assert store.tallies.sweep()["swept"] and markers(store) == [] and total(store)["alerts"] == 1


def test_a_deleted_alert_leaves_its_hour_and_its_day(store):
    first, second, third = alert(1, 8), alert(2, 9), alert(3, 8, status="dismissed")
    store.insert_many([first, second, third])
    store.tallies.sweep()
    assert (total(store)["alerts"], total(store, EIGHT_TO_NINE)["alerts"]) == (3, 2)
    store.delete(first)
    assert total(store)["alerts"] == 3  # until the next sweep
    store.tallies.sweep()
    assert (total(store)["alerts"], total(store, EIGHT_TO_NINE)["alerts"]) == (2, 1)

    # A sweep between the mark and the deletion itself: the marker, younger than the grace, stays.
    store.tallies.removing(third, lambda: (store.tallies.sweep(), store.alerts.delete_one({"_id": third["_id"]})))
    assert total(store, EIGHT_TO_NINE)["alerts"] == 1
    store.tallies.sweep()
    assert (total(store)["alerts"], total(store, EIGHT_TO_NINE)["alerts"]) == (1, 0)
    expire_markers(store)
    store.tallies.sweep()
    assert markers(store) == []


def test_one_marker_a_second_whatever_the_number_of_changes(store):
    store.insert_many([alert(n, 8) for n in range(1, 6)] + [alert(6, 9), alert(7, 9, agency="TX0000002")])
    for n in range(1, 6):
        dismiss(store, f"{AGENCY}-{n}")
    found = list(store.tallies.state.find({"dirty": True}))
    marked = {(marker["agency"], marker["hour"]) for marker in found}
    assert marked == {(AGENCY, "2026-05-04T08"), (AGENCY, "2026-05-04T09"), ("TX0000002", "2026-05-04T09")}
    assert len(found) <= 2 * len(marked)  # twelve changes; the writes may straddle one second
    store.tallies.sweep()
    assert total(store)["dismissed"] == 5


class CountingFinds:
    """A collection whose ``find`` calls are counted."""

    def __init__(self, collection):
        self.collection, self.finds = collection, 0

    def find(self, *args, **kwargs):
        self.finds += 1
        return self.collection.find(*args, **kwargs)


def test_a_period_of_centuries_is_read_in_one_query(store):
    """A period "since the year 342" is valid input: one query a month would be 22,000 queries."""
    store.insert_many([alert(1, 8), alert(2, 9), alert(3, 8, day=DAY + timedelta(days=40))])
    store.tallies.sweep()
    store.tallies.days = days = CountingFinds(store.tallies.days)
    ages = (datetime(342, 7, 18, tzinfo=UTC), datetime(2186, 9, 9, tzinfo=UTC))
    two_years = (DAY - timedelta(days=300), DAY + timedelta(days=300))
    assert total(store, two_years)["alerts"] == 3
    assert days.finds > 12  # a query a month
    days.finds = 0
    assert total(store, ages)["alerts"] == 3
    assert total(store, (DAY + timedelta(days=1), ages[1]))["alerts"] == 1
    assert days.finds == 2


def buckets(store) -> dict:
    return {
        bucket["_id"]: tallies.tally_of(bucket)
        for collection in (store.tallies.hours, store.tallies.days)
        for bucket in collection.find()
    }


def test_the_rebuild_gives_the_buckets_the_sweeps_give(mongo, store):
    docs = [
        alert(n, n % 24, agency=agency, day=DAY + timedelta(days=n % 3), status=status, **extra)
        for n, (agency, status, extra) in enumerate(
            [
                (AGENCY, "new", {}),
                (AGENCY, "dismissed", {"dismissal": {"reason": "duplicate"}, "seconds_to_first_action": 12.5}),
                (AGENCY, "assigned", {"seconds_to_assignment": 60.0, "overdue": True, "escalated_at": DAY}),
                ("TX0000002", "promoted", {"related_count": 2, "related_case_count": 1}),
                (None, "new", {}),
            ]
            * 9
        )
    ]
    store.insert_many(docs)
    store.tallies.sweep()
    swept = buckets(store)

    upgraded = AlertStore(mongo[f"tallies_{uuid.uuid4().hex[:8]}"])
    try:
        upgraded.ensure_indexes()
        unmarked = [{key: value for key, value in doc.items() if key != "received_hour"} for doc in docs]
        upgraded.alerts.insert_many(unmarked)
        found = upgraded.tallies.rebuild()
        assert found == {"records": 45, "hours": len(swept) - found["days"], "days": found["days"], "hours_set": 45}
        assert buckets(upgraded) == swept
        assert upgraded.alerts.count_documents({"received_hour": {"$exists": True}}) == 45
        assert total(upgraded)["alerts"] == total(store)["alerts"] > 0
    finally:
        mongo.drop_database(upgraded.alerts.database.name)


def test_the_rebuild_command_builds_both_services_tallies(mongo, monkeypatch):
    from click.testing import CliRunner

    from casewire.cli import main

    names = {service: f"tallies_cli_{service}_{uuid.uuid4().hex[:8]}" for service in ("intake", "cases")}
    for service, name in names.items():
        monkeypatch.setenv(f"{service.upper()}_DATABASE", name)
    try:
        mongo[names["intake"]]["alerts"].insert_many([alert(1, 8), alert(2, 30)])
        opened = DAY + timedelta(hours=3)
        mongo[names["cases"]]["cases"].insert_one({"_id": "c1", "agency": AGENCY, "opened_at": opened, "alerts": []})
        result = CliRunner().invoke(main, ["metrics", "rebuild"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            "intake: records 2, hour tallies 2, day tallies 2, hours stored 0",
            "cases: records 1, hour tallies 1, day tallies 1, hours stored 1",
        ]
        assert [bucket["_id"] for bucket in mongo[names["cases"]]["outcome_days"].find()] == [f"{AGENCY}|2026-05-04"]
    finally:
        for name in names.values():
            mongo.drop_database(name)
