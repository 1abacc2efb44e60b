"""The outcome metrics at scale: seed N cases and M alerts straight into throwaway databases with
``insert_many`` (not through the API), create the indexes the stores create, build the hour and day
tallies with each store's rebuild (timed on its own), then time each service's metrics computation
and the CSV export over the last 30 days and over the whole seeded year.

    .venv/bin/python -m bench.dashboard --cases 100000 --alerts 150000
    .venv/bin/python -m bench.dashboard --keep        # seed once, reuse on the next --keep run
    .venv/bin/python -m bench.dashboard --gateway http://127.0.0.1:8080 --token "$TOKEN"

or from ``bench/run.py``: ``dashboard.measure(MONGO_URI, cases=..., alerts=...)``. The databases
(``bench_dashboard_cases``, ``bench_dashboard_intake`` by default) are dropped afterwards unless
``--keep``. Nine in ten records belong to agency ``BENCH00000``, the one measured, spread over 2025.
The gateway call measures these figures only when intake and cases run on these databases
(``INTAKE_DATABASE``, ``CASES_DATABASE``) and the token (a supervisor's) carries that agency.
"""

import json
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

import click
import requests
from pymongo import MongoClient
from pymongo.collection import Collection

from bench.measure import percentiles, timed
from casewire.alerts import DISMISS_REASONS, SOURCES
from casewire.mongo import connect
from casewire.tallies import hour_of
from gateway import outcomes
from services.cases.dependencies import CaseStore
from services.cases.metrics import OUTCOMES, outcomes_by_source
from services.intake.dependencies import AlertStore
from services.intake.metrics import alert_funnel

AGENCY = "BENCH00000"
OTHER_AGENCY = "BENCH00001"
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
CHUNK = 2000
STATUSES = ("new", "assigned", "assigned", "dismissed", "dismissed", "dismissed", "promoted")
PRIORITIES = ("low", "normal", "normal", "high", "critical")


def _cases(n: int, rng: random.Random) -> Iterator[dict]:
    """Cases as the cases service stores them: links to 0-3 alerts (each with its source), 60% closed
    with a disposition, a history-sized description; one in ten of another agency."""
    for i in range(n):
        opened = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        links = [
            {"alert_id": f"alert-{rng.randrange(10**9)}", "source": rng.choice(SOURCES), "linked_at": opened}
            for _ in range(rng.randint(0, 3))
        ]
        case = {
            "_id": f"case-{i}",
            "title": f"bench case {i}",
            "description": "Vehicle seen near the scene; owner known to the unit. " * 4,
            "agency": OTHER_AGENCY if i % 10 == 9 else AGENCY,
            "unit": "rtcc",
            "classification": "investigative",
            "status": "open",
            "opened_at": opened,
            "opened_hour": hour_of(opened),
            "updated_at": opened,
            "opened_by": "analyst-1",
            "assignee": "analyst-1",
            "alerts": links,
            "alert_ids": [link["alert_id"] for link in links],
            "entity_ids": [f"entity-{rng.randrange(10**6)}" for _ in range(rng.randint(0, 4))],
            "version": 3,
        }
        if rng.random() < 0.6:
            disposition = {"outcome": rng.choice(OUTCOMES), "date": "2025-06-01", "recorded_by": "sup-1"}
            case.update(status="closed", disposition=disposition, dispositions=[disposition])
        yield case


def _alerts(n: int, rng: random.Random) -> Iterator[tuple[dict, dict]]:
    """Alerts shaped as intake stores them (payload, entities, related records, action log, triage
    timings in milliseconds as the triage steps store them, the hour received); one in ten of another
    agency."""
    for i in range(n):
        received = START + timedelta(seconds=rng.randrange(DAYS * 86400), microseconds=rng.randrange(10**6))
        status = rng.choice(STATUSES)
        related = [{"type": "alert", "id": f"alert-{rng.randrange(n)}"} for _ in range(rng.choice((0, 0, 1, 3)))]
        if related and rng.random() < 0.3:
            related.append({"type": "case", "id": f"case-{rng.randrange(n)}"})
        alert = {
            "_id": f"alert-{i}",
            "agency": OTHER_AGENCY if i % 10 == 9 else AGENCY,
            "unit": "rtcc",
            "source": rng.choice(SOURCES),
            "source_system": "bench",
            "source_event_id": f"e{i}",
            "priority": rng.choice(PRIORITIES),
            "record_class": "sensor",
            "received_at": received,
            "received_hour": hour_of(received),
            "occurred_at": received - timedelta(seconds=rng.randrange(120)),
            "triage_due": received + timedelta(minutes=10),
            "status": status,
            "assignee": None,
            "location": {"lat": round(rng.uniform(29.6, 29.95), 5), "lon": round(rng.uniform(-95.65, -95.15), 5)},
            "payload": {"plate": f"ABC{rng.randrange(10000):04d}", "camera_id": f"cam-{rng.randrange(400)}"},
            "actions": [{"action": "received", "actor": "bench", "at": received, "detail": {}}],
            "version": 1,
        }
        if status == "new":
            alert["triage_open"] = True
        else:
            to_assignment = round(rng.expovariate(1 / 600), 3)
            to_first_action = round(to_assignment * rng.random(), 3)
            alert.update(
                assignee="analyst-1",
                assigned_at=received + timedelta(seconds=to_assignment),
                seconds_to_assignment=to_assignment,
                first_action_at=received + timedelta(seconds=to_first_action),
                seconds_to_first_action=to_first_action,
            )
            alert["actions"].append({"action": "assigned", "actor": "sup-1", "at": alert["assigned_at"], "detail": {}})
        if status == "dismissed":
            alert["dismissal"] = {"reason": rng.choice(DISMISS_REASONS), "text": "checked: not our vehicle"}
        if rng.random() < 0.05:
            alert["escalated_at"] = alert["triage_due"]
            if status in ("new", "assigned"):
                alert["overdue"] = True
        resolution = {
            "_id": alert["_id"],
            "entities": [{"type": "vehicle", "id": f"entity-{rng.randrange(10**6)}", "display": "ABC1234 (TX)"}],
            "related": [{"record_type": record["type"], "id": record["id"]} for record in related],
            "agency": alert["agency"],
            "received_hour": alert["received_hour"],
            "source": alert["source"],
        }
        yield alert, resolution


def _insert(collection: Collection, documents: Iterable[dict]) -> int:
    batch, count = [], 0
    for document in documents:
        batch.append(document)
        if len(batch) == CHUNK:
            collection.insert_many(batch, ordered=False)
            count, batch = count + len(batch), []
    if batch:
        collection.insert_many(batch, ordered=False)
        count += len(batch)
    return count


def seed(
    client: MongoClient,
    cases: int,
    alerts: int,
    cases_db: str,
    intake_db: str,
    reuse: bool = False,
    seed_value: int = 7,
) -> tuple[CaseStore, AlertStore]:
    """The two stores (indexes created by the stores themselves) over ``cases`` cases and ``alerts``
    alerts: reseeded from scratch, or with ``reuse`` kept when they already hold those numbers."""
    rng = random.Random(seed_value)
    held = (
        client[cases_db]["cases"].estimated_document_count(),
        client[intake_db]["alerts"].estimated_document_count(),
    )
    if not (reuse and held == (cases, alerts)):
        for name in (cases_db, intake_db):
            client.drop_database(name)
        _insert(client[cases_db]["cases"], _cases(cases, rng))
        pairs = list(_alerts(alerts, rng))
        _insert(client[intake_db]["alerts"], (alert for alert, _ in pairs))
        _insert(client[intake_db]["resolutions"], (resolution for _, resolution in pairs))
    case_store, alert_store = CaseStore(client[cases_db]), AlertStore(client[intake_db])
    case_store.ensure_indexes()
    alert_store.ensure_indexes()
    return case_store, alert_store


def _time(call: Callable[[], object], repeat: int) -> dict:
    return percentiles([timed(call)[0] for _ in range(repeat)])


def _sweep_recent(store: CaseStore | AlertStore, end: datetime, changes: int = 300, hours: int = 3) -> dict:
    """A sweep as the services run it: ``changes`` deltas over the last ``hours`` hours of the seeded
    year (as every change of a record leaves one), then one sweep folds them."""
    tallies = store.tallies
    for n in range(changes):
        hour = hour_of(end - timedelta(hours=n % hours + 1))
        record = {"agency": AGENCY, "received_hour": hour, "opened_hour": hour, "source": "alpr", "status": "new"}
        tallies.added(f"bench-{n}", [record])
    seconds, found = timed(tallies.sweep)
    return {"s": round(seconds / 1000, 2), "deltas": found["deltas"], "hours": found["hours"]}


def _period(case_store: CaseStore, alert_store: AlertStore, since: datetime, until: datetime, repeat: int) -> dict:
    """Each service's part, and the CSV export (both parts, combined and written as the gateway does)."""

    def export() -> str:
        funnel = alert_funnel(alert_store, AGENCY, since, until)
        cases = outcomes_by_source(case_store, AGENCY, since, until)
        return outcomes.to_csv(outcomes.combine(funnel, cases))

    return {
        "cases_outcomes": _time(lambda: outcomes_by_source(case_store, AGENCY, since, until), repeat),
        "intake_funnel": _time(lambda: alert_funnel(alert_store, AGENCY, since, until), repeat),
        "csv_export": _time(export, repeat),
    }


def measure(
    mongo_uri: str,
    cases: int = 100_000,
    alerts: int = 150_000,
    repeat: int = 3,
    cases_db: str = "bench_dashboard_cases",
    intake_db: str = "bench_dashboard_intake",
    keep: bool = False,
    gateway_url: str | None = None,
    token: str | None = None,
) -> dict:
    """Seed (or with ``keep`` reuse what an earlier kept run seeded), build the tallies (each store's
    rebuild, timed), then time the metrics over the last 30 days of the seeded year (the dashboard's
    default period) and over the whole year. The databases are dropped afterwards unless ``keep``."""
    client = connect(mongo_uri, server_selection_timeout_ms=30000)
    seconds, (case_store, alert_store) = timed(lambda: seed(client, cases, alerts, cases_db, intake_db, reuse=keep))
    end = START + timedelta(days=DAYS)
    results = {"cases": cases, "alerts": alerts, "seed_s": round(seconds / 1000, 1)}
    for name, store in (("cases", case_store), ("alerts", alert_store)):
        seconds, _ = timed(lambda store=store: store.tallies.rebuild(store.tallied()))
        results[f"rebuild_{name}_s"] = round(seconds / 1000, 1)
        results[f"sweep_{name}"] = _sweep_recent(store, START + timedelta(days=DAYS))
    results.update(_period(case_store, alert_store, end - timedelta(days=30), end, repeat))
    results["year"] = _period(case_store, alert_store, START, end, repeat)
    if gateway_url:
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{gateway_url}/api/v1/metrics/funnel?since={START.isoformat()}&until={end.isoformat()}"
        url = url.replace("+", "%2B")
        results["gateway_funnel"] = _time(
            lambda: requests.get(url, headers=headers, timeout=600).raise_for_status(), repeat
        )
    if not keep:
        for name in (cases_db, intake_db):
            client.drop_database(name)
    return results


@click.command()
@click.option("--cases", default=100_000, show_default=True)
@click.option("--alerts", default=150_000, show_default=True)
@click.option("--repeat", default=3, show_default=True)
@click.option("--mongodb", default="mongodb://127.0.0.1:27017/", show_default=True)
@click.option("--cases-db", default="bench_dashboard_cases", show_default=True)
@click.option("--intake-db", default="bench_dashboard_intake", show_default=True)
@click.option("--keep", is_flag=True, help="keep the databases, and reuse them when they hold these numbers")
@click.option("--gateway", default=None, help="also time GET /api/v1/metrics/funnel on this gateway")
@click.option("--token", default=None, help="a supervisor's token for agency BENCH00000")
def main(
    cases: int,
    alerts: int,
    repeat: int,
    mongodb: str,
    cases_db: str,
    intake_db: str,
    keep: bool,
    gateway: str | None,
    token: str | None,
) -> None:
    found = measure(mongodb, cases, alerts, repeat, cases_db, intake_db, keep, gateway_url=gateway, token=token)
    click.echo(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
