"""C26: a face alert is marked ``identified`` only by a human reviewer with independent evidence.

A face-recognition match is an investigative lead, never an identification (``FACE_NOTICE``). A
reviewer may record that the candidate was identified once at least one piece of evidence that does
not come from the match itself (a fingerprint, a DNA hit, a document, a witness...) says so. The
match's own material (the probe image, the candidate's subject id, the alert) is refused as
evidence. The notice stays on the alert: an identification records who concluded what, from what.
"""

from datetime import datetime

from casewire.errors import Conflict, Forbidden, InvalidInput

IDENTIFIABLE = ("new", "assigned", "promoted")
"""Statuses a face alert may be identified in; a dismissed alert was judged not worth pursuing."""


def reviewer_of(context: dict | None) -> str:
    """The person identifying: the caller's actor id. A call without one (the system) is refused."""
    reviewer = ((context or {}).get("actor") or {}).get("id")
    if not reviewer or reviewer == "system":
        raise Forbidden("only a human reviewer marks a face alert identified")
    return reviewer


def conflict(alert: dict) -> str | None:
    """Why ``alert`` cannot be identified as it stands (409), or None."""
    alert_id = alert["_id"]
    if alert.get("source") != "face":
        return f"alert {alert_id} is a {alert.get('source')} alert; only face-recognition alerts are identified"
    if alert.get("identified"):
        done = alert.get("identification") or {}
        return f"alert {alert_id} is already identified (by {done.get('reviewer')} at {done.get('at')})"
    if alert.get("status") not in IDENTIFIABLE:
        return f"alert {alert_id} is {alert.get('status')}; identify needs one of {', '.join(IDENTIFIABLE)}"
    return None


def match_material(alert: dict) -> dict[str, str]:
    """What comes from the face match itself, by what it is: never independent evidence."""
    payload = alert.get("payload") or {}
    found = {
        "the face alert itself": alert.get("_id"),
        "the alert's probe image": payload.get("probe_image_url"),
        "the match's candidate subject id": (payload.get("candidate") or {}).get("subject_id"),
    }
    return {_plain(value): what for what, value in found.items() if value and _plain(value)}


def dependence_errors(alert: dict, evidence: list[dict]) -> dict[str, list[str]]:
    """Field path → message for each evidence reference that is the face match's own material."""
    material = match_material(alert)
    errors = {}
    for index, item in enumerate(evidence):
        what = material.get(_plain(item["reference"]))
        if what:
            errors[f"evidence.{index}.reference"] = [f"{what} is not independent evidence"]
    return errors


def check(alert: dict, evidence: list[dict]) -> None:
    """Raise Conflict (the alert cannot be identified) or InvalidInput (the evidence is the match)."""
    why = conflict(alert)
    if why:
        raise Conflict(why, {"alert": [why]})
    errors = dependence_errors(alert, evidence)
    if errors:
        raise InvalidInput("the face match is not independent evidence of identity", errors)


def identification(reviewer: str, at: datetime, evidence: list[dict], note: str | None) -> dict:
    """What the alert keeps as its ``identification``."""
    return {"reviewer": reviewer, "at": at, "evidence": evidence, "note": note}


def _plain(value: object) -> str:
    return str(value).strip().casefold()
