"""Rebuilding the indices from the services that own the records, and checking them for drift.

MongoDB is the source of truth, but the search service never reads another service's database: it
pages through each owner's export RPC (``intake.export_alerts``, ``entities.export_entities``,
``entities.export_sightings``, ``cases.export_cases``), each ``(after, limit) -> {"items", "next"}``.

A rebuild creates a fresh index with the current mapping, points ``<alias>-next`` at it (the
service then writes every event to both), loads every record with its external version, and swaps
the alias atomically (the markers of merged-away entities are carried over, see indexing.py).
``check`` compares ids (and versions: alerts, cases, entity revisions) between the
owners and the index: ``missing`` (in the source, not the index), ``extra`` (in the index only) and
``stale`` (indexed at an older version than the source holds).

An owner that does not answer stops a rebuild (the live index keeps serving) and makes ``check``
report the index as skipped.
"""

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from nameko.exceptions import MethodNotFound, RemoteError, RpcTimeout, UnknownService

from services.search.dependencies import BUILD_CHECK_SECONDS, SearchIndex
from services.search.documents import alert_document, case_document, entity_document, sighting_document, sighting_id

PAGE = 2000
"""Records per export call. Each page is a range query sorted by id, which MongoDB answers from the
``_id`` index; a server that sorts in its own process reads the collection for every page, and fewer,
larger pages keep a rebuild or check of a big store from going quadratic (the owners accept up to 5,000)."""


MERGED = {"term": {"kind": "merged"}}  # markers of merged-away entities: no owner exports them


@dataclass(frozen=True)
class Source:
    service: str
    method: str
    doc_id: Callable[[dict], str]
    document: Callable[[dict], dict]
    versioned: bool
    markers: dict | None = None  # documents of the index that are not records: kept by a rebuild, not checked


SOURCES = {
    "alerts": Source("intake", "export_alerts", lambda a: a["alert_id"], alert_document, True),
    "cases": Source("cases", "export_cases", lambda c: c["case_id"], case_document, True),
    "entities": Source("entities", "export_entities", lambda e: e["id"], entity_document, True, MERGED),
    "sightings": Source("entities", "export_sightings", sighting_id, sighting_document, False),
}


class SourceMissing(Exception):
    """The owning service does not offer its export RPC (yet)."""


def pages(call: Callable, source: Source, on_total: Callable[[int], None] | None = None) -> Iterator[dict]:
    """Every record ``source`` exports; ``call(service, method, after, limit)`` does the RPC.

    An owner may tell the ``total`` on its first page (for a progress bar): ``on_total`` hears it.
    """
    after = None
    while True:
        try:
            page = call(source.service, source.method, after, PAGE)
        except (UnknownService, MethodNotFound, RpcTimeout) as exc:
            raise SourceMissing(f"{source.service}.{source.method} is not available: {exc!r}") from exc
        except RemoteError as exc:
            if exc.exc_type == "MethodNotFound":
                raise SourceMissing(f"{source.service}.{source.method} is not available") from exc
            raise
        if after is None and on_total and page.get("total") is not None:
            on_total(page["total"])
        yield from page["items"]
        after = page.get("next")
        if not after:
            return


def rebuild(
    index: SearchIndex,
    name: str,
    call: Callable,
    progress: Callable[[int], None],
    on_total: Callable[[int], None] | None = None,
) -> dict:
    """Build ``name`` afresh from its owner and swap the alias to it.

    ``progress(n)`` is called after each batch of ``n`` records; ``on_total(n)`` once the count is known.
    """
    source = SOURCES.get(name)
    on_total = on_total or (lambda total: None)
    build = index.start_build(name)
    time.sleep(2 * BUILD_CHECK_SECONDS)  # every writer now writes to the build too (SearchIndex._targets)
    try:
        loaded, copied = _load(index, build, name, source, call, progress, on_total)
        _drop_purged(index, build, name)
    except BaseException:
        index.abandon_build(build)
        raise
    replaced = index.finish_build(name, build)
    return {"index": build, "records": loaded, "copied_from_live": copied, "replaced": replaced}


def _load(
    index: SearchIndex,
    build: str,
    name: str,
    source: Source | None,
    call: Callable,
    progress: Callable[[int], None],
    on_total: Callable[[int], None],
) -> tuple[int, bool]:
    if source is None:  # the ``purged`` tombstones have no owner: carry them over
        return _copy_live(index, build, name, progress, on_total), True
    loaded = _bulk(index, build, _from_source(source, call, on_total), progress)
    if source.markers:  # after the records: a marker older than its record's revision is skipped
        markers = ((doc_id, doc, version) for doc_id, version, doc in index.scan(name, source.markers))
        _bulk(index, build, markers, lambda n: None)
    return loaded, False


def _drop_purged(index: SearchIndex, build: str, name: str) -> None:
    """A record purged while the export ran may have been loaded after its delete: drop it again (C16)."""
    if name == "purged":
        return
    index.refresh("purged")
    purged = [doc_id for doc_id, _, _ in index.scan("purged")]
    if not purged:
        return
    index.client.indices.refresh(index=build)
    if name != "sightings":
        index.delete_from(build, purged)
        return
    for start in range(0, len(purged), PAGE):
        chunk = purged[start : start + PAGE]
        query = {"bool": {"should": [{"terms": {"record_id": chunk}}, {"terms": {"entity_id": chunk}}]}}
        index.delete_from(build, [doc_id for doc_id, _, _ in index.scan(name, query, index=build)])


def _from_source(
    source: Source, call: Callable, on_total: Callable[[int], None] | None
) -> Iterator[tuple[str, dict, int | None]]:
    for record in pages(call, source, on_total):
        document = source.document(record)
        yield source.doc_id(record), document, document.get("version") if source.versioned else None


def _copy_live(
    index: SearchIndex, build: str, name: str, progress: Callable[[int], None], on_total: Callable[[int], None]
) -> int:
    on_total(index.count(name))
    live = ((doc_id, doc, None) for doc_id, _, doc in index.scan(name))
    return _bulk(index, build, live, progress)


def _bulk(
    index: SearchIndex,
    build: str,
    documents: Iterable[tuple[str, dict, int | None]],
    progress: Callable[[int], None],
) -> int:
    total, batch = 0, []
    for item in documents:
        batch.append(item)
        if len(batch) == PAGE:
            total += index.bulk_put(build, batch)
            progress(len(batch))
            batch = []
    if batch:
        total += index.bulk_put(build, batch)
        progress(len(batch))
    return total


def check(index: SearchIndex, name: str, call: Callable) -> dict:
    """Drift between the owner of ``name`` and its index: missing, extra and stale ids."""
    source = SOURCES[name]
    try:
        expected = {
            source.doc_id(record): source.document(record)["version"] if source.versioned else None
            for record in pages(call, source)
        }
    except SourceMissing as exc:
        return {"checked": 0, "missing": [], "extra": [], "stale": [], "skipped": str(exc)}
    index.refresh(name)
    records = {"bool": {"must_not": [source.markers]}} if source.markers else None
    indexed = {doc_id: version for doc_id, version, _ in index.scan(name, records)}
    stale = [i for i, v in expected.items() if v is not None and i in indexed and indexed[i] < v]
    return {
        "checked": len(expected),
        "missing": sorted(set(expected) - set(indexed)),
        "extra": sorted(set(indexed) - set(expected)),
        "stale": sorted(stale),
    }
