"""What the entities service does with records (alerts, cases) that mention entities."""

from collections.abc import Iterable
from datetime import datetime

from casewire import events
from casewire.alerts import FACE_NOTICE
from casewire.errors import InvalidInput, NotFound
from services.entities.dependencies import EntityStore
from services.entities.extraction import extract
from services.entities.relations import lookup_ids, related_by_alert, related_records
from services.entities.schemas import EntityOut, LinkOut, MergeOut, SightingOut, indexed_ref, ref_of
from services.entities.scope import Scope

# One instance for every use: making a schema copies its fields, which costs ten times what dumping an
# alert's sightings with it does (once per alert of every batch resolved).
SIGHTINGS_OUT = SightingOut(many=True)


def resolve(store: EntityStore, alerts: list[dict], region: str, now: datetime) -> list[tuple[dict, dict | None, bool]]:
    """Upsert the entities of a batch of alerts, record their sightings and find what each relates to.

    ``[(alerts_resolved item, links_found item or None, anything new), ...]`` in the alerts' order; an
    alert resolved before (a replay) is resolved again from what is stored and flagged not new.
    """
    refs = [extract(alert, region) for alert in alerts]
    upserted = iter(store.upsert_many([ref for alert_refs in refs for ref in alert_refs], now))
    per_alert, mine, sightings, owners, created = [], [], [], [], {}
    for index, (alert, alert_refs) in enumerate(zip(alerts, refs, strict=True)):
        seen_at = datetime.fromisoformat(alert["occurred_at"])
        entities, own = {}, {}
        for ref in alert_refs:
            entity, fresh = next(upserted)
            sighting = {
                "entity_id": entity["_id"],
                "record_type": "alert",
                "record_id": alert["alert_id"],
                "at": seen_at,
                "location": alert.get("location"),
                "source": alert["source"],
                "agency": alert.get("agency"),
                "seen_as": ref["key"],
            }
            sightings.append(sighting)
            owners.append(index)
            entities.setdefault(entity["_id"], entity)
            own.setdefault(entity["_id"], sighting)
            if fresh:
                created[entity["_id"]] = []
        per_alert.append(list(entities.values()))
        mine.append(list(own.values()))
    stored = store.add_sightings(sightings)
    for sighting in sightings:  # a new entity's sightings are this batch's: no read needed
        if sighting["entity_id"] in created:
            created[sighting["entity_id"]].append(sighting)
    fresh_alerts = {owners[position] for position in stored}
    related = related_by_alert(store, [a["alert_id"] for a in alerts], per_alert, created)
    answers = []
    for index, alert in enumerate(alerts):
        resolved = {
            "alert_id": alert["alert_id"],
            "entities": [indexed_ref(entity) for entity in per_alert[index]],
            "sightings": SIGHTINGS_OUT.dump(mine[index]),
            "related": related[index],
            "source": alert["source"],
            "agency": alert.get("agency"),
            "received_at": alert.get("received_at"),
        }
        link = {key: alert.get(key) for key in ("alert_id", "occurred_at", "agency", "unit")}
        link = {**link, "related": related[index]} if related[index] else None
        answers.append((resolved, link, index in fresh_alerts))
    return answers


def describe(store: EntityStore, entity: dict, scope: Scope | None = None) -> dict:
    """An entity with its timeline, the alerts and cases that mention it, its stated links and merges.

    ``scope`` (the caller) keeps the stated links and merges its agency made, with their sources,
    notes and actors; another agency's are left out (services/entities/scope.py).
    """
    scope = scope or Scope(None)
    timeline = store.timeline(entity["_id"])
    out = EntityOut().dump(entity)
    out["sightings"] = SIGHTINGS_OUT.dump(timeline)
    out["alerts"], out["cases"] = [], []
    for sighting in timeline:
        item = {
            "id": sighting["record_id"],
            "at": sighting["at"].isoformat(),
            "source": sighting.get("source"),
            "agency": sighting.get("agency"),
        }
        if sighting.get("role"):
            item["role"] = sighting["role"]
        out["alerts" if sighting["record_type"] == "alert" else "cases"].append(item)
    links = [link for link in store.links_of([entity["_id"]]) if scope.owns(link)]
    others = store.many({link["to_id"] for link in links} | {link["from_id"] for link in links})
    out["links"] = []
    for link in links:
        other_id = link["to_id"] if link["from_id"] == entity["_id"] else link["from_id"]
        other = others.get(other_id)
        out["links"].append({**LinkOut().dump(link), "other": ref_of(other) if other else None})
    out["merges"] = MergeOut(many=True).dump([merge for merge in store.merges_of(entity["_id"]) if scope.owns(merge)])
    if any(sighting.get("source") == "face" for sighting in timeline):
        out["notice"] = FACE_NOTICE  # C26: a face candidate is an investigative lead only
    return out


PAGE_SCANS = 10  # batches of candidates one page looks through for entities the caller sees


def visible_page(
    store: EntityStore, scope: Scope, filters: dict, limit: int, cursor: str | None
) -> tuple[list[dict], str | None]:
    """A page of entities matching ``filters`` that ``scope`` sees, and the cursor of the next page.

    Candidates are read in id order, a batch at a time, skipping those the caller's agency does not
    see, for at most :data:`PAGE_SCANS` batches: past that the page is answered short, with a cursor
    after the last candidate looked at, so a page costs a bounded number of look-ups.
    """
    found, after = [], cursor
    for _ in range(PAGE_SCANS):
        batch = store.find(filters.get("type"), filters.get("q"), limit, after)
        for entity in batch:
            if scope.sees(store, entity):
                found.append(entity)
                if len(found) == limit:
                    return found, entity["_id"]
        if len(batch) < limit:
            return found, None
        after = batch[-1]["_id"]
    return found, after


def listed(store: EntityStore, entities: list[dict]) -> list[dict]:
    """Entities as a list answers them; a face-derived one carries the lead notice (C26)."""
    items = EntityOut(many=True).dump(entities)
    for item in items:
        if store.face_sighted(item["id"]):
            item["notice"] = FACE_NOTICE
    return items


def add_link(
    store: EntityStore, entity_id: str, data: dict, actor: str, now: datetime, scope: Scope | None = None
) -> tuple[dict, bool]:
    """A link stated by a person of ``scope``'s agency between two entities that agency sees."""
    scope = scope or Scope(None)
    entity = scope.require(store, store.get(entity_id), entity_id)
    try:
        other = scope.require(store, store.get(data["other_id"]), data["other_id"])
    except NotFound as exc:
        raise InvalidInput("no such entity to link", {"other_id": [f"no entity {data['other_id']}"]}) from exc
    if other["_id"] == entity["_id"]:
        raise InvalidInput("an entity cannot be linked to itself", {"other_id": ["must be another entity"]})
    link = {
        "from_id": entity["_id"],
        "to_id": other["_id"],
        "relation": data["relation"],
        "source": data["source"],
        "note": data.get("note"),
        "actor": actor,
        "agency": scope.agency,
        "at": now,
    }
    return store.add_link({k: v for k, v in link.items() if v is not None or k == "agency"})


def link_case(store: EntityStore, link: dict, agency: str | None) -> tuple[dict, dict]:
    """A sighting of record type ``case``, and the other records that share the entity.

    Returns the RPC answer and the ``entity_recorded`` body that tells search of the sighting.
    """
    entity = store.get(link["entity_id"])
    sighting = {
        "entity_id": entity["_id"],
        "record_type": "case",
        "record_id": link["case_id"],
        "at": link["at"],
        "location": None,
        "source": "case",
        "agency": agency,
        "role": link["role"],
        "seen_as": entity["key"],
    }
    if link.get("context"):
        sighting["context"] = link["context"]
    created = store.add_sighting(sighting)
    answer = {
        "entity": ref_of(entity),
        "created": created,
        "related": related_records(store, link["case_id"], [entity]),
    }
    return answer, entity_recorded(entity, sightings=[SightingOut().dump(sighting)])


def entity_recorded(entity: dict, sightings: Iterable[dict] = (), removed: Iterable[dict] = ()) -> dict:
    """The ``entity_recorded`` body: the entity as it is now, the sightings added and those removed."""
    body = {"entity": indexed_ref(entity), "sightings": list(sightings), "removed": list(removed)}
    return events.EntityRecorded().dump(events.EntityRecorded().load(body))


def related_of_record(store: EntityStore, record_type: str, record_id: str) -> list[dict]:
    sightings = [s for s in store.sightings_of_records([record_id]) if s["record_type"] == record_type]
    entities = list(store.many({s["entity_id"] for s in sightings}).values())
    return related_records(store, record_id, entities)


def earlier_sightings(store: EntityStore, record_type: str, record_id: str, limit: int) -> dict[str, list[dict]]:
    """Each entity of one record → its sightings by other records before this one, newest first, ``limit`` each.

    A plate read without a state also gets that plate's reads in every state (as for related records).
    """
    own = [s for s in store.sightings_of_records([record_id]) if s["record_type"] == record_type]
    entities = store.many({s["entity_id"] for s in own})
    found: dict[str, list[dict]] = {}
    for sighting in own:
        entity = entities.get(sighting["entity_id"])
        if entity is None or sighting["entity_id"] in found:
            continue
        ids = list(lookup_ids(store, [entity]))
        earlier = store.earlier_sightings(ids, record_id, limit=limit, before=sighting["at"])
        found[entity["_id"]] = SIGHTINGS_OUT.dump(earlier)
    return found


def merge_event(store: EntityStore, survivor_id: str, merged_id: str, undone: bool, at: datetime) -> dict:
    """The ``entities_merged`` body: both entities as they are now, with their current sightings."""
    entities = []
    for entity in store.many([survivor_id, merged_id]).values():
        sightings = [] if entity.get("merged_into") else store.timeline(entity["_id"], limit=events.MERGE_SIGHTINGS)
        entities.append(
            {
                **indexed_ref(entity),
                "merged_into": entity.get("merged_into"),
                "sightings": SIGHTINGS_OUT.dump(sightings),
            }
        )
    body = {"survivor_id": survivor_id, "merged_id": merged_id, "undone": undone, "at": at.isoformat()}
    return events.EntitiesMerged().load({**body, "entities": entities})
