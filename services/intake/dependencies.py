"""Intake's backend: the ``alerts`` collection, wrapped as :class:`AlertStore`."""

import uuid
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from casewire.errors import NotFound, Unavailable


class AlertStore:
    """Alerts keyed by id, unique per (source_system, source_event_id)."""

    def __init__(self, database):
        self.alerts = database["alerts"]

    def ensure_indexes(self) -> None:
        self.alerts.create_index(
            [("source_system", ASCENDING), ("source_event_id", ASCENDING)], unique=True, name="natural_key"
        )
        self.alerts.create_index([("received_at", DESCENDING)], name="received_at")
        self.alerts.create_index([("status", ASCENDING), ("received_at", DESCENDING)], name="status_time")
        self.alerts.create_index([("unpublished", ASCENDING)], name="unpublished")

    def find_by_natural_key(self, source_system: str, source_event_id: str) -> dict | None:
        return self.alerts.find_one({"source_system": source_system, "source_event_id": source_event_id})

    def insert(self, alert: dict) -> tuple[dict, bool]:
        """Store a new alert; if its natural key exists, return the first one and False."""
        alert = {"_id": uuid.uuid4().hex, **alert}
        try:
            self.alerts.insert_one(alert)
        except DuplicateKeyError:
            return self.find_by_natural_key(alert["source_system"], alert["source_event_id"]), False
        except PyMongoError as exc:
            raise Unavailable(f"the alert store is unavailable: {exc}") from exc
        return alert, True

    def get(self, alert_id: str) -> dict:
        alert = self.alerts.find_one({"_id": alert_id})
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        return alert

    def mark_published(self, alert_id: str) -> None:
        self.alerts.update_one({"_id": alert_id}, {"$unset": {"unpublished": ""}})

    def unpublished(self, older_than: datetime, limit: int = 500) -> list[dict]:
        """Alerts whose ``alert_received`` event has not been confirmed yet."""
        return list(self.alerts.find({"unpublished": True, "received_at": {"$lt": older_than}}).limit(limit))

    def set_resolution(self, alert_id: str, entities: list[dict], related: list[dict]) -> dict:
        alert = self.alerts.find_one_and_update(
            {"_id": alert_id},
            {"$set": {"entities": entities, "related": related}},
            return_document=ReturnDocument.AFTER,
        )
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        return alert

    def list(self, filters: dict, limit: int, after: tuple | None) -> list[dict]:
        """Newest first; ``after`` is the (received_at, id) of the last alert of the previous page."""
        query = {key: value for key, value in filters.items() if key in ("status", "source", "assignee")}
        if "since" in filters or "until" in filters:
            query["occurred_at"] = {}
            if "since" in filters:
                query["occurred_at"]["$gte"] = filters["since"]
            if "until" in filters:
                query["occurred_at"]["$lt"] = filters["until"]
        if after:
            received_at, last_id = after
            query["$or"] = [
                {"received_at": {"$lt": received_at}},
                {"received_at": received_at, "_id": {"$lt": last_id}},
            ]
        cursor = self.alerts.find(query).sort([("received_at", DESCENDING), ("_id", DESCENDING)])
        return list(cursor.limit(limit))

    def count(self) -> int:
        return self.alerts.estimated_document_count()

    def export(self, after: str | None, limit: int):
        """Alerts in id order after ``after``: a stable paging for rebuilding other stores."""
        query = {"_id": {"$gt": after}} if after else {}
        return list(self.alerts.find(query).sort([("_id", ASCENDING)]).limit(limit))

    def ping(self) -> bool:
        try:
            self.alerts.database.command("ping")
        except PyMongoError:
            return False
        return True
