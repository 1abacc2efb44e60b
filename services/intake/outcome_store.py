"""The alert store's outcome queries: the escalation sweep, the aging queue and the funnel's tallies.

:class:`~services.intake.dependencies.AlertStore` inherits these; its ``ensure_indexes`` creates the
indexes they run on (``triage_due``, ``aging_queue`` and the tallies'). The
funnel is read from hour and day buckets (:mod:`casewire.tallies`, ``funnel_hours``/``funnel_days``)
kept by the deltas of each change (:mod:`services.intake.metrics` says what counts).
"""

from datetime import datetime

from pymongo import ASCENDING


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

        An outbox entry is opened first, so ``alert_overdue`` is sent even if this process dies
        right after the claim (the entry names the alert; its sweep announces what it finds overdue).
        """
        entry = f"escalated-{alert_id}"
        self.open_outbox(entry, [alert_id], now, kind="escalated")
        changed = self.change(
            {"_id": alert_id, "triage_open": True, "triage_due": {"$lte": now}},
            {
                "$set": {"overdue": True, "escalated_at": now},
                "$unset": {"triage_open": ""},
                "$push": {"actions": action},
            },
        )
        if changed is None:
            self.close_outbox(entry)
            return None
        return changed[1]

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
