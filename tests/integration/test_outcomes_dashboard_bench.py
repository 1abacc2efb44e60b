"""``bench/dashboard.py`` on the real FerretDB at a small size: it seeds through the stores' index
set-up, builds the tallies with the rebuild, its figures agree with plain counts of what it seeded,
and it leaves no database behind."""

import uuid
from datetime import timedelta

from bench import dashboard
from services.cases.metrics import outcomes_by_source
from services.intake.metrics import alert_funnel

MONGO_URI = "mongodb://127.0.0.1:27017/"


def test_the_dashboard_bench_measures_both_periods_and_drops_its_databases(mongo):
    names = {"cases_db": f"bench_dash_c_{uuid.uuid4().hex[:8]}", "intake_db": f"bench_dash_i_{uuid.uuid4().hex[:8]}"}
    found = dashboard.measure(MONGO_URI, cases=200, alerts=300, repeat=1, **names)
    assert (found["cases"], found["alerts"]) == (200, 300)
    assert found["rebuild_cases_s"] >= 0 and found["rebuild_alerts_s"] >= 0
    for part in (found, found["year"]):
        assert {key: part[key]["n"] for key in ("cases_outcomes", "intake_funnel", "csv_export")} == {
            "cases_outcomes": 1,
            "intake_funnel": 1,
            "csv_export": 1,
        }
    assert not set(names.values()) & set(mongo.list_database_names())


def test_the_seeded_funnel_agrees_with_plain_counts(mongo):
    names = {"cases_db": f"bench_dash_c_{uuid.uuid4().hex[:8]}", "intake_db": f"bench_dash_i_{uuid.uuid4().hex[:8]}"}
    try:
        case_store, alert_store = dashboard.seed(mongo, 50, 400, **names)
        assert alert_store.tallies.rebuild(alert_store.tallied())["records"] == 800  # alerts and resolutions
        assert case_store.tallies.rebuild(case_store.tallied())["records"] == 50
        until = dashboard.START + timedelta(days=dashboard.DAYS)
        cases = outcomes_by_source(case_store, dashboard.AGENCY, dashboard.START, until)["all_cases"]["cases"]
        assert cases == case_store.cases.count_documents({"agency": dashboard.AGENCY}) == 45
        total = alert_funnel(alert_store, dashboard.AGENCY, dashboard.START, until)["total"]
        alerts = alert_store.alerts
        agency = {"agency": dashboard.AGENCY}
        assert total["alerts"] == alerts.count_documents(agency) == 360
        assert total["dismissed"] == alerts.count_documents({**agency, "status": "dismissed"})
        assert total["escalated"] == alerts.count_documents({**agency, "escalated_at": {"$exists": True}})
        assert total["overdue_now"] == alerts.count_documents({**agency, "overdue": True})
        connected = alert_store.resolutions.count_documents({**agency, "related": {"$ne": []}})
        assert total["connected_to_earlier_records"] == connected
        assert total["assigned"] == alerts.count_documents({**agency, "seconds_to_assignment": {"$gte": 0}})
        durations = sorted(
            row["seconds_to_assignment"] for row in alerts.find({**agency, "assigned_at": {"$ne": None}})
        )
        assert total["time_to_assignment"]["p90"] == durations[(90 * len(durations) + 99) // 100 - 1]
    finally:
        for name in names.values():
            mongo.drop_database(name)
