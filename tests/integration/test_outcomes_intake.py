"""Intake's outcomes over the real RabbitMQ and FerretDB: escalation with an injected clock, the
aging queue, and every figure of the alert funnel for a known seeded set, read from the tallies a
sweep computes (docs/outcomes.md)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from nameko.events import event_handler
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook, replace_dependencies

from casewire import tallies
from casewire.alerts import DISMISS_REASONS, SOURCES
from casewire.errors import InvalidInput
from services.intake import metrics
from services.intake.dependencies import AlertStore
from services.intake.service import IntakeService
from tests.polling import eventually

START = datetime(2026, 2, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 1, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.at = datetime.now(UTC)

    def __call__(self):
        return self.at


class OverdueListener:
    name = "overdue_listener"
    received: list = []

    @event_handler("intake", "alert_overdue")
    def handle_alert_overdue(self, payload):
        OverdueListener.received.append(payload)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def intake(container_factory, config_for, clock):
    container = container_factory(IntakeService, config_for("intake"))
    replace_dependencies(container, "entities_rpc", now=clock)  # intake alone: entities is not running
    container.start()
    container_factory(OverdueListener, config_for("intake")).start()
    return container


@pytest.fixture
def rpc(intake, base_config):
    with ClusterRpcProxy(base_config) as proxy:
        yield proxy.intake


@pytest.fixture
def alerts(mongo, config_for):
    return mongo[config_for("intake")["MONGODB_DATABASE"]]["alerts"]


def sweep(intake):
    """Recompute the funnel's tallies now (the timer does it every TALLY_SECONDS)."""
    with entrypoint_hook(intake, "sweep_tallies") as run:
        found = run()
    assert found["swept"], found
    return found


def overdue_for(agency):
    return [event for event in OverdueListener.received if event["agency"] == agency]


def gunshot(priority="critical"):
    return {
        "source": "gunshot",
        "source_system": "shotspotter",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-02T07:59:00Z",
        "location": {"lat": 29.7, "lon": -95.3},
        "priority": priority,
        "payload": {"rounds": 4},
    }


def context(agency, sub="alice", unit="rtcc"):
    return {"actor": {"id": sub, "agency": agency, "roles": ["analyst"]}, "unit": unit, "request_id": sub}


def test_an_untriaged_alert_is_escalated_once_announced_and_queued_oldest_first(intake, rpc, clock):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    alice, bob = context(agency), context(agency, "bob")
    clock.at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    first = rpc.create_alert(gunshot(), alice)["alert"]
    clock.at += timedelta(minutes=1)
    second = rpc.create_alert(gunshot(), alice)["alert"]
    taken = rpc.create_alert(gunshot(), alice)["alert"]
    rpc.assign_alert(taken["id"], {"assignee": "bob"}, alice)
    rpc.add_note(taken["id"], {"text": "Unit 12 en route"}, bob)
    assert first["triage_due"] == "2026-03-02T08:05:00+00:00"

    clock.at = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    with entrypoint_hook(intake, "escalate_overdue") as escalate:
        escalate()
        escalate()  # once only, whoever sweeps
    announced = eventually(lambda: len(overdue_for(agency)) >= 2 and overdue_for(agency))
    assert sorted(e["alert_id"] for e in announced) == sorted([first["id"], second["id"]])
    assert {(e["unit"], e["status"], e["escalated_at"]) for e in announced} == {
        ("rtcc", "new", "2026-03-02T08:30:00+00:00")
    }

    queue = rpc.overdue_alerts({"agency": agency, "limit": 1})
    assert [a["id"] for a in queue["items"]] == [first["id"]]
    rest = rpc.overdue_alerts({"agency": agency, "cursor": queue["next_cursor"]})
    assert [a["id"] for a in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    assert rpc.overdue_alerts({"agency": "XX0000000"})["items"] == []

    rpc.assign_alert(first["id"], {"assignee": "bob"}, bob)  # bob takes it himself: triaged
    assert [a["id"] for a in rpc.overdue_alerts({"agency": agency})["items"]] == [second["id"]]
    stored = rpc.get_alert(first["id"])
    assert stored["overdue"] is False and stored["escalated_at"] == "2026-03-02T08:30:00+00:00"
    assert stored["seconds_to_assignment"] == 1800.0 and [a["action"] for a in stored["actions"]] == [
        "received",
        "escalated",
        "assigned",
    ]


def test_a_dismissal_without_words_is_refused(rpc):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    alert = rpc.create_alert(gunshot(), context(agency))["alert"]
    with pytest.raises(InvalidInput):
        rpc.dismiss_alert(alert["id"], {"reason": "duplicate"}, context(agency))


# -- the funnel, for a seeded set ----------------------------------------------------------------


def seeded(agency, n, source, status, at=None, **fields):
    """An alert as intake stores it (stored through the store, which marks its hour for the tallies)."""
    received = at or START + timedelta(days=n)
    return {
        "_id": f"{agency}-{n}",
        "agency": agency,
        "source": source,
        "source_system": "seed",
        "source_event_id": f"{agency}-{n}",
        "status": status,
        "received_at": received,
        "received_hour": tallies.hour_of(received),
        "priority": "normal",
        "actions": [],
        "repeats": [],
        **fields,
    }


def timings(assigned=None, first=None):
    found = {}
    if assigned is not None:
        found.update(seconds_to_assignment=float(assigned), assigned_at=START)
    if first is not None:
        found.update(seconds_to_first_action=float(first), first_action_at=START)
    return found


@pytest.fixture
def funnel_agency(intake, alerts):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    escalated = {"escalated_at": START}
    docs = [
        seeded(agency, 1, "alpr", "promoted", **timings(60, 30), related_count=2, related_case_count=1),
        seeded(agency, 2, "alpr", "dismissed", **timings(120, 120), dismissal={"reason": "false_read"}),
        seeded(agency, 3, "alpr", "assigned", **timings(300, 10), **escalated, overdue=True),
        seeded(agency, 4, "alpr", "new", **escalated, overdue=True, related_count=1, related_case_count=0),
        seeded(agency, 5, "alpr", "dismissed", **timings(None, 45), dismissal={"reason": "duplicate"}),
        seeded(agency, 6, "tip", "promoted", **timings(3600, 600), related_count=1, related_case_count=1),
        seeded(agency, 7, "tip", "dismissed", **timings(7200, 7200), **escalated, dismissal={"reason": "unfounded"}),
        seeded(agency, 8, "gunshot", "new"),
        # outside the period or the agency: never counted
        seeded(agency, 9, "alpr", "promoted", at=START - timedelta(seconds=1), **timings(1, 1)),
        seeded(agency, 10, "alpr", "promoted", at=UNTIL, **timings(1, 1)),
        seeded(f"{agency}X", 11, "alpr", "promoted", **timings(1, 1)),
    ]
    store = AlertStore(alerts.database)
    resolutions = []
    for doc in docs:
        related = [{"record_type": "case"}] * doc.pop("related_case_count", 0)
        related += [{"record_type": "alert"}] * (doc.pop("related_count", 0) - len(related))
        if related:
            resolution = {"alert_id": doc["_id"], "entities": [], "related": related, "source": doc["source"]}
            resolutions.append({**resolution, "agency": doc["agency"]})
    store.insert_alerts(docs, uuid.uuid4().hex)
    received = {doc["_id"]: doc["received_at"].isoformat() for doc in docs}
    store.save_resolutions([{**r, "received_at": received[r["alert_id"]]} for r in resolutions])
    sweep(intake)
    return agency


def zeros():
    return {
        "alerts": 0,
        "assigned": 0,
        "dismissed": 0,
        "promoted": 0,
        "open": 0,
        "escalated": 0,
        "overdue_now": 0,
        "connected_to_earlier_records": 0,
        "connected_to_earlier_cases": 0,
        "dismissed_by_reason": dict.fromkeys(DISMISS_REASONS, 0),
        "time_to_assignment": {"count": 0, "p50": None, "p90": None},
        "time_to_first_action": {"count": 0, "p50": None, "p90": None},
    }


def figures(**changes):
    found = zeros()
    for key, value in changes.items():
        found[key] = {**found[key], **value} if isinstance(value, dict) else value
    return found


ALPR = figures(
    alerts=5,
    assigned=3,
    dismissed=2,
    promoted=1,
    open=2,
    escalated=2,
    overdue_now=2,
    connected_to_earlier_records=2,
    connected_to_earlier_cases=1,
    dismissed_by_reason={"false_read": 1, "duplicate": 1},
    time_to_assignment={"count": 3, "p50": 120.0, "p90": 300.0},  # 60, 120, 300
    time_to_first_action={"count": 4, "p50": 30.0, "p90": 120.0},  # 10, 30, 45, 120
)
TIP = figures(
    alerts=2,
    assigned=2,
    dismissed=1,
    promoted=1,
    escalated=1,
    connected_to_earlier_records=1,
    connected_to_earlier_cases=1,
    dismissed_by_reason={"unfounded": 1},
    time_to_assignment={"count": 2, "p50": 3600.0, "p90": 7200.0},
    time_to_first_action={"count": 2, "p50": 600.0, "p90": 7200.0},
)
GUNSHOT = figures(alerts=1, open=1)
TOTAL = figures(
    alerts=8,
    assigned=5,
    dismissed=3,
    promoted=2,
    open=3,
    escalated=3,
    overdue_now=2,
    connected_to_earlier_records=3,
    connected_to_earlier_cases=2,
    dismissed_by_reason={"false_read": 1, "duplicate": 1, "unfounded": 1},
    time_to_assignment={"count": 5, "p50": 300.0, "p90": 7200.0},  # 60, 120, 300, 3600, 7200
    time_to_first_action={"count": 6, "p50": 45.0, "p90": 7200.0},  # 10, 30, 45, 120, 600, 7200
)


def test_every_figure_of_the_funnel_for_a_known_set(rpc, funnel_agency):
    found = rpc.alert_metrics({"agency": funnel_agency, "since": START.isoformat(), "until": UNTIL.isoformat()})
    assert (found["since"], found["until"]) == ("2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00")
    expected = {source: zeros() for source in SOURCES} | {"alpr": ALPR, "tip": TIP, "gunshot": GUNSHOT}
    assert found["sources"] == expected
    assert found["total"] == TOTAL


def test_the_funnel_of_one_source(rpc, funnel_agency):
    found = rpc.alert_metrics(
        {"agency": funnel_agency, "since": START.isoformat(), "until": UNTIL.isoformat(), "source": "tip"}
    )
    assert found["sources"] == {"tip": TIP} and found["total"] == TIP


class Counting:
    """A collection that counts the queries sent to it."""

    def __init__(self, collection):
        self.collection, self.queries = collection, []

    def __getattr__(self, name):
        def call(query=None, *args, **kwargs):
            self.queries.append((name, query))
            return getattr(self.collection, name)(query, *args, **kwargs)

        return call


def test_reading_the_funnel_touches_only_the_day_and_hour_buckets(alerts, funnel_agency):
    store = AlertStore(alerts.database)
    store.alerts = store.tallies.records = Counting(alerts)
    store.tallies.hours, store.tallies.days = Counting(store.tallies.hours), Counting(store.tallies.days)
    assert metrics.alert_funnel(store, funnel_agency, START, UNTIL)["total"] == TOTAL  # February: whole days
    assert store.alerts.queries == [] and store.tallies.hours.queries == []
    assert store.tallies.days.queries == [("find", {"agency": funnel_agency, "month": "2026-02"})]
    cut = metrics.alert_funnel(store, funnel_agency, START + timedelta(hours=30), START + timedelta(days=2, hours=3))
    assert cut["total"]["alerts"] == 1  # received February 3 at midnight; February 2's was before 06:00
    assert store.alerts.queries == [] and len(store.tallies.hours.queries) == 2


def test_the_period_is_rounded_out_to_whole_hours(intake, rpc, clock):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    for minute in (0, 15, 59, 70, 125):  # 08:00, 08:15, 08:59, 09:10 and 10:05
        clock.at = datetime(2026, 4, 2, 8, 0, tzinfo=UTC) + timedelta(minutes=minute)
        rpc.create_alert(gunshot(), context(agency))
    sweep(intake)
    found = rpc.alert_metrics({"agency": agency, "since": "2026-04-02T08:30:00Z", "until": "2026-04-02T09:05:00Z"})
    assert (found["since"], found["until"]) == ("2026-04-02T08:00:00+00:00", "2026-04-02T10:00:00+00:00")
    assert found["total"]["alerts"] == 4
    exact = rpc.alert_metrics({"agency": agency, "since": "2026-04-02T09:00:00Z", "until": "2026-04-02T11:00:00Z"})
    assert (exact["since"], exact["until"], exact["total"]["alerts"]) == (
        "2026-04-02T09:00:00+00:00",
        "2026-04-02T11:00:00+00:00",
        2,
    )


def test_an_empty_or_invalid_period_is_refused(rpc):
    with pytest.raises(InvalidInput):
        rpc.alert_metrics({"since": UNTIL.isoformat(), "until": START.isoformat()})
    with pytest.raises(InvalidInput):
        rpc.alert_metrics({"since": "yesterday"})


# -- the funnel, from the triage steps themselves ------------------------------------------------


def tip():
    return {
        "source": "tip",
        "source_system": "tipline",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-03-31T20:00:00Z",
        "payload": {"narrative": "A grey sedan keeps circling the school"},
    }


def test_the_triage_steps_store_every_figure_the_funnel_counts(intake, rpc, clock):
    """No seeded timings: alerts received, assigned, noted, dismissed, escalated and promoted through
    the RPCs at known times give exactly these counts and percentiles."""
    agency = f"TX{uuid.uuid4().hex[:7]}"
    alice, bob = context(agency), context(agency, "bob")
    start = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)

    clock.at = start - timedelta(days=1)  # before the period: its actions count nowhere
    earlier = rpc.create_alert(gunshot(), alice)["alert"]
    rpc.assign_alert(earlier["id"], {"assignee": "bob"}, alice)

    clock.at = start
    dismissed = rpc.create_alert(gunshot(), alice)["alert"]
    forgotten = rpc.create_alert(gunshot(), alice)["alert"]
    clock.at = start + timedelta(minutes=1)
    rpc.add_note(forgotten["id"], {"text": "Checking the sensor map"}, alice)  # a first action, no triage
    clock.at = start + timedelta(minutes=2)
    rpc.assign_alert(dismissed["id"], {"assignee": "bob"}, alice)
    clock.at = start + timedelta(minutes=5)
    rpc.add_note(dismissed["id"], {"text": "Fireworks reported by patrol"}, bob)  # the assignee: triaged
    clock.at = start + timedelta(minutes=10)
    rpc.dismiss_alert(dismissed["id"], {"reason": "false_read", "text": "fireworks, confirmed by patrol"}, bob)
    clock.at = start + timedelta(minutes=30)
    with entrypoint_hook(intake, "escalate_overdue") as escalate:
        escalate()  # the forgotten gunshot is past its 5 minutes; the dismissed one is triaged

    clock.at = start + timedelta(hours=1)
    promoted = rpc.create_alert(tip(), alice)["alert"]
    rpc.create_alert(tip(), alice)  # nobody touches it, and its day is not over
    clock.at = start + timedelta(hours=1, minutes=30)
    rpc.assign_alert(promoted["id"], {"assignee": "bob"}, alice)
    clock.at = start + timedelta(hours=2)
    rpc.mark_promoted(promoted["id"], "case-1", bob)

    sweep(intake)
    found = rpc.alert_metrics(
        {"agency": agency, "since": start.isoformat(), "until": (start + timedelta(days=1)).isoformat()}
    )
    gunshots = figures(
        alerts=2,
        assigned=1,
        dismissed=1,
        open=1,
        escalated=1,
        overdue_now=1,
        dismissed_by_reason={"false_read": 1},
        time_to_assignment={"count": 1, "p50": 120.0, "p90": 120.0},
        time_to_first_action={"count": 2, "p50": 60.0, "p90": 120.0},  # the note at 1 min, the assignment at 2
    )
    tips = figures(
        alerts=2,
        assigned=1,
        promoted=1,
        open=1,
        time_to_assignment={"count": 1, "p50": 1800.0, "p90": 1800.0},
        time_to_first_action={"count": 1, "p50": 1800.0, "p90": 1800.0},
    )
    assert found["sources"] == {source: zeros() for source in SOURCES} | {"gunshot": gunshots, "tip": tips}
    assert found["total"] == figures(
        alerts=4,
        assigned=2,
        dismissed=1,
        promoted=1,
        open=2,
        escalated=1,
        overdue_now=1,
        dismissed_by_reason={"false_read": 1},
        time_to_assignment={"count": 2, "p50": 120.0, "p90": 1800.0},
        time_to_first_action={"count": 3, "p50": 120.0, "p90": 1800.0},  # 60, 120, 1800
    )
