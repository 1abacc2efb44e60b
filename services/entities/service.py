"""The entities service's entrypoints: resolve alerts into entities and sightings, find links."""

from datetime import datetime

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher, event_handler
from nameko.rpc import rpc

from casewire import events
from casewire.clock import Clock
from casewire.errors import EXPECTED
from casewire.mongo import MongoStore
from services.entities.dependencies import EntityStore
from services.entities.identity import UNKNOWN_STATE, extract
from services.entities.schemas import EntityOut, SightingOut, ref_of


class EntitiesService:
    name = "entities"

    store = MongoStore(EntityStore)
    dispatch = EventDispatcher()
    now = Clock()
    config = Config()

    @event_handler(events.INTAKE, events.ALERT_RECEIVED)
    def handle_alert_received(self, payload: dict) -> None:
        """Resolve a new alert's entities; announce links to earlier records."""
        self.resolve_alert(payload)

    @rpc(expected_exceptions=EXPECTED)
    def resolve_alert(self, payload: dict) -> dict:
        """Upsert the alert's entities, record its sightings and find related records.

        Idempotent: resolving the same alert twice stores nothing new and announces nothing new.
        ``payload`` is an ``alert_received`` event; returns an ``alert_resolved`` event body.
        """
        alert = events.AlertReceived().load(payload)
        entities, sightings, fresh = [], [], False
        seen_at = datetime.fromisoformat(alert["occurred_at"])
        for ref in extract(alert, self.config.get("DEFAULT_PHONE_REGION", "US")):
            entity = self.store.upsert(ref, self.now())
            sighting = {
                "entity_id": entity["_id"],
                "record_type": "alert",
                "record_id": alert["alert_id"],
                "at": seen_at,
                "location": alert.get("location"),
                "source": alert["source"],
            }
            fresh |= self.store.add_sighting(sighting)
            entities.append(ref_of(entity))
            sightings.append(SightingOut().dump(sighting))
        related = self._related(alert["alert_id"], entities)
        resolved = events.AlertResolved().load(
            {"alert_id": alert["alert_id"], "entities": entities, "sightings": sightings, "related": related}
        )
        if fresh:
            self.dispatch(events.ALERT_RESOLVED, resolved)
            if related:
                self.dispatch(events.LINK_FOUND, {"alert_id": alert["alert_id"], "related": related})
        return resolved

    @rpc(expected_exceptions=EXPECTED)
    def get_entity(self, entity_id: str) -> dict:
        """One entity with its sightings timeline, oldest first."""
        entity = EntityOut().dump(self.store.get(entity_id))
        entity["sightings"] = SightingOut(many=True).dump(self.store.timeline(entity_id))
        return entity

    def _related(self, alert_id: str, entities: list[dict]) -> list[dict]:
        """Earlier records sharing an entity, each naming the shared entities."""
        by_id = {entity["id"]: entity for entity in entities}
        lookup = dict.fromkeys(by_id, None)
        for entity in entities:
            if entity["type"] == "vehicle" and entity["key"].startswith(f"{UNKNOWN_STATE}:"):
                for other in self.store.same_plate_ids(entity["key"].split(":", 1)[1]):
                    lookup.setdefault(other, entity["id"])
        related: dict[tuple, dict] = {}
        for sighting in self.store.earlier_sightings(list(lookup), alert_id):
            record = related.setdefault(
                (sighting["record_type"], sighting["record_id"]),
                {
                    "record_type": sighting["record_type"],
                    "id": sighting["record_id"],
                    "occurred_at": sighting["at"].isoformat(),
                    "shared_entities": [],
                },
            )
            shared = by_id[lookup[sighting["entity_id"]] or sighting["entity_id"]]
            if shared not in record["shared_entities"]:
                record["shared_entities"].append(shared)
        return list(related.values())

    @rpc(expected_exceptions=EXPECTED)
    def export_entities(self, after: str | None = None, limit: int = 500) -> dict:
        """A page of every entity in id order (``{"items": [...], "next": id or None}``), for search's reindex."""
        limit = max(1, min(int(limit), 5000))
        page = self.store.export_entities(after, limit)
        answer = {"items": EntityOut(many=True).dump(page), "next": page[-1]["_id"] if len(page) == limit else None}
        if after is None:
            answer["total"] = self.store.count("entities")
        return answer

    @rpc(expected_exceptions=EXPECTED)
    def export_sightings(self, after: str | None = None, limit: int = 500) -> dict:
        """A page of every sighting in id order (``{"items": [...], "next": id or None}``), for search's reindex."""
        limit = max(1, min(int(limit), 5000))
        page = self.store.export_sightings(after, limit)
        items = [{"id": s["_id"], **SightingOut().dump(s)} for s in page]
        answer = {"items": items, "next": page[-1]["_id"] if len(page) == limit else None}
        if after is None:
            answer["total"] = self.store.count("sightings")
        return answer

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}
