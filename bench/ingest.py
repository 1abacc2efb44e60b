"""Ingest throughput and latency through the gateway, counted only when an alert is fully done.

An alert counts when it is stored (intake), its entities resolved (a sighting in entities), it is
searchable (in the search alerts index) and its ``alert.create`` audit event is appended.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from elasticsearch import Elasticsearch
from pymongo import MongoClient

from bench.generate import Generator
from bench.measure import percentiles, timed


class Completion:
    """Counts, straight from each store, how far a run's alerts have got."""

    def __init__(self, stack, mongo_uri: str, es_url: str):
        self.mongo = MongoClient(mongo_uri)
        self.es = Elasticsearch(es_url, request_timeout=60)
        self.stack = stack

    def counts(self, run: str) -> dict:
        intake = self.mongo[self.stack.databases["intake"]]["alerts"]
        stored = intake.count_documents({"source_event_id": {"$regex": f"^{run}"}})
        sightings = self.mongo[self.stack.databases["entities"]]["sightings"]
        resolved = len(sightings.distinct("record_id", {"record_type": "alert"}))
        self.es.indices.refresh(index=f"{self.stack.index_prefix}-alerts")
        searchable = self.es.count(index=f"{self.stack.index_prefix}-alerts")["count"]
        audit = self.mongo[self.stack.databases["audit"]]["events"]
        audited = audit.count_documents({"action": "alert.create", "service": "intake"})
        return {"stored": stored, "resolved": resolved, "searchable": searchable, "audited": audited}


def throughput(
    session,
    stack,
    completion: Completion,
    generator: Generator,
    seconds: float,
    batch: int = 250,
    clients: int = 2,
    run: str = "ingest",
) -> dict:
    """Submit batches for ``seconds`` from ``clients`` threads; then wait until every alert is done."""
    baseline = completion.counts(run)
    accepted, retried, lock, stop_at = [0], [0], threading.Lock(), time.monotonic() + seconds

    def client(n: int):
        local = Generator(seed=1000 + n, vehicles=len(generator.plates))
        local.plates, local._weights, local._cumulative = generator.plates, generator._weights, None
        while time.monotonic() < stop_at:
            alerts = [local.alpr_alert(run=f"{run}{n}") for _ in range(batch)]
            while True:  # as a careful source system does: a 503 means "not stored, send it again"
                response = session.post(f"{stack.url}/api/v1/alerts/batch", json={"alerts": alerts}, timeout=600)
                if response.status_code != 503:
                    break
                with lock:
                    retried[0] += 1
                time.sleep(1)
            response.raise_for_status()
            with lock:
                accepted[0] += sum(1 for item in response.json()["results"] if item["status"] == 201)

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    submitted_in = time.monotonic() - started
    target = {key: baseline[key] + accepted[0] for key in baseline}
    while True:
        now = completion.counts(run)
        if all(now[key] >= target[key] for key in target):
            break
        if time.monotonic() - started > seconds * 10 + 600:
            raise RuntimeError(f"the pipeline did not catch up: {now} of {target}")
        time.sleep(0.5)
    done_in = time.monotonic() - started
    return {
        "clients": clients,
        "batch": batch,
        "alerts": accepted[0],
        "batches_retried_after_503": retried[0],
        "submitted_seconds": round(submitted_in, 1),
        "completed_seconds": round(done_in, 1),
        "accepted_per_second": round(accepted[0] / submitted_in),
        "completed_per_second": round(accepted[0] / done_in),
    }


def single_latency(session, stack, generator: Generator, count: int) -> dict:
    """p50/p95/p99 of one-alert POSTs (201 answers), one at a time."""
    samples = []
    for _ in range(count):
        body = generator.alpr_alert(run="single")
        elapsed, response = timed(lambda body=body: session.post(f"{stack.url}/api/v1/alerts", json=body, timeout=60))
        response.raise_for_status()
        samples.append(elapsed)
    return percentiles(samples)
