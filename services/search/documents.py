"""What each record looks like in the index, built from the events and exports of its owner."""

_TITLE_FIELDS = {
    "alpr": ("plate", "plate_state", "hotlist"),
    "face": ("candidate.name",),
    "gunshot": ("rounds", "incident_type"),
    "social": ("platform", "handle", "threat_category"),
    "cad": ("incident_number", "call_type"),
    "database": ("system", "hit_type", "record_ref"),
    "tip": ("reporter",),
}


def _point(location: dict | None) -> dict | None:
    return {"lat": location["lat"], "lon": location["lon"]} if location else None


def _get(payload: dict, path: str) -> object:
    value = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def payload_text(value: object, key: str = "") -> list[str]:
    """Every string in a payload (narratives, posts, names, reasons), links left out."""
    if isinstance(value, dict):
        return [text for k, v in value.items() for text in payload_text(v, k)]
    if isinstance(value, list):
        return [text for item in value for text in payload_text(item, key)]
    if isinstance(value, str) and not key.endswith("url"):
        return [value]
    return []


def alert_document(alert: dict) -> dict:
    """An ``alert_received`` event (or an ``intake.export_alerts`` item) as an index document.

    ``item`` is stored as it came (an unindexed object): the alert list serves it without asking intake."""
    payload = alert.get("payload") or {}
    title = [str(_get(payload, path)) for path in _TITLE_FIELDS.get(alert["source"], ()) if _get(payload, path)]
    location = alert.get("location")
    return {
        "kind": "alert",
        "rid": alert["alert_id"],
        "version": alert.get("version") or 1,
        "at": alert["occurred_at"],
        "title": " ".join([alert["source"], *title]),
        "text": "\n".join(payload_text(payload) + ([location["address"]] if (location or {}).get("address") else [])),
        "notes": alert.get("notes") or "",
        "source": alert["source"],
        "source_system": alert["source_system"],
        "status": alert["status"],
        "priority": alert["priority"],
        "received_at": alert["received_at"],
        "location": _point(location),
        "agency": alert.get("agency"),
        "unit": alert.get("unit"),
        "assignees": [alert["assignee"]] if alert.get("assignee") else [],
        "record_class": alert.get("record_class"),
        "item": alert.get("item"),  # the alert list's item at this version, kept unindexed
    }


def case_document(case: dict) -> dict:
    """A ``case_updated`` event (or a ``cases.export_cases`` item) as an index document."""
    return {
        "kind": "case",
        "rid": case["case_id"],
        "version": case["version"],
        "at": case["updated_at"],
        "opened_at": case["opened_at"],
        "title": case["title"],
        "text": case.get("summary") or "",
        "status": case["status"],
        "agency": case.get("agency"),
        "unit": case["unit"],
        "assignees": case.get("assignees") or [],
        "record_class": case["classification"],
        "classification": case["classification"],
        "sensitivity": case.get("sensitivity"),
        "review_state": case.get("review_state"),
        "control_official": case.get("control_official"),
        "submitting_unit": case.get("submitting_unit"),
    }


def vehicle_plates(key: str, aliases: list[str]) -> dict:
    """Every plate a vehicle is known by (its key's first), their states, and its VINs.

    Keys are ``TX:ABC123`` (``??`` when read without a state) or ``VIN:1HG...``: a merged vehicle keeps
    the other's keys as aliases, so plate search finds the survivor by any of them. VINs are indexed in
    ``plate`` too (after the plates), so a VIN typed into a search finds its vehicle.
    """
    plates, states, vins = {}, {}, {}
    for known in [key, *aliases]:
        where, _, value = known.partition(":")
        if not value:
            continue
        if where == "VIN":
            vins[value] = True
        else:
            plates[value], states[where] = True, True
    return {"plate": [*plates, *vins], "plate_state": list(states), "vins": list(vins)}


def entity_document(entity: dict) -> dict:
    """An entity (``alerts_resolved``, ``entity_recorded``, ``entities_merged``) or an ``export_entities`` item.

    ``version`` is the entity's ``revision``: written as an external version, a replay never regresses it.
    """
    kind, key, display = entity["type"], entity["key"], entity["display"]
    document = {
        "kind": "entity",
        "rid": entity["id"],
        "version": entity.get("revision") or 0,
        "type": kind,
        "key": key,
        "display": display,
        "title": display,
        "ambiguous": bool(entity.get("ambiguous")),  # kept, not indexed: an alert list item names it so
    }
    if kind == "vehicle":
        document.update(vehicle_plates(key, entity.get("aliases") or []))
    elif kind == "person":
        document["name"] = " ".join(filter(None, [display, entity.get("name"), *(entity.get("aliases") or [])]))
    elif kind == "phone":
        document["phone"] = key
    elif kind == "social_account" and ":" in key:
        document["platform"], document["handle"] = key.split(":", 1)
    return document


def merged_document(entity: dict) -> dict:
    """What stays of a merged-away entity: a marker at its revision, found by no search, that keeps a
    late event about it (an older revision) from writing it back."""
    return {"kind": "merged", "rid": entity["id"], "version": entity.get("revision") or 0}


def sighting_id(sighting: dict) -> str:
    return f"{sighting['entity_id']}:{sighting['record_id']}"


def sighting_document(sighting: dict) -> dict:
    return {
        "entity_id": sighting["entity_id"],
        "record_type": sighting["record_type"],
        "record_id": sighting["record_id"],
        "at": sighting["at"],
        "location": _point(sighting.get("location")),
        "source": sighting.get("source"),
        "agency": sighting.get("agency"),  # whose record names the entity: who may find it (access_filters.py)
    }
