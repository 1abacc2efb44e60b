"""The alert store's outcome queries: the escalation sweep, the aging queue and the funnel's counts.

:class:`~services.intake.dependencies.AlertStore` inherits these; its ``ensure_indexes`` creates the
indexes they run on (``triage_due``, ``aging_queue``, ``escalation_outbox``, ``metrics_funnel``).
The funnel's counts are ``$match`` + ``$group`` with ``$sum: 1`` (and ``$type``), what FerretDB 1.24
supports; its percentiles are taken by :mod:`services.intake.metrics` over the stored durations.
"""

from datetime import datetime

from pymongo import ASCENDING, ReturnDocument

DURATIONS = ("seconds_to_assignment", "seconds_to_first_action")
OBSOLETE_METRICS_INDEXES = {
    "metrics_time",
    *(f"metrics_{lead}_{field}" for lead in ("agency_source", "agency") for field in DURATIONS),
}


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

    def ensure_metrics_indexes(self) -> None:
        """The one index the funnel's queries run on; it holds the durations, so reading them is
        covered. Drops the indexes of the earlier per-rank queries."""
        for name in OBSOLETE_METRICS_INDEXES & set(self.alerts.index_information()):
            self.alerts.drop_index(name)
        keys = ("agency", "received_at", "source", *DURATIONS)
        self.alerts.create_index([(key, ASCENDING) for key in keys], name="metrics_funnel")

    def funnel_counts(self, match: dict) -> list[tuple[dict, int]]:
        """How many alerts match, per ``{"source", "status", "reason"?, "overdue"?, "escalated"}``:
        ``reason`` is the dismissal's, ``escalated`` the ``$type`` of ``escalated_at`` (``"missing"``
        or ``"null"`` when never escalated). A key the alert lacks is absent."""
        key = {
            "source": "$source",
            "status": "$status",
            "reason": "$dismissal.reason",
            "overdue": "$overdue",
            "escalated": {"$type": "$escalated_at"},
        }
        pipeline = [{"$match": match}, {"$group": {"_id": key, "n": {"$sum": 1}}}]
        return [(row["_id"] or {}, row["n"]) for row in self.alerts.aggregate(pipeline)]

    def connected_counts(self, match: dict) -> list[tuple[str, int | None, int]]:
        """``(source, related_case_count, n)`` for the matching alerts with related records.

        ``related_count`` and ``related_case_count`` are set together when entities are resolved, the
        cases being among the related records, so an alert connected to a case is in these rows.
        """
        pipeline = [
            {"$match": {**match, "related_count": {"$gt": 0}}},
            {"$group": {"_id": {"source": "$source", "cases": "$related_case_count"}, "n": {"$sum": 1}}},
        ]
        rows = self.alerts.aggregate(pipeline)
        return [((row["_id"] or {}).get("source"), (row["_id"] or {}).get("cases"), row["n"]) for row in rows]

    def durations(self, match: dict, fields: tuple[str, ...]) -> list[tuple[str, dict]]:
        """``(source, {field: seconds})`` of each matching alert with one of ``fields`` set: the
        numbers alone (no ``_id``), read from the ``metrics_funnel`` index."""
        query = {**match, "$or": [{field: {"$gte": 0}} for field in fields]}
        projection = {"_id": 0, "source": 1, **dict.fromkeys(fields, 1)}
        return [(row.get("source"), row) for row in self.alerts.find(query, projection)]
