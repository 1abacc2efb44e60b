"""Pages of every entity and every sighting in id order, for the search service's reindex and drift check."""

from services.entities.dependencies import EntityStore
from services.entities.schemas import EntityOut, SightingOut


def entities_page(store: EntityStore, after: str | None, limit: int) -> dict:
    """``{"items", "next": the last id, or None at the end, "total"?: on the first page}``."""
    limit = max(1, min(int(limit), 5000))
    page = store.export_entities(after, limit)
    answer = {"items": EntityOut(many=True).dump(page), "next": page[-1]["_id"] if len(page) == limit else None}
    if after is None:
        answer["total"] = store.count("entities")
    return answer


def sightings_page(store: EntityStore, after: str | None, limit: int) -> dict:
    """``{"items", "next", "total"?}`` as :func:`entities_page`, of sightings."""
    limit = max(1, min(int(limit), 5000))
    page = store.export_sightings(after, limit)
    items = [{"id": s["_id"], **SightingOut().dump(s)} for s in page]
    answer = {"items": items, "next": page[-1]["_id"] if len(page) == limit else None}
    if after is None:
        answer["total"] = store.count("sightings")
    return answer
