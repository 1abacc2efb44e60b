"""From submissions to stored alerts: validation, idempotency and near-duplicate folding.

:func:`ingest` handles one submission or a batch the same way: each item is validated on its own,
natural keys (``source_system``, ``source_event_id``) already known to the submitter's agency answer
200 with its first alert, ALPR reads of the same plate at the same camera within the near-duplicate
window are folded into the agency's first alert as repeat sightings (200, ``near_duplicate``), and the
rest are stored with one
unordered ``insert_many``. Nothing here publishes or audits; the service does that for what was
created.
"""

import re
import uuid
from datetime import datetime, timedelta

from marshmallow import ValidationError

from casewire import tallies
from casewire.alerts import load_alert
from services.intake.deadlines import TriageDeadlines
from services.intake.retention import RetentionPolicy

_PLATE_NOISE = re.compile(r"[^0-9A-Za-z]")


def record_class(alert: dict) -> str:
    """C1/C7: a detection hit is a ``sensor`` record, a tip a temporary ``tip_lead``; never intelligence."""
    return "tip_lead" if alert["source"] == "tip" else "sensor"


def dedupe_key(alert: dict, agency: str | None) -> str | None:
    """Same plate at the same camera of the same system, for the same agency; None for anything but ALPR."""
    if alert["source"] != "alpr":
        return None
    plate = _PLATE_NOISE.sub("", alert["payload"]["plate"]).upper()
    return f"{agency or ''}|{alert['source_system']}|{alert['payload']['camera_id']}|{plate}"


def agency_of(context: dict) -> str | None:
    return (context.get("actor") or {}).get("agency")


def new_document(
    alert: dict, context: dict, now: datetime, policy: RetentionPolicy, deadlines: TriageDeadlines | None = None
) -> dict:
    actor = context.get("actor") or {}
    agency = actor.get("agency")
    doc = {
        "_id": uuid.uuid4().hex,
        **alert,
        "status": "new",
        "record_class": record_class(alert),
        "received_at": now,
        "received_hour": tallies.hour_of(now),  # the funnel's tallies read an hour's alerts by equality
        "agency": agency,
        "unit": context.get("unit"),
        "assignee": None,
        "repeats": [],
        "actions": [{"action": "received", "actor": actor.get("id", "system"), "at": now, "detail": {}}],
        "unpublished": True,
        "version": 1,
    }
    key = dedupe_key(alert, agency)
    if key:
        doc["dedupe_key"] = key
    triage_due = deadlines.due(alert, now) if deadlines else None
    if triage_due:
        doc.update(triage_due=triage_due, triage_open=True)  # README, Outcomes: nothing forgotten
    deadline = policy.deadline(doc)
    if deadline:
        doc["purge_after"] = deadline.pop("purge_after")
        doc["retention"] = deadline
    return doc


def _first_within(candidates: list[tuple[datetime, str]], at: datetime, window: timedelta) -> str | None:
    matches = sorted(c for c in candidates if abs(c[0] - at) <= window)
    return matches[0][1] if matches else None


def _validate(submissions: list) -> tuple[dict[int, dict], list[tuple[int, dict]]]:
    results, valid = {}, []
    for index, raw in enumerate(submissions):
        if not isinstance(raw, dict):
            results[index] = {"index": index, "status": 422, "errors": {"_schema": ["an alert must be an object"]}}
            continue
        try:
            valid.append((index, load_alert(raw)))
        except ValidationError as exc:
            results[index] = {"index": index, "status": 422, "errors": exc.messages}
    return results, valid


def ingest(
    store,
    submissions: list,
    context: dict,
    now: datetime,
    window: timedelta,
    policy: RetentionPolicy,
    deadlines: TriageDeadlines | None = None,
):
    """Returns ``(results, created)``: one result per submission in order, and the new documents."""
    results, valid = _validate(submissions)
    agency = agency_of(context)
    known = store.find_known(agency, [(a["source_system"], a["source_event_id"]) for _, a in valid])
    keyed = [(key, a["occurred_at"]) for _, a in valid if (key := dedupe_key(a, agency))]
    firsts: dict[str, list[tuple[datetime, str]]] = {}
    if keyed and window.total_seconds() > 0:
        start, end = min(t for _, t in keyed) - window, max(t for _, t in keyed) + window
        for doc in store.near_duplicates([k for k, _ in keyed], start, end):
            firsts.setdefault(doc["dedupe_key"], []).append((doc["occurred_at"], doc["_id"]))
    seen: dict[tuple[str, str], str] = {}
    fresh: dict[str, tuple[int, dict]] = {}
    repeats: list[tuple[str, dict]] = []
    for index, alert in valid:
        natural = (alert["source_system"], alert["source_event_id"])
        first_id = known[natural]["_id"] if natural in known else seen.get(natural)
        if first_id:
            results[index] = {"index": index, "status": 200, "id": first_id}
            continue
        key = dedupe_key(alert, agency)
        first_id = _first_within(firsts.get(key, []), alert["occurred_at"], window) if key else None
        if first_id:
            repeat = {"source_event_id": alert["source_event_id"], "occurred_at": alert["occurred_at"], "at": now}
            if first_id in fresh:
                fresh[first_id][1]["repeats"].append(repeat)
            else:
                repeats.append((first_id, repeat))
            results[index] = {"index": index, "status": 200, "id": first_id, "near_duplicate": True}
        else:
            doc = new_document(alert, context, now, policy, deadlines)
            fresh[doc["_id"]] = (index, doc)
            results[index] = {"index": index, "status": 201, "id": doc["_id"]}
            if key:
                firsts.setdefault(key, []).append((alert["occurred_at"], doc["_id"]))
        seen[natural] = results[index]["id"]
    docs = [doc for _, doc in fresh.values()]
    refused = store.insert_many(docs)
    created = []
    for position, doc in enumerate(docs):
        if position not in refused:
            created.append(doc)
            continue
        # Another request stored this natural key first: answer with its alert, keep our repeats.
        winner = store.find_by_natural_key(agency, doc["source_system"], doc["source_event_id"])
        repeats.extend((winner["_id"], repeat) for repeat in doc["repeats"])
        for result in results.values():
            if result.get("id") == doc["_id"]:
                result.update(status=200, id=winner["_id"])
    store.add_repeats(repeats)
    return [results[index] for index in range(len(submissions))], created
