"""A purged alert or case leaves nothing behind in the entities service (C16, C19): its sightings go,
and so does every entity that only it named, announced as ``record_purged``."""

from typing import TYPE_CHECKING

from casewire import events
from services.entities import auditing

if TYPE_CHECKING:
    from services.entities.service import EntitiesService

ORPHANED = "no sightings left"  # an entity whose last naming record was purged goes too (C16, C19)


def forget(worker: "EntitiesService", purged: dict) -> None:
    """Drop the purged record's sightings, then every entity only that record named (C16, C19)."""
    if purged["record_type"] not in ("alert", "case"):
        return
    named = worker.store.entities_named_by(purged["record_type"], purged["record_id"])
    removed = worker.store.forget_record(purged["record_type"], purged["record_id"])
    auditing.record(
        worker.audit, "entity.forget_record", None, [], record=purged["record_id"], sightings_removed=removed
    )
    for entity_id in worker.store.purge_orphans(named):
        auditing.record(worker.audit, "entity.purge", None, [entity_id], record=purged["record_id"], reason=ORPHANED)
        gone = {"record_type": "entity", "record_id": entity_id, "reason": ORPHANED}
        worker.dispatch(events.RECORD_PURGED, events.RecordPurged().load(gone))
