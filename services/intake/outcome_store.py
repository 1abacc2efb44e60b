"""The alert store's outcome queries: the escalation sweep, the aging queue and the funnel's tallies.

:class:`~services.intake.dependencies.AlertStore` inherits these; its ``ensure_indexes`` creates the
indexes they run on (``triage_due``, ``aging_queue`` and the tallies'). The
funnel is read from hour and day buckets (:mod:`casewire.tallies`, ``funnel_hours``/``funnel_days``)
kept by the deltas of each change (:mod:`services.intake.metrics` says what counts).
"""

from datetime import datetime

from pymongo import ASCENDING

from casewire.errors import Conflict


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
            self._versioned(
                {
                    "$set": {"overdue": True, "escalated_at": now},
                    "$unset": {"triage_open": ""},
                    "$push": {"actions": action},
                }
            ),
        )
        if changed is None:
            self.close_outbox(entry)
            return None
        return changed[1]

    def escalate_by_hand(
        self, alert_id: str, now: datetime, action: dict, escalation: dict, open_statuses: tuple[str, ...]
    ) -> tuple[dict, bool]:
        """A person escalates an open alert: marked as the sweep marks it (``overdue``, ``escalated_at``,
        out of the sweep), with who and why (``escalation``), once. ``(alert, True)`` when this call
        escalated it, ``(alert, False)`` when it was escalated already (that escalation answers).

        It waits for triage again (``touched_at`` cleared): the next action of the one it is assigned to
        takes it out of the aging queue. An alert without a deadline is due from now (the queue's order).
        The outbox entry is the sweep's, so an escalation is announced once whoever made it. Raises
        NotFound, or Conflict for an alert that is no longer open.
        """
        alert = self.get(alert_id)
        if alert["status"] in open_statuses and alert.get("escalated_at") is None:
            entry = f"escalated-{alert_id}"
            opened = self.open_outbox(entry, [alert_id], now, kind="escalated")
            marks = {"overdue": True, "escalated_at": now, "escalation": escalation}
            if alert.get("triage_due") is None:
                marks["triage_due"] = now
            changed = self.change(
                {"_id": alert_id, "status": {"$in": list(open_statuses)}, "escalated_at": None},
                self._versioned(
                    {"$set": marks, "$unset": {"triage_open": "", "touched_at": ""}, "$push": {"actions": action}}
                ),
            )
            if changed is not None:
                return changed[1], True
            if opened:
                self.close_outbox(entry)
            alert = self.get(alert_id)
        if alert["status"] not in open_statuses:
            raise Conflict(
                f"alert {alert_id} is {alert['status']}; escalated needs one of {', '.join(open_statuses)}",
                {"status": [f"is {alert['status']}"]},
            )
        if alert.get("escalated_at") is None:
            raise Conflict(f"alert {alert_id} changed; try again", {"alert": ["changed; try again"]})
        return alert, False

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
