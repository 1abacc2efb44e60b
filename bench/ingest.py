"""Ingest throughput and latency through the gateway, counted only when an alert is fully done.

An alert counts when it is stored (intake), its entities resolved (a sighting in entities), it is
searchable (in the search alerts index) and its ``alert.create`` audit event is appended. The
bench's stack has stores of its own, so the first three are counts of whole collections (cheap on
every server); the audit log is checked by the event ids of the newest alerts while the run drains
(the audit service appends in order) and counted once at the end.
"""

import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import requests
from elasticsearch import Elasticsearch
from pymongo import MongoClient
from pymongo.database import Database

from bench.generate import Generator
from bench.measure import percentiles, timed
from bench.stack import Stack

SAMPLE = 50  # newest alerts whose audit events are looked up while the run drains


class Completion:
    """Reads, straight from each store, how far the bench stack's alerts have got."""

    def __init__(self, stack: Stack, mongo_uri: str, es_url: str):
        self.mongo = MongoClient(mongo_uri)
        self.es = Elasticsearch(es_url, request_timeout=60)
        self.stack = stack

    def _db(self, service: str) -> Database:
        return self.mongo[self.stack.databases[service]]

    def counts(self) -> dict:
        alerts = f"{self.stack.index_prefix}-alerts"
        index = self.es.options(ignore_status=404)  # the search service makes its indices as it starts
        index.indices.refresh(index=alerts)
        return {
            "stored": self._db("intake")["alerts"].estimated_document_count(),
            "resolved": self._db("entities")["sightings"].estimated_document_count(),
            "searchable": index.count(index=alerts).get("count", 0),
        }

    def finished(self, alert_ids: list[str]) -> bool:
        """Whether these alerts each have a sighting, are in the search index and are audited: asked by
        id, by indexed fields, so that waiting for the pipeline costs the stores next to nothing (a
        count on FerretDB reads the whole collection)."""
        sightings = self._db("entities")["sightings"]
        if not all(sightings.find_one({"record_id": alert_id}, {"_id": 1}) for alert_id in alert_ids):
            return False
        index = self.es.options(ignore_status=404)
        found = index.count(index=f"{self.stack.index_prefix}-alerts", query={"ids": {"values": alert_ids}})
        return found.get("count", 0) == len(alert_ids) and self.audited(alert_ids)

    def audited(self, alert_ids: list[str]) -> bool:
        events = self._db("audit")["events"]
        return all(events.find_one({"event_id": f"alert.create-{alert_id}"}, {"_id": 1}) for alert_id in alert_ids)

    def audited_total(self) -> int:
        return self._db("audit")["events"].count_documents({"action": "alert.create", "service": "intake"})


def throughput(
    session: requests.Session,
    stack: Stack,
    completion: Completion,
    generator: Generator,
    seconds: float,
    batch: int = 250,
    clients: int = 2,
    run: str = "ingest",
    rate: float | None = None,
) -> dict:
    """Submit batches for ``seconds`` from ``clients`` threads (at most ``rate`` alerts a second in all,
    when given); then wait until every alert is done.

    A batch answered 503 is sent again, as a source system does: intake keys every event, so a
    batch stored once answers the same ids again (200) and counts once.
    """
    baseline = completion.counts()
    audited_before = completion.audited_total()
    accepted, retried, newest, lock = [0], [0], [], threading.Lock()
    batch_seconds, stop_at = [], time.monotonic() + seconds

    def client(n: int) -> None:
        # A seed per run and client: a run repeating an earlier run's reads would be all near-duplicates.
        local = Generator(seed=zlib.crc32(f"{run}{n}".encode()), vehicles=len(generator.plates))
        local.plates, local._weights, local._cumulative = generator.plates, generator._weights, None
        while time.monotonic() < stop_at:
            began = time.monotonic()
            alerts = [local.alpr_alert(run=f"{run}{n}") for _ in range(batch)]
            while True:
                elapsed, response = timed(
                    lambda alerts=alerts: session.post(
                        f"{stack.url}/api/v1/alerts/batch", json={"alerts": alerts}, timeout=600
                    )
                )
                if response.status_code != 503:
                    break
                with lock:
                    retried[0] += 1
                time.sleep(1)
            response.raise_for_status()
            created = [item["id"] for item in response.json()["results"] if item["status"] == 201]
            with lock:
                accepted[0] += len(created)
                batch_seconds.append(elapsed)
                newest[:] = (newest + created)[-SAMPLE:]
            if rate:
                time.sleep(max(0.0, clients * batch / rate - (time.monotonic() - began)))

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    submitted_in = time.monotonic() - started
    target = {key: baseline[key] + accepted[0] for key in baseline}
    now = baseline
    while True:
        # The newest alerts first, then one exact count of everything when they are through.
        if completion.finished(newest):
            now = completion.counts()
            if all(now[key] >= target[key] for key in target):
                break
        if time.monotonic() - started > seconds * 10 + 600:
            raise RuntimeError(f"the pipeline did not catch up: {now} of {target}")
        time.sleep(0.5)
    done_in = time.monotonic() - started
    audited = completion.audited_total() - audited_before
    return {
        "clients": clients,
        "batch": batch,
        "stored_before": baseline["stored"],
        "alerts": accepted[0],
        "audited": audited,
        "batches_retried_after_503": retried[0],
        "batch_answer": percentiles(batch_seconds),
        "submitted_seconds": round(submitted_in, 1),
        "completed_seconds": round(done_in, 1),
        "accepted_per_second": round(accepted[0] / submitted_in),
        "completed_per_second": round(accepted[0] / done_in),
    }


def big_batch(
    session: requests.Session,
    stack: Stack,
    completion: Completion,
    generator: Generator,
    size: int = 1000,
    repeat: int = 5,
) -> dict:
    """How long a batch of ``size`` alerts takes to be answered, on a stack that is otherwise idle; then
    wait until the pipeline is through with them, so the next benchmark meets an idle stack too."""
    samples, last = [], []
    for n in range(repeat):
        alerts = [generator.alpr_alert(run=f"big{n}") for _ in range(size)]
        elapsed, response = timed(
            lambda alerts=alerts: session.post(f"{stack.url}/api/v1/alerts/batch", json={"alerts": alerts}, timeout=600)
        )
        response.raise_for_status()
        samples.append(elapsed)
        last = [item["id"] for item in response.json()["results"] if item["status"] == 201][-SAMPLE:]
        time.sleep(2)
    deadline = time.monotonic() + 600
    while not completion.finished(last) and time.monotonic() < deadline:
        time.sleep(0.5)
    return {"size": size, **percentiles(samples)}


def single_latency(session: requests.Session, stack: Stack, generator: Generator, count: int) -> dict:
    """p50/p95/p99 of one-alert POSTs (201 answers), one at a time."""
    samples = []
    for _ in range(count):
        body = generator.alpr_alert(run="single")
        elapsed, response = timed(lambda body=body: session.post(f"{stack.url}/api/v1/alerts", json=body, timeout=60))
        response.raise_for_status()
        samples.append(elapsed)
    return percentiles(samples)
