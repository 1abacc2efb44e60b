"""``entities_merged`` as search applies it, over the real servers: late, repeated or replayed after
the unmerge, it never takes a sighting off the index that the entities service still holds.

Intake, entities and audit are the real services; a tap hears what entities announces, so a test
can hand search an event again, or hold the merge back until newer alerts are indexed (each event
type has its own queue, so search may well see them in that order).
"""

import json
from contextlib import contextmanager

import pytest
from amqp.exceptions import NotFound
from click.testing import CliRunner
from elasticsearch import Elasticsearch, NotFoundError
from kombu import Connection
from nameko.events import EventHandler, event_handler
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_waiter

from casewire import events
from casewire_cli.main import main
from services.audit.service import AuditService
from services.entities.service import EntitiesService
from services.intake.service import IntakeService
from services.search.service import SearchService
from tests.integration import search_data as data
from tests.polling import eventually

LOADER = {"actor": {"id": "loader", "agency": "TX0000000", "roles": ["source"]}, "request_id": "r-1"}
HEARD: dict[str, list[dict]] = {"resolved": [], "merged": []}


class Tap:
    """Hears what the entities service announces to search, for a test to hand it over again."""

    name = "merge_tap"

    @event_handler(events.ENTITIES, events.ALERTS_RESOLVED)
    def handle_alerts_resolved(self, payload):
        HEARD["resolved"].extend(payload["resolutions"])

    @event_handler(events.ENTITIES, events.ENTITIES_MERGED)
    def handle_entities_merged(self, payload):
        HEARD["merged"].append(payload)


@pytest.fixture
def index_prefix(base_config):
    """This module's own indices, so the drift check compares them with this module's databases only."""
    return f"{base_config['INDEX_PREFIX']}-merges"


@pytest.fixture
def owners(container_factory, config_for, base_config, index_prefix):
    """Intake, entities (and audit) running, search not yet: a test starts it with ``start_search``."""
    for list_ in HEARD.values():
        list_.clear()
    for service_cls in (IntakeService, EntitiesService, AuditService, Tap):
        container_factory(service_cls, {**config_for(service_cls.name), "INDEX_PREFIX": index_prefix}).start()
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture
def start_search(container_factory, config_for, base_config, index_prefix):
    """Start search on empty queues: what was announced before is handed to it by the test, in its order."""

    def start():
        with Connection(base_config["AMQP_URI"]) as connection:
            for queue in search_queues():
                try:
                    with connection.channel() as channel:
                        channel.queue_purge(queue)
                except NotFound:  # not declared yet: search never ran on this vhost
                    pass
        container = container_factory(SearchService, {**config_for("search"), "INDEX_PREFIX": index_prefix})
        container.start()
        return container

    return start


def search_queues() -> list[str]:
    """The durable queues of search's event handlers (a run on this vhost before may have left them),
    named as nameko names them; purged by name, since ``rabbitmqctl``'s message counts lag."""
    return [
        f"evt-{entrypoint.source_service}-{entrypoint.event_type}--{SearchService.name}.{name}"
        for name, method in vars(SearchService).items()
        for entrypoint in getattr(method, "nameko_entrypoints", ())
        if isinstance(entrypoint, EventHandler)
    ]


@pytest.fixture
def publish(base_config):
    dispatch = event_dispatcher(base_config)
    return lambda event_type, payload: dispatch(events.ENTITIES, event_type, payload)


@pytest.fixture
def es(base_config):
    client = Elasticsearch(base_config["ELASTICSEARCH_URL"])
    yield client
    client.close()


@pytest.fixture
def index(es, index_prefix):
    """What the index holds: ``sightings(entity_id)`` (record ids) and ``entity(entity_id)`` (kind, version)."""

    class Held:
        @staticmethod
        def sightings(entity_id):
            es.indices.refresh(index=f"{index_prefix}-sightings")
            query = {"term": {"entity_id": entity_id}}
            hits = es.search(index=f"{index_prefix}-sightings", query=query, size=1000)["hits"]["hits"]
            return {hit["_source"]["record_id"] for hit in hits}

        @staticmethod
        def entity(entity_id):
            try:
                found = es.get(index=f"{index_prefix}-entities", id=entity_id)
            except NotFoundError:
                return None
            return found["_source"]["kind"], found["_version"]

    return Held


@pytest.fixture
def cli(base_config, index_prefix):
    """``casewire search ...`` on this module's indices."""
    env = {k: base_config[k] for k in ("AMQP_URI", "ELASTICSEARCH_URL")} | {"INDEX_PREFIX": index_prefix}
    env["RPC_TIMEOUT"] = "20"
    return lambda *args: CliRunner().invoke(main, ["search", *args], env=env, catch_exceptions=False)


@pytest.fixture
def drift(cli):
    """``casewire search check --index <name>``: that index's (missing, extra, stale) ids, of these
    entities only (their own ids, or their sightings' ``entity:record``). The one index alone, since
    the other owners (cases) do not run in this module and would be waited for until the RPC times out."""

    def check(name, *entity_ids):
        found = json.loads(cli("check", "--json", "--index", name).output)["indices"][name]
        return tuple([i for i in found[key] if i.split(":")[0] in entity_ids] for key in ("missing", "extra", "stale"))

    return check


def read(owners, plate, minute):
    """An ALPR read through intake at ``2026-01-14T23:<minute>``; returns its id once entities resolved it."""
    body = {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": data.uid(),
        "occurred_at": f"2026-01-14T23:{minute:02d}:00Z",
        "location": {"lat": 29.75, "lon": -95.36},
        "payload": {"plate": plate, "plate_state": "TX", "camera_id": f"cam-{data.uid()[:6]}"},
    }
    alert_id = owners.intake.create_alert(body, LOADER)["alert"]["id"]
    resolved(alert_id)
    return alert_id


def resolved(alert_id):
    """The ``alerts_resolved`` item announced for an alert."""
    return eventually(lambda: next((p for p in HEARD["resolved"] if p["alert_id"] == alert_id), None))


def vehicle_of(alert_id):
    return resolved(alert_id)["entities"][0]["id"]


def merge_event(merged_id, undone):
    return eventually(
        lambda: next((p for p in HEARD["merged"] if p["merged_id"] == merged_id and p["undone"] is undone), None)
    )


@contextmanager
def merge_applied(search, merged_id, undone):
    """Return once the search container has handled the ``entities_merged`` of ``merged_id`` (a merge,
    or with ``undone`` its unmerge) that the block brings about."""

    def this_one(worker_ctx, result, exc_info):
        payload = worker_ctx.args[0]
        return payload["merged_id"] == merged_id and payload["undone"] is undone

    with entrypoint_waiter(search, "handle_entities_merged", timeout=60, callback=this_one):
        yield


def test_a_merge_applied_after_a_newer_read_of_the_survivor_keeps_that_read(
    owners, start_search, publish, index, drift
):
    kept, folded = f"{data.tag()}4471", f"{data.tag()}4471"
    first, other = read(owners, kept, 1), read(owners, folded, 2)
    survivor, merged = vehicle_of(first), vehicle_of(other)
    owners.entities.merge_entities(survivor, merged, LOADER)
    merge = merge_event(merged, undone=False)
    newer = read(owners, kept, 3)  # after the merge, so the merge event does not list it
    assert vehicle_of(newer) == survivor

    search = start_search()
    for alert_id in (first, other, newer):
        publish(events.ALERTS_RESOLVED, {"resolutions": [resolved(alert_id)]})
    eventually(lambda: index.sightings(survivor) == {first, newer} and index.sightings(merged) == {other})
    with merge_applied(search, merged, undone=False):
        publish(events.ENTITIES_MERGED, merge)  # the merge reaches search only now
    assert index.entity(merged)[0] == "merged" and index.sightings(merged) == set()
    assert index.sightings(survivor) == {first, other, newer}
    assert drift("sightings", survivor, merged) == drift("entities", survivor, merged) == ([], [], [])


def test_a_merge_delivered_again_after_newer_reads_or_after_the_unmerge_takes_no_sighting_away(
    owners, start_search, publish, index, drift
):
    search = start_search()
    kept, folded = f"{data.tag()}4471", f"{data.tag()}4471"
    first, other = read(owners, kept, 1), read(owners, folded, 2)
    survivor, merged = vehicle_of(first), vehicle_of(other)
    eventually(lambda: index.sightings(survivor) == {first} and index.sightings(merged) == {other})
    with merge_applied(search, merged, undone=False):
        owners.entities.merge_entities(survivor, merged, LOADER)
    merge = merge_event(merged, undone=False)
    assert index.sightings(survivor) == {first, other}
    newer = read(owners, kept, 3)
    eventually(lambda: index.sightings(survivor) == {first, other, newer})

    with merge_applied(search, merged, undone=False):
        publish(events.ENTITIES_MERGED, merge)  # delivered again (at least once)
    assert index.sightings(survivor) == {first, other, newer}
    assert drift("sightings", survivor, merged) == ([], [], [])

    with merge_applied(search, merged, undone=True):
        owners.entities.unmerge_entities(survivor, merged, LOADER)
    assert index.sightings(merged) == {other} and index.sightings(survivor) == {first, newer}
    with merge_applied(search, merged, undone=False):
        publish(events.ENTITIES_MERGED, merge)  # the merge replayed after its unmerge (a dead letter, say)
    assert index.sightings(merged) == {other} and index.sightings(survivor) == {first, newer}
    assert index.entity(merged)[0] == "entity"
    assert drift("sightings", survivor, merged) == drift("entities", survivor, merged) == ([], [], [])


def test_a_merge_keeps_the_sightings_beyond_those_its_event_carries(
    owners, start_search, publish, index, drift, cli, monkeypatch
):
    """The event lists the oldest ``MERGE_SIGHTINGS`` of an entity (here 2 instead of 5,000)."""
    monkeypatch.setattr(events, "MERGE_SIGHTINGS", 2)
    search = start_search()
    kept, folded = f"{data.tag()}4471", f"{data.tag()}4471"
    others = [read(owners, folded, minute) for minute in (1, 2, 3)]  # older than the survivor's reads
    firsts = [read(owners, kept, minute) for minute in (4, 5, 6)]
    survivor, merged = vehicle_of(firsts[0]), vehicle_of(others[0])
    eventually(lambda: index.sightings(survivor) == set(firsts) and index.sightings(merged) == set(others))

    with merge_applied(search, merged, undone=False):
        owners.entities.merge_entities(survivor, merged, LOADER)
    assert index.entity(merged)[0] == "merged" and index.sightings(merged) == set()
    assert index.sightings(survivor) == {*firsts, *others}
    assert drift("sightings", survivor, merged) == drift("entities", survivor, merged) == ([], [], [])

    with merge_applied(search, merged, undone=True):
        owners.entities.unmerge_entities(survivor, merged, LOADER)
    assert index.sightings(merged) == set(others[:2])
    # Nothing is lost; the read the unmerge event does not list stays with the survivor until a
    # rebuild, and the drift check says so.
    assert index.sightings(survivor) == {*firsts, others[2]}
    assert drift("sightings", survivor, merged) == ([f"{merged}:{others[2]}"], [f"{survivor}:{others[2]}"], [])
    assert cli("reindex", "--index", "sightings").exit_code == 0
    assert index.sightings(merged) == set(others) and index.sightings(survivor) == set(firsts)
