"""The entities service's backend: ``entities`` and ``sightings``, wrapped as :class:`EntityStore`."""

import uuid

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from casewire.errors import NotFound

RELATED_LIMIT = 200


class EntityStore:
    """Entities unique by ``(type, key)``; sightings unique by ``(entity, record)``."""

    def __init__(self, database):
        self.entities = database["entities"]
        self.sightings = database["sightings"]

    def ensure_indexes(self) -> None:
        self.entities.create_index([("type", ASCENDING), ("key", ASCENDING)], unique=True, name="identity")
        self.entities.create_index([("plate", ASCENDING)], name="plate")
        self.sightings.create_index(
            [("entity_id", ASCENDING), ("record_type", ASCENDING), ("record_id", ASCENDING)],
            unique=True,
            name="one_per_record",
        )
        self.sightings.create_index([("entity_id", ASCENDING), ("at", DESCENDING)], name="timeline")
        self.sightings.create_index([("record_id", ASCENDING)], name="record")

    def upsert(self, ref: dict, now) -> dict:
        """The entity for ``ref``, created the first time its key is seen."""
        attributes = {k: v for k, v in ref.get("attributes", {}).items() if v is not None}
        query = {"type": ref["type"], "key": ref["key"]}
        update = {
            "$setOnInsert": {
                "_id": uuid.uuid4().hex,
                "display": ref["display"],
                "ambiguous": ref.get("ambiguous", False),
                "created_at": now,
                "aliases": [],
                **attributes,
            },
        }
        try:
            return self.entities.find_one_and_update(query, update, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # a concurrent upsert of the same key won the race
            return self.entities.find_one(query)

    def get(self, entity_id: str) -> dict:
        entity = self.entities.find_one({"_id": entity_id})
        if entity is None:
            raise NotFound(f"no entity {entity_id}")
        return entity

    def add_sighting(self, sighting: dict) -> bool:
        """Record a mention; False when this record already mentioned this entity (a replay)."""
        try:
            self.sightings.insert_one({"_id": uuid.uuid4().hex, **sighting})
        except DuplicateKeyError:
            return False
        return True

    def sightings_of_record(self, record_id: str) -> list[dict]:
        return list(self.sightings.find({"record_id": record_id}))

    def same_plate_ids(self, plate: str) -> list[str]:
        """Every vehicle entity with this plate, whatever its state (for plates read without one)."""
        return [doc["_id"] for doc in self.entities.find({"type": "vehicle", "plate": plate}, {"_id": 1})]

    def earlier_sightings(self, entity_ids: list[str], record_id: str) -> list[dict]:
        """Sightings of these entities by other records, newest first, bounded."""
        cursor = self.sightings.find({"entity_id": {"$in": entity_ids}, "record_id": {"$ne": record_id}})
        return list(cursor.sort([("at", DESCENDING)]).limit(RELATED_LIMIT))

    def timeline(self, entity_id: str, limit: int = 500) -> list[dict]:
        return list(self.sightings.find({"entity_id": entity_id}).sort([("at", ASCENDING)]).limit(limit))

    def count(self, collection: str) -> int:
        """About how many entities or sightings there are (for progress bars)."""
        return {"entities": self.entities, "sightings": self.sightings}[collection].estimated_document_count()

    def export_entities(self, after: str | None, limit: int) -> list[dict]:
        """Entities in id order after ``after``: a stable paging for rebuilding other stores."""
        query = {"_id": {"$gt": after}} if after else {}
        return list(self.entities.find(query).sort([("_id", ASCENDING)]).limit(limit))

    def export_sightings(self, after: str | None, limit: int) -> list[dict]:
        query = {"_id": {"$gt": after}} if after else {}
        return list(self.sightings.find(query).sort([("_id", ASCENDING)]).limit(limit))

    def ping(self) -> bool:
        try:
            self.entities.database.command("ping")
        except PyMongoError:
            return False
        return True
