"""The alert list at scale: seed intake's collection straight to N alerts, then time filtered pages."""

import uuid
from datetime import UTC, datetime, timedelta

from pymongo import MongoClient

from bench.generate import Generator
from bench.measure import percentiles, timed

STATUSES = ("new", "new", "new", "assigned", "dismissed", "promoted")


def seed(mongo_uri: str, database: str, generator: Generator, total: int, progress) -> int:
    """Top intake's ``alerts`` up to ``total`` documents shaped as intake stores them."""
    alerts = MongoClient(mongo_uri)[database]["alerts"]
    missing = max(0, total - alerts.estimated_document_count())
    task = progress.add_task("seeding alerts", total=missing)
    now = datetime.now(UTC)
    while missing > 0:
        chunk = []
        for _ in range(min(1000, missing)):
            body = generator.alpr_alert(run="list")
            occurred = datetime.fromisoformat(body["occurred_at"])
            chunk.append({
                "_id": uuid.uuid4().hex, **body, "occurred_at": occurred,
                "received_at": now - timedelta(seconds=generator.random.randrange(0, 86400 * 30)),
                "status": generator.random.choice(STATUSES), "priority": "normal", "record_class": "sensor",
                "agency": "TX0000000", "unit": "rtcc", "assignee": None, "entities": [], "related": [],
                "actions": [], "version": 1,
            })  # fmt: skip
        alerts.insert_many(chunk, ordered=False)
        missing -= len(chunk)
        progress.advance(task, len(chunk))
    return alerts.estimated_document_count()


def list_pages(session, url: str, queries: int) -> dict:
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
