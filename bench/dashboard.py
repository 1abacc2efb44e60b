"""The outcome metrics at scale: seed N cases (and N alerts) straight into their databases, then time
the metrics computation each service runs, and optionally ``GET /api/v1/metrics/funnel``.

    .venv/bin/python -m bench.dashboard --cases 100000 --alerts 100000
    .venv/bin/python -m bench.dashboard --cases 100000 --gateway http://127.0.0.1:8080 --token "$TOKEN"

or from ``bench/run.py``: ``dashboard.measure(MONGO_URI, cases=100_000, alerts=100_000)``. The
databases (``bench_dashboard_cases``, ``bench_dashboard_intake`` by default) are dropped and reseeded;
the seeded agency is ``BENCH00000``. The gateway call measures these figures only when intake and
cases run on these databases (``INTAKE_DATABASE``, ``CASES_DATABASE``) and the token (a supervisor's)
carries that agency.
"""

import random
from datetime import UTC, datetime, timedelta

import click
import requests

from bench.measure import percentiles, timed
from casewire.alerts import DISMISS_REASONS, SOURCES
from casewire.mongo import connect
from services.cases.dependencies import CaseStore
from services.cases.outcomes import OUTCOMES, outcomes_by_source
from services.intake.dependencies import AlertStore
from services.intake.metrics import alert_funnel

AGENCY = "BENCH00000"
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
CHUNK = 5000


def _cases(n: int, rng: random.Random):
    for i in range(n):
        links = [{"alert_id": f"a{i}-{k}", "source": rng.choice(SOURCES)} for k in range(rng.randint(0, 3))]
        case = {
            "_id": f"case-{i}",
            "title": f"bench case {i}",
            "agency": AGENCY,
            "unit": "rtcc",
            "classification": "investigative",
            "status": "open",
            "opened_at": START + timedelta(seconds=rng.randrange(DAYS * 86400)),
            "alerts": links,
            "alert_ids": [link["alert_id"] for link in links],
        }
        if rng.random() < 0.6:
            case.update(status="closed", disposition={"outcome": rng.choice(OUTCOMES), "date": "2025-06-01"})
        yield case


def _alerts(n: int, rng: random.Random):
    for i in range(n):
        received = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        alert = {
            "_id": f"alert-{i}",
            "agency": AGENCY,
            "source": rng.choice(SOURCES),
            "source_system": "bench",
            "source_event_id": f"e{i}",
            "received_at": received,
            "status": rng.choice(("new", "assigned", "dismissed", "promoted")),
            "related_count": rng.choice((0, 0, 1, 3)),
            "related_case_count": rng.choice((0, 0, 0, 1)),
        }
        if alert["status"] != "new":
            alert.update(
                seconds_to_assignment=float(rng.randrange(3600)), seconds_to_first_action=float(rng.randrange(600))
            )
        if alert["status"] == "dismissed":
            alert["dismissal"] = {"reason": rng.choice(DISMISS_REASONS)}
        if rng.random() < 0.05:
            alert.update(escalated_at=received, overdue=alert["status"] in ("new", "assigned") or None)
        yield alert


def _insert(collection, documents) -> int:
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


def seed(mongo_uri: str, cases: int, alerts: int, cases_db: str, intake_db: str, seed_value: int = 7):
    """Drop and reseed both databases; returns the two stores (indexes created)."""
    client, rng = connect(mongo_uri, server_selection_timeout_ms=30000), random.Random(seed_value)
    for name in (cases_db, intake_db):
        client.drop_database(name)
    case_store, alert_store = CaseStore(client[cases_db]), AlertStore(client[intake_db])
    case_store.ensure_indexes()
    alert_store.ensure_indexes()
    _insert(client[cases_db]["cases"], _cases(cases, rng))
    _insert(client[intake_db]["alerts"], _alerts(alerts, rng))
    return case_store, alert_store


def measure(
    mongo_uri: str,
    cases: int = 100_000,
    alerts: int = 100_000,
    repeat: int = 5,
    cases_db: str = "bench_dashboard_cases",
    intake_db: str = "bench_dashboard_intake",
    gateway_url: str | None = None,
    token: str | None = None,
) -> dict:
    """Seed, then time each service's part over the whole year (and the HTTP call when given a gateway)."""
    case_store, alert_store = seed(mongo_uri, cases, alerts, cases_db, intake_db)
    until = START + timedelta(days=DAYS)
    results = {"cases": cases, "alerts": alerts}
    samples = [timed(lambda: outcomes_by_source(case_store, AGENCY, START, until))[0] for _ in range(repeat)]
    results["cases_outcomes"] = percentiles(samples)
    samples = [timed(lambda: alert_funnel(alert_store, AGENCY, START, until))[0] for _ in range(repeat)]
    results["intake_funnel"] = percentiles(samples)
    if gateway_url:
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{gateway_url}/api/v1/metrics/funnel?since={START.isoformat()}&until={until.isoformat()}"
        url = url.replace("+", "%2B")
        call = lambda: requests.get(url, headers=headers, timeout=600).raise_for_status()  # noqa: E731
        results["gateway_funnel"] = percentiles([timed(call)[0] for _ in range(repeat)])
    return results


@click.command()
@click.option("--cases", default=100_000, show_default=True)
@click.option("--alerts", default=100_000, show_default=True)
@click.option("--repeat", default=5, show_default=True)
@click.option("--mongodb", default="mongodb://127.0.0.1:27017/", show_default=True)
@click.option("--gateway", default=None, help="also time GET /api/v1/metrics/funnel on this gateway")
@click.option("--token", default=None, help="a supervisor's token for agency BENCH00000")
def main(cases, alerts, repeat, mongodb, gateway, token):
    click.echo(measure(mongodb, cases, alerts, repeat, gateway_url=gateway, token=token))


if __name__ == "__main__":
    main()
