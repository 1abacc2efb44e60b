"""What one agency sees of the shared entity database (docs/security.md, "Entities").

An entity is one person, plate or phone however many agencies' records name it; what each agency did
with it stays that agency's. An agency sees an entity when a record of its own names it (a sighting
recorded for the agency: one of its alerts, or a case link one of its people made) or one of its
people recorded it by hand (``entity.create``, audited). Stated links and merges are shown to the agency
whose people made them, and only that agency undoes a merge. Anyone else gets what a miss gets (404).
An agency is compared as it is: a record without one belongs to the callers without one, never to
every agency. Calls without an end user (other services, the command line) see everything.
"""

from casewire.errors import NotFound
from services.entities.dependencies import EntityStore


class Scope:
    """The caller of one request, as the entities service sees it."""

    def __init__(self, context: dict | None):
        actor = (context or {}).get("actor") or {}
        self.everything = not actor.get("roles")  # another service or a tool, not a person
        self.agency = actor.get("agency")

    def sees(self, store: EntityStore, entity: dict) -> bool:
        return self.everything or store.named_for(entity["_id"], self.agency)

    def require(self, store: EntityStore, entity: dict, asked: str) -> dict:
        """``entity`` when the caller sees it; otherwise exactly what a miss raises."""
        if not self.sees(store, entity):
            raise NotFound(f"no entity {asked}")
        return entity

    def owns(self, act: dict) -> bool:
        """Whether a stated link or merge is the caller's agency's."""
        return self.everything or act.get("agency") == self.agency
