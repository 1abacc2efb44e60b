"""Search at scale: seed the search indices directly, then time plate searches through the gateway."""

import random
import uuid
from datetime import timedelta

from elasticsearch import Elasticsearch, helpers

from bench.generate import START, Generator
from bench.measure import percentiles, timed
from services.search.dependencies import SearchIndex


def seed(es_url: str, prefix: str, generator: Generator, sightings: int, alerts: int, progress) -> dict:
    """Index every vehicle, ``sightings`` reads of them and ``alerts`` alerts, in bulk."""
    es = Elasticsearch(es_url, request_timeout=300)
    index = SearchIndex(es, prefix)
    index.ensure_indices()
    vehicle_ids = {plate: uuid.uuid5(uuid.NAMESPACE_OID, f"{state}:{plate}").hex for plate, state in generator.plates}

    def vehicles():
        for plate, state in generator.plates:
            yield {
                "_index": index.alias("entities"),
                "_id": vehicle_ids[plate],
                "_source": {
                    "type": "vehicle",
                    "key": f"{state}:{plate}",
                    "display": f"{plate} ({state})",
                    "plate": plate,
                    "plate_state": state,
                },
            }

    def reads():
        for n in range(sightings):
            plate, state = generator.vehicle()
            camera, lat, lon = generator.random.choice(generator.cameras)
            at = START + timedelta(seconds=generator.random.randrange(0, 300 * 86400))
            yield {
                "_index": index.alias("sightings"),
                "_id": f"s{n}",
                "_source": {
                    "entity_id": vehicle_ids[plate],
                    "record_type": "alert",
                    "record_id": f"a{n % max(alerts, 1)}",
                    "at": at.isoformat(),
                    "location": {"lat": lat, "lon": lon},
                    "source": "alpr",
                },
            }

    def alert_docs():
        for n in range(alerts):
            alert = generator.alpr_alert(run="scale")
            yield {
                "_index": index.alias("alerts"),
                "_id": f"a{n}",
                "_source": {
                    "source": "alpr",
                    "source_system": alert["source_system"],
                    "status": "new",
                    "priority": "normal",
                    "occurred_at": alert["occurred_at"],
                    "received_at": alert["occurred_at"],
                    "location": alert["location"],
                },
            }

    total = len(generator.plates) + sightings + alerts
    task = progress.add_task("seeding search indices", total=total)
    for _ok, _item in helpers.streaming_bulk(
        es, _chain(vehicles(), reads(), alert_docs()), chunk_size=5000, raise_on_error=True
    ):
        progress.advance(task)
    index.refresh()
    counts = {name: es.count(index=index.alias(name))["count"] for name in ("entities", "sightings", "alerts")}
    es.close()
    return counts


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def plate_searches(session, url: str, generator: Generator, queries: int) -> dict:
    """p50/p95/p99 of exact, partial and fuzzy plate searches through the gateway."""
    rng = random.Random(7)
    kinds = {
        "exact": lambda plate: plate,
        "partial": lambda plate: plate[:2] + "?" + plate[3:5] + "*",
        "fuzzy": lambda plate: plate.replace("0", "O").replace("1", "I").replace("8", "B")[:-1] + "Q",
    }
    results = {}
    for kind, make in kinds.items():
        samples = []
        for _ in range(queries):
            plate, _state = rng.choice(generator.plates)
            query = {"plate": make(plate), "limit": 20, "purpose": "benchmark", "case_number": "BENCH-1"}
            elapsed, response = timed(
                lambda query=query: session.get(f"{url}/api/v1/search/plates", params=query, timeout=30)
            )
            response.raise_for_status()
            samples.append(elapsed)
        results[kind] = percentiles(samples)
    return results
