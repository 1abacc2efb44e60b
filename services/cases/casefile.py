"""Building and reading a case file: pure functions over stored documents (no backends here)."""

import hashlib
from collections.abc import Iterable
from datetime import datetime

import filetype

from casewire import events
from casewire.contracts.cases import plain
from casewire.errors import InvalidInput
from services.cases import rules

SIGHTING_KEYS = ("entity_id", "record_type", "record_id", "source", "location")  # a timeline sighting's
ACCEPTED_TYPES = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/tiff",
    "image/webp",
    "image/heic",
    "video/mp4",
    "video/quicktime",
    "video/x-msvideo",
    "audio/mpeg",
    "audio/x-wav",
    "audio/wav",
    "audio/mp4",
    "audio/x-m4a",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/plain",
}


def _unique(values: Iterable) -> list:
    return list(dict.fromkeys(value for value in values if value))


def new_case(data: dict, context: dict, now: datetime, min_chars: int) -> dict:
    """A case ready to store from validated ``CaseIn`` fields; raises InvalidInput naming each gap."""
    actor = context.get("actor") or {}
    case = {"summary": "", "type": "general", "priority": "normal", **data}
    case["assignees"] = _unique([*case.pop("assignees", []), case.pop("assignee", None)])
    case["unit"] = case.get("unit") or context.get("unit")
    case.update(
        status="open",
        record_class=case["classification"],
        agency=actor.get("agency"),
        opened_at=now,
        opened_by=actor.get("id"),
        updated_at=now,
        version=1,
        alerts=[],
        alert_ids=[],
        entities=[],
        entity_ids=[],
    )
    if case["unit"] != context.get("unit") and actor.get("id"):  # the opener keeps access (docs/security.md)
        case["assignees"] = _unique([*case["assignees"], actor["id"]])
    errors = {} if case["unit"] else {"unit": ["a case needs an owning unit"]}
    if case["classification"] == rules.CRIMINAL_INTELLIGENCE and not context.get("unit"):
        errors["unit"] = ["criminal intelligence is submitted by a unit (C3), and your token names none"]
    errors |= rules.protected_views_errors(case) | rules.acting_errors(data, actor)
    for field in ("submitter", "submitting_agency"):
        case.pop(field, None)
    if case["classification"] == rules.CRIMINAL_INTELLIGENCE:
        case.update(submitter=actor.get("id"), submitting_agency=actor.get("agency"))
        case.update(submitting_unit=context.get("unit"), review_state="pending_review", submitted_at=now)
        errors |= rules.ci_errors(case, min_chars)
        errors |= rules.review_due_errors(case.get("review_due"), now)
        errors |= rules.past_review_due_errors(case.get("review_due"), now)
        case.setdefault("review_due", now + rules.REVIEW_PERIOD)
        case["purge_due"] = case["review_due"]
    rules.raise_if(errors, "the case is invalid")
    return case


def patch(case: dict, data: dict, min_chars: int) -> tuple[dict, list[str]]:
    """The ``$set`` for a PATCH and the assignees it adds; raises InvalidInput or Conflict."""
    changes = dict(data)
    wanted = _unique([*changes.pop("assignees", case.get("assignees") or []), changes.pop("assignee", None)])
    if wanted != case.get("assignees"):
        changes["assignees"] = wanted
    if "status" in changes:
        if changes["status"] == case["status"]:
            changes.pop("status")
        else:
            rules.check_transition(case["status"], changes["status"])
    merged = {**case, **changes}
    errors = rules.protected_views_errors(merged)
    if case["classification"] == rules.CRIMINAL_INTELLIGENCE:
        errors |= rules.ci_errors(merged, min_chars)
        base = case.get("last_validated_at") or case.get("submitted_at") or case["opened_at"]
        errors |= rules.review_due_errors(changes.get("review_due"), base)
    rules.raise_if(errors, "the change is invalid")
    added = [person for person in wanted if person not in (case.get("assignees") or [])]
    return changes, added


def alert_entry(alert: dict, actor: str, now: datetime, **extra) -> dict:
    """How a case remembers a linked alert."""
    return {
        "alert_id": alert["id"],
        "source": alert.get("source"),
        "occurred_at": alert.get("occurred_at"),
        "linked_at": now,
        "linked_by": actor,
        **{key: value for key, value in extra.items() if value},
    }


def case_event(case: dict, change: str) -> dict:
    """The ``case_updated`` payload for this state of the case."""
    return events.CaseUpdated().load(
        {
            "case_id": case["_id"],
            "title": case["title"],
            "summary": case.get("summary") or "",
            "status": case["status"],
            "classification": case["classification"],
            "sensitivity": case.get("sensitivity"),
            "review_state": case.get("review_state"),
            "submitting_unit": case.get("submitting_unit"),
            "control_official": case.get("control_official"),
            "unit": case["unit"],
            "agency": case.get("agency"),
            "assignees": case.get("assignees") or [],
            "opened_at": case["opened_at"].isoformat(),
            "updated_at": case["updated_at"].isoformat(),
            "entity_ids": case.get("entity_ids") or [],
            "alert_ids": case.get("alert_ids") or [],
            "version": case.get("version", 1),
            "change": change,
        }
    )


def sniff(data: bytes) -> str:
    """The content type the bytes really have (the declared one is never trusted)."""
    kind = filetype.guess(data)
    if kind is not None:
        return kind.mime
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain" if "\x00" not in text else "application/octet-stream"


def check_upload(data: bytes, max_bytes: int) -> tuple[str, str]:
    """(sniffed content type, SHA-256) of an acceptable upload; InvalidInput naming ``file`` otherwise."""
    if not data:
        raise InvalidInput("the attachment is empty", {"file": ["the file is empty"]})
    if len(data) > max_bytes:
        raise InvalidInput("the attachment is too large", {"file": [f"files may be at most {max_bytes} bytes"]})
    content_type = sniff(data)
    if content_type not in ACCEPTED_TYPES:
        raise InvalidInput(
            "this kind of file is not accepted", {"file": [f"the content is {content_type}, which is not accepted"]}
        )
    return content_type, hashlib.sha256(data).hexdigest()


def attachment_out(info: dict) -> dict:
    meta = info.get("metadata") or {}
    return plain(
        {
            "id": info["_id"],
            "filename": info.get("filename"),
            "size": info.get("length"),
            "content_type": meta.get("content_type"),
            "declared_content_type": meta.get("declared_content_type"),
            "sha256": meta.get("sha256"),
            "uploaded_by": meta.get("uploaded_by"),
            "uploaded_at": meta.get("uploaded_at"),
            "origin_case_id": meta.get("origin_case_id"),
        }
    )


def merged_links(target: dict, other: dict, actor: str, now: datetime) -> dict:
    """The target's alerts and entities after absorbing ``other``'s; each carries where it came from."""
    alerts = list(target.get("alerts") or [])
    for entry in other.get("alerts") or []:
        if entry["alert_id"] not in (target.get("alert_ids") or []):
            alerts.append({**entry, "origin_case_id": entry.get("origin_case_id") or other["_id"]})
    entities = list(target.get("entities") or [])
    have = {(e["entity_id"], e["role"]) for e in entities}
    for entry in other.get("entities") or []:
        if (entry["entity_id"], entry["role"]) not in have:
            entities.append({**entry, "origin_case_id": entry.get("origin_case_id") or other["_id"]})
    merged_from = {"case_id": other["_id"], "title": other["title"], "merged_at": now, "merged_by": actor}
    return {
        "$set": {
            "alerts": alerts,
            "alert_ids": _unique(entry["alert_id"] for entry in alerts),
            "entities": entities,
            "entity_ids": _unique(entry["entity_id"] for entry in entities),
        },
        "$push": {"merged_from": merged_from},
    }


def _at(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def timeline(history: list, items: list, custody: dict, sightings: list, files: list) -> list[dict]:
    """Every action, content item, custody transfer, attachment and sighting, oldest first."""
    entries = [{"at": h["at"], "kind": "action", "action": h["action"], "actor": h["actor"], **_d(h)} for h in history]
    for item in items:
        summary = item.get("title") or item.get("text") or item.get("description") or item.get("interviewee")
        entries.append(
            {
                "at": item["recorded_at"],
                "kind": item["kind"],
                "id": item["_id"],
                "actor": item.get("by"),
                "summary": summary,
            }
        )
        happened = item.get("collected_at") or (item.get("at") if item["kind"] == "interviews" else None)
        if happened:
            by = item.get("collected_by") or item.get("interviewer")
            kind = "evidence_collected" if item["kind"] == "evidence" else "interview_held"
            entries.append({"at": happened, "kind": kind, "id": item["_id"], "actor": by})
    for evidence_id, chain in custody.items():
        for link in chain:
            entries.append(
                {
                    "at": link["at"],
                    "kind": "custody",
                    "id": evidence_id,
                    "from": link["from"],
                    "to": link["to"],
                    "reason": link["reason"],
                    "condition": link["condition"],
                }
            )
    for info in files:
        meta = info.get("metadata") or {}
        entries.append(
            {
                "at": meta.get("uploaded_at"),
                "kind": "attachment",
                "id": info["_id"],
                "actor": meta.get("uploaded_by"),
                "summary": info.get("filename"),
                "sha256": meta.get("sha256"),
            }
        )
    for sighting in sightings:
        entries.append(
            {
                "at": sighting["at"],
                "kind": "sighting",
                # A linked alert's own entry names no entity: it carries the keys it has, never a null entity_id.
                **{k: sighting[k] for k in SIGHTING_KEYS if k in sighting},
            }
        )
    entries = [entry for entry in entries if entry.get("at")]
    return plain(sorted(entries, key=lambda entry: _at(entry["at"])))


def _d(history_entry: dict) -> dict:
    return {"detail": history_entry.get("detail")} if history_entry.get("detail") else {}
