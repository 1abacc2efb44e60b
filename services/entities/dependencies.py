"""The entities service's backend, wrapped as :class:`EntityStore`.

Collections: ``entities`` (``_id`` derived from ``(type, key)``, :func:`entity_id_of`, unique by
``(type, key)`` too; a merged-away entity stays as a tombstone whose ``merged_into`` names the
survivor, so its key still resolves; each alias has such a placeholder too, ``alias: true``),
``stateless_plates`` (the plates read without a state, for the reads with one to find them),
``sightings`` (``_id`` derived from ``(entity, record)``), ``links`` (entity–entity links stated by
people) and ``merges`` (every merge and unmerge, with what it moved).

Resolving a batch of alerts inserts its entities and sightings in one unordered write each (a replay
inserts nothing), reads by ``_id`` only the entities that were there already (and those an alias may
name), and reads each known entity's recent sightings once for the related records. An entity has
other writers (a record that brings a new alias or detail, merges and unmerges by people): each such
write is atomic (:meth:`casewire.docstore.Collection.update_atomic`, a merge holds both entities).
"""

import hashlib
import re
import uuid
from collections.abc import Iterable
from datetime import datetime

from cachetools import LRUCache
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from casewire import docstore
from casewire.errors import Conflict, InvalidInput, NotFound

RELATED_LIMIT = 200
MAX_MERGE_CHAIN = 20
# Entity ids this process has seen stored: the refs naming one are read before anything is inserted. A
# hint only: an id missing from it, or there and since purged, is still resolved right, one step later.
SEEN_IDS = 200_000


def entity_id_of(type_: str, key: str) -> str:
    """The ``_id`` of the entity of this identity."""
    return hashlib.sha256(f"{type_}\x1f{key}".encode()).hexdigest()[:32]


def _keys(ref: dict) -> list[str]:
    return [ref["key"], *ref.get("aliases", [])]


def sighting_id_of(entity_id: str, record_type: str, record_id: str) -> str:
    return hashlib.sha256(f"{entity_id}\x1f{record_type}\x1f{record_id}".encode()).hexdigest()[:32]


class EntityStore:
    """Entities, sightings, stated links and merges."""

    def __init__(self, database: Database, flavor: str | None = None):
        self.entities, self.stateless, self.sightings, self.links, self.merges = docstore.open_collections(
            database, "entities", "stateless_plates", "sightings", "links", "merges", flavor=flavor
        )
        self.registrations = database["registrations"]  # entities an agency recorded by hand: _id entity:agency
        self.seen: LRUCache = LRUCache(SEEN_IDS)

    def ensure_indexes(self) -> None:
        self.entities.create_index([("type", ASCENDING), ("key", ASCENDING)], unique=True, name="identity")
        self.entities.create_index([("type", ASCENDING), ("aliases", ASCENDING)], name="aliases")
        self.entities.create_index([("plate", ASCENDING)], name="plate")
        self.sightings.create_index(
            [("entity_id", ASCENDING), ("record_type", ASCENDING), ("record_id", ASCENDING)],
            unique=True,
            name="one_per_record",
        )
        self.sightings.create_index([("entity_id", ASCENDING), ("at", DESCENDING)], name="timeline")
        self.sightings.create_index([("record_id", ASCENDING)], name="record")
        if "one_per_pair" in self.links.index_information():  # one link per pair for every agency, before
            self.links.drop_index("one_per_pair")
        self.links.create_index(
            [("from_id", ASCENDING), ("to_id", ASCENDING), ("relation", ASCENDING), ("agency", ASCENDING)],
            unique=True,
            name="one_per_agency",
        )
        self.links.create_index([("to_id", ASCENDING)], name="to")
        self.merges.create_index([("merged_id", ASCENDING), ("at", DESCENDING)], name="merged")
        self.stateless.create_index([("entity_id", ASCENDING)], name="entity")
        self.registrations.create_index([("entity_id", ASCENDING)], name="entity")

    # Identity ---------------------------------------------------------------------------------

    def upsert(self, ref: dict, now: datetime) -> tuple[dict, bool]:
        """The entity for ``ref`` (by its key or any alias), created the first time; ``(entity, created)``."""
        ((entity, created),) = self.upsert_many([ref], now)
        return entity, created

    def upsert_many(self, refs: list[dict], now: datetime) -> list[tuple[dict, bool]]:
        """The entity of each ref, ``(entity, created)`` in order: found by its key or an alias, else
        created; a key or alias merged away lands on the survivor; aliases and details the entity lacks
        are added.

        A ref this process has seen stored (:data:`SEEN_IDS`) is read first, and so is a ref with aliases
        (by its key and every alias: an alias may already name an entity). The others are inserted first,
        in one unordered write, and only those refused are read: most refs of a batch name something new,
        a read that finds nothing costs the store as much as one that finds, and a write that meets a
        stored document costs more than one that does not (docs/benchmarks.md).
        """
        first = [ref for ref in refs if ref.get("aliases") or entity_id_of(ref["type"], ref["key"]) in self.seen]
        found = self.entities.get_many(sorted({entity_id_of(ref["type"], key) for ref in first for key in _keys(ref)}))
        answers: list[tuple[dict, bool] | None] = [None] * len(refs)
        new: dict[str, dict] = {}
        for position, ref in enumerate(refs):
            entity = self._known(ref, found)
            if entity is not None:
                answers[position] = (entity, False)
            else:
                entity_id = entity_id_of(ref["type"], ref["key"])
                new.setdefault(entity_id, self._document(entity_id, ref, now))
        documents = list(new.values())
        refused = {documents[index]["_id"] for index in self.entities.insert_new(documents)}
        known = self.entities.get_many(sorted(refused)) if refused else {}  # there before, or made meanwhile
        created = set(new) - refused
        self._placeholders([new[entity_id] for entity_id in created])
        self._mark_stateless([new[entity_id] for entity_id in created])
        for position, ref in enumerate(refs):
            if answers[position] is None:
                entity_id = entity_id_of(ref["type"], ref["key"])
                fresh = entity_id in created
                created.discard(entity_id)  # the same new entity again in this batch: not created twice
                answers[position] = (known[entity_id] if entity_id in refused else new[entity_id], fresh)
        for position, ref in enumerate(refs):
            entity, fresh = answers[position]
            if entity.get("merged_into"):
                entity = self.survivor(entity)
            if not fresh:
                self._enrich(entity, _keys(ref), ref.get("attributes", {}))
            answers[position] = (entity, fresh)
            self.seen[entity_id_of(ref["type"], ref["key"])] = self.seen[entity["_id"]] = True
        return answers

    @staticmethod
    def _known(ref: dict, found: dict) -> dict | None:
        for key in _keys(ref):
            entity = found.get(entity_id_of(ref["type"], key))
            if entity is not None and entity["type"] == ref["type"]:
                return entity
        return None

    def _placeholders(self, entities: list[dict]) -> None:
        """Each alias of these entities as a document of its own at the alias's ``_id``, merged into the
        entity (``alias``: never a merge a person made): a later record naming the alias finds the
        entity by ``_id``, as it finds a key merged away. An alias already taken keeps its entity."""
        placeholders = [
            {
                "_id": entity_id_of(entity["type"], alias),
                "type": entity["type"],
                "key": alias,
                "display": alias,
                "merged_into": entity["_id"],
                "alias": True,
            }
            for entity in entities
            for alias in entity.get("aliases", [])
        ]
        if placeholders:
            self.entities.insert_new(placeholders)

    @staticmethod
    def _document(entity_id: str, ref: dict, now: datetime) -> dict:
        return {
            "_id": entity_id,
            "type": ref["type"],
            "key": ref["key"],
            "display": ref["display"],
            "ambiguous": ref.get("ambiguous", False),
            "created_at": now.replace(microsecond=now.microsecond // 1000 * 1000),  # as the store keeps it
            "revision": 1,
            "aliases": list(ref.get("aliases", [])),
            **{k: v for k, v in ref.get("attributes", {}).items() if v is not None},
        }

    def _enrich(self, entity: dict, keys: list[str], attributes: dict) -> None:
        missing = [key for key in keys if key != entity["key"] and key not in entity.get("aliases", [])]
        details = {k: v for k, v in attributes.items() if v is not None and entity.get(k) in (None, "")}
        update = {}
        if missing:
            update["$addToSet"] = {"aliases": {"$each": missing}}
        if details:
            update["$set"] = details
        if update:
            update["$inc"] = {"revision": 1}
            changed = self.entities.update_atomic({"_id": entity["_id"]}, update)
            self._placeholders([{**entity, "aliases": missing}])
            entity.setdefault("aliases", []).extend(missing)
            entity.update(details, revision=(changed or {}).get("revision", 0))

    def survivor(self, entity: dict) -> dict:
        """Follow ``merged_into`` to the entity that holds this one now."""
        for _ in range(MAX_MERGE_CHAIN):
            if not entity.get("merged_into"):
                return entity
            entity = self.entities.find_one({"_id": entity["merged_into"]}) or entity
        return entity

    def get_raw(self, entity_id: str) -> dict:
        entity = self.entities.find_one({"_id": entity_id})
        if entity is None:
            raise NotFound(f"no entity {entity_id}")
        return entity

    def get(self, entity_id: str) -> dict:
        """The entity, or the survivor it was merged into."""
        return self.survivor(self.get_raw(entity_id))

    def many(self, entity_ids: Iterable[str]) -> dict[str, dict]:
        found = (self.entities.find_one({"_id": entity_id}) for entity_id in sorted(set(entity_ids)))
        return {doc["_id"]: doc for doc in found if doc}

    def find(self, type_: str | None, q: str | None, limit: int, after: str | None) -> list[dict]:
        """Live (not merged-away) entities, by type and a case-insensitive text in key, display or alias."""
        query: dict = {"merged_into": None}
        if type_:
            query["type"] = type_
        if q:
            # As typed, and without the spaces, dashes and dots people put in plates and phone numbers.
            texts = {q.strip(), re.sub(r"[\s\-\.()]", "", q)} - {""}
            patterns = [{"$regex": re.escape(text), "$options": "i"} for text in texts]
            query["$or"] = [{field: pattern} for pattern in patterns for field in ("key", "display", "aliases")]
        if after:
            query["_id"] = {"$gt": after}
        return list(self.entities.find(query).sort([("_id", ASCENDING)]).limit(limit))

    # Who sees an entity (services/entities/scope.py) --------------------------------------------

    def named_for(self, entity_id: str, agency: str | None) -> bool:
        """Whether a record of ``agency`` names the entity (a sighting recorded for it), or a person of
        ``agency`` recorded it, or one of the entities merged into it, by hand."""
        if self.sightings.find_one({"entity_id": entity_id, "agency": agency}, {"_id": 1}):
            return True
        merged = [doc["_id"] for doc in self.entities.find({"merged_into": entity_id}, {"_id": 1})]
        return any(self.registrations.find_one({"_id": f"{one}:{agency}"}) for one in [entity_id, *merged])

    def register(self, entity_id: str, agency: str | None, actor: str, now: datetime) -> bool:
        """Record that a person of ``agency`` recorded the entity by hand; False when one had already."""
        document = {"_id": f"{entity_id}:{agency}", "entity_id": entity_id, "agency": agency, "by": actor, "at": now}
        try:
            self.registrations.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    def face_sighted(self, entity_id: str) -> bool:
        """Whether a face-recognition alert named the entity (C26: its name is a lead only)."""
        return self.sightings.find_one({"entity_id": entity_id, "source": "face"}, {"_id": 1}) is not None

    def plate_variants(self, vehicles: list[dict]) -> dict[str, list[str]]:
        """Each vehicle's id → the vehicles its plate must be matched with across states.

        A read without a state matches the plate in every state (one query by plate); a read with one
        matches the earlier reads of that plate without a state, found in ``stateless_plates`` (all at
        once: few plates are read without a state) and kept when their entity is still a live one.
        """
        variants: dict[str, list[str]] = {}
        stated = {}
        for vehicle in vehicles:
            if vehicle.get("ambiguous"):
                query = {"type": "vehicle", "plate": vehicle["plate"], "merged_into": None}
                variants[vehicle["_id"]] = [doc["_id"] for doc in self.entities.find(query, {"_id": 1})]
            else:
                stated[vehicle["_id"]] = vehicle["plate"]
        known = self.stateless.get_many(sorted(set(stated.values())))
        live = self.entities.get_many(sorted({mark["entity_id"] for mark in known.values()}), {"merged_into": 1})
        for vehicle_id, plate in stated.items():
            other = (known.get(plate) or {}).get("entity_id")
            variants[vehicle_id] = [other] if other in live and not live[other].get("merged_into") else []
        return variants

    def _mark_stateless(self, entities: list[dict]) -> None:
        """Remember the plates of new vehicles read without a state (:meth:`plate_variants`)."""
        marks = [
            {"_id": entity["plate"], "entity_id": entity["_id"]}
            for entity in entities
            if entity["type"] == "vehicle" and entity.get("ambiguous") and entity.get("plate")
        ]
        if marks:
            self.stateless.insert_new(marks)

    # Sightings --------------------------------------------------------------------------------

    def add_sighting(self, sighting: dict) -> bool:
        """Record a mention; False when this record already mentioned this entity (a replay)."""
        return bool(self.add_sightings([sighting]))

    def add_sightings(self, sightings: list[dict]) -> set[int]:
        """Record mentions in one unordered write; the positions of those that were new."""
        documents = [{"_id": sighting_id_of(s["entity_id"], s["record_type"], s["record_id"]), **s} for s in sightings]
        refused = self.sightings.insert_new(documents)
        return {position for position in range(len(documents)) if position not in refused}

    def recent_sightings(self, entity_ids: list[str], limit: int = RELATED_LIMIT) -> dict[str, list[dict]]:
        """Each entity's current sightings, newest first, at most ``limit`` each (one query an entity)."""
        return {
            entity_id: list(
                self.sightings.find({"entity_id": entity_id, "superseded_by": None})
                .sort([("at", DESCENDING)])
                .limit(limit)
            )
            for entity_id in dict.fromkeys(entity_ids)
        }

    def remove_sighting(self, entity_id: str, record_type: str, record_id: str) -> bool:
        result = self.sightings.delete_one({"entity_id": entity_id, "record_type": record_type, "record_id": record_id})
        return result.deleted_count == 1

    def entities_named_by(self, record_type: str, record_id: str) -> list[str]:
        """The entities a record has sightings of (before it is forgotten)."""
        found = self.sightings.find({"record_type": record_type, "record_id": record_id}, {"entity_id": 1})
        return sorted({sighting["entity_id"] for sighting in found})

    def purge_orphans(self, entity_ids: list[str]) -> list[str]:
        """Delete those of ``entity_ids`` nothing names any more: no sighting (alert or case link) and no
        stated link; with them the entities merged into them (their keys). Returns the deleted ids."""
        purged = []
        for entity_id in entity_ids:
            if self.sightings.find_one({"entity_id": entity_id}, {"_id": 1}) or self.links_of([entity_id], limit=1):
                continue
            for merged in self.entities.find({"merged_into": entity_id}, {"_id": 1}):
                self.entities.delete_one({"_id": merged["_id"]})
                purged.append(merged["_id"])
            if self.entities.delete_one({"_id": entity_id}).deleted_count:
                purged.append(entity_id)
        for gone in purged:
            self.registrations.delete_many({"entity_id": gone})
        return purged

    def forget_record(self, record_type: str, record_id: str) -> int:
        """Remove every sighting by a purged record; how many there were."""
        return self.sightings.delete_many({"record_type": record_type, "record_id": record_id}).deleted_count

    def sightings_of_records(self, record_ids: list[str], limit: int = RELATED_LIMIT) -> list[dict]:
        found: list[dict] = []
        for record_id in dict.fromkeys(record_ids):
            found.extend(self.sightings.find({"record_id": record_id, "superseded_by": None}).limit(limit - len(found)))
            if len(found) >= limit:
                break
        return found

    def earlier_sightings(
        self, entity_ids: list[str], record_id: str, limit: int = RELATED_LIMIT, before: datetime | None = None
    ) -> list[dict]:
        """Sightings of these entities by other records (only those at or before ``before``, when given),
        newest first, bounded."""
        query: dict = {"record_id": {"$ne": record_id}, "superseded_by": None}
        if before is not None:
            query["at"] = {"$lte": before}
        found = [
            sighting
            for entity_id in dict.fromkeys(entity_ids)
            for sighting in self.sightings.find({"entity_id": entity_id, **query})
            .sort([("at", DESCENDING)])
            .limit(limit)
        ]
        return sorted(found, key=lambda sighting: sighting["at"], reverse=True)[:limit]

    def timeline(self, entity_id: str, limit: int = 500) -> list[dict]:
        cursor = self.sightings.find({"entity_id": entity_id, "superseded_by": None})
        return list(cursor.sort([("at", ASCENDING)]).limit(limit))

    # Stated links -----------------------------------------------------------------------------

    def add_link(self, link: dict) -> tuple[dict, bool]:
        """One stated link per (from, to, relation) and agency; a repeat returns the first."""
        document = {"_id": uuid.uuid4().hex, **link}
        try:
            self.links.insert_one(document)
        except DuplicateKeyError:
            return self.links.find_one({k: link.get(k) for k in ("from_id", "to_id", "relation", "agency")}), False
        return document, True

    def links_of(self, entity_ids: list[str], limit: int = RELATED_LIMIT) -> list[dict]:
        found: dict[str, dict] = {}
        for entity_id in dict.fromkeys(entity_ids):
            for field in ("from_id", "to_id"):
                for link in self.links.find({field: entity_id, "superseded_by": None}).limit(limit):
                    found.setdefault(link["_id"], link)
            if len(found) >= limit:
                break
        return list(found.values())[:limit]

    # Merges -----------------------------------------------------------------------------------

    def merge(self, survivor_id: str, merged_id: str, actor: str, now: datetime, agency: str | None = None) -> dict:
        """Fold ``merged_id`` into ``survivor_id``: its keys become aliases, its sightings move.

        Repeating a merge that was interrupted completes it. Returns the merge record, which names the
        ``agency`` whose person merged (only that agency sees it and undoes it).
        """
        survivor, merged = self.get_raw(survivor_id), self.get_raw(merged_id)
        if survivor_id == merged_id:
            raise InvalidInput("an entity cannot be merged with itself", {"other_id": ["must be another entity"]})
        if survivor["type"] != merged["type"]:
            raise InvalidInput(
                "only entities of one type can be merged",
                {"other_id": [f"is a {merged['type']}, not a {survivor['type']}"]},
            )
        if survivor.get("merged_into"):
            raise Conflict(f"entity {survivor_id} was merged into {survivor['merged_into']}; merge into that one")
        if merged.get("merged_into") not in (None, survivor_id):
            raise Conflict(f"entity {merged_id} is already merged into {merged['merged_into']}")
        with self.entities.held(survivor_id, merged_id):
            claimed = self.entities.find_one_and_update(
                {"_id": merged_id, "merged_into": {"$in": [None, survivor_id]}},
                {"$set": {"merged_into": survivor_id, "merged_at": now}, "$inc": {"revision": 1}},
            )
            if claimed is None:
                raise Conflict(f"entity {merged_id} was merged elsewhere meanwhile")
            added = [
                key for key in [merged["key"], *merged.get("aliases", [])] if key not in survivor.get("aliases", [])
            ]
            record = self.merges.find_one({"survivor_id": survivor_id, "merged_id": merged_id, "undone_at": None})
            if record is None:
                record = {
                    "_id": uuid.uuid4().hex,
                    "survivor_id": survivor_id,
                    "merged_id": merged_id,
                    "aliases_added": added,
                    "at": now,
                    "actor": actor,
                    "agency": agency,
                    "undone_at": None,
                }
                self.merges.insert_one(record)
            grown = {"$addToSet": {"aliases": {"$each": added}}} if added else {}
            self.entities.update_one({"_id": survivor_id}, {**grown, "$inc": {"revision": 1}})
        for sighting in self.sightings.find({"entity_id": merged_id, "superseded_by": None}):
            if self._mentioned(survivor_id, sighting):  # the survivor was seen in that record too: keep one
                self.sightings.update_one({"_id": sighting["_id"]}, {"$set": {"superseded_by": survivor_id}})
            else:
                self.sightings.update_one(
                    {"_id": sighting["_id"]}, {"$set": {"entity_id": survivor_id, "merged_from": merged_id}}
                )
        self._move_links(merged_id, survivor_id)
        return record

    def _move_links(self, merged_id: str, survivor_id: str) -> None:
        """The merged entity's stated links now name the survivor; each remembers which end moved.

        A link the survivor already has (same other end and relation), or one between the two, would
        be a duplicate or a self-link: it is kept aside (``superseded_by``) for the unmerge instead.
        """
        for field in ("from_id", "to_id"):
            for link in self.links.find({field: merged_id, "superseded_by": None}):
                other = link["to_id" if field == "from_id" else "from_id"]
                if other == survivor_id or not self._repoint(link, field, survivor_id, merged_id):
                    self.links.update_one({"_id": link["_id"]}, {"$set": {"superseded_by": survivor_id}})

    def _repoint(self, link: dict, field: str, survivor_id: str, merged_id: str) -> bool:
        """Point one end of a link at the survivor; False when the survivor already has that link.

        Looked up first rather than caught: not every MongoDB-protocol server reports an update that
        breaks a unique index as a duplicate key.
        """
        moved = {**{k: link.get(k) for k in ("from_id", "to_id", "relation", "agency")}, field: survivor_id}
        if self.links.find_one(moved, {"_id": 1}) is not None:
            return False
        self.links.update_one(
            {"_id": link["_id"]}, {"$set": {field: survivor_id, "merged_from": merged_id, "moved_end": field}}
        )
        return True

    def _restore_links(self, merged_id: str, survivor_id: str) -> None:
        """Undo :meth:`_move_links`: moved ends point at the merged entity again, links kept aside return."""
        for link in self.links.find({"merged_from": merged_id}):
            self.links.update_one(
                {"_id": link["_id"]},
                {"$set": {link["moved_end"]: merged_id}, "$unset": {"merged_from": "", "moved_end": ""}},
            )
        self.links.update_many(
            {"superseded_by": survivor_id, "$or": [{"from_id": merged_id}, {"to_id": merged_id}]},
            {"$unset": {"superseded_by": ""}},
        )

    def unmerge(self, survivor_id: str, merged_id: str, actor: str, now: datetime) -> dict:
        """Undo a merge: the merged entity, its aliases and its sightings (also those since) come back."""
        merged = self.get_raw(merged_id)
        if merged.get("merged_into") != survivor_id:
            raise Conflict(f"entity {merged_id} is not merged into {survivor_id}")
        record = self.merges.find_one({"survivor_id": survivor_id, "merged_id": merged_id, "undone_at": None})
        keys = [merged["key"], *merged.get("aliases", [])]
        returning = {"entity_id": survivor_id, "$or": [{"merged_from": merged_id}, {"seen_as": {"$in": keys}}]}
        for sighting in self.sightings.find(returning):
            if self._mentioned(merged_id, sighting):  # the merged entity kept its own mention of that record
                self.sightings.update_one({"_id": sighting["_id"]}, {"$unset": {"merged_from": ""}})
            else:
                self.sightings.update_one(
                    {"_id": sighting["_id"]}, {"$set": {"entity_id": merged_id}, "$unset": {"merged_from": ""}}
                )
        self.sightings.update_many(
            {"entity_id": merged_id, "superseded_by": survivor_id}, {"$unset": {"superseded_by": ""}}
        )
        self._restore_links(merged_id, survivor_id)
        added = record["aliases_added"] if record else keys
        with self.entities.held(survivor_id, merged_id):
            self.entities.update_one({"_id": survivor_id}, {"$pullAll": {"aliases": added}, "$inc": {"revision": 1}})
            self.entities.update_one(
                {"_id": merged_id}, {"$unset": {"merged_into": "", "merged_at": ""}, "$inc": {"revision": 1}}
            )
        if record:
            self.merges.update_one({"_id": record["_id"]}, {"$set": {"undone_at": now, "undone_by": actor}})
        return record or {"survivor_id": survivor_id, "merged_id": merged_id}

    def active_merge(self, survivor_id: str, merged_id: str) -> dict | None:
        """The merge of ``merged_id`` into ``survivor_id`` that stands (not undone), if any."""
        return self.merges.find_one({"survivor_id": survivor_id, "merged_id": merged_id, "undone_at": None})

    def _mentioned(self, entity_id: str, sighting: dict) -> bool:
        query = {"entity_id": entity_id, "record_type": sighting["record_type"], "record_id": sighting["record_id"]}
        return self.sightings.find_one(query, {"_id": 1}) is not None

    def merges_of(self, entity_id: str) -> list[dict]:
        query = {"$or": [{"survivor_id": entity_id}, {"merged_id": entity_id}]}
        return list(self.merges.find(query).sort([("at", ASCENDING)]).limit(RELATED_LIMIT))

    def count(self, collection: str) -> int:
        """About how many entities or sightings there are (for progress bars)."""
        return {"entities": self.entities, "sightings": self.sightings}[collection].estimated_count()

    def export_entities(self, after: str | None, limit: int) -> list[dict]:
        """Live entities (not merged away) in id order after ``after``: a stable paging for rebuilding other stores."""
        query = {"merged_into": None, **({"_id": {"$gt": after}} if after else {})}
        return list(self.entities.find(query).sort([("_id", ASCENDING)]).limit(limit))

    def export_sightings(self, after: str | None, limit: int) -> list[dict]:
        """Current sightings (not superseded by a merge) in id order after ``after``."""
        query = {"superseded_by": None, **({"_id": {"$gt": after}} if after else {})}
        return list(self.sightings.find(query).sort([("_id", ASCENDING)]).limit(limit))

    def ping(self) -> bool:
        try:
            self.entities.database.command("ping")
        except PyMongoError:
            return False
        return True
