"""The entities service's entrypoints: resolve alerts into entities and sightings, find links."""

import uuid

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher

from casewire import events
from casewire.alerts import FACE_NOTICE
from casewire.audit import AuditLog
from casewire.clock import Clock
from casewire.contracts.entity_inputs import EntityIn, LinkIn
from casewire.errors import EXPECTED, Forbidden, InvalidInput
from casewire.messaging import event_handler
from casewire.mongo import MongoStore
from casewire.monitor import Monitor
from casewire.rpc import rpc
from services.entities import auditing, exporting, forgetting, records
from services.entities.dependencies import EntityStore
from services.entities.extraction import ref_for
from services.entities.identity import NotAnIdentifier
from services.entities.relations import Graph
from services.entities.schemas import CaseLinkIn, EntityOut, LinkOut, MergeOut, load
from services.entities.scope import Scope


class EntitiesService:
    name = "entities"

    store = MongoStore(EntityStore)
    dispatch = EventDispatcher()
    audit = AuditLog()
    now = Clock()
    config = Config()
    monitor = Monitor()

    @event_handler(events.INTAKE, events.ALERTS_RECEIVED)
    def handle_alerts_received(self, payload: dict) -> None:
        """Resolve a batch of new alerts' entities; announce what is new and the links to earlier records.

        An alert resolved before (by ``resolve_alerts``, or a delivery whose acknowledgement was lost)
        stores nothing and is announced again: a process that died between storing and announcing gets
        the event again, and only then can search and intake learn of it (both apply it idempotently).
        Alerts intake is ``resolving`` itself (``resolve_alerts``) are left to it.
        """
        received = events.AlertsReceived().load(payload)
        if not received["resolving"]:
            self._resolve(received["alerts"], announce_known=True)

    @event_handler(events.INTAKE, events.RECORD_PURGED)
    def handle_alert_purged(self, payload: dict) -> None:
        """A purged alert's sightings go too (C16); its entities stay for the other records."""
        forgetting.forget(self, events.RecordPurged().load(payload))

    @event_handler(events.CASES, events.RECORD_PURGED)
    def handle_case_purged(self, payload: dict) -> None:
        """A purged case's sightings go too (C16)."""
        forgetting.forget(self, events.RecordPurged().load(payload))

    @rpc(expected_exceptions=EXPECTED)
    def resolve_alerts(self, payload: dict) -> list[dict]:
        """Upsert the alerts' entities, record their sightings and find related alerts and cases.

        Idempotent: resolving the same alert twice stores nothing new and announces nothing new.
        ``payload`` is an ``alerts_received`` event; returns its ``alerts_resolved`` items in order.
        """
        return self._resolve(events.AlertsReceived().load(payload)["alerts"], announce_known=False)

    def _resolve(self, alerts: list[dict], announce_known: bool) -> list[dict]:
        region = self.config.get("DEFAULT_PHONE_REGION", "US")
        resolved = records.resolve(self.store, alerts, region, self.now())
        announced = [item for item, _, new in resolved if new or announce_known]
        if announced:
            self.dispatch(events.ALERTS_RESOLVED, {"resolutions": announced})
        links = [link for _, link, new in resolved if new and link]
        if links:
            self.dispatch(events.LINKS_FOUND, {"links": links})
        return [item for item, _, _ in resolved]

    @rpc(expected_exceptions=EXPECTED)
    def get_entity(self, entity_id: str, context: dict | None = None) -> dict:
        """One entity (or the survivor it was merged into) with its timeline, alerts, cases, links and merges.

        With a caller in ``context``: NotFound unless its agency sees the entity; only its agency's stated
        links and merges (services/entities/scope.py).
        """
        scope = Scope(context)
        return records.describe(self.store, scope.require(self.store, self.store.get(entity_id), entity_id), scope)

    @rpc(expected_exceptions=EXPECTED)
    def list_entities(
        self, filters: dict, limit: int = 50, cursor: str | None = None, context: dict | None = None
    ) -> dict:
        """Entities by ``type`` and text ``q`` (key, display or alias), e.g. ``{"type": "vehicle", "q": "KGT"}``,
        only those the caller's agency sees; a face-derived one carries the lead notice (C26).

        A page may hold fewer than ``limit`` items while ``next_cursor`` still leads on: the entities
        another agency alone knows are skipped, a bounded number of them per page.
        """
        items, next_cursor = records.visible_page(self.store, Scope(context), filters, limit, cursor)
        return {"items": records.listed(self.store, items), "next_cursor": next_cursor}

    @rpc(expected_exceptions=EXPECTED)
    def create_entity(self, fields: dict, context: dict) -> dict:
        """Create an entity by hand, e.g. ``{"type": "phone", "number": "(713) 555-0100"}``.

        Returns ``{"entity", "created"}``; an entity whose identity exists already is returned as is.
        """
        data = load(EntityIn(), fields, "entity")
        try:
            mention = (context or {}).get("request_id") or uuid.uuid4().hex  # a retried request is one person
            ref = ref_for(data, self.config.get("DEFAULT_PHONE_REGION", "US"), mention)
        except NotAnIdentifier as exc:
            raise InvalidInput(str(exc), {"type": [str(exc)]}) from exc
        entity, created = self.store.upsert(ref, self.now())
        scope = Scope(context)
        if not scope.everything:  # created for the caller's agency when it did not see it before
            created = not scope.sees(self.store, entity)
            self.store.register(entity["_id"], scope.agency, auditing.actor_id(context), self.now())
        auditing.record(self.audit, "entity.create", context, [entity["_id"]], created=created)
        self.dispatch(events.ENTITY_RECORDED, records.entity_recorded(entity))
        return {"entity": EntityOut().dump(entity), "created": created}

    @rpc(expected_exceptions=EXPECTED)
    def merge_entities(self, entity_id: str, other_id: str, context: dict) -> dict:
        """A person decides ``other_id`` is ``entity_id``: keys become aliases, sightings move.

        Audited before it is done (C23: no audit, no merge); the merge record says what moved.
        """
        scope = self._seen(context, entity_id, other_id)
        auditing.record(self.audit, "entity.merge", context, [entity_id, other_id])
        merge = self.store.merge(entity_id, other_id, auditing.actor_id(context), self.now(), scope.agency)
        self.dispatch(events.ENTITIES_MERGED, records.merge_event(self.store, entity_id, other_id, False, self.now()))
        survivor = records.describe(self.store, self.store.get(entity_id), scope)
        return {"merge": MergeOut().dump(merge), "entity": survivor}

    @rpc(expected_exceptions=EXPECTED)
    def unmerge_entities(self, entity_id: str, other_id: str, context: dict) -> dict:
        """Undo the merge of ``other_id`` into ``entity_id``: both come back with their own sightings.

        Audited before it is done (C23). Only the agency that merged them undoes it (Forbidden, audited).
        """
        scope = self._seen(context, entity_id)
        standing = self.store.active_merge(entity_id, other_id)
        if standing is not None and not scope.owns(standing):
            auditing.record(
                self.audit, "entity.unmerge", context, [entity_id, other_id], outcome="denied", reason="merge_agency"
            )
            raise Forbidden("only the agency that merged these entities undoes the merge")
        auditing.record(self.audit, "entity.unmerge", context, [entity_id, other_id])
        merge = self.store.unmerge(entity_id, other_id, auditing.actor_id(context), self.now())
        self.dispatch(events.ENTITIES_MERGED, records.merge_event(self.store, entity_id, other_id, True, self.now()))
        return {
            "merge": MergeOut().dump(merge),
            "entity": records.describe(self.store, self.store.get(entity_id), scope),
            "restored": records.describe(self.store, self.store.get(other_id), scope),
        }

    @rpc(expected_exceptions=EXPECTED)
    def add_link(self, entity_id: str, fields: dict, context: dict) -> dict:
        """A stated link, e.g. ``{"other_id": "...", "relation": "owner_of", "source": "DMV record 7781"}``."""
        data = load(LinkIn(), fields, "link")
        link, created = records.add_link(
            self.store, entity_id, data, auditing.actor_id(context), self.now(), Scope(context)
        )
        auditing.record(self.audit, "entity.link", context, [link["from_id"], link["to_id"]], relation=link["relation"])
        return {"link": LinkOut().dump(link), "created": created}

    @rpc(expected_exceptions=EXPECTED)
    def graph(self, entity_id: str, depth: int = 1, context: dict | None = None) -> dict:
        """``{"nodes", "edges", "truncated"}`` around an entity, ``depth`` 1 to 3, bounded by config.

        With a caller in ``context``: NotFound unless its agency sees the entity; only its agency's stated
        links; face-derived entities carry the lead notice (C26).
        """
        if depth not in (1, 2, 3):
            raise InvalidInput("depth must be 1, 2 or 3", {"depth": ["must be 1, 2 or 3"]})
        scope = Scope(context)
        root = scope.require(self.store, self.store.get(entity_id), entity_id)
        limits = int(self.config.get("GRAPH_MAX_NODES", 200)), int(self.config.get("GRAPH_MAX_EDGES", 500))
        graph = Graph(self.store, *limits, shows_link=scope.owns).build(root, depth)
        for node in graph["nodes"]:
            if node["kind"] == "entity" and self.store.face_sighted(node["id"]):
                node["notice"] = FACE_NOTICE
        return graph

    @rpc(expected_exceptions=EXPECTED)
    def record_case_link(self, case_id: str, entity_id: str, role: str, at: str, context: dict) -> dict:
        """Record that a case names an entity (a sighting of record type ``case``); returns related records.

        Called by the cases service when an entity is linked to a case. Idempotent per (case, entity).
        """
        link = load(CaseLinkIn(), {"case_id": case_id, "entity_id": entity_id, "role": role, "at": at}, "link")
        if isinstance(context, str):  # a note on why the case names the entity, rather than a request context
            link["context"], context = context, {}
        else:
            link["context"] = (context or {}).get("context")
        Scope(context).require(self.store, self.store.get(entity_id), entity_id)  # no naming to learn of one
        result, recorded = records.link_case(self.store, link, (context or {}).get("actor", {}).get("agency"))
        auditing.record(self.audit, "entity.case_link", context, [result["entity"]["id"]], case_id=case_id, role=role)
        self.dispatch(events.ENTITY_RECORDED, recorded)
        return result

    @rpc(expected_exceptions=EXPECTED)
    def remove_case_link(self, case_id: str, entity_id: str, context: dict) -> dict:
        """Forget that a case names an entity; ``{"removed": bool}``."""
        entity = self.store.get(entity_id)
        removed = self.store.remove_sighting(entity["_id"], "case", case_id)
        auditing.record(self.audit, "entity.case_unlink", context, [entity["_id"]], case_id=case_id, removed=removed)
        unsighted = {"entity_id": entity["_id"], "record_type": "case", "record_id": case_id}
        self.dispatch(events.ENTITY_RECORDED, records.entity_recorded(entity, removed=[unsighted]))
        return {"removed": removed}

    @rpc(expected_exceptions=EXPECTED)
    def related_records(self, record_type: str, record_id: str) -> list[dict]:
        """Alerts and cases sharing entities with one alert or case, each naming the shared entities."""
        return records.related_of_record(self.store, record_type, record_id)

    @rpc(expected_exceptions=EXPECTED)
    def earlier_sightings(self, record_type: str, record_id: str, limit: int = 20) -> dict:
        """Each entity of an alert or case → its sightings by other records before it, newest first,
        at most ``limit`` (1-100) each: ``{"<entity id>": [{"record_type", "record_id", "at", "agency", ...}]}``."""
        limit = max(1, min(int(limit), 100))
        return records.earlier_sightings(self.store, record_type, record_id, limit)

    @rpc(expected_exceptions=EXPECTED)
    def export_entities(self, after: str | None = None, limit: int = 500) -> dict:
        """A page of every entity in id order (``{"items": [...], "next": id or None}``), for search's reindex."""
        return exporting.entities_page(self.store, after, limit)

    @rpc(expected_exceptions=EXPECTED)
    def export_sightings(self, after: str | None = None, limit: int = 500) -> dict:
        """A page of every sighting in id order (``{"items": [...], "next": id or None}``), for search's reindex."""
        return exporting.sightings_page(self.store, after, limit)

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}

    def _seen(self, context: dict | None, *entity_ids: str) -> Scope:
        """The caller's scope, once it sees each of ``entity_ids`` (NotFound otherwise, as for a miss)."""
        scope = Scope(context)
        for entity_id in entity_ids:
            scope.require(self.store, self.store.get(entity_id), entity_id)
        return scope
