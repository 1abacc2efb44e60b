"""The search service's entrypoints: index what the other services announce; answer queries."""

from marshmallow import ValidationError
from nameko.dependency_providers import Config
from nameko.events import EventDispatcher

from casewire import events
from casewire.clock import Clock
from casewire.errors import EXPECTED, InvalidInput
from casewire.messaging import event_handler
from casewire.monitor import Monitor
from casewire.rpc import rpc
from services.search import finder, indexing, listing, merges
from services.search.dependencies import SearchIndexProvider
from services.search.plates import is_valid_pattern
from services.search.schemas import TimeAndPlace, load_filters


class SearchService:
    """Handlers requeue their event while Elasticsearch is down, dead-letter a malformed or failing one
    (``casewire.messaging.event_handler``); writes are idempotent, so at-least-once is enough."""

    name = "search"

    index = SearchIndexProvider()
    dispatch = EventDispatcher()
    config = Config()
    monitor = Monitor()
    now = Clock()

    @event_handler(events.INTAKE, events.ALERTS_RECEIVED)
    def handle_alerts_received(self, payload: dict) -> None:
        """Index new alerts under their ids and versions, so a replay never duplicates or regresses them."""
        with indexing.at_least_once(events.ALERTS_RECEIVED):
            indexing.index_alerts(self.index, events.AlertsReceived().load(payload)["alerts"])

    @event_handler(events.INTAKE, events.ALERT_UPDATED)
    def handle_alert_updated(self, payload: dict) -> None:
        """Re-index a changed alert (status, assignee, notes) at its new version; older ones are ignored."""
        with indexing.at_least_once(events.ALERT_UPDATED):
            indexing.index_alert(self.index, events.AlertUpdated().load(payload))

    @event_handler(events.ENTITIES, events.ALERTS_RESOLVED)
    def handle_alerts_resolved(self, payload: dict) -> None:
        """Index the alerts' entities and their sightings."""
        with indexing.at_least_once(events.ALERTS_RESOLVED):
            indexing.index_resolutions(self.index, events.AlertsResolved().load(payload)["resolutions"])

    @event_handler(events.ENTITIES, events.ENTITIES_MERGED)
    def handle_entities_merged(self, payload: dict) -> None:
        """A merge or unmerge: drop the merged-away entity, re-point sightings to their current entity;
        late or repeated, it takes away no sighting the entities service still holds (merges.py)."""
        with indexing.at_least_once(events.ENTITIES_MERGED):
            merges.apply_merge(self.index, events.EntitiesMerged().load(payload))

    @event_handler(events.ENTITIES, events.ENTITY_RECORDED)
    def handle_entity_recorded(self, payload: dict) -> None:
        """An entity made by hand, or a case that names it (a sighting) or no longer does, e.g.
        ``{"entity": {"id", "type": "vehicle", "key": "TX:KGT4471", ..., "revision": 3},
        "sightings": [{"entity_id", "record_type": "case", "record_id", "at", "source": "case"}], "removed": []}``."""
        with indexing.at_least_once(events.ENTITY_RECORDED):
            indexing.index_recorded(self.index, events.EntityRecorded().load(payload))

    @event_handler(events.CASES, events.CASE_UPDATED)
    def handle_case_updated(self, payload: dict) -> None:
        """Index a case's searchable and access fields at ``version`` (older versions are ignored)."""
        with indexing.at_least_once(events.CASE_UPDATED):
            indexing.index_case(self.index, events.CaseUpdated().load(payload))

    @event_handler(events.CASES, events.RECORD_PURGED)
    def handle_case_purged(self, payload: dict) -> None:
        """C16: a purged case leaves every index."""
        self._purge(payload)

    @event_handler(events.INTAKE, events.RECORD_PURGED)
    def handle_alert_purged(self, payload: dict) -> None:
        """C16: a purged alert (and its sightings) leaves every index."""
        self._purge(payload)

    @event_handler(events.ENTITIES, events.RECORD_PURGED)
    def handle_entity_purged(self, payload: dict) -> None:
        """C16, C19: an entity the entities service purged (its last naming record was purged) leaves
        every index with its sightings, so plate search no longer finds it."""
        self._purge(payload)

    def _purge(self, payload: dict) -> None:
        with indexing.at_least_once(events.RECORD_PURGED):
            purged = events.RecordPurged().load(payload)
            indexing.purge(self.index, purged["record_type"], purged["record_id"])

    @rpc(expected_exceptions=EXPECTED)
    def search_plates(
        self,
        plate: str,
        state: str | None = None,
        fuzzy: bool = True,
        limit: int = 50,
        context: dict | None = None,
        filters: dict | None = None,
    ) -> dict:
        """Vehicles whose plate matches, best first, each with the sightings the caller may open.

        ``plate`` may hold ``?`` (one character) and ``*`` (any run), e.g. ``"AB?12*"``; ``context`` is
        the gateway's request context (the caller); ``filters`` keep the vehicles seen in a time range and
        place, with those sightings, e.g. ``{"since": "2026-03-01T00:00:00Z", "until": ..., "near":
        {"lat": 29.75, "lon": -95.36, "km": 2}}``.
        """
        if not is_valid_pattern(plate):
            raise InvalidInput("not a plate pattern", {"plate": ["letters, digits, ? and * only, up to 16"]})
        try:
            placed = load_filters(filters or {}, TimeAndPlace)
        except ValidationError as exc:
            raise InvalidInput("the plate search is invalid", exc.messages) from exc
        items, restricted = finder.find_plates(self.index, context or {}, plate, state, fuzzy, limit, placed)
        self._report_restricted(restricted, f"plate {plate} state {state or 'any'}", context or {})
        return {"items": items}

    @rpc(expected_exceptions=EXPECTED)
    def search(self, q: str, filters: dict, context: dict) -> dict:
        """Ranked alerts, cases and entities the caller may open, e.g.
        ``search("grey altima", {"types": ["alert"], "near": {"lat": 29.75, "lon": -95.36, "km": 2}}, context)``
        → ``{"items": [{"type", "id", "score", "highlights", "summary"}], "next_cursor": ...}``.
        """
        try:
            loaded = load_filters(filters)
            found = finder.search(self.index, context, q or "", loaded, self.config.get("DEFAULT_PHONE_REGION", "US"))
        except ValidationError as exc:
            raise InvalidInput("the search is invalid", exc.messages) from exc
        except ValueError as exc:
            raise InvalidInput("the search is invalid", {"cursor": [str(exc)]}) from exc
        self._report_restricted(found.pop("restricted"), q or "", context)
        return found

    @rpc(expected_exceptions=EXPECTED)
    def alert_page(self, filters: dict, context: dict, limit: int = 50, cursor: str | None = None) -> dict:
        """One page of the alert list, newest first, of the alerts ``context`` may see, e.g.
        ``alert_page({"status": "new", "source": "alpr"}, context, 50)`` → ``{"items": [...], "next_cursor"}``:
        each item an ``AlertSummary`` with its ``related_count``, read from the index (listing.py).
        Filters: ``status``, ``source``, ``assignee``, ``since`` and ``until`` (ISO, on ``received_at``)."""
        try:
            return listing.alert_page(self.index, context, filters or {}, max(1, min(int(limit), 500)), cursor)
        except ValueError as exc:
            raise InvalidInput("the list query is invalid", {"cursor": [str(exc)]}) from exc

    @rpc(expected_exceptions=EXPECTED)
    def related_counts(self, groups: dict, context: dict) -> dict:
        """For list pages: how many other records ``context`` may open share an entity with each group,
        e.g. ``{"c1": ["c1", "a7"]}`` (a case and its linked alerts) → ``{"c1": 3}``."""
        if not isinstance(groups, dict) or len(groups) > 500:
            raise InvalidInput("groups is a mapping of at most 500 keys", {"groups": ["at most 500 keys"]})
        cleaned = {str(key): [str(record) for record in records or []] for key, records in groups.items()}
        return listing.related_counts(self.index, context, cleaned)

    def _report_restricted(self, cases: list[dict], terms: str, context: dict) -> None:
        """C6: the control official of each restricted case hears who searched what."""
        for case in cases:
            self.dispatch(events.RESTRICTED_HIT, self._restricted_hit(case, terms, context))

    def _restricted_hit(self, case: dict, terms: str, context: dict) -> dict:
        actor = context.get("actor") or {}
        return events.RestrictedHit().load(
            {
                "case_id": case["id"],
                "control_official": case.get("control_official"),
                "unit": case.get("unit"),
                "agency": case.get("agency"),
                "searcher": actor.get("id", "unknown"),
                "searcher_agency": actor.get("agency"),
                "searcher_unit": context.get("unit"),
                "terms": terms,
                "purpose": context.get("purpose"),
                "case_number": context.get("case_number"),
                "request_id": context.get("request_id"),
                "at": self.now().isoformat(),
            }
        )

    @rpc
    def health(self) -> dict:
        """Whether Elasticsearch answers."""
        return {"elasticsearch": self.index.ping()}
