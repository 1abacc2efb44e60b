"""The search service in a real container: events in, RPCs out, reindex and drift check.

Intake, entities, cases and audit are the real services; a few tests play ``case_updated`` events
themselves (casewire/events.py CaseUpdated) or a cases service without ``export_cases``.
"""

import json

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from nameko.events import event_handler
from nameko.rpc import rpc
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from casewire import events
from casewire.errors import InvalidInput
from casewire_cli.main import main
from services.audit.service import AuditService
from services.cases.service import CasesService
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from services.search.service import SearchService
from tests.integration import search_data as data
from tests.polling import eventually

CONTEXT = {"actor": {"id": "loader", "agency": "TX0000000", "roles": ["source"]}, "request_id": "r-1"}
HEARD: list[dict] = []


class CasesWithoutExport:
    """A cases service that does not answer ``export_cases`` (an older release)."""

    name = "cases"

    @rpc
    def health(self):
        return {}


class ControlOfficialInbox:
    name = "inbox"

    @event_handler(events.SEARCH, events.RESTRICTED_HIT)
    def handle_restricted_hit(self, payload):
        HEARD.append(events.RestrictedHit().load(payload))


@pytest.fixture
def stack(container_factory, config_for, base_config):
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


def test_C6_search_tells_the_control_official_of_a_restricted_hit_and_the_searcher_sees_nothing(stack, publish):
    """The search service's part alone, fed ``case_updated`` as cases announces it; the whole chain
    through the API is tests/e2e/test_compliance.py's C6 test."""
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


def test_plate_search_keeps_the_reads_of_the_time_and_place_asked_and_refuses_a_range_ending_first(stack):
    """Reads stored by the real intake and resolved by the real entities service, searched over RPC."""
    plate = f"{data.tag()}4471"
    january = stack.intake.create_alert(alpr(plate), CONTEXT)["alert"]  # 2026-01-14, at 29.75,-95.36
    march = {**alpr(plate), "occurred_at": "2026-03-18T08:02:00Z", "location": {"lat": 30.27, "lon": -97.74}}
    march = stack.intake.create_alert(march, CONTEXT)["alert"]

    def shown(**filters):
        items = stack.search.search_plates(plate, context=CONTEXT, filters=filters)["items"]
        return [sorted(s["record_id"] for s in item["sightings"]) for item in items]

    eventually(lambda: shown() == [sorted([january["id"], march["id"]])])
    assert shown(since="2026-03-01T00:00:00Z", until="2026-04-01T00:00:00-05:00") == [[march["id"]]]
    assert shown(near={"lat": 29.75, "lon": -95.36, "km": 3}) == [[january["id"]]]
    assert shown(since="2026-03-01T00:00:00Z", near={"lat": 29.75, "lon": -95.36, "km": 3}) == []
    with pytest.raises(InvalidInput) as ends_first:
        shown(since="2026-03-01T00:00:00Z", until="2026-02-01T00:00:00Z")
    assert list(ends_first.value.errors) == ["until"]
    with pytest.raises(InvalidInput) as nowhere:
        shown(since="in March", near={"lat": 91, "lon": -95.36, "km": 3})
    assert sorted(nowhere.value.errors) == ["near", "since"]


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


@pytest.fixture
def cases_service(container_factory, config_for, mongo):
    """The real cases service (and the audit service it records to); its database, for faults."""
    for service_cls in (CasesService, AuditService):
        container_factory(service_cls, config_for(service_cls.name)).start()
    return mongo[config_for("cases")["MONGODB_DATABASE"]]


def test_check_reports_drift_after_a_fault_and_reindex_repairs_it(stack, cli, base_config, cases_service):
    tag = data.tag()
    alerts = [stack.intake.create_alert(alpr(f"{tag}{n}47"), CONTEXT)["alert"] for n in range(3)]
    case = stack.cases.create_case({"title": f"{tag} case", "unit": "rtcc"}, data.caller())
    for alert in alerts:
        eventually(lambda alert=alert: stack.search.search_plates(alert["payload"]["plate"], context=CONTEXT)["items"])
    eventually(lambda: data_in_index(stack, tag.lower(), data.caller()))
    cases_service["cases"].update_one({"_id": case["id"]}, {"$inc": {"version": 1}})  # a change whose event was lost
    prefix = base_config["INDEX_PREFIX"]
    es = Elasticsearch(base_config["ELASTICSEARCH_URL"])
    es.delete(index=f"{prefix}-alerts", id=alerts[0]["id"], refresh=True)
    es.index(index=f"{prefix}-alerts", id="ghost", document={"kind": "alert", "rid": "ghost"}, refresh=True)
    es.index(index=f"{prefix}-cases", id="ghost-case", document={"kind": "case", "rid": "ghost-case"}, refresh=True)

    drift, code = report(cli)
    indices = drift["indices"]
    assert code == 1 and drift["drift"] is True and not drift["skipped"]
    assert alerts[0]["id"] in indices["alerts"]["missing"] and "ghost" in indices["alerts"]["extra"]
    assert indices["cases"]["stale"] == [case["id"]] and "ghost-case" in indices["cases"]["extra"]

    live_before = es.indices.get_alias(name=f"{prefix}-alerts")
    result = cli("reindex")
    assert result.exit_code == 0, result.output
    assert "alerts:" in result.output and "records from its owner" in result.output.split("cases:")[1]
    assert es.indices.get_alias(name=f"{prefix}-alerts").keys().isdisjoint(live_before.keys())  # swapped

    clean, code = report(cli)
    assert code == 0 and clean["drift"] is False, clean
    assert clean["indices"]["cases"]["checked"] >= 1
    assert es.get(index=f"{prefix}-cases", id=case["id"])["_version"] == case["version"] + 1
    assert data_in_index(stack, tag.lower(), data.caller())  # still served through the alias
    es.close()


def test_export_cases_pages_every_case_once_in_id_order_without_purged_ones(stack, cases_service):
    made = [stack.cases.create_case({"title": f"export {n}", "unit": "rtcc"}, data.caller())["id"] for n in range(5)]
    cases_service["cases"].update_one({"_id": made[0]}, {"$set": {"purging": {"at": "now"}}})
    seen, after = [], None
    while True:
        page = stack.cases.export_cases(after, 2)
        assert len(page["items"]) <= 2 and ("total" in page) is (after is None)
        seen += [item["case_id"] for item in page["items"]]
        assert all(events.CaseUpdated().load(item) for item in page["items"])
        after = page["next"]
        if not after:
            break
    assert seen == sorted(set(seen)) and set(made[1:]) <= set(seen) and made[0] not in seen


def test_an_owner_without_its_export_stops_the_rebuild_and_check_says_so(
    stack, publish, container_factory, config_for, cli
):
    container_factory(CasesWithoutExport, config_for("cases")).start()
    case = data.case(title=f"{data.tag(8)} kept", unit="rtcc")
    publish("cases", events.CASE_UPDATED, case)
    eventually(lambda: stack.search.search(case["title"], {}, data.caller())["items"])
    with pytest.raises(Exception, match="export_cases is not available"):
        cli("reindex", "--index", "cases")
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
