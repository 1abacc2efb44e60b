"""Lists served from the index: the pages of the alert list and the related counts of list items.

Both read only what search keeps of the owners' events, so they lag a write by as long as its event
takes to be indexed and the index to refresh (about a second, docs/search.md), and they answer in a
few Elasticsearch requests whatever the number of alerts.
"""

import base64
import json

from services.search import access_filters
from services.search.dependencies import SearchIndex
from services.search.finder import visible_records

SORT = [{"received_at": "desc"}, {"rid": "desc"}]
RELATED_LIMIT = 200  # other records counted per list item at most
UNKNOWN_STATE = "??"


def alert_page(index: SearchIndex, caller: dict | None, filters: dict, limit: int, cursor: str | None) -> dict:
    """``{"ids": [...], "next_cursor"}``: the ids of the caller's alerts matching ``filters`` (``status``,
    ``source``, ``assignee``, ``since``/``until`` on ``received_at``), newest first."""
    wanted = [access_filters.alert_filter(caller)]
    for field, term in (("status", "status"), ("source", "source"), ("assignee", "assignees")):
        if filters.get(field):
            wanted.append({"term": {term: filters[field]}})
    received = {op: filters[key] for key, op in (("since", "gte"), ("until", "lt")) if filters.get(key)}
    if received:
        wanted.append({"range": {"received_at": received}})
    # No total: counting every match would read past the page the index's order lets it stop at.
    body = {
        "query": {"bool": {"filter": wanted}},
        "sort": SORT,
        "size": limit + 1,
        "_source": False,
        "track_total_hits": False,
    }
    if cursor:
        body["search_after"] = _decode(cursor)
    hits = index.search("alerts", **body)["hits"]["hits"]
    more = len(hits) > limit
    return {
        "ids": [hit["_id"] for hit in hits[:limit]],
        "next_cursor": _encode(hits[limit - 1]["sort"]) if more else None,
    }


def related_counts(index: SearchIndex, caller: dict | None, groups: dict[str, list[str]]) -> dict[str, int]:
    """For each key, how many other alerts and cases the caller may open share an entity with a record
    of its group (an alert: itself; a case: itself and its alerts). A plate read without a state
    shares its plate with every state's reads, and one with a state with the reads without one."""
    own = {record for records in groups.values() for record in records}
    if not own:
        return dict.fromkeys(groups, 0)
    mine = index.search(
        "sightings",
        query={"terms": {"record_id": sorted(own)}},
        size=10_000,
        _source=["entity_id", "record_id"],
    )["hits"]["hits"]
    entities_of: dict[str, set[str]] = {}
    for hit in mine:
        entities_of.setdefault(hit["_source"]["record_id"], set()).add(hit["_source"]["entity_id"])
    variants = _plate_variants(index, sorted({e for found in entities_of.values() for e in found}))
    lookups = {}
    for key, records in groups.items():
        entities = {entity for record in records for entity in entities_of.get(record, ())}
        lookups[key] = sorted(entities | {other for entity in entities for other in variants.get(entity, ())})
    others = _others(index, {key: (ids, groups[key]) for key, ids in lookups.items() if ids})
    visible = visible_records(index, caller, {record for found in others.values() for record in found})
    return {key: len(others.get(key, set()) & visible) for key in groups}


def _others(index: SearchIndex, wanted: dict[str, tuple[list[str], list[str]]]) -> dict[str, set[str]]:
    """Per key, the records (at most :data:`RELATED_LIMIT`) with a sighting of its entities other than its own."""
    if not wanted:
        return {}
    searches = []
    for entity_ids, own in wanted.values():
        query = {
            "bool": {"filter": [{"terms": {"entity_id": entity_ids}}], "must_not": [{"terms": {"record_id": own}}]}
        }
        aggs = {"records": {"terms": {"field": "record_id", "size": RELATED_LIMIT}}}
        searches += [{}, {"query": query, "size": 0, "aggs": aggs}]
    answers = index.msearch("sightings", searches)
    return {
        key: {bucket["key"] for bucket in answer["aggregations"]["records"]["buckets"]}
        for key, answer in zip(wanted, answers, strict=True)
    }


def _plate_variants(index: SearchIndex, entity_ids: list[str]) -> dict[str, list[str]]:
    """Each vehicle among ``entity_ids`` → the vehicles of its plate its reads are matched with."""
    vehicles = {
        entity_id: source
        for entity_id, source in index.sources("entities", entity_ids).items()
        if source.get("type") == "vehicle" and ":" in source.get("key", "")
    }
    plates = sorted({source["key"].split(":", 1)[1] for source in vehicles.values()})
    if not plates:
        return {}
    hits = index.search(
        "entities",
        query={"bool": {"filter": [{"term": {"type": "vehicle"}}, {"terms": {"plate": plates}}]}},
        size=10_000,
        _source=["key"],
    )["hits"]["hits"]
    by_plate: dict[str, list[tuple[str, str]]] = {}
    for hit in hits:
        state, _, plate = hit["_source"]["key"].partition(":")
        by_plate.setdefault(plate, []).append((hit["_id"], state))
    variants = {}
    for entity_id, source in vehicles.items():
        state, _, plate = source["key"].partition(":")
        variants[entity_id] = [
            other
            for other, other_state in by_plate.get(plate, [])
            if other != entity_id and (state == UNKNOWN_STATE or other_state == UNKNOWN_STATE)
        ]
    return variants


def _encode(sort_values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_values).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor from this list") from exc
    if not isinstance(values, list) or len(values) != len(SORT):
        raise ValueError("not a cursor from this list")
    return values
