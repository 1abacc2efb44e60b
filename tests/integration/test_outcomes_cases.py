"""Case outcomes over the real RabbitMQ and FerretDB: dispositions (409 unless closed or referred,
audited, in the timeline and the export), outcomes by alert source for a seeded set (read from the
tallies a sweep computes; a purged case leaves them), and ``alert_overdue`` delivered to webhooks."""

import json
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook

from casewire import tallies
from casewire.alerts import SOURCES
from casewire.errors import Conflict, InvalidInput
from services.audit.service import AuditService
from services.cases.dependencies import CaseStore
from services.cases.metrics import NO_DISPOSITION, OUTCOMES, outcomes_by_source
from services.cases.service import CasesService
from tests.polling import eventually

START = datetime(2026, 2, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 1, tzinfo=UTC)


def ctx(agency, sub="dana", roles=("detective",), unit="robbery"):
    return {"actor": {"id": sub, "agency": agency, "roles": list(roles)}, "unit": unit, "request_id": uuid.uuid4().hex}


@pytest.fixture(autouse=True)
def services(container_factory, config_for):
    containers = {}
    for service_cls in (CasesService, AuditService):
        config = config_for(service_cls.name)
        if service_cls is CasesService:
            config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"  # the webhook receiver below
        containers[service_cls.name] = container_factory(service_cls, config)
        containers[service_cls.name].start()
    return containers


def sweep(services):
    """Recompute the outcome tallies now (the timer does it every TALLY_SECONDS)."""
    with entrypoint_hook(services["cases"], "sweep_tallies") as run:
        found = run()
    assert found["swept"], found
    return found


@pytest.fixture
def rpc(base_config):
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def cases_db(mongo, config_for):
    return mongo[config_for("cases")["MONGODB_DATABASE"]]


@pytest.fixture
def audit_db(mongo, config_for):
    return mongo[config_for("audit")["MONGODB_DATABASE"]]


def test_a_disposition_is_recorded_only_for_a_closed_or_referred_case(rpc, audit_db):
    dana = ctx(f"TX{uuid.uuid4().hex[:7]}")
    case = rpc.cases.create_case({"title": "Corner store robbery", "unit": "robbery"}, dana)
    body = {"outcome": "arrest", "date": "2026-03-01", "note": "Suspect arrested at home"}
    with pytest.raises(Conflict):
        rpc.cases.record_disposition(case["id"], body, dana)
    rpc.cases.update_case(case["id"], {"status": "active"}, dana)
    with pytest.raises(Conflict):
        rpc.cases.record_disposition(case["id"], body, dana)
    rpc.cases.update_case(case["id"], {"status": "referred", "reason": "to the DA"}, dana)
    with pytest.raises(InvalidInput) as error:
        rpc.cases.record_disposition(case["id"], {"outcome": "convicted", "date": "2026-03-01"}, dana)
    assert "outcome" in error.value.errors
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    with pytest.raises(InvalidInput) as error:
        rpc.cases.record_disposition(case["id"], {"outcome": "arrest", "date": tomorrow}, dana)
    assert "date" in error.value.errors

    recorded = rpc.cases.record_disposition(case["id"], body, dana)
    disposition = recorded["disposition"]
    assert {k: disposition[k] for k in ("outcome", "date", "note", "recorded_by", "case_status")} == {
        "outcome": "arrest",
        "date": "2026-03-01",
        "note": "Suspect arrested at home",
        "recorded_by": "dana",
        "case_status": "referred",
    }
    assert disposition["recorded_at"]
    later = rpc.cases.record_disposition(case["id"], {"outcome": "charges_filed", "date": "2026-03-02"}, dana)
    assert later["disposition"]["outcome"] == "charges_filed"
    assert [d["outcome"] for d in later["dispositions"]] == ["arrest", "charges_filed"]

    timeline = rpc.cases.timeline(case["id"], dana)["items"]
    recorded_steps = [item for item in timeline if item.get("action") == "disposition_recorded"]
    assert [step["detail"]["outcome"] for step in recorded_steps] == ["arrest", "charges_filed"]
    assert recorded_steps[0]["actor"] == "dana"
    exported = rpc.cases.export_case(case["id"], {"format": "json", "need_to_know": "DA filing"}, dana)
    assert exported["bundle"]["case"]["disposition"]["outcome"] == "charges_filed"
    assert "disposition_recorded" in [entry["action"] for entry in exported["bundle"]["history"]]
    pdf = rpc.cases.export_case(case["id"], {"format": "pdf", "need_to_know": "DA filing"}, dana)
    assert pdf["format"] == "pdf"
    audited = eventually(
        lambda: list(audit_db["events"].find({"record_ids": case["id"], "action": "case.disposition"}))
    )
    assert audited[0]["actor"]["id"] == "dana" and audited[0]["details"]["outcome"] in ("arrest", "charges_filed")


def seeded_case(agency, n, sources, outcome=None, at=None, classification="investigative"):
    """A case as the service stores it (stored through :func:`seed`)."""
    opened = at or START + timedelta(days=n)
    case = {
        "_id": f"{agency}-{n}",
        "title": f"seeded {n}",
        "agency": agency,
        "unit": "robbery",
        "classification": classification,
        "status": "closed" if outcome else "open",
        "opened_at": opened,
        "opened_hour": tallies.hour_of(opened),
        "alerts": [{"alert_id": f"{agency}-a{n}-{i}", "source": source} for i, source in enumerate(sources)],
    }
    if outcome:
        case["disposition"] = {"outcome": outcome, "date": "2026-02-20"}
    return case


def seed(cases_db, cases):
    """Store seeded cases as the store does: counted in the tallies by a delta."""
    cases_db["cases"].insert_many(cases)
    CaseStore(cases_db).tallies.added(f"seed-{uuid.uuid4().hex}", cases)


def by_outcome(**counts):
    return dict.fromkeys((*OUTCOMES, NO_DISPOSITION), 0) | counts


def test_outcomes_by_source_for_a_known_set(rpc, cases_db, services):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    seed(
        cases_db,
        [
            seeded_case(agency, 1, ["alpr"], "arrest"),
            seeded_case(agency, 2, ["alpr", "tip", "alpr"], "charges_filed"),
            seeded_case(agency, 3, ["tip"], "unfounded"),
            seeded_case(agency, 4, ["tip"]),
            seeded_case(agency, 5, [], "inactive"),  # opened without alerts
            seeded_case(agency, 6, ["alpr"], "arrest", at=UNTIL),  # outside the period
            seeded_case(f"{agency}X", 7, ["alpr"], "arrest"),  # another agency
        ],
    )
    sweep(services)
    query = {"agency": agency, "since": START.isoformat(), "until": UNTIL.isoformat()}
    found = rpc.cases.outcome_metrics(query)
    empty = {"cases": 0, "cases_by_outcome": by_outcome()}
    assert found["sources"] == {source: empty for source in SOURCES} | {
        "alpr": {"cases": 2, "cases_by_outcome": by_outcome(arrest=1, charges_filed=1)},
        "tip": {"cases": 3, "cases_by_outcome": by_outcome(charges_filed=1, unfounded=1, no_disposition=1)},
    }
    assert found["total"] == {
        "cases": 4,
        "cases_by_outcome": by_outcome(arrest=1, charges_filed=1, unfounded=1, no_disposition=1),
    }
    assert found["all_cases"]["cases"] == 5 and found["all_cases"]["cases_by_outcome"]["inactive"] == 1
    only_tip = rpc.cases.outcome_metrics({**query, "source": "tip"})
    assert list(only_tip["sources"]) == ["tip"] and only_tip["total"]["cases"] == 3
    assert only_tip["all_cases"] == found["all_cases"]


def test_reading_the_outcomes_touches_only_the_day_and_hour_buckets(cases_db, services):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    seed(cases_db, [seeded_case(agency, 1, ["tip", "alpr"], "arrest"), seeded_case(agency, 2, [])])
    sweep(services)
    queries = []

    class Counting:
        def __init__(self, collection):
            self.collection = collection

        def find(self, query, *args):
            queries.append((self.collection.name, query))
            return self.collection.find(query, *args)

    store = CaseStore(cases_db)
    store.cases = store.tallies.records = Counting(cases_db["cases"])
    store.tallies.hours, store.tallies.days = Counting(store.tallies.hours), Counting(store.tallies.days)
    found = outcomes_by_source(store, agency, START, UNTIL)
    assert (found["sources"]["tip"]["cases"], found["sources"]["alpr"]["cases"], found["total"]["cases"]) == (1, 1, 1)
    assert found["all_cases"]["cases_by_outcome"] == by_outcome(arrest=1, no_disposition=1)
    assert queries == [("outcome_days", {"agency": agency, "month": "2026-02"})]


def test_a_purged_case_leaves_the_outcomes_of_its_hour_and_day(rpc, cases_db, services):
    agency = f"TX{uuid.uuid4().hex[:7]}"
    opened = START + timedelta(days=3, hours=10)
    # Only criminal intelligence is purged by hand (C17); an investigative case follows its schedule.
    sealed = seeded_case(agency, 1, ["tip"], "arrest", at=opened, classification="criminal_intelligence")
    seed(cases_db, [sealed, seeded_case(agency, 2, ["tip"])])
    sweep(services)
    day = {"agency": agency, "since": START.isoformat(), "until": UNTIL.isoformat()}
    hour = {"agency": agency, "since": opened.isoformat(), "until": (opened + timedelta(hours=1)).isoformat()}
    assert rpc.cases.outcome_metrics(day)["all_cases"]["cases"] == 2
    assert rpc.cases.outcome_metrics(hour)["sources"]["tip"]["cases_by_outcome"]["arrest"] == 1
    authority = {**ctx(agency, "pat", ("purge_authority",)), "purpose": "sealing", "case_number": "HPD-2026-9"}
    rpc.cases.purge_case(f"{agency}-1", {"reason": "sealed by court order"}, authority)
    sweep(services)
    assert rpc.cases.outcome_metrics(day)["all_cases"]["cases"] == 1
    assert rpc.cases.outcome_metrics(hour)["all_cases"]["cases"] == 0


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers["X-Casewire-Event"], json.loads(raw)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhooks_subscribed_to_alert_overdue_receive_their_units_alerts(rpc, base_config):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        agency = f"TX{uuid.uuid4().hex[:7]}"
        boss = ctx(agency, "sam", ("supervisor",), unit="patrol")
        url = f"http://127.0.0.1:{server.server_port}/hook"
        rpc.cases.create_webhook({"url": url, "events": ["alert_overdue"]}, boss)
        dispatch = event_dispatcher(base_config)
        event = {
            "alert_id": f"{agency}-late",
            "source": "gunshot",
            "priority": "critical",
            "status": "new",
            "agency": agency,
            "unit": "patrol",
            "assignee": None,
            "received_at": "2026-03-02T08:00:00+00:00",
            "triage_due": "2026-03-02T08:05:00+00:00",
            "escalated_at": "2026-03-02T08:05:15+00:00",
        }
        dispatch("intake", "alert_overdue", {**event, "alert_id": f"{agency}-other-unit", "unit": "rtcc"})
        dispatch("intake", "alert_overdue", event)
        got = eventually(lambda: [body for kind, body in Receiver.received if kind == "alert_overdue"])
        assert got[0]["data"] == event and len(got) == 1
    finally:
        server.shutdown()
