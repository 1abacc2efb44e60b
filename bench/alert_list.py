"""The alert list at scale: seed intake's alerts and their index documents straight to N alerts, then
time filtered pages."""

import uuid
from datetime import UTC, datetime, timedelta

import requests
from elasticsearch import Elasticsearch, helpers
from pymongo import MongoClient
from rich.progress import Progress

from bench.generate import Generator
from bench.measure import percentiles, timed
from casewire.docstore import Collection, flavor_of
from services.intake.ingest import new_document
from services.intake.retention import RetentionPolicy
from services.intake.schemas import LIST_ITEM
from services.search.dependencies import SearchIndex
from services.search.documents import alert_document

STATUSES = ("new", "new", "new", "assigned", "dismissed", "promoted")
CONTEXT = {"actor": {"id": "bench", "agency": "TX0000000"}, "unit": "rtcc"}


def seed(
    mongo_uri: str, database: str, es_url: str, prefix: str, generator: Generator, total: int, progress: Progress
) -> int:
    """Top intake's alerts up to ``total``, each stored as intake stores it and indexed as the search
    service indexes it (the alert list reads its pages, items included, from the index)."""
    db = MongoClient(mongo_uri)[database]
    alerts = Collection(db["alerts"], flavor_of(db))  # its count from statistics: reading 100,000 alerts takes minutes
    index = SearchIndex(Elasticsearch(es_url, request_timeout=300), prefix)
    missing = max(0, total - alerts.estimated_count())
    task = progress.add_task("seeding alerts", total=missing)
    now = datetime.now(UTC)
    no_retention = RetentionPolicy(0, {}, None)
    while missing > 0:
        stored = []
        for _ in range(min(1000, missing)):
            body = generator.alpr_alert(run="list")
            alert = {"priority": "normal", **body, "occurred_at": datetime.fromisoformat(body["occurred_at"])}
            received = now - timedelta(seconds=generator.random.randrange(0, 86400 * 30))
            doc = new_document(uuid.uuid4().hex, alert, CONTEXT, received, no_retention)
            doc["status"] = generator.random.choice(STATUSES)
            stored.append(doc)
        alerts.insert_many(stored, ordered=False)
        indexed = [
            alert_document({
                **doc, "alert_id": doc["_id"], "occurred_at": doc["occurred_at"].isoformat(),
                "received_at": doc["received_at"].isoformat(), "item": LIST_ITEM.dump(doc),
            })
            for doc in stored
        ]  # fmt: skip
        helpers.bulk(
            index.client,
            ({"_index": index.alias("alerts"), "_id": doc["rid"], "_source": doc} for doc in indexed),
            chunk_size=1000,
        )
        missing -= len(stored)
        progress.advance(task, len(stored))
    index.refresh()
    return alerts.estimated_count()


def list_pages(session: requests.Session, url: str, queries: int) -> dict:
    """p50/p95 of the first page and a following page of ``status=new&source=alpr``, newest first."""
    first, following = [], []
    for _ in range(queries):
        elapsed, response = timed(
            lambda: session.get(f"{url}/api/v1/alerts", params={"status": "new", "source": "alpr"}, timeout=60)
        )
        response.raise_for_status()
        first.append(elapsed)
        cursor = response.json()["next_cursor"]
        if cursor:
            params = {"status": "new", "source": "alpr", "cursor": cursor}
            elapsed, response = timed(
                lambda params=params: session.get(f"{url}/api/v1/alerts", params=params, timeout=60)
            )
            response.raise_for_status()
            following.append(elapsed)
    return {"first_page": percentiles(first), "next_page": percentiles(following or [float("nan")])}
