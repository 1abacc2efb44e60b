"""Intake's backend: the ``alerts`` collection, wrapped as :class:`AlertStore`."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import BulkWriteError, PyMongoError

from casewire.errors import Conflict, NotFound, Unavailable
from casewire.locks import DocumentLocks
from services.intake import identification as identifying
from services.intake.outcome_store import OutcomeQueries, funnel_tallies

DUPLICATE_KEY = 11000
LIST_FILTERS = ("status", "source", "assignee")


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable(f"the alert store is unavailable: {exc}")


OBSOLETE_INTAKE_INDEXES = {"natural_key", "repeat_keys"}
"""The earlier agency-blind keys: one agency's event could answer for another's (see ``ensure_indexes``)."""


class AlertStore(OutcomeQueries):
    """Alerts keyed by id, unique per (agency, source_system, source_event_id); outcome queries inherited.

    The natural key is the agency's: the same read of a shared camera network sent to two agencies is
    an alert of each, never one agency's answer to the other (who could not open it).

    Every change to an alert marks its hour for the funnel's tallies first (:meth:`casewire.tallies.Tallies.touch`)
    and is written under the alert's lock (``alert_locks``, :mod:`casewire.locks`): an alert has
    several writers (people triaging, the entity resolution, the outbox, escalation, legal holds)."""

    def __init__(self, database):
        self.alerts = database["alerts"]
        self.tallies = funnel_tallies(self.alerts)
        self.locks = DocumentLocks(database["alert_locks"])

    @contextmanager
    def _changing(self, alert_id: str) -> Iterator[None]:
        """Around a write that changes what the funnel counts: the alert's hour marked, its lock held."""
        self.tallies.touch_id(alert_id)
        with self.locks.held(alert_id):
            yield

    def ensure_indexes(self) -> None:
        for name in OBSOLETE_INTAKE_INDEXES & set(self.alerts.index_information()):
            self.alerts.drop_index(name)
        self.alerts.create_index(
            [("agency", ASCENDING), ("source_system", ASCENDING), ("source_event_id", ASCENDING)],
            unique=True,
            name="agency_natural_key",
        )
        self.alerts.create_index([("received_at", DESCENDING), ("_id", DESCENDING)], name="received_at")
        for field in LIST_FILTERS:
            self.alerts.create_index([(field, ASCENDING), ("received_at", DESCENDING)], name=f"{field}_time")
        self.alerts.create_index([("unpublished", ASCENDING)], name="unpublished")
        self.alerts.create_index([("update_unpublished", ASCENDING)], name="update_unpublished")
        self.alerts.create_index([("dedupe_key", ASCENDING), ("occurred_at", ASCENDING)], name="near_duplicates")
        self.alerts.create_index(
            [("agency", ASCENDING), ("source_system", ASCENDING), ("repeats.source_event_id", ASCENDING)],
            name="agency_repeat_keys",
        )
        self.alerts.create_index([("purge_after", ASCENDING)], name="purge_after")
        # Outcomes: the escalation sweep, the aging queue and the metrics (README, Outcomes).
        self.alerts.create_index([("triage_open", ASCENDING), ("triage_due", ASCENDING)], name="triage_due")
        self.alerts.create_index(
            [("overdue", ASCENDING), ("agency", ASCENDING), ("triage_due", ASCENDING), ("_id", ASCENDING)],
            name="aging_queue",
        )
        self.alerts.create_index(
            [("escalation_unpublished", ASCENDING), ("escalated_at", ASCENDING)], name="escalation_outbox"
        )
        self.ensure_metrics_indexes()

    # -- intake ---------------------------------------------------------------------------------

    def find_by_natural_key(self, agency: str | None, source_system: str, source_event_id: str) -> dict | None:
        """The agency's alert with this natural key, or its alert a repeat sighting with it was folded into."""
        known = {"agency": agency, "source_system": source_system}
        return self.alerts.find_one({**known, "source_event_id": source_event_id}) or (
            self.alerts.find_one({**known, "repeats.source_event_id": source_event_id})
        )

    def find_known(self, agency: str | None, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """For many natural keys of one agency at once: key → the alert holding it (as itself or as a repeat)."""
        by_system: dict[str, set[str]] = {}
        for system, event_id in keys:
            by_system.setdefault(system, set()).add(event_id)
        known = {}
        for system, ids in by_system.items():
            wanted, scope = sorted(ids), {"agency": agency, "source_system": system}
            for alert in self.alerts.find({**scope, "source_event_id": {"$in": wanted}}):
                known[(system, alert["source_event_id"])] = alert
            for alert in self.alerts.find({**scope, "repeats.source_event_id": {"$in": wanted}}):
                for repeat in alert["repeats"]:
                    if repeat["source_event_id"] in ids:
                        known.setdefault((system, repeat["source_event_id"]), alert)
        return known

    def near_duplicates(self, keys: list[str], start: datetime, end: datetime) -> list[dict]:
        """Alerts with one of these plate+camera keys that occurred between start and end."""
        query = {"dedupe_key": {"$in": sorted(set(keys))}, "occurred_at": {"$gte": start, "$lte": end}}
        return list(self.alerts.find(query, {"dedupe_key": 1, "occurred_at": 1}))

    def insert_many(self, alerts: list[dict]) -> set[int]:
        """Store new alerts in one unordered write; returns the positions refused as duplicates.

        Any other write error raises Unavailable: the caller answers nothing as stored, and a
        resubmission is safe because every alert is keyed by its natural key.
        """
        if not alerts:
            return set()
        try:
            self.tallies.touch(alerts)
            self.alerts.insert_many(alerts, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise _unavailable(exc) from exc
            return {error["index"] for error in errors}
        except PyMongoError as exc:
            raise _unavailable(exc) from exc
        return set()

    def add_repeats(self, repeats: list[tuple[str, dict]]) -> None:
        """Fold repeat sightings into their first alerts; a repeat already folded is not added twice.

        One update per repeat, not one bulk write: FerretDB 1.24 keeps a database connection open for
        every statement of an update command until the command ends, so a large bulk write could take
        its whole connection pool (README, "FerretDB and MongoDB").
        """
        try:
            for alert_id, repeat in repeats:
                with self.locks.held(alert_id):
                    self.alerts.update_one(
                        {"_id": alert_id, "repeats.source_event_id": {"$ne": repeat["source_event_id"]}},
                        {"$push": {"repeats": repeat}},
                    )
        except PyMongoError as exc:
            raise _unavailable(exc) from exc

    def mark_published(self, alert_id: str) -> None:
        """Clear the outbox flag of the alert: its ``alert_received`` was confirmed.

        By ``_id`` equality: FerretDB answers an ``$in`` by reading every alert.
        """
        with self.locks.held(alert_id):
            self.alerts.update_one({"_id": alert_id}, {"$unset": {"unpublished": ""}})

    def unpublished(self, older_than: datetime, limit: int = 500) -> list[dict]:
        """Alerts whose ``alert_received`` event has not been confirmed yet."""
        return list(self.alerts.find({"unpublished": True, "received_at": {"$lt": older_than}}).limit(limit))

    def updates_unpublished(self, older_than: datetime, limit: int = 500) -> list[dict]:
        """Alerts whose latest ``alert_updated`` event has not been confirmed yet."""
        return list(self.alerts.find({"update_unpublished": {"$lt": older_than}}).limit(limit))

    def mark_update_published(self, alert_id: str, version: int) -> None:
        """The ``alert_updated`` of ``version`` was confirmed (a newer change keeps its own flag)."""
        with self.locks.held(alert_id):
            self.alerts.update_one({"_id": alert_id, "version": version}, {"$unset": {"update_unpublished": ""}})

    def _versioned(self, alert_id: str, update: dict, at: datetime) -> dict:
        """``update`` plus a new version and the outbox flag of its ``alert_updated`` event.

        Alerts stored before versions existed count as version 1 (their ``alert_received``).
        """
        self.alerts.update_one({"_id": alert_id, "version": {"$exists": False}}, {"$set": {"version": 1}})
        return {**update, "$inc": {"version": 1}, "$set": {**update.get("$set", {}), "update_unpublished": at}}

    # -- reading --------------------------------------------------------------------------------

    def get(self, alert_id: str) -> dict:
        alert = self.alerts.find_one({"_id": alert_id})
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        return alert

    def page(self, filters: dict, limit: int, after: tuple | None, scope: dict | None = None) -> list[dict]:
        """Newest first; ``after`` is the (received_at, id) of the last alert of the previous page;
        ``scope`` is a filter of the alerts the caller may see (``casewire.access.alert_scope``)."""
        query = {key: filters[key] for key in LIST_FILTERS if filters.get(key)}
        if filters.get("since") or filters.get("until"):
            query["received_at"] = {}
            if filters.get("since"):
                query["received_at"]["$gte"] = filters["since"]
            if filters.get("until"):
                query["received_at"]["$lt"] = filters["until"]
        if after:
            received_at, last_id = after
            query["$or"] = [
                {"received_at": {"$lt": received_at}},
                {"received_at": received_at, "_id": {"$lt": last_id}},
            ]
        if scope:
            query = {"$and": [query, scope]}
        cursor = self.alerts.find(query).sort([("received_at", DESCENDING), ("_id", DESCENDING)])
        return list(cursor.limit(limit))

    # -- triage ---------------------------------------------------------------------------------

    def transition(
        self, alert_id: str, allowed_from: tuple[str, ...], changes: dict, action: dict, unset: tuple = ()
    ) -> dict:
        """Apply ``changes`` (and remove the ``unset`` fields) and log ``action`` only if the alert's
        status is in ``allowed_from``.

        One conditional single-document update, so two people triaging at once cannot both win.
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
        with self._changing(alert_id):
            update = self._versioned(alert_id, update, action["at"])
            alert = self.alerts.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)
        if alert is None:
            current = self.get(alert_id)["status"]
            raise Conflict(
                f"alert {alert_id} is {current}; {action['action']} needs one of {', '.join(allowed_from)}",
                {"status": [f"is {current}"]},
            )
        return alert

    def mark_identified(self, alert_id: str, identification: dict, action: dict, allowed_from: tuple[str, ...]) -> dict:
        """C26: record ``identification`` on a face alert not yet identified whose status is in ``allowed_from``.

        One conditional single-document update, so two reviewers cannot both identify it. Raises
        NotFound, or Conflict saying why the alert cannot be identified.
        """
        query = {
            "_id": alert_id,
            "source": "face",
            "identified": {"$ne": True},
            "status": {"$in": list(allowed_from)},
        }
        update = {"$push": {"actions": action}, "$set": {"identified": True, "identification": identification}}
        with self._changing(alert_id):
            update = self._versioned(alert_id, update, action["at"])
            alert = self.alerts.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)
        if alert is None:
            why = identifying.conflict(self.get(alert_id)) or f"alert {alert_id} changed; try again"
            raise Conflict(why, {"alert": [why]})
        return alert

    def set_once(self, alert_id: str, empty_field: str, changes: dict) -> bool:
        """Set ``changes`` only while ``empty_field`` is still empty (first assignment, first action)."""
        with self._changing(alert_id):
            return self.alerts.update_one({"_id": alert_id, empty_field: None}, {"$set": changes}).modified_count == 1

    def mark_triaged(self, alert_id: str, at) -> bool:
        """The assignee acted: the alert leaves the escalation sweep and the aging queue (once)."""
        with self._changing(alert_id):
            result = self.alerts.update_one(
                {"_id": alert_id, "touched_at": None},
                {"$set": {"touched_at": at}, "$unset": {"triage_open": "", "overdue": ""}},
            )
        return result.modified_count == 1

    def set_resolution(self, alert_id: str, entities: list[dict], related: list[dict]) -> dict:
        cases = sum(1 for record in related if record.get("record_type") == "case")
        with self._changing(alert_id):
            alert = self.alerts.find_one_and_update(
                {"_id": alert_id},
                {
                    "$set": {
                        "entities": entities,
                        "related": related,
                        "related_count": len(related),
                        "related_case_count": cases,
                    }
                },
                return_document=ReturnDocument.AFTER,
            )
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        return alert

    # -- retention ------------------------------------------------------------------------------

    def due_for_purge(self, record_class: str, now: datetime, limit: int = 500) -> list[dict]:
        """Alerts of ``record_class`` past their deadline, not promoted or linked to a case (``case_ids``
        missing or empty), not on hold."""
        query = {
            "record_class": record_class,
            "purge_after": {"$lte": now},
            "status": {"$ne": "promoted"},
            "case_ids": {"$in": [None, []]},
            "legal_hold": None,
        }
        return list(self.alerts.find(query).limit(limit))

    def set_legal_hold(self, alert_ids: list[str], case_id: str, held: bool) -> int:
        """Add or remove ``case_id`` from each alert's ``legal_hold`` (a list of holding cases, or None)."""
        changed = 0
        for alert_id in dict.fromkeys(alert_ids):  # each by _id: FerretDB answers an $in by reading every alert
            with self.locks.held(alert_id):
                stored = self.alerts.find_one({"_id": alert_id}, {"legal_hold": 1})
                if stored is None:
                    continue
                current = stored.get("legal_hold") or []
                others = [case for case in ([current] if isinstance(current, str) else current) if case != case_id]
                holders = [*others, case_id] if held else others
                self.alerts.update_one({"_id": alert_id}, {"$set": {"legal_hold": holders or None}})
            changed += 1
        return changed

    def forget_case(self, case_id: str) -> int:
        """Remove a purged case's id from every alert that names it (C16); idempotent."""
        found = list(self.alerts.find({"$or": [{"case_ids": case_id}, {"legal_hold": case_id}]}, {"_id": 1}))
        for alert in found:
            self.set_legal_hold([alert["_id"]], case_id, False)
            with self.locks.held(alert["_id"]):
                current = self.alerts.find_one({"_id": alert["_id"]}, {"case_ids": 1}) or {}
                remaining = [other for other in current.get("case_ids") or [] if other != case_id]
                self.alerts.update_one({"_id": alert["_id"]}, {"$set": {"case_ids": remaining}})
        return len(found)

    def delete(self, alert: dict) -> None:
        """Delete the alert and take it out of the funnel's tallies (its hour is recomputed)."""
        self.tallies.removing(alert, lambda: self.alerts.delete_one({"_id": alert["_id"]}))

    def mark_promoted(self, alert_id: str, case_id: str, action: dict) -> dict:
        """Set ``promoted`` and remember ``case_id`` once; Conflict when the alert was dismissed."""
        with self._changing(alert_id):
            alert = self.alerts.find_one_and_update(
                {"_id": alert_id, "status": {"$in": ["new", "assigned", "promoted"]}, "case_ids": {"$ne": case_id}},
                self._versioned(
                    alert_id,
                    {
                        "$set": {"status": "promoted"},
                        "$addToSet": {"case_ids": case_id},
                        "$push": {"actions": action},
                        "$unset": {"triage_open": "", "overdue": ""},
                    },
                    action["at"],
                ),
                return_document=ReturnDocument.AFTER,
            )
        if alert is not None:
            return alert
        alert = self.get(alert_id)
        if case_id in (alert.get("case_ids") or []):
            return alert
        raise Conflict(f"alert {alert_id} is {alert['status']} and cannot be promoted")

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
