"""The tallies' deltas, fold, lease and rebuild on the real server (``casewire/tallies.py``), through
intake's alert store on a database of each test's own: a record changed while a fold runs, a fold
that writes no record, a stale folder, a fold cut short, a folder that lost its lease, purged records,
and the rebuild against the folds."""

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


def stored(store, docs):
    """Alerts stored as intake's ingest stores them, counted in by one delta per batch."""
    assert store.insert_alerts(docs, uuid.uuid4().hex) == set()


def waiting(store):
    return store.tallies.deltas.count_documents({})


def once(store, action):
    """Run ``action`` the first time the fold folds an hour (after it read the waiting deltas)."""
    fold, done = store.tallies._fold_hour, []

    def hooked(*args, **kwargs):
        if not done:
            done.append(True)
            action()
        return fold(*args, **kwargs)

    store.tallies._fold_hour = hooked


def test_an_alert_changed_while_a_fold_runs_is_counted_by_the_next_fold(store):
    stored(store, [alert(1, 8), alert(2, 8)])
    once(store, lambda: dismiss(store, f"{AGENCY}-2"))
    assert store.tallies.sweep() == {"swept": True, "deltas": 1, "hours": 1, "days": 1}
    assert total(store)["dismissed"] == 0 and waiting(store) == 1  # the dismissal came after the read
    assert store.tallies.sweep() == {"swept": True, "deltas": 1, "hours": 1, "days": 1}
    assert total(store)["dismissed"] == total(store, EIGHT_TO_NINE)["dismissed"] == 1
    assert (total(store)["alerts"], waiting(store)) == (2, 0)


def test_a_fold_writes_no_record(store):
    stored(store, [alert(1, 8), alert(2, 9, status="dismissed")])
    dismiss(store, f"{AGENCY}-1")
    before = list(store.alerts.find().sort("_id"))
    assert store.tallies.sweep()["swept"]
    assert list(store.alerts.find().sort("_id")) == before
    assert total(store)["dismissed"] == 2 and waiting(store) == 0


def test_a_stale_folder_cannot_overwrite_a_newer_folders_bucket(store):
    stored(store, [alert(1, 8)])
    newer = []

    def overtaken():
        dismiss(store, f"{AGENCY}-1")
        store.tallies.state.update_one({"_id": "lease"}, {"$set": {"expires": utcnow() - timedelta(minutes=1)}})
        newer.append(store.tallies.sweep())  # takes the expired lease with a newer epoch, folds both deltas

    once(store, overtaken)
    assert store.tallies.sweep()["swept"] is False  # its write was refused
    assert newer[0]["swept"] and total(store)["dismissed"] == total(store, EIGHT_TO_NINE)["dismissed"] == 1
    assert total(store)["alerts"] == 1
    bucket = store.tallies.hours.find_one({"_id": f"{AGENCY}|2026-05-04T08"})
    assert bucket["epoch"] == store.tallies.state.find_one({"_id": "lease"})["epoch"]


def test_a_fold_cut_short_after_writing_its_bucket_counts_nothing_twice(store, monkeypatch):
    stored(store, [alert(1, 8), alert(2, 8)])

    def cut(ids):
        raise RuntimeError("the process died before deleting the deltas it folded")

    monkeypatch.setattr(store.tallies, "_delete", cut)
    with pytest.raises(RuntimeError):
        store.tallies.sweep()
    monkeypatch.undo()
    assert waiting(store) == 1 and total(store)["alerts"] == 2
    dismiss(store, f"{AGENCY}-1")
    assert store.tallies.sweep()["deltas"] == 1  # the dismissal; the folded delta is only deleted
    assert (total(store)["alerts"], total(store)["dismissed"], waiting(store)) == (2, 1, 0)


def test_a_sweeper_that_lost_its_lease_folds_nothing(store):
    stored(store, [alert(1, 8)])
    other = tallies.Lease(store.tallies.state)

    def lost():
        store.tallies.state.update_one({"_id": "lease"}, {"$set": {"expires": utcnow() - timedelta(minutes=1)}})
        assert other.acquire() is not None

    once(store, lost)
    assert store.tallies.sweep()["swept"] is False and waiting(store) == 1
    assert store.tallies.sweep(wait=0.5)["swept"] is False  # the other holds the lease
    other.release()
    assert store.tallies.sweep()["swept"] and waiting(store) == 0 and total(store)["alerts"] == 1


def test_a_purged_alert_leaves_its_hour_and_its_day(store):
    due = DAY - timedelta(days=1)
    first, second = alert(1, 8, purge_after=due, record_class="sensor"), alert(2, 9)
    third = alert(3, 8, status="dismissed")
    stored(store, [first, second, third])
    store.tallies.sweep()
    assert (total(store)["alerts"], total(store, EIGHT_TO_NINE)["alerts"]) == (3, 2)
    assert store.delete_if_due(first, DAY)["_id"] == first["_id"]
    assert store.delete_if_due(first, DAY) is None  # gone: counted out once
    assert total(store)["alerts"] == 3  # until the next fold
    store.tallies.sweep()
    assert (total(store)["alerts"], total(store, EIGHT_TO_NINE)["alerts"]) == (2, 1)


class CountingFinds:
    """A collection whose ``find`` calls are counted."""

    def __init__(self, collection):
        self.collection, self.finds = collection, 0

    def find(self, *args, **kwargs):
        self.finds += 1
        return self.collection.find(*args, **kwargs)


def test_a_period_of_centuries_is_read_in_one_query(store):
    """A period "since the year 342" is valid input: one query a month would be 22,000 queries."""
    stored(store, [alert(1, 8), alert(2, 9), alert(3, 8, day=DAY + timedelta(days=40))])
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


def test_the_rebuild_gives_the_buckets_the_folds_give(mongo, store):
    docs = [
        alert(n, n % 24, agency=agency, day=DAY + timedelta(days=n % 3), status=status, **extra)
        for n, (agency, status, extra) in enumerate(
            [
                (AGENCY, "new", {}),
                (AGENCY, "dismissed", {"dismissal": {"reason": "duplicate"}, "seconds_to_first_action": 12.5}),
                (AGENCY, "assigned", {"seconds_to_assignment": 60.0, "overdue": True, "escalated_at": DAY}),
                ("TX0000002", "promoted", {}),
                (None, "new", {}),
            ]
            * 9
        )
    ]
    stored(store, docs)
    related = [{"record_type": "case", "id": "c1"}]
    resolved = [
        {"alert_id": d["_id"], "entities": [], "related": related, "source": "alpr", "agency": d["agency"]}
        for d in docs[:10]
    ]
    store.save_resolutions([{**r, "received_at": DAY.isoformat()} for r in resolved])
    store.tallies.sweep()
    folded = buckets(store)

    upgraded = AlertStore(mongo[f"tallies_{uuid.uuid4().hex[:8]}"])
    try:
        upgraded.ensure_indexes()
        upgraded.alerts.insert_many(docs)
        upgraded.resolutions.insert_many(list(store.resolutions.find()))
        found = upgraded.tallies.rebuild(upgraded.tallied())
        assert found == {"records": 55, "hours": len(folded) - found["days"], "days": found["days"]}
        assert buckets(upgraded) == folded
        connected = [total(one)["connected_to_earlier_cases"] for one in (upgraded, store)]
        assert connected == [6, 6]  # six of the first ten alerts are the agency's
    finally:
        mongo.drop_database(upgraded.alerts.database.name)


def test_the_rebuild_command_builds_both_services_tallies(mongo, monkeypatch):
    from click.testing import CliRunner

    from casewire_cli.main import main

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
            "intake: records 2, hour tallies 2, day tallies 2",
            "cases: records 1, hour tallies 1, day tallies 1",
        ]
        assert [bucket["_id"] for bucket in mongo[names["cases"]]["outcome_days"].find()] == [f"{AGENCY}|2026-05-04"]
    finally:
        for name in names.values():
            mongo.drop_database(name)
