"""The search service's entrypoints: index what the other services announce; answer queries."""

from nameko.events import event_handler
from nameko.rpc import rpc

from casewire import events
from casewire.errors import EXPECTED, InvalidInput
from services.search.dependencies import SearchIndexProvider
from services.search.plates import is_valid_pattern, match_kind, plate_query

SIGHTINGS_PER_VEHICLE = 20


class SearchService:
    name = "search"

    index = SearchIndexProvider()

    @event_handler(events.INTAKE, events.ALERT_RECEIVED)
    def handle_alert_received(self, payload: dict) -> None:
        """Index a new alert (its id is the document id, so a replay overwrites)."""
        alert = events.AlertReceived().load(payload)
        location = alert.get("location")
        self.index.put(
            "alerts",
            alert["alert_id"],
            {
                "source": alert["source"],
                "source_system": alert["source_system"],
                "status": alert["status"],
                "priority": alert["priority"],
                "occurred_at": alert["occurred_at"],
                "received_at": alert["received_at"],
                "location": {"lat": location["lat"], "lon": location["lon"]} if location else None,
            },
        )

    @event_handler(events.ENTITIES, events.ALERT_RESOLVED)
    def handle_alert_resolved(self, payload: dict) -> None:
        """Index the alert's entities and their sightings."""
        resolved = events.AlertResolved().load(payload)
        for entity in resolved["entities"]:
            document = {"type": entity["type"], "key": entity["key"], "display": entity["display"]}
            if entity["type"] == "vehicle" and not entity["key"].startswith("VIN:"):
                state, plate = entity["key"].split(":", 1)
                document.update(plate=plate, plate_state=state)
            self.index.put("entities", entity["id"], document)
        for sighting in resolved["sightings"]:
            location = sighting.get("location")
            self.index.put(
                "sightings",
                f"{sighting['entity_id']}:{sighting['record_id']}",
                {
                    **sighting,
                    "location": {"lat": location["lat"], "lon": location["lon"]} if location else None,
                },
            )

    @rpc(expected_exceptions=EXPECTED)
    def search_plates(self, plate: str, state: str | None = None, fuzzy: bool = True, limit: int = 50) -> dict:
        """Vehicles whose plate matches, best first, each with its latest sightings.

        ``plate`` may hold ``?`` (one character) and ``*`` (any run), e.g. ``"AB?12*"``.
        """
        if not is_valid_pattern(plate):
            raise InvalidInput("not a plate pattern", {"plate": ["letters, digits, ? and * only, up to 16"]})
        hits = self.index.search("entities", query=plate_query(plate, state, fuzzy), size=limit)["hits"]["hits"]
        items = []
        for hit in hits:
            sightings = self.index.search(
                "sightings",
                query={"term": {"entity_id": hit["_id"]}},
                sort=[{"at": "desc"}],
                size=SIGHTINGS_PER_VEHICLE,
            )["hits"]["hits"]
            items.append(
                {
                    "entity": {"id": hit["_id"], **hit["_source"]},
                    "match": match_kind(hit["_score"]),
                    "score": hit["_score"],
                    "sightings": [s["_source"] for s in sightings],
                }
            )
        return {"items": items}

    @rpc
    def health(self) -> dict:
        """Whether Elasticsearch answers."""
        return {"elasticsearch": self.index.ping()}
