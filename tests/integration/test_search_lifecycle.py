"""Index lifecycle on the real Elasticsearch: versioned names, aliases, rebuilds and the swap."""

import eventlet
import pytest

from services.search import indexing, listing, rebuild
from services.search.dependencies import SearchIndex
from services.search.mappings import INDICES
from tests.integration import search_data as data


@pytest.fixture
def index(es, run_id):
    return SearchIndex(es, f"test-{run_id}-life{data.uid()[:6]}")


def owner_of(alerts):
    """An export RPC's answer, paged as the owners page it (``after``, ``limit``)."""

    def call(service, method, after, limit):
        assert (service, method) == ("intake", "export_alerts")
        page = [a for a in sorted(alerts, key=lambda a: a["alert_id"]) if after is None or a["alert_id"] > after]
        page = page[:limit]
        return {"items": page, "next": page[-1]["alert_id"] if len(page) == limit else None}

    return call


def test_indices_are_versioned_behind_aliases(index, es):
    index.ensure_indices()
    for name, spec in INDICES.items():
        assert list(es.indices.get_alias(name=index.alias(name))) == [f"{index.alias(name)}-v{spec['version']}"]
        assert index.live_version(name) == spec["version"]


def test_an_outdated_index_serves_until_reindex_swaps_it(index, es, monkeypatch):
    old = f"{index.alias('alerts')}-v1"
    es.indices.create(index=old, mappings={"_meta": {"version": 1}, "properties": {"source": {"type": "keyword"}}})
    es.indices.put_alias(index=old, name=index.alias("alerts"))
    index.ensure_indices()
    assert index.live_indices("alerts") == [old] and index.live_version("alerts") == 1
    alerts = [data.alert() for _ in range(7)]
    progress = []
    monkeypatch.setattr(rebuild, "PAGE", 3)
    result = rebuild.rebuild(index, "alerts", owner_of(alerts), progress.append)
    assert result["records"] == 7 and result["replaced"] == [old] and progress == [3, 3, 1]
    assert index.live_indices("alerts") == [result["index"]]
    assert index.live_version("alerts") == INDICES["alerts"]["version"]
    assert not es.indices.exists(index=old)
    assert rebuild.check(index, "alerts", owner_of(alerts)) == {"checked": 7, "missing": [], "extra": [], "stale": []}
    index.refresh("alerts")
    served = listing.alert_page(index, data.caller(), {}, 10, None)["items"]  # the list's items, from the export
    assert sorted(served, key=lambda item: item["id"]) == sorted(
        ({**alert["item"], "entities": [], "related_count": 0} for alert in alerts), key=lambda item: item["id"]
    )


def test_writes_during_a_rebuild_reach_the_new_index_too(index, es):
    index.ensure_indices()
    build = index.start_build("alerts")
    during = data.alert()
    indexing.index_alert(index, during)
    assert es.exists(index=build, id=during["alert_id"]) and index.exists("alerts", during["alert_id"])
    index.finish_build("alerts", build)
    assert index.live_indices("alerts") == [build] and not es.indices.exists_alias(name=index.next_alias("alerts"))
    assert index.exists("alerts", during["alert_id"])


def test_a_failed_rebuild_leaves_the_live_index_alone(index):
    index.ensure_indices()
    live = index.live_indices("alerts")

    def broken(service, method, after, limit):
        raise RuntimeError("intake crashed mid-export")

    with pytest.raises(RuntimeError):
        rebuild.rebuild(index, "alerts", broken, lambda n: None)
    assert index.live_indices("alerts") == live
    assert not index.client.indices.exists_alias(name=index.next_alias("alerts"))


def test_C16_a_record_purged_during_a_rebuild_stays_gone(index):
    """Entities carry no version: only the rebuild's own check keeps a purged one out.

    Search's own rebuild, with the purge handled by hand inside the export page: the interleaving
    production meets when a purge lands mid-rebuild, which no test can time through the services.
    Purges through the API and the real sweep leave the search in tests/e2e/test_compliance.py's
    C16/C17 test and tests/e2e/test_retention.py's C16/C19 test."""
    index.ensure_indices()
    kept, purged = data.entity("phone", "+17135550100"), data.entity("phone", "+17135550101")

    def export_then_purge(service, method, after, limit):
        assert (service, method) == ("entities", "export_entities")
        indexing.purge(index, "entity", purged["id"])  # handled while the owner's page was in flight
        return {"items": [kept, purged], "next": None}

    rebuild.rebuild(index, "entities", export_then_purge, lambda n: None)
    assert index.exists("entities", kept["id"]) and not index.exists("entities", purged["id"])


def test_replicas_starting_together_share_one_index_per_alias(index, es):
    """Two search replicas create the indices at once: the loser of each race takes the winner's index."""
    replicas = [SearchIndex(es, index.prefix) for _ in range(4)]
    pool = eventlet.GreenPool()
    results = list(pool.imap(lambda replica: replica.ensure_indices(), replicas))
    assert results == [None] * 4
    for name, spec in INDICES.items():
        assert index.live_indices(name) == [f"{index.alias(name)}-v{spec['version']}"]


def test_an_index_created_by_another_replica_between_check_and_create_is_taken(index, es):
    name, spec = "alerts", INDICES["alerts"]
    concrete = f"{index.alias(name)}-v{spec['version']}"
    index.create_index(name, concrete)  # the other replica won the race after our exists() check
    index._create_if_absent(name, concrete)
    index._alias_if_unclaimed(name, concrete)
    index._alias_if_unclaimed(name, concrete)
    assert index.live_indices(name) == [concrete]
