"""The search service in a real container: events in, RPCs out, reindex and drift check.

The cases service's ``export_cases`` and ``case_updated`` are played by a small stand-in service
named ``cases`` that follows the contract (casewire/events.py CaseUpdated); intake and entities are
the real services.
"""

import json
import time

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from nameko.events import event_handler
from nameko.rpc import rpc
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from casewire import events
from casewire.cli import main
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from services.search.service import SearchService
from tests.integration import search_data as data

CONTEXT = {"actor": {"id": "loader", "agency": "TX0000000", "roles": ["source"]}, "request_id": "r-1"}
CASES: list[dict] = []
HEARD: list[dict] = []


class CasesStandIn:
    """Plays the cases service's side of the contract: ``export_cases(after, limit)``."""

    name = "cases"

    @rpc
    def export_cases(self, after=None, limit=500):
        ordered = sorted(CASES, key=lambda case: case["case_id"])
        page = [case for case in ordered if after is None or case["case_id"] > after][:limit]
        return {"items": page, "next": page[-1]["case_id"] if len(page) == limit else None}


class CasesWithoutExport:
    """A cases service from before ``export_cases`` existed."""

    name = "cases"

    @rpc
    def health(self):
        return {}


class ControlOfficialInbox:
    name = "inbox"

    @event_handler(events.SEARCH, events.RESTRICTED_HIT)
    def handle_restricted_hit(self, payload):
        HEARD.append(events.RestrictedHit().load(payload))


def eventually(check, timeout=20.0):
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"not true within {timeout}s: last value {value!r}")


@pytest.fixture
def stack(container_factory, config_for, base_config):
    CASES.clear()
    HEARD.clear()
    for service_cls in (IntakeService, EntitiesService, SearchService, ControlOfficialInbox):
        container_factory(service_cls, config_for(service_cls.name)).start()
    with ClusterRpcProxy(base_config) as proxy:
        yield proxy


@pytest.fixture
def publish(base_config):
    dispatch = event_dispatcher(base_config)

    def send(service, event, payload):
        dispatch(service, event, payload)

    return send


@pytest.fixture
def cli(base_config):
    env = {k: base_config[k] for k in ("AMQP_URI", "ELASTICSEARCH_URL", "INDEX_PREFIX")} | {"RPC_TIMEOUT": "20"}

    def invoke(*args):
        return CliRunner().invoke(main, ["search", *args], env=env, catch_exceptions=False)

    return invoke


def report(cli):
    result = cli("check", "--json")
    return json.loads(result.output), result.exit_code


def alpr(plate):
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": data.uid(),
        "occurred_at": "2026-01-14T23:41:00Z",
        "location": {"lat": 29.75, "lon": -95.36},
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": "cam-1"},
        "notes": f"read near the {plate.lower()} scene",
    }


def test_C6_a_restricted_hit_tells_the_control_official_and_the_searcher_sees_nothing(stack, publish):
    word = data.tag(8).lower()
    case = data.intelligence("restricted", title=f"{word} network")
    publish("cases", events.CASE_UPDATED, case)
    outsider = data.caller(sub="eve", unit="robbery", purpose="burglary series", case_number="26-17")
    eventually(lambda: data_in_index(stack, word, data.caller(unit="intel", purpose="p", case_number="1")))
    found = stack.search.search(word, {}, outsider)
    assert found == {"items": [], "next_cursor": None}
    heard = eventually(lambda: HEARD)
    assert heard[0]["case_id"] == case["case_id"] and heard[0]["control_official"] == "lt.jones"
    assert (heard[0]["searcher"], heard[0]["terms"], heard[0]["purpose"]) == ("eve", word, "burglary series")


def data_in_index(stack, word, who):
    return stack.search.search(word, {}, who)["items"]


def test_case_updates_are_versioned_and_purges_remove_them(stack, publish):
    word, newer = data.tag(8).lower(), data.tag(8).lower()
    case = data.case(title=word, unit="rtcc")
    who = data.caller()
    publish("cases", events.CASE_UPDATED, {**case, "title": newer, "version": 2})
    eventually(lambda: data_in_index(stack, newer, who))
    publish("cases", events.CASE_UPDATED, case)  # a late, older version
    publish("cases", events.RECORD_PURGED, {"record_type": "case", "record_id": case["case_id"], "reason": "C15"})
    eventually(lambda: not data_in_index(stack, newer, who))
    assert data_in_index(stack, word, who) == []


def test_check_reports_drift_after_a_fault_and_reindex_repairs_it(
    stack, publish, cli, base_config, container_factory, config_for
):
    container_factory(CasesStandIn, config_for("cases")).start()
    tag = data.tag()
    alerts = [stack.intake.create_alert(alpr(f"{tag}{n}47"), CONTEXT)["alert"] for n in range(3)]
    case = data.case(title=f"{tag} case", unit="rtcc", version=2)
    CASES.append(case)
    publish("cases", events.CASE_UPDATED, {**case, "version": 1})  # version 2's event was lost
    for alert in alerts:
        eventually(lambda alert=alert: stack.search.search_plates(alert["payload"]["plate"], context=CONTEXT)["items"])
    eventually(lambda: data_in_index(stack, tag.lower(), data.caller()))
    prefix = base_config["INDEX_PREFIX"]
    es = Elasticsearch(base_config["ELASTICSEARCH_URL"])
    es.delete(index=f"{prefix}-alerts", id=alerts[0]["id"], refresh=True)
    es.index(index=f"{prefix}-alerts", id="ghost", document={"kind": "alert", "rid": "ghost"}, refresh=True)

    drift, code = report(cli)
    indices = drift["indices"]
    assert code == 1 and drift["drift"] is True
    assert alerts[0]["id"] in indices["alerts"]["missing"] and "ghost" in indices["alerts"]["extra"]
    assert case["case_id"] in indices["cases"]["stale"]

    live_before = es.indices.get_alias(name=f"{prefix}-alerts")
    result = cli("reindex")
    assert result.exit_code == 0, result.output
    assert "alerts:" in result.output and "cases:" in result.output
    assert es.indices.get_alias(name=f"{prefix}-alerts").keys().isdisjoint(live_before.keys())  # swapped

    clean, code = report(cli)
    assert code == 0 and clean["drift"] is False, clean
    assert data_in_index(stack, tag.lower(), data.caller())  # still served through the alias
    es.close()


def test_without_cases_export_reindex_keeps_the_indexed_cases(stack, publish, container_factory, config_for, cli):
    container_factory(CasesWithoutExport, config_for("cases")).start()
    case = data.case(title=f"{data.tag(8)} kept", unit="rtcc")
    publish("cases", events.CASE_UPDATED, case)
    eventually(lambda: stack.search.search(case["title"], {}, data.caller())["items"])
    result = cli("reindex", "--index", "cases")
    assert result.exit_code == 0 and "copied from the live index" in result.output
    assert stack.search.search(case["title"], {}, data.caller())["items"][0]["id"] == case["case_id"]
    drift, code = report(cli)
    assert "not available" in drift["indices"]["cases"]["skipped"] and code == 2


def test_export_rpcs_page_every_record_once_in_id_order(stack):
    tag = data.tag()
    created = {stack.intake.create_alert(alpr(f"{tag}{n}47"), CONTEXT)["alert"]["id"] for n in range(5)}
    for service, method, key in (
        ("intake", "export_alerts", "alert_id"),
        ("entities", "export_entities", "id"),
        ("entities", "export_sightings", "id"),
    ):
        seen, after = [], None
        while True:
            page = getattr(getattr(stack, service), method)(after, 2)
            assert len(page["items"]) <= 2
            assert ("total" in page) is (after is None)  # the first page tells about how many there are
            seen += [item[key] for item in page["items"]]
            after = page["next"]
            if not after:
                break
        assert seen == sorted(set(seen)) and seen, (service, method)
        if method == "export_alerts":
            assert created <= set(seen)
