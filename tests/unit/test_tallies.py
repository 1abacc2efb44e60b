"""The tallies' pure parts: whole hours, which buckets a period reads, and what each service counts
of one record (the sweeps and the lease run against the real FerretDB in tests/integration)."""

from datetime import UTC, datetime

import pytest

from casewire import tallies
from casewire.alerts import SOURCES
from services.cases import metrics as case_metrics
from services.intake import metrics as intake_metrics


class Buckets:
    """A bucket collection answering equality ``find``s, and remembering them."""

    def __init__(self, documents):
        self.documents, self.queries = documents, []

    def find(self, query, projection=None):
        self.queries.append(query)
        return [doc for doc in self.documents if all(doc.get(key) == value for key, value in query.items())]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "since, until, expected",
    [
        ("2026-03-02T08:15:00", "2026-03-02T09:45:10", ("2026-03-02T08:00:00", "2026-03-02T10:00:00")),
        ("2026-03-02T08:00:00", "2026-03-02T09:00:00", ("2026-03-02T08:00:00", "2026-03-02T09:00:00")),
        ("2026-03-02T23:59:59", "2026-03-03T00:00:01", ("2026-03-02T23:00:00", "2026-03-03T01:00:00")),
    ],
)
def test_a_period_is_rounded_out_to_whole_utc_hours(since, until, expected):
    assert tallies.whole_hours(at(since), at(until)) == (at(expected[0]), at(expected[1]))


def test_an_hour_is_named_in_utc_whatever_the_offset():
    assert tallies.hour_of(datetime(2026, 3, 2, 2, 30, tzinfo=UTC)) == "2026-03-02T02"
    assert tallies.hour_of(datetime.fromisoformat("2026-03-01T20:30:00-06:00")) == "2026-03-02T02"
    assert tallies.whole_hours(datetime.fromisoformat("2026-03-01T20:30:00-06:00"), at("2026-03-02T05:00:00"))[0] == (
        at("2026-03-02T02:00:00")
    )


def test_merging_adds_nested_counts_and_joins_lists_of_values():
    into = {"counts": {"a": 1}, "durations": {"assignment": {"alpr": [5, 1]}}}
    tallies.merge(into, {"counts": {"a": 2, "b": 1}, "durations": {"assignment": {"alpr": [1]}, "first_action": {}}})
    assert into == {"counts": {"a": 3, "b": 1}, "durations": {"assignment": {"alpr": [5, 1, 1]}, "first_action": {}}}


def store_of(hours, days):
    store = tallies.Tallies.__new__(tallies.Tallies)
    store.hours, store.days = Buckets(hours), Buckets(days)
    return store


def hour_bucket(hour, n=1, agency="TX1"):
    return {"_id": f"{agency}|{hour}", "agency": agency, "hour": hour, "day": hour[:10], "counts": {hour: n}}


def day_bucket(day, n=1, agency="TX1"):
    return {"_id": f"{agency}|{day}", "agency": agency, "day": day, "month": day[:7], "counts": {day: n}}


def test_whole_days_come_from_day_buckets_and_the_cut_days_from_hour_buckets():
    hours = [hour_bucket(f"2026-01-30T{h:02d}") for h in range(24)] + [
        hour_bucket(f"2026-02-02T{h:02d}") for h in range(24)
    ]
    days = [day_bucket(f"2026-01-{d:02d}") for d in range(28, 32)] + [day_bucket(f"2026-02-0{d}") for d in (1, 2, 3)]
    store = store_of(hours, days)
    found = store.read("TX1", at("2026-01-30T22:00:00"), at("2026-02-02T03:00:00"))
    keys = sorted(key for tally in found for key in tally["counts"])
    assert keys == [
        "2026-01-30T22",
        "2026-01-30T23",
        "2026-01-31",
        "2026-02-01",
        "2026-02-02T00",
        "2026-02-02T01",
        "2026-02-02T02",
    ]
    assert store.days.queries == [{"agency": "TX1", "month": "2026-01"}, {"agency": "TX1", "month": "2026-02"}]
    assert store.hours.queries == [{"agency": "TX1", "day": "2026-01-30"}, {"agency": "TX1", "day": "2026-02-02"}]
    assert all("_id" not in tally and "epoch" not in tally for tally in found)


def test_a_period_within_a_day_or_across_one_midnight_reads_hours_only():
    hours = [hour_bucket(f"2026-03-0{d}T{h:02d}") for d in (1, 2) for h in range(24)]
    store = store_of(hours, [day_bucket("2026-03-01"), day_bucket("2026-03-02")])
    across = store.read("TX1", at("2026-03-01T22:00:00"), at("2026-03-02T02:00:00"))
    assert sorted(key for tally in across for key in tally["counts"]) == [
        "2026-03-01T22",
        "2026-03-01T23",
        "2026-03-02T00",
        "2026-03-02T01",
    ]
    assert store.days.queries == []
    whole = store.read("TX1", at("2026-03-01T00:00:00"), at("2026-03-02T00:00:00"))
    assert [tally["counts"] for tally in whole] == [{"2026-03-01": 1}]


# -- what each service counts -------------------------------------------------------------------


def alert(source, status, **fields):
    return {"source": source, "status": status, **fields}


def test_the_funnels_figures_and_exact_percentiles_add_up_from_the_alerts_contributions():
    alerts = [
        alert(
            "alpr",
            "promoted",
            seconds_to_assignment=60.0,
            seconds_to_first_action=30.5,
        ),
        alert("alpr", "dismissed", dismissal={"reason": "false_read"}, seconds_to_assignment=120.0, escalated_at=1),
        alert(
            "alpr",
            "assigned",
            overdue=True,
            escalated_at=1,
            seconds_to_assignment=300.0,
        ),
        alert("tip", "new", seconds_to_assignment=None, seconds_to_first_action=-1),
        alert("tip", "dismissed"),
    ]
    resolutions = [  # what the entities service resolved of each alert: its related records
        {"source": "alpr", "related": [{"record_type": "alert"}, {"record_type": "case"}]},
        {"source": "alpr", "related": [{"record_type": "alert"}]},
        {"source": "tip", "related": []},
    ]
    tally = {}
    for one in alerts + resolutions:
        tallies.merge(tally, intake_metrics.contribution(one))

    class Store:
        class tallies:
            @staticmethod
            def read(agency, since, until):
                return [tally, {}]

    found = intake_metrics.alert_funnel(Store, "TX1", at("2026-03-01T00:00:00"), at("2026-03-02T00:00:00"))
    alpr, tip, total = found["sources"]["alpr"], found["sources"]["tip"], found["total"]
    assert set(found["sources"]) == set(SOURCES)
    assert {key: alpr[key] for key in intake_metrics.COUNTS} == {
        "alerts": 3,
        "assigned": 3,
        "dismissed": 1,
        "promoted": 1,
        "open": 1,
        "escalated": 2,
        "overdue_now": 1,
        "connected_to_earlier_records": 2,
        "connected_to_earlier_cases": 1,
    }
    assert alpr["time_to_assignment"] == {"count": 3, "p50": 120.0, "p90": 300.0}
    assert alpr["time_to_first_action"] == {"count": 1, "p50": 30.5, "p90": 30.5}
    assert tip["dismissed_by_reason"]["unknown"] == 1 and tip["time_to_first_action"]["count"] == 0
    assert (total["alerts"], total["open"], total["dismissed"]) == (5, 2, 2)
    only_tip = intake_metrics.alert_funnel(Store, "TX1", at("2026-03-01T00:00:00"), at("2026-03-02T00:00:00"), "tip")
    assert list(only_tip["sources"]) == ["tip"] and only_tip["total"]["alerts"] == 2


def test_an_alerts_contribution_keys_hold_no_dot_or_dollar():
    odd = alert("alpr", "dismissed", dismissal={"reason": "a.b$c|d"}, seconds_to_assignment=1.2345)
    found = intake_metrics.contribution(odd)
    assert list(found["counts"]) == ["alpr|dismissed|a_b_c_d|0|0"]
    assert found["durations"] == {"assignment": {"alpr": [1234]}}


def test_percentiles_are_the_nearest_ranks_in_seconds():
    milliseconds = [7_200_000, 10_000, 45_000, 30_000, 120_000, 600_000]
    assert intake_metrics.percentiles(milliseconds) == {"count": 6, "p50": 45.0, "p90": 7200.0}
    assert intake_metrics.percentiles([5_000] * 9 + [9_000]) == {"count": 10, "p50": 5.0, "p90": 5.0}
    assert intake_metrics.percentiles([]) == {"count": 0, "p50": None, "p90": None}


def test_a_case_counts_once_per_distinct_source_of_its_links():
    linked = {"alerts": [{"source": "tip"}, {"source": "alpr"}, {"source": "tip"}, {"alert_id": "x"}]}
    assert case_metrics.contribution({**linked, "disposition": {"outcome": "arrest"}}) == {
        "counts": {"arrest|alpr+tip": 1}
    }
    assert case_metrics.contribution({"disposition": {"outcome": "solved"}}) == {"counts": {"no_disposition|": 1}}
    tally = tallies.merge(case_metrics.contribution(linked), case_metrics.contribution({}))

    class Store:
        class tallies:
            @staticmethod
            def read(agency, since, until):
                return [tally]

    found = case_metrics.outcomes_by_source(Store, "TX1", None, None)
    assert found["sources"]["tip"]["cases"] == found["sources"]["alpr"]["cases"] == found["total"]["cases"] == 1
    assert found["all_cases"]["cases_by_outcome"]["no_disposition"] == 2


def test_the_sweeps_interval_is_configurable_and_must_be_positive():
    timer = tallies.TallyTimer()

    class Container:
        config = {"TALLY_SECONDS": "0.5"}

    timer.container = Container
    timer.setup()
    assert timer.interval == 0.5
    Container.config = {"TALLY_SECONDS": "0"}
    with pytest.raises(ValueError):
        timer.setup()
    Container.config = {}
    timer.setup()
    assert timer.interval == tallies.DEFAULT_TALLY_SECONDS == 5


def test_a_list_of_values_is_stored_as_one_sorted_string_and_read_back():
    tally = {"counts": {"a|b": 2}, "durations": {"assignment": {"alpr": [120000, 60000, 60000]}, "first_action": {}}}
    assert tallies.pack(tally) == {
        "counts": {"a|b": 2},
        "durations": {"assignment": {"alpr": "60000 60000 120000"}, "first_action": {}},
    }
    bucket = tallies.Tallies._bucket("TX1", "2026-03-02T08", 3, tally)
    assert (bucket["_id"], bucket["day"], bucket["epoch"]) == ("TX1|2026-03-02T08", "2026-03-02", 3)
    assert tallies.tally_of(bucket)["durations"]["assignment"] == {"alpr": [60000, 60000, 120000]}
    assert tallies.unpack({"alpr": ""}) == {"alpr": []}
