"""From submissions to stored alerts: validation, idempotency and near-duplicate folding, by batch.

:func:`ingest` takes one submission or a batch the same way, with a fixed number of writes whatever
its size and no reads before them:

- each item is validated on its own (a bad one is a 422 result and stops no other);
- every event has a *key*, derived from its natural key (the submitter's agency, ``source_system``,
  ``source_event_id``), and every alert an ``_id`` derived from what makes reads the same alert: the
  natural key, or for ALPR reads the agency, system, camera, plate and the near-duplicate *slot*
  (``occurred_at`` in whole windows of ``NEAR_DUPLICATE_SECONDS``). Reads of one plate at one camera
  in one slot are one alert: the first stored, the others its repeat sightings;
- the keys are inserted first (one unordered insert): a key that exists is a repeat of a known event,
  answered 200 with the alert its key names; then the alerts (one unordered insert): an ``_id`` that
  exists is a near-duplicate folded into that alert (200, ``near_duplicate``); the rest are 201.

A repeat sighting is its key: ``keys`` documents naming an alert other than their own first read.
Nothing here publishes or audits; the service does that for what was created.
"""

import hashlib
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from marshmallow import ValidationError

from casewire import tallies
from casewire.alerts import load_alert
from services.intake.deadlines import TriageDeadlines
from services.intake.dependencies import AlertStore
from services.intake.retention import RetentionPolicy

_PLATE_NOISE = re.compile(r"[^0-9A-Za-z]")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def record_class(alert: dict) -> str:
    """C1/C7: a detection hit is a ``sensor`` record, a tip a temporary ``tip_lead``; never intelligence."""
    return "tip_lead" if alert["source"] == "tip" else "sensor"


def agency_of(context: dict) -> str | None:
    return (context.get("actor") or {}).get("agency")


def key_of(agency: str | None, source_system: str, source_event_id: str) -> str:
    """The ``_id`` of an event's key: its natural key, within its agency."""
    return _digest("event", agency or "", source_system, source_event_id)


def alert_id_of(alert: dict, agency: str | None, window: timedelta) -> str:
    """The ``_id`` of the alert an event is: ALPR events of one plate at one camera of one system in one
    near-duplicate slot share it, hotlist hits apart from reads (a reader posts a vehicle's read and its
    hit moments apart: the hit is never a repeat of the read); any other event has its own."""
    seconds = window.total_seconds()
    if alert["source"] != "alpr" or seconds <= 0:
        return _digest("alert", agency or "", alert["source_system"], alert["source_event_id"])
    plate = _PLATE_NOISE.sub("", alert["payload"]["plate"]).upper()
    slot = math.floor(alert["occurred_at"].timestamp() / seconds)
    kind = "hit" if alert["payload"].get("hotlist") else "read"
    return _digest(kind, agency or "", alert["source_system"], alert["payload"]["camera_id"], plate, str(slot))


def new_document(
    alert_id: str,
    alert: dict,
    context: dict,
    now: datetime,
    policy: RetentionPolicy,
    deadlines: TriageDeadlines | None = None,
    batch_id: str | None = None,
) -> dict:
    actor = context.get("actor") or {}
    doc = {
        "_id": alert_id,
        **alert,
        "status": "new",
        "record_class": record_class(alert),
        "received_at": now,
        "received_hour": tallies.hour_of(now),
        "agency": actor.get("agency"),
        "unit": context.get("unit"),
        "assignee": None,
        "actions": [{"action": "received", "actor": actor.get("id", "system"), "at": now, "detail": {}}],
        "batch_id": batch_id,
        "version": 1,
    }
    triage_due = deadlines.due(alert, now) if deadlines else None
    if triage_due:
        doc.update(triage_due=triage_due, triage_open=True)  # docs/outcomes.md: nothing forgotten
    deadline = policy.deadline(doc)
    if deadline:
        doc["purge_after"] = deadline.pop("purge_after")
        doc["retention"] = deadline
    return doc


@dataclass
class Item:
    """One valid submission on its way: its position, its loaded alert, its key and its alert's id."""

    index: int
    alert: dict
    key: str
    alert_id: str


def _validate(submissions: list, agency: str | None, window: timedelta) -> tuple[dict[int, dict], list[Item]]:
    results, items = {}, []
    for index, raw in enumerate(submissions):
        if not isinstance(raw, dict):
            results[index] = {"index": index, "status": 422, "errors": {"_schema": ["an alert must be an object"]}}
            continue
        try:
            alert = load_alert(raw)
        except ValidationError as exc:
            results[index] = {"index": index, "status": 422, "errors": exc.messages}
            continue
        key = key_of(agency, alert["source_system"], alert["source_event_id"])
        items.append(Item(index, alert, key, alert_id_of(alert, agency, window)))
    return results, items


def ingest(
    store: AlertStore,
    submissions: list,
    context: dict,
    now: datetime,
    window: timedelta,
    policy: RetentionPolicy,
    deadlines: TriageDeadlines | None = None,
    batch_id: str | None = None,
) -> tuple[list[dict], list[dict]]:
    """Returns ``(results, created)``: one result per submission in order, and the new documents.

    ``batch_id`` names the batch (its outbox entry, its tally delta): a new one when not given.
    """
    batch_id = batch_id or uuid.uuid4().hex
    agency = agency_of(context)
    results, items = _validate(submissions, agency, window)
    firsts: dict[str, Item] = {}  # key → the first item with it in this batch
    for item in items:
        firsts.setdefault(item.key, item)
    store.open_outbox(batch_id, sorted({item.alert_id for item in firsts.values()}), now)
    leads = list(firsts.values())
    key_docs = [_key_document(item, agency, now) for item in leads]
    known = {leads[position].key for position in store.insert_keys(key_docs)}
    stored_keys = store.keys(sorted(known)) if known else {}
    target: dict[str, str] = {}  # key → the alert it names
    for item in leads:
        stored = stored_keys.get(item.key)
        target[item.key] = stored["alert_id"] if stored else item.alert_id
    makers: dict[str, Item] = {}  # alert id → the item whose document it would be
    for item in leads:
        if target[item.key] == item.alert_id:
            makers.setdefault(item.alert_id, item)
    docs = [new_document(i.alert_id, i.alert, context, now, policy, deadlines, batch_id) for i in makers.values()]
    refused = store.insert_alerts(docs, batch_id)
    created = [doc for position, doc in enumerate(docs) if position not in refused]
    # An alert that existed is this event's own when it holds this event's natural key (a racing copy
    # of the request stored it first): its key's first sender answers 201. Otherwise it is another
    # read's, and this one folds into it.
    existing = store.get_many([docs[position]["_id"] for position in refused]) if refused else {}
    own = {doc["_id"] for doc in created} | {
        alert_id
        for alert_id, doc in existing.items()
        if (doc["source_system"], doc["source_event_id"]) == _natural(makers[alert_id].alert)
    }
    for item in items:
        alert_id = target[item.key]
        if firsts[item.key] is not item or item.key in known:
            results[item.index] = {"index": item.index, "status": 200, "id": alert_id}
        elif alert_id in own and makers[alert_id] is item:
            results[item.index] = {"index": item.index, "status": 201, "id": alert_id}
        else:
            results[item.index] = {"index": item.index, "status": 200, "id": alert_id, "near_duplicate": True}
    return [results[index] for index in range(len(submissions))], created


def _natural(alert: dict) -> tuple[str, str]:
    return alert["source_system"], alert["source_event_id"]


def _key_document(item: Item, agency: str | None, now: datetime) -> dict:
    return {
        "_id": item.key,
        "alert_id": item.alert_id,
        "agency": agency,
        "source_system": item.alert["source_system"],
        "source_event_id": item.alert["source_event_id"],
        "occurred_at": item.alert["occurred_at"],
        "at": now,
    }
