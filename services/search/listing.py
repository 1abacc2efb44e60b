"""Lists served from the index: the pages of the alert list and the related counts of list items.

Both read only what search keeps of the owners' events, so they lag a write by as long as its event
takes to be indexed and the index to refresh (about a second, docs/search.md), and they answer in a
few Elasticsearch requests whatever the number of alerts.
"""

import base64
import json

from casewire import access_rules
from services.search import access_filters
from services.search.dependencies import SearchIndex
from services.search.finder import visible_records

SORT = [{"received_at": "desc"}, {"rid": "desc"}]
RELATED_LIMIT = 200  # other records counted per list item at most
UNKNOWN_STATE = "??"


def alert_page(index: SearchIndex, caller: dict | None, filters: dict, limit: int, cursor: str | None) -> dict:
    """``{"items": [...], "next_cursor"}``: the list items of the caller's alerts matching ``filters``
    (``status``, ``source``, ``assignee``, ``since``/``until`` on ``received_at``), newest first.

    Each item is the one intake announced at the alert's version (the document's ``item``), with the
    entities its sightings name now and ``related_count`` (:func:`related_counts`): no look-up in
    intake's store. An item is kept only if ``casewire.access_rules.alert_visible`` lets the caller
    see it, as the query's access filter does already.
    """
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
        "_source": ["item"],
        "track_total_hits": False,
    }
    if cursor:
        body["search_after"] = _decode(cursor)
    hits = index.search("alerts", **body)["hits"]["hits"]
    seer = access_rules.Caller.from_context(caller)
    items = [
        hit["_source"]["item"]
        for hit in hits[:limit]
        if hit["_source"].get("item") and access_rules.alert_visible(seer, hit["_source"]["item"])
    ]
    return {
        "items": _with_entities(index, caller, items),
        "next_cursor": _encode(hits[limit - 1]["sort"]) if len(hits) > limit else None,
    }


def _with_entities(index: SearchIndex, caller: dict | None, items: list[dict]) -> list[dict]:
    """Each item with the entities the sightings of its alert name (merged-away ones are re-pointed to
    their survivor, so these are the current ones), by type and key, and its ``related_count``."""
    entities_of, held = _named(index, [item["id"] for item in items])
    counts = _counts(index, caller, {item["id"]: [item["id"]] for item in items}, entities_of, held)
    for item in items:
        found = [held[e] for e in entities_of.get(item["id"], ()) if held.get(e, {}).get("kind") == "entity"]
        item["entities"] = sorted((_entity_ref(source) for source in found), key=lambda e: (e["type"], e["key"]))
        item["related_count"] = counts[item["id"]]
    return items


def _entity_ref(source: dict) -> dict:
    """An entity document as an alert names it (``casewire.events.EntityRef``)."""
    return {
        "id": source["rid"],
        "type": source["type"],
        "key": source["key"],
        "display": source["display"],
        "ambiguous": bool(source.get("ambiguous")),
    }


def related_counts(index: SearchIndex, caller: dict | None, groups: dict[str, list[str]]) -> dict[str, int]:
    """For each key, how many other alerts and cases the caller may open share an entity with a record
    of its group (an alert: itself; a case: itself and its alerts). A plate read without a state
    shares its plate with every state's reads, and one with a state with the reads without one."""
    entities_of, held = _named(index, sorted({record for records in groups.values() for record in records}))
    return _counts(index, caller, groups, entities_of, held)


def _named(index: SearchIndex, record_ids: list[str]) -> tuple[dict[str, set[str]], dict[str, dict]]:
    """Each record → the entities its sightings name, and those entities' index documents."""
    entities_of = _entities_of(index, record_ids)
    return entities_of, index.sources("entities", sorted({e for found in entities_of.values() for e in found}))


def _entities_of(index: SearchIndex, record_ids: list[str]) -> dict[str, set[str]]:
    """Each record → the entities its sightings name."""
    if not record_ids:
        return {}
    mine = index.search(
        "sightings",
        query={"terms": {"record_id": record_ids}},
        size=10_000,
        _source=["entity_id", "record_id"],
    )["hits"]["hits"]
    entities_of: dict[str, set[str]] = {}
    for hit in mine:
        entities_of.setdefault(hit["_source"]["record_id"], set()).add(hit["_source"]["entity_id"])
    return entities_of


def _counts(
    index: SearchIndex,
    caller: dict | None,
    groups: dict[str, list[str]],
    entities_of: dict[str, set[str]],
    held: dict[str, dict],
) -> dict[str, int]:
    """:func:`related_counts` from the groups' entities (``entities_of``) and their documents (``held``)."""
    variants = _plate_variants(index, held)
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


def _plate_variants(index: SearchIndex, held: dict[str, dict]) -> dict[str, list[str]]:
    """Each vehicle among the entity documents ``held`` → the vehicles of its plate its reads are matched with."""
    vehicles = {
        entity_id: source
        for entity_id, source in held.items()
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
