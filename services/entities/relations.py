"""Connections, computed by lookups when asked: related records and the entity graph.

Nothing here is precomputed pairwise: a record's related records are the other sightings of its
entities' ids, found through the ``(entity_id, at)`` index at the moment they are needed.
"""

from collections.abc import Callable

from services.entities.dependencies import RELATED_LIMIT, EntityStore
from services.entities.schemas import ref_of


def lookup_ids(store: EntityStore, entities: list[dict]) -> dict[str, str]:
    """Entity ids to look up → the entity of the record they stand for.

    Plates cross states both ways: a read without a state stands for that plate in every state, and a
    read with one also finds the earlier reads of that plate without a state (they stay flagged ambiguous).
    """
    lookup = {entity["_id"]: entity["_id"] for entity in entities}
    vehicles = [entity for entity in entities if entity["type"] == "vehicle" and entity.get("plate")]
    for vehicle_id, others in store.plate_variants(vehicles).items():
        for other in others:
            lookup.setdefault(other, vehicle_id)
    return lookup


def _related(record_id: str, entities: list[dict], lookup: dict[str, str], recent: dict[str, list]) -> list[dict]:
    """Other records among the ``recent`` sightings of the ``lookup`` ids, newest first, each naming the
    shared entities; ``agency`` is the one each record's sighting was recorded with."""
    by_id = {entity["_id"]: ref_of(entity) for entity in entities}
    sightings = [s for entity_id in lookup for s in recent.get(entity_id, []) if s["record_id"] != record_id]
    sightings.sort(key=lambda sighting: sighting["at"], reverse=True)
    related: dict[tuple, dict] = {}
    for sighting in sightings[:RELATED_LIMIT]:
        record = related.setdefault(
            (sighting["record_type"], sighting["record_id"]),
            {
                "record_type": sighting["record_type"],
                "id": sighting["record_id"],
                "occurred_at": sighting["at"].isoformat(),
                "agency": sighting.get("agency"),
                "shared_entities": [],
            },
        )
        shared = by_id[lookup[sighting["entity_id"]]]
        if shared not in record["shared_entities"]:
            record["shared_entities"].append(shared)
    return list(related.values())


def related_records(store: EntityStore, record_id: str, entities: list[dict]) -> list[dict]:
    """Other alerts and cases that share an entity with this record, each naming the shared entities."""
    return related_by_alert(store, [record_id], [entities])[0]


def related_by_alert(
    store: EntityStore, record_ids: list[str], entities: list[list[dict]], new: dict[str, list[dict]] | None = None
) -> list[list[dict]]:
    """:func:`related_records` of several records at once: each entity's recent sightings are read once.

    ``new`` holds the entities created by this batch with the sightings it gave them: nothing else
    names them yet, so they are not read.
    """
    new = new or {}
    everyone = list({entity["_id"]: entity for group in entities for entity in group}.values())
    lookup_all = lookup_ids(store, everyone)
    recent = {**store.recent_sightings([entity_id for entity_id in lookup_all if entity_id not in new]), **new}
    answers = []
    for record_id, group in zip(record_ids, entities, strict=True):
        mine = {entity["_id"] for entity in group}
        lookup = {other: own for other, own in lookup_all.items() if own in mine}
        answers.append(_related(record_id, group, lookup, recent))
    return answers


class Graph:
    """Nodes and edges around one entity, bounded by ``max_nodes`` and ``max_edges``; ``shows_link`` says
    which stated links the caller may see (their agency's, services/entities/scope.py)."""

    def __init__(
        self, store: EntityStore, max_nodes: int, max_edges: int, shows_link: Callable[[dict], bool] = lambda link: True
    ):
        self.store, self.max_nodes, self.max_edges = store, max_nodes, max_edges
        self.shows_link = shows_link
        self.nodes: dict[str, dict] = {}
        self.edges: dict[tuple, dict] = {}
        self.truncated = False

    def build(self, root: dict, depth: int) -> dict:
        self._entity_node(root, 0)
        frontier = [root["_id"]]
        for level in range(1, depth + 1):
            if not frontier or self.truncated:
                break
            frontier = self._expand(frontier, level)
        return {"nodes": list(self.nodes.values()), "edges": list(self.edges.values()), "truncated": self.truncated}

    def _room(self, nodes: int = 1) -> bool:
        if len(self.nodes) + nodes > self.max_nodes or len(self.edges) >= self.max_edges:
            self.truncated = True
            return False
        return True

    def _entity_node(self, entity: dict, level: int) -> None:
        self.nodes[entity["_id"]] = {"id": entity["_id"], "kind": "entity", "level": level, **ref_of(entity)}

    def _edge(self, source: str, target: str, kind: str, evidence: dict) -> None:
        key = (*sorted((source, target)), kind) if kind != "sighting" else (source, target, kind)
        edge = self.edges.get(key)
        if edge is None:
            if not self._room(0):
                return
            edge = self.edges[key] = {"source": source, "target": target, "kind": kind, "evidence": []}
        if evidence not in edge["evidence"]:
            edge["evidence"].append(evidence)

    def _expand(self, frontier: list[str], level: int) -> list[str]:
        sightings = self.store.earlier_sightings(frontier, record_id="")
        records: dict[str, dict] = {}
        for sighting in sightings:
            record_key = sighting["record_id"]
            if record_key not in self.nodes:
                if not self._room():
                    break
                self.nodes[record_key] = {
                    "id": record_key,
                    "kind": sighting["record_type"],
                    "level": level,
                    "at": sighting["at"].isoformat(),
                    "agency": sighting.get("agency"),
                }
            records[record_key] = sighting
            self._edge(sighting["entity_id"], record_key, "sighting", _sighting_evidence(sighting))
        found: dict[str, list[tuple]] = {}
        for other in self.store.sightings_of_records(list(records)):
            for mine in (s for s in sightings if s["record_id"] == other["record_id"]):
                if other["entity_id"] != mine["entity_id"]:
                    found.setdefault(other["entity_id"], []).append((mine["entity_id"], other))
        for link in filter(self.shows_link, self.store.links_of(frontier)):
            for mine, theirs in ((link["from_id"], link["to_id"]), (link["to_id"], link["from_id"])):
                if mine in frontier:
                    found.setdefault(theirs, []).append((mine, link))
        return self._add_neighbours(found, level)

    def _add_neighbours(self, found: dict[str, list[tuple]], level: int) -> list[str]:
        entities = self.store.many(found)
        survivors = {entity_id: self.store.survivor(entity) for entity_id, entity in entities.items()}
        next_frontier = []
        for entity_id, reasons in found.items():
            entity = survivors.get(entity_id)
            if entity is None:
                continue
            if entity["_id"] not in self.nodes:
                if not self._room():
                    break
                self._entity_node(entity, level)
                next_frontier.append(entity["_id"])
            for mine, why in reasons:
                if "relation" in why:
                    self._edge(mine, entity["_id"], "stated_link", _link_evidence(why))
                else:
                    evidence = {"record_type": why["record_type"], "record_id": why["record_id"]}
                    self._edge(mine, entity["_id"], "co_occurrence", evidence)
        return next_frontier


def _sighting_evidence(sighting: dict) -> dict:
    evidence = {"at": sighting["at"].isoformat(), "source": sighting.get("source")}
    if sighting.get("role"):
        evidence["role"] = sighting["role"]
    return evidence


def _link_evidence(link: dict) -> dict:
    return {
        "link_id": link["_id"],
        "relation": link["relation"],
        "source": link["source"],
        "stated_by": link.get("actor"),
        "at": link["at"].isoformat(),
    }
