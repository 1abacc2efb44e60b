"""The alert store's outcome queries: the escalation sweep, the aging queue and the funnel's counts.

:class:`~services.intake.dependencies.AlertStore` inherits these; its ``ensure_indexes`` creates the
indexes they run on (``triage_due``, ``aging_queue``, ``escalation_outbox``, ``metrics_*``). Every
figure is computed by MongoDB (``$match`` + ``$group`` with ``$sum: 1``, or a sorted ``skip`` on an
index for a percentile): the operators FerretDB 1.24 supports, and no documents scanned in Python.
"""

from datetime import datetime

from pymongo import ASCENDING, ReturnDocument


class OutcomeQueries:
    alerts = None  # the ``alerts`` collection, set by AlertStore

    # -- escalation ---------------------------------------------------------------------------------

    def due_for_escalation(self, now: datetime, limit: int = 500) -> list[dict]:
        """Alerts still waiting for triage whose deadline has passed, oldest deadline first."""
        query = {"triage_open": True, "triage_due": {"$lte": now}}
        return list(self.alerts.find(query, {"_id": 1}).sort([("triage_due", ASCENDING)]).limit(limit))

    def escalate(self, alert_id: str, now: datetime, action: dict) -> dict | None:
        """Mark one alert ``overdue`` (once: whoever claims it first); None if it was triaged meanwhile.

        ``escalation_unpublished`` stays until ``alert_overdue`` is confirmed (an outbox, as for
        ``alert_received``).
        """
        return self.alerts.find_one_and_update(
            {"_id": alert_id, "triage_open": True, "triage_due": {"$lte": now}},
            {
                "$set": {"overdue": True, "escalated_at": now, "escalation_unpublished": True},
                "$unset": {"triage_open": ""},
                "$push": {"actions": action},
            },
            return_document=ReturnDocument.AFTER,
        )

    def escalation_published(self, alert_id: str) -> None:
        self.alerts.update_one({"_id": alert_id}, {"$unset": {"escalation_unpublished": ""}})

    def unpublished_escalations(self, older_than: datetime, limit: int = 500) -> list[dict]:
        query = {"escalation_unpublished": True, "escalated_at": {"$lt": older_than}}
        return list(self.alerts.find(query).limit(limit))

    # -- the aging queue ----------------------------------------------------------------------------

    def overdue_page(self, filters: dict, limit: int, after: tuple | None) -> list[dict]:
        """Overdue alerts of ``filters["agency"]``, the longest overdue first; ``after`` is the
        (triage_due, id) of the last alert of the previous page."""
        query = {"overdue": True, "agency": filters.get("agency")}
        query.update({key: filters[key] for key in ("source", "assignee", "status") if filters.get(key)})
        if after:
            due, last_id = after
            query["$or"] = [{"triage_due": {"$gt": due}}, {"triage_due": due, "_id": {"$gt": last_id}}]
        cursor = self.alerts.find(query).sort([("triage_due", ASCENDING), ("_id", ASCENDING)])
        return list(cursor.limit(limit))

    # -- metrics ------------------------------------------------------------------------------------

    def count_by(self, match: dict, keys: tuple[str, ...]) -> list[tuple[tuple, int]]:
        """How many alerts match, grouped by the values of ``keys`` (dotted paths allowed)."""
        group_id = {key.replace(".", "_"): f"${key}" for key in keys}
        pipeline = [{"$match": match}, {"$group": {"_id": group_id, "n": {"$sum": 1}}}]
        rows = self.alerts.aggregate(pipeline)
        return [(tuple((row["_id"] or {}).get(key.replace(".", "_")) for key in keys), row["n"]) for row in rows]

    def value_at(self, match: dict, field: str, rank: int):
        """The ``field`` value of the alert at 0-based ``rank`` when the matching alerts are sorted by it."""
        query = {**match, field: {"$gte": 0}}
        found = list(self.alerts.find(query, {field: 1}).sort([(field, ASCENDING)]).skip(rank).limit(1))
        return found[0][field] if found else None
