"""Applying ``entities_merged`` (a merge, or with ``undone`` an unmerge) to the index, losing no sighting.

The event holds both entities as they are after the change, each live one with its current sightings:
the oldest :data:`casewire.events.MERGE_SIGHTINGS` of them, so a list that long leaves newer ones out.
It is a picture of that moment, not a list of what moved, and it may reach search late, twice, or after
events about what happened since (each event type has its own queue; a dead letter may be replayed).
So a sighting the event does not list is never taken for gone; one is removed only where the event
proves it moved, and only while what the event says still stands in the index:

- **Merge.** The merged-away entity's marker is written at the event's revision. If the index now
  holds that revision (written now, or by an earlier delivery of this event), the merge stands: the
  sightings the index holds of the merged-away entity become the survivor's (one the survivor has of
  that record already stays as it is), and the survivor's listed sightings are written. An older event
  (a merge replayed after its unmerge) changes no sighting. The survivor's other sightings (newer
  reads, ones beyond the list) are left alone.
- **Unmerge.** Both entities are written at their revisions with their listed sightings (none for an
  entity merged away again meanwhile). The survivor loses its sighting of a record only when the event
  lists that record for the restored entity and not for the survivor, the survivor's list is complete
  at that sighting's time (not after the event; before the newest listed time of a list that long),
  and the restored entity is not a merged-away marker in the index again.

What this cannot prove is left for ``casewire search check`` to report and ``reindex`` to repair: after
an unmerge, sightings of the restored entity beyond its list stay with the survivor.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from casewire import events
from services.search.dependencies import SearchIndex
from services.search.documents import entity_document, merged_document, sighting_id
from services.search.indexing import index_sightings


def apply_merge(index: SearchIndex, merged: dict) -> dict:
    """Apply one ``entities_merged``; counts of entities written, sightings written and removed.

    Applying it twice, or after a newer event about the same entities, takes nothing away.
    """
    entities = [entity for entity in merged["entities"] if not index.exists("purged", entity["id"])]
    changed = {"entities": 0, "sightings": 0, "removed": 0}
    stands = True
    for entity in (entity for entity in entities if entity.get("merged_into")):
        if _stands(index, entity):
            changed["removed"] += _fold(index, entity["id"], entity["merged_into"])
        else:
            stands = False
    for entity in (entity for entity in entities if not entity.get("merged_into")):
        changed["entities"] += index.put("entities", entity["id"], entity_document(entity), version=_revision(entity))
        if stands:
            changed["sightings"] += index_sightings(index, _listed(entity))
    if merged["undone"]:
        changed["removed"] += _give_back(index, merged, {entity["id"]: entity for entity in entities})
    return changed


def _revision(entity: dict) -> int:
    return entity.get("revision") or 0


def _listed(entity: dict) -> list[dict]:
    return [sighting for sighting in entity["sightings"] if sighting["entity_id"] == entity["id"]]


def _stands(index: SearchIndex, entity: dict) -> bool:
    """Write a merged-away entity's marker; whether the index holds the event's revision of it now
    (written now or by an earlier delivery), not a newer one (an unmerge since)."""
    revision = _revision(entity)
    if index.put("entities", entity["id"], merged_document(entity), version=revision):
        return True
    return index.versions("entities", [entity["id"]]).get(entity["id"]) == revision


def _fold(index: SearchIndex, merged_id: str, survivor_id: str) -> int:
    """The sightings the index holds of ``merged_id`` become ``survivor_id``'s, as the entities service
    moved them; one the survivor holds of that record already is kept. Returns how many left.

    The marker is written first: from then on no sighting of ``merged_id`` is written, and the refresh
    lets the scan see every one written before."""
    index.refresh("sightings")
    held = list(index.scan("sightings", {"term": {"entity_id": merged_id}}))
    index_sightings(index, [{**source, "entity_id": survivor_id} for _, _, source in held], replace=False)
    return index.delete("sightings", [doc_id for doc_id, _, _ in held])


def _give_back(index: SearchIndex, merged: dict, entities: dict[str, dict]) -> int:
    """Unmerge: remove the survivor's sightings of records the event gives back to the restored entity."""
    survivor, restored = entities.get(merged["survivor_id"]), entities.get(merged["merged_id"])
    if survivor is None or restored is None or survivor.get("merged_into") or restored.get("merged_into"):
        return 0
    if index.sources("entities", [restored["id"]]).get(restored["id"], {}).get("kind") != "entity":
        return 0  # merged away again (or purged) since: those sightings are not simply given back
    own = {sighting["record_id"] for sighting in _listed(survivor)}
    returned = {sighting["record_id"] for sighting in _listed(restored)} - own
    candidates = [sighting_id({"entity_id": survivor["id"], "record_id": record_id}) for record_id in returned]
    covered = _covered(_listed(survivor), merged["at"])
    held = index.sources("sightings", sorted(candidates))
    return index.delete("sightings", [doc_id for doc_id, source in held.items() if covered(source["at"])])


def _covered(listed: list[dict], event_at: str) -> Callable[[str], bool]:
    """Whether an entity's list in the event shows every sighting it had at a given time: not after
    the event, and, for a list cut at ``MERGE_SIGHTINGS`` (the oldest ones), before its newest time."""
    end = _time(event_at)
    cut = max(_time(sighting["at"]) for sighting in listed) if len(listed) >= events.MERGE_SIGHTINGS else None
    return lambda at: _time(at) <= end and (cut is None or _time(at) < cut)


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
