"""The audit service's entrypoints: append what arrives on the audit queue; answer auditors."""

from nameko.messaging import consume
from nameko.rpc import rpc

from casewire.audit import AuditEvent, audit_queue
from casewire.errors import EXPECTED
from casewire.mongo import MongoStore
from services.audit import chain
from services.audit.dependencies import AuditStore

FILTERS = {"actor": "actor.id", "record_id": "record_ids", "action": "action", "outcome": "outcome"}


class AuditService:
    name = "audit"

    store = MongoStore(AuditStore)

    @consume(audit_queue, requeue_on_error=True)
    def handle_audit_event(self, payload: dict) -> None:
        """Append one event to the chain; the message is acknowledged only after it is stored."""
        self.store.append(AuditEvent().load(payload))

    @rpc(expected_exceptions=EXPECTED)
    def list_events(self, filters: dict, after_seq: int = 0, limit: int = 50) -> dict:
        """Events in chain order, filtered by actor, record, action, outcome and time."""
        query = {FILTERS[key]: value for key, value in filters.items() if key in FILTERS and value}
        if filters.get("since") or filters.get("until"):
            query["at"] = {}
            if filters.get("since"):
                query["at"]["$gte"] = filters["since"]
            if filters.get("until"):
                query["at"]["$lt"] = filters["until"]
        items = self.store.find(query, after_seq, limit)
        return {"items": items, "next_seq": items[-1]["seq"] if len(items) == limit else None}

    @rpc
    def verify(self) -> dict:
        """Recompute the chain; name the first altered, removed or reordered event."""
        return chain.verify(self.store.all_in_order())

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}
