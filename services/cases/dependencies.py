"""The cases service's backends, each wrapped as a small domain store.

- :class:`CaseStore`: ``cases`` (one document per case, its links inside), ``history`` (every action
  on a case), ``disseminations`` (C10) and ``case_outbox`` (changes whose ``case_updated`` is not yet
  confirmed).
- :class:`ContentStore`: ``items`` (notes, reports, interviews, tasks, evidence), ``custody``
  (append-only chain-of-custody entries) and the ``attachments`` GridFS bucket.
- :class:`WebhookStore`: ``webhooks`` (subscriptions) and ``deliveries`` (an outbox with retries).
- :class:`OversightStore`: ``holds`` (legal holds in force, C17: one document per hold),
  ``released_holds`` (their history), ``tombstones`` (content-free traces of purged records, C16) and
  ``notifications`` (control officials C6, dissemination recipients C11).

Every write is a single-document operation: nothing needs a multi-document transaction.
"""

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime

import gridfs
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from casewire import docstore, tallies
from casewire.docstore import BEFORE, apply_update
from casewire.errors import Conflict, NotFound, Unavailable
from services.cases import metrics


def new_id() -> str:
    return uuid.uuid4().hex


def hold_id(case_id: str, reference: str) -> str:
    """A legal hold's ``_id``: from its case and its reference, so placing the same hold twice is one hold."""
    return hashlib.sha256(json.dumps([case_id, reference]).encode()).hexdigest()[:32]


def encode_cursor(opened_at: datetime, case_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([opened_at.isoformat(), case_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        opened_at, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(opened_at), str(case_id)
    except (ValueError, TypeError) as exc:
        raise NotFound("no such page: the cursor is not one this service gave out") from exc


class CaseStore:
    """Cases, their history and disseminations. Every change to a case (:meth:`insert`, :meth:`update`,
    :meth:`remove`) is one atomic write, counted in the outcome tallies (:mod:`casewire.tallies`:
    ``outcome_hours``, ``outcome_days``) by a delta, and announced through the outbox."""

    def __init__(self, database: Database):
        (self.cases,) = docstore.open_collections(database, "cases")
        self.history = database["history"]
        self.disseminations = database["disseminations"]
        self.outbox = database["case_outbox"]
        self.tallies = tallies.Tallies(
            database,
            "outcome",
            contribute=metrics.contribution,
            hour_of=lambda case: case.get("opened_hour") or tallies.hour_of(case["opened_at"]),
        )

    GONE = {"purging": None}  # a case being purged is already gone for every reader (C16)

    def ensure_indexes(self) -> None:
        self.cases.create_index([("status", ASCENDING), ("opened_at", DESCENDING)], name="status_time")
        self.cases.create_index([("unit", ASCENDING), ("opened_at", DESCENDING)], name="unit_time")
        self.cases.create_index([("assignees", ASCENDING)], name="assignees")
        self.cases.create_index([("alert_ids", ASCENDING)], name="alert_ids")
        self.cases.create_index([("promoted_from_alert", ASCENDING)], name="promoted_from_alert")
        self.history.create_index([("case_id", ASCENDING), ("at", ASCENDING)], name="case_time")
        self.disseminations.create_index([("record_ids", ASCENDING), ("at", ASCENDING)], name="record_time")
        # Outcomes by period and by the sources of linked alerts (docs/outcomes.md): the tallies.
        self.tallies.ensure_indexes()
        self.cases.create_index([("classification", ASCENDING), ("review_due", ASCENDING)], name="review_due")
        self.outbox.create_index([("at", ASCENDING)], name="time")

    # -- the outbox of ``case_updated`` ----------------------------------------------------------
    # Every write of a case first inserts a marker of its own (``case_outbox``) and records the marker's
    # id on the case it writes; once the event announcing that state is confirmed the marker is deleted
    # (:meth:`announced`). A marker left behind (the broker was down, the process died) makes the
    # outbox timer announce the case's current state again.

    def _mark(self, case_id: str, at: datetime) -> str:
        marker = {"_id": new_id(), "case_id": case_id, "at": at}
        self.outbox.insert_one(marker)
        return marker["_id"]

    def announced(self, case: dict) -> None:
        """The ``case_updated`` of this state of ``case`` was confirmed: its write's marker goes."""
        if case.get("outbox_marker"):
            self.outbox.delete_one({"_id": case["outbox_marker"]})

    def unannounced(self, older_than: datetime, limit: int = 500) -> list[dict]:
        """Markers older than ``older_than``: writes whose ``case_updated`` was never confirmed."""
        return list(self.outbox.find({"at": {"$lt": older_than}}).sort([("at", ASCENDING)]).limit(limit))

    def drop_markers(self, marker_ids: list[str]) -> None:
        self.outbox.delete_many({"_id": {"$in": marker_ids}})

    def insert(self, case: dict) -> dict:
        """Store a new case (with its ``_id`` when it has one: a retry's is the first attempt's)."""
        case = {"_id": new_id(), **case, "opened_hour": tallies.hour_of(case["opened_at"])}
        try:
            case["outbox_marker"] = self._mark(case["_id"], case["updated_at"])
            self.cases.insert_one(case)
            self.tallies.added(f"opened-{case['_id']}", [case])
        except DuplicateKeyError as exc:
            raise Conflict(f"case {case['_id']} was opened meanwhile by the same request; read it") from exc
        except PyMongoError as exc:
            raise Unavailable(f"the case store is unavailable: {exc}") from exc
        return case

    def find(self, case_id: str) -> dict | None:
        """The case, if it is stored and not being purged."""
        case = self.cases.find_one({"_id": case_id})
        return None if case is None or case.get("purging") else case

    def get(self, case_id: str) -> dict:
        case = self.cases.find_one({"_id": case_id})
        if case is None or case.get("purging"):
            raise NotFound(f"no case {case_id}")
        return case

    def export(self, after: str | None, limit: int) -> list[dict]:
        """Cases in id order after ``after`` (none being purged): a stable paging for rebuilding other stores."""
        query = {"_id": {"$gt": after}, **self.GONE} if after else dict(self.GONE)
        return list(self.cases.find(query).sort([("_id", ASCENDING)]).limit(limit))

    def count(self) -> int:
        """About how many cases there are (for progress bars)."""
        return self.cases.estimated_count()

    def find_promoted(self, alert_id: str) -> dict | None:
        """The case first promoted from ``alert_id``, unless it is being purged (C16)."""
        return self.cases.find_one({"promoted_from_alert": alert_id, **self.GONE})

    def cases_with_alerts(self, alert_ids: list[str], exclude: str) -> list[dict]:
        if not alert_ids:
            return []
        return list(self.cases.find({"alert_ids": {"$in": alert_ids}, "_id": {"$ne": exclude}}))

    def update(self, case_id: str, changes: dict, now: datetime, expect: dict | None = None) -> dict:
        """Apply ``changes`` (update operators) to the case if it still matches ``expect`` and bump its
        version, in one atomic write counted in the outcome tallies."""
        marker = self._mark(case_id, now)
        update = {key: dict(value) for key, value in changes.items()}
        update.setdefault("$set", {}).update(updated_at=now, outbox_marker=marker)
        update.setdefault("$inc", {})["version"] = 1
        before = self.cases.update_atomic({"_id": case_id, **(expect or {})}, update, return_document=BEFORE)
        if before is None:
            self.drop_markers([marker])
            self.get(case_id)
            raise Conflict(f"case {case_id} changed meanwhile; read it again and retry")
        try:
            case = apply_update(before, update)
        except ValueError:  # an update of nested fields: read what it left
            case = self.cases.find_one({"_id": case_id})
        self.tallies.changed(f"changed-{case_id}-{case['version']}", before, case)
        return case

    def page(self, query: dict, limit: int, after: tuple | None) -> list[dict]:
        """Newest first; ``after`` is the (opened_at, id) of the last case of the previous page."""
        if after:
            opened_at, last_id = after
            query = {
                "$and": [
                    query,
                    {"$or": [{"opened_at": {"$lt": opened_at}}, {"opened_at": opened_at, "_id": {"$lt": last_id}}]},
                ]
            }
        cursor = self.cases.find({"$and": [query, self.GONE]}).sort([("opened_at", DESCENDING), ("_id", DESCENDING)])
        return list(cursor.limit(limit))

    # -- review and purge (C15-C17) ---------------------------------------------------------------

    def due_for_review(
        self, until: datetime, limit: int, after: tuple | None = None, where: dict | None = None
    ) -> list[dict]:
        """Criminal intelligence with ``review_due`` before ``until``, soonest first (the review queue)."""
        query = {"classification": "criminal_intelligence", "review_due": {"$lte": until}, **(where or {}), **self.GONE}
        if after:
            due, last_id = after
            query = {
                "$and": [query, {"$or": [{"review_due": {"$gt": due}}, {"review_due": due, "_id": {"$gt": last_id}}]}]
            }
        found = self.cases.find(query).sort([("review_due", ASCENDING), ("_id", ASCENDING)])
        return list(found.limit(limit))

    def due_for_purge(self, now: datetime, after: str | None, limit: int) -> list[dict]:
        """Criminal intelligence past ``review_due`` in id order after ``after``: the purge timer's pages."""
        query = {"classification": "criminal_intelligence", "review_due": {"$lte": now}, **self.GONE}
        if after:
            query["_id"] = {"$gt": after}
        return list(self.cases.find(query).sort([("_id", ASCENDING)]).limit(limit))

    def intelligence(self, query: dict, limit: int = 0) -> list[dict]:
        """Criminal intelligence matching ``query`` (the compliance checks), oldest first."""
        found = self.cases.find({"classification": "criminal_intelligence", **query, **self.GONE})
        return list(found.sort([("opened_at", ASCENDING), ("_id", ASCENDING)]).limit(limit))

    def attached_to(self, case_id: str) -> list[dict]:
        """Identifying information attached to ``case_id`` (C8)."""
        return list(self.cases.find({"attached_to": case_id, **self.GONE}))

    def intelligence_ids(self, ids: Iterable[str], agencies: Iterable[str] | None = None) -> set[str]:
        """Which of ``ids`` are criminal intelligence records (still stored), of ``agencies`` when given."""
        query = {"_id": {"$in": sorted(ids)}, "classification": "criminal_intelligence"}
        found = self.cases.find(query, {"_id": 1, "agency": 1})
        return {case["_id"] for case in found if agencies is None or case.get("agency") in agencies} if ids else set()

    def disseminations_between(self, since: datetime, until: datetime) -> list[dict]:
        return list(self.disseminations.find({"at": {"$gte": since, "$lt": until}}).sort([("at", ASCENDING)]))

    def start_purge(self, case_id: str, tombstone: dict) -> dict | None:
        """Mark the case as being purged (it is gone for readers from now on); None if it already was."""
        return self.cases.find_one_and_update(
            {"_id": case_id, **self.GONE}, {"$set": {"purging": tombstone}}, return_document=ReturnDocument.AFTER
        )

    def abandon_purge(self, case_id: str) -> None:
        """Undo :meth:`start_purge` when its tombstone could not be recorded (nothing was removed)."""
        self.cases.update_one({"_id": case_id}, {"$unset": {"purging": ""}})

    def purging_one(self, case_id: str, agency: str | None) -> dict | None:
        """The case of ``agency``, if a purge claimed it and did not finish."""
        return self.cases.find_one({"_id": case_id, "agency": agency, "purging": {"$ne": None}})

    def purging(self, older_than: datetime, limit: int = 50) -> list[dict]:
        """Purges claimed before ``older_than`` that did not finish (a crash between steps): the timer ends them."""
        return list(self.cases.find({"purging": {"$ne": None}, "purging.at": {"$lte": older_than}}).limit(limit))

    def remove(self, case: dict) -> None:
        """Delete the case's history, dissemination log and, last, the case document itself (out of
        the outcome tallies: its hour is recomputed)."""
        case_id = case["_id"]
        self.history.delete_many({"case_id": case_id})
        self.disseminations.delete_many({"record_ids": case_id})
        self.outbox.delete_many({"case_id": case_id})
        if self.cases.delete_one({"_id": case_id}).deleted_count:
            self.tallies.removed(f"removed-{case_id}", [case])

    def tallied(self) -> Iterable[dict]:
        """Every case, as the outcome tallies count it (for a rebuild)."""
        return self.cases.find({}, {"agency": 1, "opened_at": 1, "opened_hour": 1, "disposition": 1, "alerts": 1})

    def record(
        self, case_id: str, action: str, actor: str, at: datetime, detail: dict | None = None, entry_id: str = ""
    ) -> dict:
        """Append one entry to the case's history (the timeline's actions); with ``entry_id``, once."""
        entry = {"_id": entry_id or new_id(), "case_id": case_id, "action": action, "actor": actor, "at": at}
        entry["detail"] = detail
        try:
            self.history.insert_one(entry)
        except DuplicateKeyError:
            pass
        return entry

    def history_of(self, case_id: str) -> list[dict]:
        return list(self.history.find({"case_id": case_id}).sort([("at", ASCENDING)]))

    def add_dissemination(self, entry: dict) -> dict:
        entry = {"_id": new_id(), **entry}
        self.disseminations.insert_one(entry)
        return entry

    def disseminations_of(self, case_id: str) -> list[dict]:
        return list(self.disseminations.find({"record_ids": case_id}).sort([("at", ASCENDING)]))

    def ping(self) -> bool:
        try:
            self.cases.database.command("ping")
        except PyMongoError:
            return False
        return True


class ContentStore:
    """Case contents. Custody entries are only ever inserted: there is no update or delete here."""

    def __init__(self, database: Database):
        self.items = database["items"]
        self.custody = database["custody"]
        self.files = database["attachments.files"]
        self.chunks = database["attachments.chunks"]
        self.bucket = gridfs.GridFSBucket(database, bucket_name="attachments")

    def ensure_indexes(self) -> None:
        self.items.create_index(
            [("case_id", ASCENDING), ("kind", ASCENDING), ("recorded_at", ASCENDING)], name="case_kind"
        )
        self.custody.create_index([("evidence_id", ASCENDING), ("seq", ASCENDING)], unique=True, name="chain")
        self.files.create_index([("metadata.case_id", ASCENDING)], name="case")

    def add_item(self, item: dict) -> dict:
        item = {"_id": new_id(), **item}
        self.items.insert_one(item)
        return item

    def find_item(self, item_id: str) -> dict | None:
        return self.items.find_one({"_id": item_id})

    def items_of(self, case_id: str, kind: str | None = None) -> list[dict]:
        query = {"case_id": case_id, **({"kind": kind} if kind else {})}
        return list(self.items.find(query).sort([("recorded_at", ASCENDING)]))

    def get_item(self, case_id: str, item_id: str, kind: str) -> dict:
        item = self.items.find_one({"_id": item_id, "case_id": case_id, "kind": kind})
        if item is None:
            raise NotFound(f"no {kind} {item_id} in case {case_id}")
        return item

    def append_custody(self, evidence_id: str, entry: dict) -> dict:
        """Add the next link of the chain; ``from`` must be whoever holds the item now."""
        for _ in range(5):
            chain = self.custody_of(evidence_id)
            if chain and chain[-1]["to"] != entry["from"]:
                raise Conflict(
                    f"the item is held by {chain[-1]['to']}, not {entry['from']}: "
                    "a transfer starts where the last one ended"
                )
            record = {"_id": new_id(), "evidence_id": evidence_id, "seq": len(chain) + 1, **entry}
            try:
                self.custody.insert_one(record)
            except DuplicateKeyError:  # another transfer was recorded meanwhile: check against it
                continue
            return record
        raise Conflict("the chain of custody is changing too fast; retry")

    def custody_of(self, evidence_id: str) -> list[dict]:
        return list(self.custody.find({"evidence_id": evidence_id}).sort([("seq", ASCENDING)]))

    def move(self, from_case: str, to_case: str) -> None:
        """Merge: contents of ``from_case`` now belong to ``to_case`` and remember where they came from."""
        self.items.update_many(
            {"case_id": from_case, "origin_case_id": {"$exists": False}}, {"$set": {"origin_case_id": from_case}}
        )
        self.items.update_many({"case_id": from_case}, {"$set": {"case_id": to_case}})
        self.files.update_many(
            {"metadata.case_id": from_case, "metadata.origin_case_id": {"$exists": False}},
            {"$set": {"metadata.origin_case_id": from_case}},
        )
        self.files.update_many({"metadata.case_id": from_case}, {"$set": {"metadata.case_id": to_case}})

    def put_file(self, data: bytes, filename: str, metadata: dict) -> str:
        file_id = new_id()
        self.bucket.upload_from_stream_with_id(file_id, filename, data, metadata=metadata)
        return file_id

    def file_info(self, case_id: str, file_id: str) -> dict:
        info = self.files.find_one({"_id": file_id, "metadata.case_id": case_id})
        if info is None:
            raise NotFound(f"no attachment {file_id} in case {case_id}")
        return info

    def read_file(self, file_id: str) -> bytes:
        return self.bucket.open_download_stream(file_id).read()

    def files_of(self, case_id: str) -> list[dict]:
        return list(self.files.find({"metadata.case_id": case_id}).sort([("uploadDate", ASCENDING)]))

    def custody_of_case(self, case_id: str) -> list[dict]:
        evidence = [item["_id"] for item in self.items.find({"case_id": case_id, "kind": "evidence"}, {"_id": 1})]
        return list(self.custody.find({"evidence_id": {"$in": evidence}}).sort([("evidence_id", 1), ("seq", 1)]))

    def remove_case(self, case_id: str) -> None:
        """C16: every item, custody entry and attachment (GridFS files and chunks) of a purged case."""
        evidence = [item["_id"] for item in self.items.find({"case_id": case_id, "kind": "evidence"}, {"_id": 1})]
        if evidence:
            self.custody.delete_many({"evidence_id": {"$in": evidence}})
        for info in self.files.find({"metadata.case_id": case_id}, {"_id": 1}):
            self.chunks.delete_many({"files_id": info["_id"]})
            self.files.delete_one({"_id": info["_id"]})
        self.items.delete_many({"case_id": case_id})

    def ping(self) -> bool:
        try:
            self.items.database.command("ping")
        except PyMongoError:
            return False
        return True


class WebhookStore:
    """Subscriptions, and deliveries as an outbox: each is tried until it succeeds or runs out."""

    def __init__(self, database: Database):
        self.webhooks = database["webhooks"]
        self.deliveries = database["deliveries"]

    def ensure_indexes(self) -> None:
        self.webhooks.create_index([("events", ASCENDING)], name="events")
        self.deliveries.create_index([("state", ASCENDING), ("next_at", ASCENDING)], name="due")

    def add(self, webhook: dict) -> dict:
        webhook = {"_id": new_id(), **webhook}
        self.webhooks.insert_one(webhook)
        return webhook

    def get(self, webhook_id: str) -> dict | None:
        return self.webhooks.find_one({"_id": webhook_id})

    def listening(self, event_type: str) -> list[dict]:
        return list(self.webhooks.find({"events": event_type}))

    def all(self, query: dict) -> list[dict]:
        return list(self.webhooks.find(query).sort([("created_at", ASCENDING)]))

    def remove(self, webhook_id: str, now: datetime) -> None:
        """Unsubscribe: cancel the subscription's pending deliveries, then delete it."""
        self.deliveries.update_many(
            {"webhook_id": webhook_id, "state": "pending"}, {"$set": {"state": "cancelled", "cancelled_at": now}}
        )
        self.webhooks.delete_one({"_id": webhook_id})

    def enqueue(self, delivery: dict) -> None:
        self.deliveries.insert_one({"_id": new_id(), **delivery})

    def due(self, now: datetime, limit: int = 50) -> list[dict]:
        return list(self.deliveries.find({"state": "pending", "next_at": {"$lte": now}}).limit(limit))

    def claim(self, delivery_id: str, now: datetime, until: datetime) -> dict | None:
        """Take a due delivery for one attempt (another worker may have taken it)."""
        return self.deliveries.find_one_and_update(
            {"_id": delivery_id, "state": "pending", "next_at": {"$lte": now}},
            {"$set": {"next_at": until}},
            return_document=ReturnDocument.AFTER,
        )

    def finish(self, delivery_id: str, changes: dict) -> None:
        self.deliveries.update_one({"_id": delivery_id}, {"$set": changes})

    def deliveries_of(self, webhook_id: str) -> list[dict]:
        return list(self.deliveries.find({"webhook_id": webhook_id}))

    def drop_case(self, case_id: str, kinds: Iterable[str]) -> int:
        """C16: deliveries of ``kinds`` of events about a purged case (they carry its content)."""
        return self.deliveries.delete_many({"data.case_id": case_id, "event": {"$in": list(kinds)}}).deleted_count


class OversightStore:
    """Legal holds, tombstones of purged records and notifications.

    A legal hold in force is one document of ``holds`` (``_id``: :func:`hold_id`), inserted when it is
    placed and deleted when it is released (its history then goes to ``released_holds``): two holds placed
    at once are two inserts, and nothing is read, changed and written back. Whether a case is held is read
    from these documents alone, at the moment it matters (a purge re-reads them after its claim).
    """

    ACTIVE = {"released_at": None}  # holds stored before releases moved out carry ``released_at``

    def __init__(self, database: Database):
        self.holds = database["holds"]
        self.released_holds = database["released_holds"]
        self.tombstones = database["tombstones"]
        self.notifications = database["notifications"]

    def ensure_indexes(self) -> None:
        self.holds.create_index([("case_id", ASCENDING)], name="case")
        self.released_holds.create_index([("case_id", ASCENDING)], name="case")
        self.tombstones.create_index([("at", ASCENDING)], name="time")
        self.notifications.create_index([("recipient", ASCENDING), ("at", DESCENDING)], name="recipient_time")
        self.notifications.create_index([("at", ASCENDING)], name="time")

    def add_hold(self, hold: dict) -> tuple[dict, bool]:
        """Insert a hold ``{"case_id", "reference", ...}``: ``(hold, True)``. When that reference already holds
        the case, placing it again is the same hold: ``(the hold in force, False)``; Conflict if it was
        released meanwhile."""
        hold = {"_id": hold_id(hold["case_id"], hold["reference"]), **hold}
        try:
            self.holds.insert_one(hold)
        except DuplicateKeyError as exc:
            placed = self.holds.find_one({"_id": hold["_id"], **self.ACTIVE})
            if placed is None:
                raise Conflict(f"the hold {hold['reference']} of case {hold['case_id']} was just released") from exc
            return placed, False
        return hold, True

    def drop_hold(self, held_id: str) -> None:
        """Take back a hold that lost to a purge (the case is going): it never held anything."""
        self.holds.delete_one({"_id": held_id})

    def get_hold(self, case_id: str, held_id: str) -> dict:
        """A hold of the case, in force or released; NotFound when the case has none of that id."""
        hold = self.holds.find_one({"_id": held_id, "case_id": case_id}) or self.released_holds.find_one(
            {"hold_id": held_id, "case_id": case_id}
        )
        if hold is None:
            raise NotFound(f"no legal hold {held_id} on case {case_id}")
        return hold

    def release_hold(self, case_id: str, held_id: str, release: dict) -> dict:
        """End a hold in force: its history first (keyed, so a retry writes it once), then the hold itself.
        NotFound for no such hold, Conflict for one already released."""
        hold = self.holds.find_one({"_id": held_id, "case_id": case_id, **self.ACTIVE})
        if hold is None:
            if self.holds.find_one({"_id": held_id, "case_id": case_id}) or self.released_holds.find_one(
                {"hold_id": held_id, "case_id": case_id}
            ):
                raise Conflict(f"legal hold {held_id} was already released")
            raise NotFound(f"no legal hold {held_id} on case {case_id}")
        released = {**hold, **release}
        history = {**released, "_id": f"{held_id}@{hold['placed_at'].isoformat()}", "hold_id": held_id}
        try:
            self.released_holds.insert_one(history)
        except DuplicateKeyError:
            pass
        if not self.holds.delete_one({"_id": held_id, **self.ACTIVE}).deleted_count:
            raise Conflict(f"legal hold {held_id} was already released")
        return released

    def holds_of(self, case_id: str) -> list[dict]:
        """Every hold of the case, in force or released, oldest first."""
        released = [
            {**{key: value for key, value in hold.items() if key != "hold_id"}, "_id": hold["hold_id"]}
            for hold in self.released_holds.find({"case_id": case_id})
        ]
        return sorted([*self.holds.find({"case_id": case_id}), *released], key=lambda hold: hold["placed_at"])

    def active_holds(self, case_ids: Iterable[str]) -> dict[str, list[dict]]:
        """The holds in force on each of ``case_ids`` (cases without one are left out)."""
        found: dict[str, list[dict]] = {}
        if case_ids:
            query = {"case_id": {"$in": sorted(set(case_ids))}, **self.ACTIVE}
            for hold in self.holds.find(query).sort([("placed_at", ASCENDING)]):
                found.setdefault(hold["case_id"], []).append(hold)
        return found

    def bury(self, tombstone: dict) -> None:
        """Keep a purge's tombstone (idempotent: one per record)."""
        self.tombstones.update_one({"_id": tombstone["record_id"]}, {"$setOnInsert": tombstone}, upsert=True)

    def purged_intelligence_ids(self, ids: Iterable[str], agencies: Iterable[str] | None = None) -> set[str]:
        query = {"_id": {"$in": sorted(ids)}, "record_class": "criminal_intelligence"}
        found = self.tombstones.find(query, {"_id": 1, "agency": 1}) if ids else []
        return {stone["_id"] for stone in found if agencies is None or stone.get("agency") in agencies}

    def tombstones_between(self, since: datetime, until: datetime) -> list[dict]:
        return list(self.tombstones.find({"at": {"$gte": since, "$lt": until}}).sort([("at", ASCENDING)]))

    def notify(self, notification: dict) -> dict:
        notification = {"_id": new_id(), **notification}
        self.notifications.insert_one(notification)
        return notification

    def notifications_for(self, query: dict, limit: int) -> list[dict]:
        return list(self.notifications.find(query).sort([("at", DESCENDING)]).limit(limit))

    def notifications_between(self, kinds: list[str], since: datetime, until: datetime) -> list[dict]:
        query = {"kind": {"$in": kinds}, "at": {"$gte": since, "$lt": until}}
        return list(self.notifications.find(query).sort([("at", ASCENDING)]))
