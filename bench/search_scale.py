"""Search at scale: seed the search indices directly, then time plate searches through the gateway."""

import random
import statistics
from collections.abc import Iterable, Iterator
from datetime import timedelta

import requests
from elasticsearch import Elasticsearch, helpers
from rich.progress import Progress

from bench.generate import START, Generator
from bench.measure import percentiles, timed
from services.entities.dependencies import entity_id_of
from services.search.dependencies import SearchIndex
from services.search.documents import entity_document, sighting_document, sighting_id


def seed(es_url: str, prefix: str, generator: Generator, sightings: int, agency: str, progress: Progress) -> dict:
    """Index every vehicle and ``sightings`` reads of them by ``agency``, in bulk, shaped as the pipeline
    indexes them (the search service's own documents); a vehicle the pipeline indexed already is kept."""
    es = Elasticsearch(es_url, request_timeout=300)
    index = SearchIndex(es, prefix)
    index.ensure_indices()
    vehicle_ids = {plate: entity_id_of("vehicle", f"{state}:{plate}") for plate, state in generator.plates}

    def vehicles() -> Iterator[dict]:
        for plate, state in generator.plates:
            entity = {"id": vehicle_ids[plate], "type": "vehicle", "key": f"{state}:{plate}", "display": plate}
            yield {
                "_op_type": "create",
                "_index": index.alias("entities"),
                "_id": entity["id"],
                "_source": entity_document(entity),
            }

    def reads() -> Iterator[dict]:
        for n in range(sightings):
            plate, _state = generator.vehicle()
            camera, lat, lon = generator.random.choice(generator.cameras)
            at = START + timedelta(seconds=generator.random.randrange(0, 300 * 86400))
            sighting = {
                "entity_id": vehicle_ids[plate],
                "record_type": "alert",
                "record_id": f"scale-{n}",
                "at": at.isoformat(),
                "location": {"lat": lat, "lon": lon},
                "source": "alpr",
                "agency": agency,
            }
            yield {
                "_index": index.alias("sightings"),
                "_id": sighting_id(sighting),
                "_source": sighting_document(sighting),
            }

    total = len(generator.plates) + sightings
    task = progress.add_task("seeding search indices", total=total)
    for ok, item in helpers.streaming_bulk(
        es, _chain(vehicles(), reads()), chunk_size=5000, raise_on_error=False, raise_on_exception=True
    ):
        if not ok and item.get("create", {}).get("status") != 409:
            raise RuntimeError(f"seeding the search index failed: {item}")
        progress.advance(task)
    index.refresh()
    counts = {name: es.count(index=index.alias(name))["count"] for name in ("entities", "sightings", "alerts")}
    es.close()
    return counts


def _chain(*iterables: Iterable[dict]) -> Iterator[dict]:
    for iterable in iterables:
        yield from iterable


KINDS = {
    "exact": lambda plate: plate,
    "partial": lambda plate: plate[:2] + "?" + plate[3:5] + "*",
    "fuzzy": lambda plate: plate.replace("0", "O").replace("1", "I").replace("8", "B")[:-1] + "Q",
}
# The first searches of a freshly seeded index meet cold caches (the first ten exact searches took
# 50 ms each against a 15 ms median, read straight from the index): reported apart, as ``cold_mean_ms``.
WARM_UP = 10


def plate_searches(session: requests.Session, url: str, generator: Generator, queries: int) -> dict:
    """p50/p95/p99 of exact, partial and fuzzy plate searches through the gateway, taken in turn so that
    each kind meets the same caches and load, after :data:`WARM_UP` searches of each kind."""
    rng = random.Random(7)
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(WARM_UP + queries):
        for kind, make in KINDS.items():
            plate, _state = rng.choice(generator.plates)
            query = {"plate": make(plate), "limit": 20, "purpose": "benchmark", "case_number": "BENCH-1"}
            elapsed, response = timed(
                lambda query=query: session.get(f"{url}/api/v1/search/plates", params=query, timeout=30)
            )
            response.raise_for_status()
            samples[kind].append(elapsed)
    return {
        kind: {**percentiles(found[WARM_UP:]), "cold_mean_ms": round(statistics.fmean(found[:WARM_UP]), 1)}
        for kind, found in samples.items()
    }
