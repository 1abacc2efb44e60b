"""The alert store's outcome queries: the escalation sweep, the aging queue and the funnel's tallies.

:class:`~services.intake.dependencies.AlertStore` inherits these; its ``ensure_indexes`` creates the
indexes they run on (``triage_due``, ``aging_queue``, ``escalation_outbox``, and the tallies'). The
funnel is read from hour and day buckets (:mod:`casewire.tallies`, ``funnel_hours``/``funnel_days``)
that a sweep recomputes from the alerts :mod:`services.intake.metrics` counts.
"""

from datetime import datetime

from pymongo import ASCENDING, ReturnDocument

from casewire import tallies
from services.intake import metrics

DURATIONS = ("seconds_to_assignment", "seconds_to_first_action")
OBSOLETE_METRICS_INDEXES = {
    "metrics_funnel",
    "metrics_time",
    *(f"metrics_{lead}_{field}" for lead in ("agency_source", "agency") for field in DURATIONS),
}
"""Indexes of the funnel's earlier queries on alerts (the tallies replaced them)."""


def funnel_tallies(alerts) -> tallies.Tallies:
    """The funnel's hour and day buckets over ``alerts``: ``funnel_hours``, ``funnel_days``, ``funnel_tallies``."""
    return tallies.Tallies(
        alerts,
        "funnel",
        time_field="received_at",
        hour_field="received_hour",
        fields=metrics.FIELDS,
        contribute=metrics.contribution,
    )


class OutcomeQueries:
    alerts = None  # the ``alerts`` collection, set by AlertStore
    tallies = None  # the funnel's buckets (casewire.tallies.Tallies), set by AlertStore

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
        with self._changing(alert_id):
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
        with self.locks.held(alert_id):
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
        """The tallies' indexes; drops the indexes the funnel's earlier queries on alerts ran on."""
        for name in OBSOLETE_METRICS_INDEXES & set(self.alerts.index_information()):
            self.alerts.drop_index(name)
        self.tallies.ensure_indexes()
