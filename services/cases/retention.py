"""Review, retention and purge of criminal intelligence (C15, C16, C17): pure functions, no backends.

- The review queue holds criminal intelligence whose ``review_due`` falls within ``REVIEW_QUEUE_DAYS``
  (default 90) from now, or is already past (C15).
- At ``review_due`` a record not validated is purged by the timer unless a legal hold is in force (C17).
- A purge leaves a tombstone with no content: the record id, the SHA-256 of everything that was
  removed, the reason, the actor and the time (C16).
"""

import base64
import hashlib
import json
from datetime import datetime, timedelta

from casewire.errors import NotFound
from services.cases import rules

QUEUE_DAYS_KEY = "REVIEW_QUEUE_DAYS"
DEFAULT_QUEUE_DAYS = 90
AUTOMATIC_REASON = "C15: review_due passed without validation"
RESUME_AFTER = timedelta(minutes=5)  # a purge claimed this long ago and not finished was interrupted


def queue_until(now: datetime, days: float | str | None) -> datetime:
    """Records due before this instant are in the review queue."""
    return now + timedelta(days=float(DEFAULT_QUEUE_DAYS if days in (None, "") else days))


def queue_entry(case: dict, now: datetime) -> dict:
    """What a supervisor sees in the queue: no narrative, just enough to open the record."""
    due = case["review_due"]
    return {
        "case_id": case["_id"],
        "title": case.get("title"),
        "unit": case.get("unit"),
        "review_state": case.get("review_state"),
        "review_due": due.isoformat(),
        "days_left": (due - now).days,
        "overdue": due <= now,
        "last_validated_at": case["last_validated_at"].isoformat() if case.get("last_validated_at") else None,
        "legal_holds": [hold["reference"] for hold in case.get("legal_holds") or []],
    }


def content_hash(case: dict, items: list, custody: list, files: list, disseminations: list, history: list) -> str:
    """SHA-256 of the record and everything it holds, in canonical JSON: the tombstone's only trace of it."""
    document = {
        "case": case,
        "items": items,
        "custody": custody,
        "files": [{"id": f["_id"], "sha256": (f.get("metadata") or {}).get("sha256")} for f in files],
        "disseminations": disseminations,
        "history": history,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# History entries the tombstone keeps, without their reasons: who set the review and purge dates.
REVIEW_TRAIL = ("created", "reschedule", "review.approve", "review.validate")


def review_trail(history: list[dict]) -> list[dict]:
    """Who approved, validated or moved the review date of a record, and when (dates only, no text)."""
    trail = []
    for entry in history:
        if entry["action"] in REVIEW_TRAIL:
            detail = entry.get("detail") or {}
            moved = {key: detail[key] for key in ("from", "to") if entry["action"] == "reschedule" and key in detail}
            trail.append({"action": entry["action"], "actor": entry["actor"], "at": entry["at"], **moved})
    return trail


def tombstone(
    case: dict, digest: str, reason: str, actor: str, at: datetime, automatic: bool, history: list[dict] = ()
) -> dict:
    """What is left of a purged record (C16): no title, narrative, subjects or contents; who set its
    review dates stays (:func:`review_trail`), so a purge never hides who brought it about."""
    return {
        "record_type": "case",
        "record_id": case["_id"],
        "record_class": case.get("record_class") or case.get("classification"),
        "agency": case.get("agency"),
        "unit": case.get("unit"),
        "content_hash": digest,
        "reason": reason,
        "actor": actor,
        "at": at,
        "automatic": automatic,
        "review_trail": review_trail(list(history)),
    }


def purgeable_by_timer(case: dict, now: datetime) -> bool:
    """C15: criminal intelligence past ``review_due``. Legal holds (C17) are documents of their own,
    checked by the purge itself.

    The timer never purges before ``purge_due``, the review date set at submission or at the last
    validation: a review date moved earlier by hand brings the review forward, not the purge (purging
    sooner is the purge authority's act, C17).
    """
    due = case.get("review_due")
    return (
        case.get("classification") == rules.CRIMINAL_INTELLIGENCE
        and due is not None
        and max(due, case.get("purge_due") or due) <= now
    )


def encode_after(review_due: datetime, case_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([review_due.isoformat(), case_id]).encode()).decode()


def decode_after(cursor: str) -> tuple[datetime, str]:
    try:
        due, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(due), str(case_id)
    except (ValueError, TypeError) as exc:
        raise NotFound("no such page: the cursor is not one this service gave out") from exc
