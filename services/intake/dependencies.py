"""Intake's backend: alerts, their keys, resolutions and outbox, wrapped as :class:`AlertStore`.

Each document has one writer on the ingest path, so nothing there needs a lock:

- ``alerts``: inserted once per alert (``_id`` from :func:`services.intake.ingest.alert_id_of`); later
  changed only by people triaging it and by cases (promotion, holds), each change one atomic
  conditional write (:meth:`casewire.docstore.Collection.update_atomic`);
- ``keys``: one per event (its natural key), inserted; the keys naming an alert other than its own
  first read are its repeat sightings;
- ``resolutions``: one per alert, inserted by the entities service's ``alerts_resolved``;
- ``outbox``: one entry per batch (or per change) until its events are confirmed, then deleted;
- the funnel's tallies: deltas inserted by each change (:mod:`casewire.tallies`).

The retention sweep finds its work by equality on ``purge_slot`` (the minute an alert becomes due,
:mod:`services.intake.retention`), walking only the hours a small queue of markers names
(``purge_hours``), never by a range over the alerts.
"""

import uuid
from collections.abc import Iterator
from datetime import datetime

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import PyMongoError

from casewire import docstore, tallies
from casewire.docstore import BEFORE, apply_update
from casewire.errors import Conflict, NotFound, Unavailable
from services.intake import identification as identifying
from services.intake import metrics
from services.intake.outcome_store import OutcomeQueries
from services.intake.retention import slot_of


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable(f"the alert store is unavailable: {exc}")


def _hour(at: str | None) -> str | None:
    return tallies.hour_of(datetime.fromisoformat(at)) if at else None


class AlertStore(OutcomeQueries):
    """Alerts keyed by id, their keys, resolutions and outbox; outcome queries inherited."""

    def __init__(self, database: Database, flavor: str | None = None):
        self.alerts, self.keys_, self.resolutions, self.outbox, self.purge_hours = docstore.open_collections(
            database, "alerts", "keys", "resolutions", "outbox", "purge_hours", flavor=flavor
        )
        self.tallies = tallies.Tallies(
            database,
            "funnel",
            contribute=metrics.contribution,
            hour_of=lambda record: record["received_hour"],
            flavor=flavor,
        )

    def ensure_indexes(self) -> None:
        self.alerts.create_index([("purge_slot", ASCENDING)], name="purge_slot")
        self.alerts.create_index([("case_ids", ASCENDING)], name="case_ids")
        self.alerts.create_index([("legal_hold", ASCENDING)], name="legal_hold")
        self.keys_.create_index([("alert_id", ASCENDING)], name="alert")
        self.outbox.create_index([("at", ASCENDING)], name="at")
        # Outcomes: the escalation sweep, the aging queue and the metrics (docs/outcomes.md).
        self.alerts.create_index([("triage_open", ASCENDING), ("triage_due", ASCENDING)], name="triage_due")
        self.alerts.create_index(
            [("overdue", ASCENDING), ("agency", ASCENDING), ("triage_due", ASCENDING), ("_id", ASCENDING)],
            name="aging_queue",
        )
        self.tallies.ensure_indexes()

    # -- intake ---------------------------------------------------------------------------------

    def insert_keys(self, keys: list[dict]) -> set[int]:
        """Store events' keys; the positions of those already known."""
        try:
            return self.keys_.insert_new(keys)
        except PyMongoError as exc:
            raise _unavailable(exc) from exc

    def keys(self, key_ids: list[str]) -> dict[str, dict]:
        try:
            return self.keys_.get_many(key_ids)
        except PyMongoError as exc:
            raise _unavailable(exc) from exc

    def insert_alerts(self, alerts: list[dict], batch_id: str) -> set[int]:
        """Store new alerts in one unordered write and count them in; the positions that existed already.

        Any other write error raises Unavailable: the caller answers nothing as stored, and sending
        the batch again is safe because every alert and key is keyed deterministically.
        """
        if not alerts:
            return set()
        for alert in alerts:
            if alert.get("purge_after"):
                alert["purge_slot"] = slot_of(max(alert["purge_after"], alert["received_at"]))
        try:
            self._mark_hours([a for a in alerts if a.get("purge_slot")])
            refused = self.alerts.insert_new(alerts)
            self.tallies.added(f"ingest-{batch_id}", [a for i, a in enumerate(alerts) if i not in refused])
        except PyMongoError as exc:
            raise _unavailable(exc) from exc
        return refused

    # -- the outbox -----------------------------------------------------------------------------

    def open_outbox(self, entry_id: str, alert_ids: list[str], at: datetime, kind: str = "received") -> bool:
        """Remember that events about ``alert_ids`` are to be sent, before the change they announce;
        False when the entry was open already (another change of the same kind owns it)."""
        try:
            return not self.outbox.insert_new([{"_id": entry_id, "kind": kind, "alert_ids": alert_ids, "at": at}])
        except PyMongoError as exc:
            raise _unavailable(exc) from exc

    def close_outbox(self, entry_id: str) -> None:
        """Its events were confirmed."""
        self.outbox.delete_one({"_id": entry_id})

    def pending_outbox(self, older_than: datetime, limit: int = 100) -> list[dict]:
        """Entries whose events were not confirmed ``older_than`` ago: the outbox holds only those, so
        this reads a handful of documents whatever the number of alerts."""
        return list(self.outbox.find({"at": {"$lt": older_than}}).sort([("at", ASCENDING)]).limit(limit))

    # -- reading --------------------------------------------------------------------------------

    def get(self, alert_id: str) -> dict:
        alert = self.alerts.find_one({"_id": alert_id})
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        return alert

    def get_many(self, alert_ids: list[str]) -> dict[str, dict]:
        return self.alerts.get_many(alert_ids)

    def described(self, alert_id: str) -> dict:
        """The alert with its repeat sightings and its resolution (entities, related records)."""
        alert = self.get(alert_id)
        repeats = [
            {"source_event_id": key["source_event_id"], "occurred_at": key["occurred_at"], "at": key["at"]}
            for key in self.keys_.find({"alert_id": alert_id}).sort([("at", ASCENDING)])
            if key["source_event_id"] != alert["source_event_id"] or key["source_system"] != alert["source_system"]
        ]
        resolution = self.resolutions.find_one({"_id": alert_id}) or {}
        return {**alert, "repeats": repeats, **{k: resolution[k] for k in ("entities", "related") if k in resolution}}

    def with_entities(self, alerts: list[dict]) -> list[dict]:
        """Each alert of a list page with the entities its resolution found."""
        found = self.resolutions.get_many([alert["_id"] for alert in alerts], {"entities": 1})
        return [{**alert, "entities": (found.get(alert["_id"]) or {}).get("entities", [])} for alert in alerts]

    # -- changes --------------------------------------------------------------------------------

    def change(self, query: dict, update: dict) -> tuple[dict, dict] | None:
        """One atomic conditional write to the alert ``query["_id"]``, counted in the tallies:
        ``(before, after)``, or None when the alert does not match ``query``."""
        before = self.alerts.update_atomic(query, update, return_document=BEFORE)
        if before is None:
            return None
        after = apply_update(before, update)
        self.tallies.changed(f"change-{uuid.uuid4().hex}", before, after)
        return before, after

    def _versioned(self, update: dict) -> dict:
        return {**update, "$inc": {**update.get("$inc", {}), "version": 1}}

    def transition(
        self, alert_id: str, allowed_from: tuple[str, ...], changes: dict, action: dict, unset: tuple = ()
    ) -> dict:
        """Apply ``changes`` (and remove the ``unset`` fields) and log ``action`` only if the alert's
        status is in ``allowed_from``.

        One conditional single-document write, so two people triaging at once cannot both win.
        Raises NotFound, or Conflict naming the current status.
        """
        query = {"_id": alert_id}
        if allowed_from:
            query["status"] = {"$in": list(allowed_from)}
        update = {"$push": {"actions": action}}
        if changes:
            update["$set"] = changes
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        changed = self.change(query, self._versioned(update))
        if changed is None:
            current = self.get(alert_id)["status"]
            raise Conflict(
                f"alert {alert_id} is {current}; {action['action']} needs one of {', '.join(allowed_from)}",
                {"status": [f"is {current}"]},
            )
        return changed[1]

    def mark_identified(self, alert_id: str, identification: dict, action: dict, allowed_from: tuple[str, ...]) -> dict:
        """C26: record ``identification`` on a face alert not yet identified whose status is in ``allowed_from``.

        One conditional single-document write, so two reviewers cannot both identify it. Raises
        NotFound, or Conflict saying why the alert cannot be identified.
        """
        query = {
            "_id": alert_id,
            "source": "face",
            "identified": {"$ne": True},
            "status": {"$in": list(allowed_from)},
        }
        update = {"$push": {"actions": action}, "$set": {"identified": True, "identification": identification}}
        changed = self.change(query, self._versioned(update))
        if changed is None:
            why = identifying.conflict(self.get(alert_id)) or f"alert {alert_id} changed; try again"
            raise Conflict(why, {"alert": [why]})
        return changed[1]

    def set_once(self, alert_id: str, empty_field: str, changes: dict) -> bool:
        """Set ``changes`` only while ``empty_field`` is still empty (first assignment, first action)."""
        return self.change({"_id": alert_id, empty_field: None}, {"$set": changes}) is not None

    def mark_triaged(self, alert_id: str, at: datetime) -> bool:
        """The assignee acted: the alert leaves the escalation sweep and the aging queue (once)."""
        update = {"$set": {"touched_at": at}, "$unset": {"triage_open": "", "overdue": ""}}
        return self.change({"_id": alert_id, "touched_at": None}, update) is not None

    def mark_promoted(self, alert_id: str, case_id: str, action: dict) -> dict:
        """Set ``promoted`` and remember ``case_id`` once (``promoted_into``; a case that linked the
        alert before names it in ``case_ids`` already); Conflict when the alert was dismissed."""
        changed = self.change(
            {"_id": alert_id, "status": {"$in": ["new", "assigned", "promoted"]}, "promoted_into": {"$ne": case_id}},
            self._versioned(
                {
                    "$set": {"status": "promoted"},
                    "$addToSet": {"case_ids": case_id, "promoted_into": case_id},
                    "$push": {"actions": action},
                    "$unset": {"triage_open": "", "overdue": ""},
                }
            ),
        )
        if changed is not None:
            return changed[1]
        alert = self.get(alert_id)
        if case_id in (alert.get("promoted_into") or []):
            return alert
        raise Conflict(f"alert {alert_id} is {alert['status']} and cannot be promoted")

    # -- resolutions ----------------------------------------------------------------------------

    def save_resolutions(self, resolutions: list[dict]) -> int:
        """Keep what the entities service resolved of each alert (the first resolution of an alert
        wins; a replay stores nothing) and count the alerts connected to earlier records (once per
        alert, whichever delivery counts it)."""
        docs = [
            {
                "_id": resolved["alert_id"],
                "entities": resolved["entities"],
                "related": resolved["related"],
                "agency": resolved.get("agency"),
                "received_hour": _hour(resolved.get("received_at")),
                "source": resolved.get("source"),
            }
            for resolved in resolutions
        ]
        try:
            refused = self.resolutions.insert_new(docs)
            self.tallies.added(lambda doc: f"resolved-{doc['_id']}", [doc for doc in docs if doc["received_hour"]])
        except PyMongoError as exc:
            raise _unavailable(exc) from exc
        return len(docs) - len(refused)

    # -- retention ------------------------------------------------------------------------------

    def _mark_hours(self, alerts: list[dict]) -> None:
        """The purge queue: one marker per record class and hour that holds alerts' purge slots."""
        hours = {(alert["record_class"], alert["purge_slot"][:13]) for alert in alerts}
        marks = [{"_id": f"{kind}|{hour}", "record_class": kind, "hour": hour} for kind, hour in sorted(hours)]
        self.purge_hours.insert_new(marks)

    def due_hours(self, record_class: str, until_hour: str) -> list[str]:
        """The hours up to ``until_hour`` whose slots hold alerts of ``record_class`` not yet swept (the
        markers of hours swept are deleted, so this reads a handful of documents)."""
        found = self.purge_hours.find({"record_class": record_class}, {"hour": 1})
        return sorted(mark["hour"] for mark in found if mark["hour"] <= until_hour)

    def finish_hour(self, record_class: str, hour: str) -> None:
        self.purge_hours.delete_one({"_id": f"{record_class}|{hour}"})

    def due_in_slot(self, slot: str, record_class: str) -> list[dict]:
        """The alerts of ``record_class`` that become due in the minute ``slot``."""
        return list(self.alerts.find({"purge_slot": slot, "record_class": record_class}))

    def delete_if_due(self, alert: dict, now: datetime) -> dict | None:
        """Delete the alert if, at this moment, it is still due, in no case and under no hold (C17-C19);
        the deleted alert, counted out of the tallies, or None."""
        query = {
            "_id": alert["_id"],
            "purge_after": {"$lte": now},
            "case_ids": {"$in": [None, []]},
            "legal_hold": {"$in": [None, []]},
        }
        deleted = self.alerts.delete_atomic(query)
        if deleted is not None:
            self.tallies.removed(f"purge-{deleted['_id']}", [deleted])
            resolution = self.resolutions.find_one_and_delete({"_id": deleted["_id"]})
            if resolution is not None and resolution.get("received_hour"):
                self.tallies.removed(f"purge-resolution-{deleted['_id']}", [resolution])
            self.keys_.delete_many({"alert_id": deleted["_id"]})
        return deleted

    def set_legal_hold(self, alert_ids: list[str], case_id: str, held: bool, now: datetime) -> list[dict]:
        """Add or remove ``case_id`` among the cases holding each alert (``legal_hold``), atomically per
        alert and at a new version; an alert let go of that is already due goes back in the retention
        sweep's queue. The alerts changed, as they are now."""
        update = {"$addToSet": {"legal_hold": case_id}} if held else {"$pull": {"legal_hold": case_id}}
        return self._each_changed(alert_ids, update, now, requeue=not held)

    def link_case(self, alert_ids: list[str], case_id: str, linked: bool, now: datetime) -> list[dict]:
        """A case names (or no longer names) these alerts: they are kept while a case names them (C19).
        The alerts changed (at a new version), as they are now."""
        update = {"$addToSet": {"case_ids": case_id}} if linked else {"$pull": {"case_ids": case_id}}
        return self._each_changed(alert_ids, update, now, requeue=not linked)

    def naming_case(self, case_id: str) -> list[str]:
        """The alerts a case names or holds."""
        found = list(self.alerts.find({"case_ids": case_id}, {"_id": 1}))
        found += list(self.alerts.find({"legal_hold": case_id}, {"_id": 1}))
        return list(dict.fromkeys(alert["_id"] for alert in found))

    def forget_case(self, alert_ids: list[str], case_id: str, now: datetime) -> list[dict]:
        """Remove a purged case from these alerts (:meth:`naming_case`) (C16); they become due again."""
        return self._each_changed(alert_ids, {"$pull": {"case_ids": case_id, "legal_hold": case_id}}, now, True)

    def _each_changed(self, alert_ids: list[str], update: dict, now: datetime, requeue: bool) -> list[dict]:
        """``update`` each alert at a new version (one atomic write each); the alerts as they are now."""
        changed = []
        for alert_id in dict.fromkeys(alert_ids):
            after = self.alerts.update_atomic({"_id": alert_id}, self._versioned(update))
            if after is None:
                continue
            changed.append(after)
            if requeue:
                self._requeue(alert_id, now)
        return changed

    def _requeue(self, alert_id: str, now: datetime) -> None:
        """An alert whose deadline passed while it was kept goes in the current minute's slot."""
        alert = self.alerts.find_one({"_id": alert_id}, {"purge_after": 1, "record_class": 1})
        if alert and alert.get("purge_after") and alert["purge_after"] <= now:
            self._mark_hours([{**alert, "purge_slot": slot_of(now)}])
            self.alerts.update_atomic({"_id": alert_id}, {"$set": {"purge_slot": slot_of(now)}})

    # -- the rest -------------------------------------------------------------------------------

    def count(self) -> int:
        return self.alerts.estimated_count()

    def export(self, after: str | None, limit: int) -> list[dict]:
        """Alerts in id order after ``after``: a stable paging for rebuilding other stores."""
        query = {"_id": {"$gt": after}} if after else {}
        return list(self.alerts.find(query).sort([("_id", ASCENDING)]).limit(limit))

    def tallied(self) -> Iterator[dict]:
        """Every alert and resolution, as the tallies count them (for a rebuild)."""
        yield from self.alerts.find({}, dict.fromkeys(("agency", "received_hour", *metrics.FIELDS), 1))
        yield from self.resolutions.find({"received_hour": {"$ne": None}})

    def ping(self) -> bool:
        try:
            self.alerts.database.command("ping")
        except PyMongoError:
            return False
        return True
