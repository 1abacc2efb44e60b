"""Builders for what the search service receives: alert, resolution and case events."""

import random
import uuid

SAFE_LETTERS = "ACDEFGHJKLMNPQRTUVWXY"  # no O, I, B, S, Z: these fold into digits


def uid() -> str:
    return uuid.uuid4().hex


def tag(n: int = 3) -> str:
    """A random plate prefix no other test shares and no OCR folding touches."""
    return "".join(random.choice(SAFE_LETTERS) for _ in range(n))


def alert(
    source="alpr",
    payload=None,
    at="2026-03-05T22:14:00+00:00",
    location=(29.76, -95.36),
    agency="TX0000000",
    **extra,
):
    found = {
        "alert_id": uid(),
        "source": source,
        "source_system": "test",
        "source_event_id": uid(),
        "occurred_at": at,
        "received_at": at,
        "location": {"lat": location[0], "lon": location[1]} if location else None,
        "payload": payload or {"plate": "X", "camera_id": "cam-1"},
        "priority": "normal",
        "status": "new",
        "record_class": "sensor",
        "agency": agency,
        "unit": "rtcc",
        "version": 1,
        **extra,
    }
    return {"item": list_item(found), **found}


def list_item(found):
    """The list item intake would announce with ``found`` (the fields the list's tests look at)."""
    fields = ("source", "status", "agency", "unit", "version", "assignee")
    return {"id": found["alert_id"], **{field: found.get(field) for field in fields}}


def entity(type_, key, display=None):
    return {"id": uid(), "type": type_, "key": key, "display": display or key, "ambiguous": False}


def vehicle(plate, state="TX"):
    return entity("vehicle", f"{state}:{plate}", f"{plate} ({state})")


def resolution(the_alert, *entities):
    return {
        "alert_id": the_alert["alert_id"],
        "entities": list(entities),
        "sightings": [
            {
                "entity_id": e["id"],
                "record_type": "alert",
                "record_id": the_alert["alert_id"],
                "at": the_alert["occurred_at"],
                "location": the_alert["location"],
                "source": the_alert["source"],
                "agency": the_alert.get("agency"),
            }
            for e in entities
        ],
        "related": [],
    }


def case(title="A case", summary="", unit="robbery", version=1, **extra):
    return {
        "case_id": uid(),
        "title": title,
        "summary": summary,
        "status": "open",
        "classification": "investigative",
        "sensitivity": None,
        "review_state": None,
        "unit": unit,
        "agency": "TX0000000",
        "assignees": [],
        "opened_at": "2026-03-01T10:00:00+00:00",
        "updated_at": "2026-03-01T10:00:00+00:00",
        "entity_ids": [],
        "alert_ids": [],
        "version": version,
        "control_official": None,
        **extra,
    }


def intelligence(sensitivity, review_state="approved", **extra):
    return case(
        classification="criminal_intelligence",
        sensitivity=sensitivity,
        review_state=review_state,
        unit="intel",
        control_official="lt.jones",
        **extra,
    )


def caller(sub="alice", unit="rtcc", agency="TX0000000", purpose=None, case_number=None, roles=("analyst",)):
    return {
        "actor": {"id": sub, "agency": agency, "roles": list(roles)},
        "unit": unit,
        "request_id": uid(),
        "purpose": purpose,
        "case_number": case_number,
    }
