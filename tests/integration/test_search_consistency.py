"""What the entities service tells search, end to end over the real servers: case links, hand-made
entities, merges (and late replays of what came before them), purged entities, and the drift check
after all of it. Intake, entities, cases, audit and search are the real services."""

import json
import time
import uuid

import pytest
from click.testing import CliRunner
from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_waiter

from casewire import events
from casewire_cli.main import main
from services.audit.service import AuditService
from services.cases.service import CasesService
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from services.search.service import SearchService
from tests.integration import search_data as data
from tests.polling import eventually
from tests.resolution import resolve_one

LOADER = {"actor": {"id": "loader", "agency": "TX0000000", "roles": ["source"]}, "request_id": "r-1"}
HEARD: list[dict] = []


class ControlOfficialInbox:
    name = "inbox"

    @event_handler(events.SEARCH, events.RESTRICTED_HIT)
    def handle_restricted_hit(self, payload):
        HEARD.append(events.RestrictedHit().load(payload))


@pytest.fixture
def index_prefix(base_config):
    """This module's own indices: the drift check compares them with this module's databases, and
    indices shared with earlier modules would hold their records as extras."""
    return f"{base_config['INDEX_PREFIX']}-consistency"


@pytest.fixture
def containers(container_factory, config_for, index_prefix):
    HEARD.clear()
    started = {}
    for service_cls in (
        IntakeService,
        EntitiesService,
        CasesService,
        AuditService,
        SearchService,
        ControlOfficialInbox,
    ):
        started[service_cls.name] = container_factory(
            service_cls, {**config_for(service_cls.name), "INDEX_PREFIX": index_prefix}
        )
        started[service_cls.name].start()
    return started


@pytest.fixture
def stack(containers, base_config):
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def replayed(containers, publish, es, index_prefix):
    """Publish a late ``alerts_resolved`` of one resolution and return once search has handled it and
    its indices are refreshed: what the replay changed, if anything, is visible then."""

    def replay(resolution: dict) -> None:
        def this_one(worker_ctx, result, exc_info):
            return [item["alert_id"] for item in worker_ctx.args[0]["resolutions"]] == [resolution["alert_id"]]

        with entrypoint_waiter(containers["search"], "handle_alerts_resolved", timeout=60, callback=this_one):
            publish(events.ENTITIES, events.ALERTS_RESOLVED, {"resolutions": [resolution]})
        es.indices.refresh(index=f"{index_prefix}-*")

    return replay


@pytest.fixture
def publish(base_config):
    return event_dispatcher(base_config)


@pytest.fixture
def entities_db(mongo, config_for):
    return mongo[config_for("entities")["MONGODB_DATABASE"]]


@pytest.fixture
def cli(base_config, index_prefix):
    env = {k: base_config[k] for k in ("AMQP_URI", "ELASTICSEARCH_URL")} | {"INDEX_PREFIX": index_prefix}
    env["RPC_TIMEOUT"] = "20"

    def invoke(*args):
        return CliRunner().invoke(main, ["search", *args], env=env, catch_exceptions=False)

    return invoke


def read(plate, state="TX"):
    """An ALPR alert through intake; returns the alert and its vehicle id once search has both."""
    body = {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": data.uid(),
        "occurred_at": "2026-01-14T23:41:00Z",
        "location": {"lat": 29.75, "lon": -95.36},
        "payload": {"plate": plate, "plate_state": state, "camera_id": f"cam-{data.uid()[:6]}"},
    }
    return body


def plate_hits(stack, plate, who=LOADER, state=None):
    return stack.search.search_plates(plate, state=state, context=who)["items"]


def exact_ids(stack, plate):
    """The vehicles found by exactly ``plate``: another test's plate may sit within the fuzzy distance."""
    return [hit["entity"]["id"] for hit in plate_hits(stack, plate) if hit["match"] == "exact"]


def sighted(stack, plate, who=LOADER):
    """The vehicle the plate search finds (exactly), once it has a sighting."""
    items = eventually(lambda: [i for i in plate_hits(stack, plate, who) if i["sightings"] and i["match"] == "exact"])
    return items[0]


def test_C6_search_shows_a_plate_linked_to_a_case_to_who_may_open_it_and_hides_an_announced_restricted_one(
    stack, publish
):
    """Search's and entities' part: the restricted case is a hand-made ``case_updated`` (as cases
    announces an approved one) and its link a call of entities' ``record_case_link`` (as cases makes
    it), so the plate filter meets a restricted case without the review steps. A restricted case made,
    approved and linked through the API, and the control official told on ``/api/v1/notifications``,
    is tests/e2e/test_search_access.py's C6 plate test."""
    plate = f"{data.tag()}4471"
    alert = stack.intake.create_alert(read(plate), LOADER)["alert"]
    vehicle = sighted(stack, plate)["entity"]["id"]
    ours = stack.cases.create_case({"title": f"{plate} burglary", "unit": "rtcc"}, data.caller())
    stack.cases.link_entity(ours["id"], {"entity_id": vehicle, "role": "vehicle_of_interest"}, data.caller())
    restricted = data.intelligence("restricted", title=f"{plate} network")
    publish(events.CASES, events.CASE_UPDATED, restricted)
    at = "2026-02-01T10:00:00+00:00"
    stack.entities.record_case_link(restricted["case_id"], vehicle, "subject", at, data.caller(unit="intel"))

    def seen_by(who):
        return {s["record_id"] for s in plate_hits(stack, plate, who)[0]["sightings"]}

    insider = data.caller(sub="ivan", unit="intel", purpose="network", case_number="26-3")
    eventually(lambda: seen_by(insider) == {alert["id"], restricted["case_id"]})
    rtcc = data.caller(unit="rtcc", purpose="burglary", case_number="26-17")
    eventually(lambda: seen_by(rtcc) == {alert["id"], ours["id"]})  # its own case, never the restricted one (C6)
    heard = eventually(lambda: [h for h in HEARD if h["case_id"] == restricted["case_id"]])
    assert {h["searcher"] for h in heard} == {"alice"} and heard[0]["control_official"] == "lt.jones"


def test_a_hand_made_entity_is_found_by_the_general_search_once_a_record_of_the_agency_names_it(stack):
    """Search finds what an agency's records name (docs/security.md): a phone made by hand is listed by
    the entities endpoint at once, and found by search once a case of the agency names it; never by
    another agency."""
    number = f"+1713555{int(time.time() * 1000) % 10000:04d}"
    made = stack.entities.create_entity({"type": "phone", "number": number}, LOADER)["entity"]
    stack.entities.record_case_link(uuid.uuid4().hex, made["id"], "other", "2026-02-01T00:00:00Z", LOADER)
    found = eventually(lambda: stack.search.search(number, {"types": ["entity"]}, data.caller())["items"])
    assert [item["id"] for item in found] == [made["id"]]
    assert stack.search.search(number, {"types": ["entity"]}, data.caller(agency="CA0000000"))["items"] == []


def test_a_merged_vehicle_is_found_by_its_alias_plate_and_a_late_replay_does_not_bring_it_back(
    stack, replayed, cli, entities_db
):
    first, second = f"{data.tag()}4471", f"{data.tag()}4471"
    stack.intake.create_alert(read(first), LOADER)
    old = stack.intake.create_alert(read(second), LOADER)["alert"]
    survivor, merged = sighted(stack, first)["entity"]["id"], sighted(stack, second)["entity"]["id"]
    replay = resolve_one(stack.entities, {"alert_id": old["id"], **{k: old[k] for k in _RECEIVED}})
    assert replay["entities"][0]["id"] == merged  # the alerts_resolved item of before the merge

    stack.entities.merge_entities(survivor, merged, LOADER)
    case = stack.cases.create_case({"title": f"{first} case", "unit": "rtcc"}, data.caller())
    stack.cases.link_entity(case["id"], {"entity_id": merged, "role": "vehicle_of_interest"}, data.caller())
    hits = eventually(lambda: [h for h in plate_hits(stack, second, data.caller()) if len(h["sightings"]) == 3])
    assert [(h["entity"]["id"], h["match"]) for h in hits] == [(survivor, "exact")]
    assert set(hits[0]["entity"]["plates"]) == {first, second}

    replayed(replay)  # late, from before the merge
    assert exact_ids(stack, second) == [survivor]
    assert entities_db["entities"].find_one({"_id": merged})["merged_into"] == survivor

    report = json.loads(cli("check", "--json").output)["indices"]
    for name in ("entities", "sightings"):
        assert (report[name]["missing"], report[name]["extra"], report[name]["stale"]) == ([], [], []), report
    assert cli("reindex", "--index", "entities").exit_code == 0
    assert cli("reindex", "--index", "sightings").exit_code == 0
    assert exact_ids(stack, second) == [survivor]  # not resurrected
    replayed(replay)  # nor by a replay after the rebuild
    assert exact_ids(stack, second) == [survivor]
    assert json.loads(cli("check", "--json").output)["indices"]["entities"]["extra"] == []


_RECEIVED = (
    "source",
    "source_system",
    "source_event_id",
    "occurred_at",
    "received_at",
    "location",
    "payload",
    "priority",
    "status",
    "record_class",
    "agency",
    "unit",
)


def test_C16_C19_entities_and_search_forget_an_entity_seen_only_in_an_announced_purged_read(
    stack, publish, entities_db
):
    """Entities' and search's part: both fed ``record_purged`` as intake's sweep announces it (these
    reads have no retention profile, and the stores are checked directly for what entities keep); the
    real sweep's is followed into the plate search and the entity API by
    tests/e2e/test_retention.py's C16/C19 test."""
    gone, kept = f"{data.tag()}4471", f"{data.tag()}4471"
    purged_alert = stack.intake.create_alert(read(gone), LOADER)["alert"]
    stack.intake.create_alert(read(kept), LOADER)
    kept_alert = stack.intake.create_alert(read(kept), LOADER)["alert"]
    orphan = sighted(stack, gone)["entity"]["id"]
    survivor = eventually(lambda: [h for h in plate_hits(stack, kept) if len(h["sightings"]) == 2])[0]["entity"]["id"]

    for alert in (purged_alert, kept_alert):
        publish(
            events.INTAKE, events.RECORD_PURGED, {"record_type": "alert", "record_id": alert["id"], "reason": "C19"}
        )
    eventually(lambda: plate_hits(stack, gone) == [])
    assert entities_db["entities"].find_one({"_id": orphan}) is None
    assert entities_db["sightings"].find_one({"entity_id": orphan}) is None
    eventually(lambda: len(plate_hits(stack, kept)[0]["sightings"]) == 1)
    assert entities_db["entities"].find_one({"_id": survivor})  # still seen in another read
