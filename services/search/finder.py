"""Running searches for a caller: plates with their sightings, and the general search.

An entity is shown only when a record of the caller's agency names it (``access_filters.sightings_filter``).
Both searches rank first and then leave out the entities no record of the agency names, reading on
(a bounded number of times, :data:`PAGE_SCANS`) until the page is full.
"""

from casewire.alerts import FACE_NOTICE
from services.search import access_filters, queries
from services.search.dependencies import SearchIndex
from services.search.mappings import SEARCHABLE
from services.search.plates import is_ambiguous, match_kind, plate_query

SIGHTINGS_PER_VEHICLE = 20
PAGE_SCANS = 10  # ranked batches one answer reads at most, skipping entities the agency does not see
MAX_PLACED_ENTITIES = 10000
POINTER_NOTICE = "Criminal intelligence held by another unit: contact the agency's control official."


def visible_records(index: SearchIndex, caller: dict | None, record_ids: set[str]) -> set[str]:
    """Which of these alerts and cases the caller may open."""
    if not record_ids:
        return set()
    query = {"bool": {"filter": [{"ids": {"values": sorted(record_ids)}}, access_filters.record_visible(caller)]}}
    hits = index.search(["alerts", "cases"], query=query, size=len(record_ids), _source=False)
    return {hit["_id"] for hit in hits["hits"]["hits"]}


def _agency_sightings(caller: dict | None, placed: dict | None) -> dict:
    """Sightings recorded for the caller's agency, within ``placed`` (a time and place filter) if given."""
    agency = access_filters.sightings_filter(caller)
    return {"bool": {"filter": [agency, placed]}} if placed else agency


def entities_seen(
    index: SearchIndex, caller: dict | None, entity_ids: list[str], placed: dict | None = None
) -> tuple[set[str], set[str]]:
    """Of ``entity_ids``: those a record of the caller's agency names (in the time and place ``placed``
    asks, if any), and those a face-recognition alert named (C26: their names are leads only), in one query."""
    if not entity_ids:
        return set(), set()
    terms = {"terms": {"field": "entity_id", "size": len(entity_ids)}}
    answer = index.search(
        "sightings",
        query={"terms": {"entity_id": entity_ids}},
        size=0,
        aggs={
            "seen": {"filter": _agency_sightings(caller, placed), "aggs": {"entities": terms}},
            "face": {"filter": {"term": {"source": "face"}}, "aggs": {"entities": terms}},
        },
    )
    found = answer["aggregations"]
    return tuple({bucket["key"] for bucket in found[name]["entities"]["buckets"]} for name in ("seen", "face"))


def latest_sightings(
    index: SearchIndex, caller: dict | None, entity_ids: list[str], placed: dict | None = None
) -> dict[str, list[dict]]:
    """The latest sightings of each entity recorded for the caller's agency (in the time and place
    ``placed`` asks, if any), in one query (a top-hits bucket per entity)."""
    if not entity_ids:
        return {}
    answer = index.search(
        "sightings",
        query={"bool": {"filter": [{"terms": {"entity_id": entity_ids}}, _agency_sightings(caller, placed)]}},
        size=0,
        aggs={
            "entities": {
                "terms": {"field": "entity_id", "size": len(entity_ids)},
                "aggs": {"latest": {"top_hits": {"sort": [{"at": "desc"}], "size": SIGHTINGS_PER_VEHICLE}}},
            }
        },
    )
    return {
        bucket["key"]: [hit["_source"] for hit in bucket["latest"]["hits"]["hits"]]
        for bucket in answer["aggregations"]["entities"]["buckets"]
    }


def find_plates(
    index: SearchIndex,
    caller: dict | None,
    plate: str,
    state: str | None,
    fuzzy: bool,
    limit: int,
    filters: dict | None = None,
) -> tuple[list[dict], list[dict]]:
    """Vehicles whose plate matches, best first, each with the sightings the caller may open.

    ``filters`` (``since``, ``until``, ``near``: :class:`~services.search.schemas.TimeAndPlace`) keep the
    vehicles seen by the caller's agency in that time and place, with those sightings only: clauses of
    the two sightings queries every plate search makes, so a filter costs no query of its own.
    Returns ``(items, restricted)``: ``restricted`` lists the restricted cases (C6) whose sightings
    were left out, for the control official to hear of.
    """
    placed = queries.sightings_filter(filters or {})
    hits = _plate_hits(index, caller, plate_query(plate, state, fuzzy), limit, placed)
    sightings = latest_sightings(index, caller, [hit["_id"] for hit in hits], placed)
    record_ids = {s["record_id"] for found in sightings.values() for s in found}
    visible = visible_records(index, caller, record_ids)
    items = [
        {
            "entity": {"id": hit["_id"], **_entity_fields(hit["_source"])},
            "match": match_kind(hit["_score"]),
            "ambiguous": is_ambiguous(_listed(hit["_source"].get("plate_state")), state),
            "score": hit["_score"],
            "sightings": [s for s in sightings.get(hit["_id"], []) if s["record_id"] in visible],
        }
        for hit in hits
    ]
    hidden = sorted(record_ids - visible)
    restricted = _hidden(index, "", _with_ids(access_filters.restricted_filter(caller), hidden), "US") if hidden else []
    return items, restricted


def _plate_hits(index: SearchIndex, caller: dict | None, query: dict, limit: int, placed: dict | None) -> list[dict]:
    """The best ``limit`` vehicles matching ``query`` that a record of the caller's agency names (seen in
    the time and place ``placed`` asks, if any)."""
    kept: list[dict] = []
    for scan in range(PAGE_SCANS):
        hits = index.search("entities", query=query, size=limit, from_=scan * limit)["hits"]["hits"]
        seen, _ = entities_seen(index, caller, [hit["_id"] for hit in hits], placed)
        kept += [hit for hit in hits if hit["_id"] in seen]
        if len(kept) >= limit or len(hits) < limit:
            break
    return kept[:limit]


def _with_ids(query: dict, ids: list[str]) -> dict:
    return {"bool": {"filter": [query, {"ids": {"values": ids}}]}}


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value] if value else []


def _entity_fields(source: dict) -> dict:
    """The vehicle as a result shows it: ``plate`` and ``plate_state`` first (its key's), ``plates`` every
    plate it is known by (a merge adds the other's), ``vins`` its VINs."""
    fields = {k: source[k] for k in ("type", "key", "display", "vins") if source.get(k)}
    plates = [p for p in _listed(source.get("plate")) if p not in (source.get("vins") or [])]
    states = _listed(source.get("plate_state"))
    if plates:
        fields["plate"], fields["plates"] = plates[0], plates
    if states:
        fields["plate_state"] = states[0]
    return fields


def placed_entities(index: SearchIndex, caller: dict | None, filters: dict) -> list[str] | None:
    """Entities the caller's agency saw in the asked time range or near the asked point (None: nothing
    asked): another agency's sightings place nothing for it."""
    sightings = queries.sightings_filter(filters)
    if sightings is None:
        return None
    answer = index.search(
        "sightings",
        query={"bool": {"filter": [sightings, access_filters.sightings_filter(caller)]}},
        size=0,
        aggs={"entities": {"terms": {"field": "entity_id", "size": MAX_PLACED_ENTITIES}}},
    )
    return [bucket["key"] for bucket in answer["aggregations"]["entities"]["buckets"]]


def search(index: SearchIndex, caller: dict | None, q: str, filters: dict, region: str) -> dict:
    """Ranked hits the caller may open; C6 pointers and the restricted hits to report, apart."""
    body = {
        "query": queries.general_query(q, caller, filters, placed_entities(index, caller, filters), region),
        "sort": queries.SORT,
        "size": filters["limit"],
        "highlight": queries.HIGHLIGHT,
        "track_scores": True,
    }
    after = queries.decode_cursor(filters["cursor"]) if filters.get("cursor") else None
    items, next_cursor = _ranked(index, caller, body, after, filters["limit"])
    pointers, restricted = [], []
    wants_cases = "case" in (filters.get("types") or ["case"]) and not filters.get("near")
    if wants_cases and access_filters.states_purpose(caller) and not filters.get("cursor"):
        pointers = _pointers(index, caller, q, region)
        restricted = _hidden(index, q, access_filters.restricted_filter(caller), region)
    return {"items": items + pointers, "next_cursor": next_cursor, "restricted": restricted}


def _ranked(
    index: SearchIndex, caller: dict | None, body: dict, after: list | None, limit: int
) -> tuple[list[dict], str | None]:
    """Up to ``limit`` hits after the sort values ``after``, without the entities no record of the
    caller's agency names, and the cursor after the last hit read (None at the end)."""
    items: list[dict] = []
    for _ in range(PAGE_SCANS):
        hits = index.search(list(SEARCHABLE), **body, **({"search_after": after} if after else {}))["hits"]["hits"]
        entities = [hit["_id"] for hit in hits if hit["_source"]["kind"] == "entity"]
        seen, face = entities_seen(index, caller, entities)
        for hit in hits:
            if hit["_source"]["kind"] == "entity" and hit["_id"] not in seen:
                continue
            items.append(_item(hit, hit["_id"] in face))
            if len(items) == limit:
                return items, queries.encode_cursor(hit["sort"])
        if len(hits) < limit:
            return items, None
        after = hits[-1]["sort"]
    return items, queries.encode_cursor(after)


def _item(hit: dict, face_derived: bool) -> dict:
    summary = queries.summary(hit)
    if face_derived:  # C26: a face-recognition candidate's name is a lead only
        summary["notice"] = FACE_NOTICE
    return {
        "type": hit["_source"]["kind"],
        "id": hit["_id"],
        "score": hit["_score"],
        "highlights": hit.get("highlight", {}),
        "summary": summary,
    }


def _hidden(index: SearchIndex, q: str, hidden: dict, region: str) -> list[dict]:
    answer = index.search("cases", query=queries.hidden_query(q, hidden, region), size=50)
    return [{"id": hit["_id"], "score": hit["_score"], **hit["_source"]} for hit in answer["hits"]["hits"]]


def _pointers(index: SearchIndex, caller: dict | None, q: str, region: str) -> list[dict]:
    """``agency_only`` hits, answered with the agency contact only: no id, title or text (C6)."""
    seen, pointers = set(), []
    for hit in _hidden(index, q, access_filters.pointer_filter(caller), region):
        contact = (hit.get("agency"), hit.get("control_official"))
        if contact in seen:
            continue
        seen.add(contact)
        pointers.append(
            {
                "type": "case",
                "id": None,
                "score": hit["score"],
                "highlights": {},
                "summary": {"agency": contact[0], "contact": contact[1], "notice": POINTER_NOTICE},
                "pointer": True,
            }
        )
    return pointers
