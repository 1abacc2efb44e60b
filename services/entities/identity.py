"""Normalizers and extraction: how a mention in an alert becomes an entity key.

The same thing seen twice must produce the same ``(type, key)``; that pair is unique in MongoDB.
Normalizers never guess: a hand-typed O for 0 stays an O (merging is a person's decision).
"""

import re

import phonenumbers

ENTITY_TYPES = ("person", "vehicle", "phone", "email", "social_account", "address", "weapon", "organization")
UNKNOWN_STATE = "??"

_PLATE_JUNK = re.compile(r"[\s\-\.·]")
_PLATE_OK = re.compile(r"^[A-Z0-9]{1,10}$")
_VIN_OK = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_VALUES = dict(
    zip("ABCDEFGHJKLMNPRSTUVWXYZ", [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9], strict=False)
)
_VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


class NotAnIdentifier(ValueError):
    """The input cannot be normalized into a key of that type."""


def normalize_plate(plate: str) -> str:
    """Upper case, without spaces, dashes or dots: ``"abc-1 23"`` → ``"ABC123"``."""
    value = _PLATE_JUNK.sub("", plate or "").upper()
    if not _PLATE_OK.match(value):
        raise NotAnIdentifier(f"not a plate: {plate!r}")
    return value


def normalize_state(state: str | None) -> str:
    return (state or "").strip().upper() or UNKNOWN_STATE


def normalize_vin(vin: str) -> str:
    """A 17-character VIN whose check digit (position 9) is right."""
    value = _PLATE_JUNK.sub("", vin or "").upper()
    if not _VIN_OK.match(value):
        raise NotAnIdentifier(f"not a VIN: {vin!r}")
    total = sum((int(c) if c.isdigit() else _VIN_VALUES[c]) * w for c, w in zip(value, _VIN_WEIGHTS, strict=False))
    check = "X" if total % 11 == 10 else str(total % 11)
    if value[8] != check:
        raise NotAnIdentifier(f"VIN check digit is wrong: {vin!r}")
    return value


def normalize_phone(number: str, default_region: str = "US") -> str:
    """E.164: ``"(713) 555-0100"`` → ``"+17135550100"``."""
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException as exc:
        raise NotAnIdentifier(f"not a phone number: {number!r}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise NotAnIdentifier(f"not a phone number: {number!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(email: str) -> str:
    value = (email or "").strip().lower()
    if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
        raise NotAnIdentifier(f"not an email address: {email!r}")
    return value


def normalize_handle(platform: str, handle: str) -> str:
    """``platform:handle``, both lower case, without a leading ``@``."""
    name = (handle or "").strip().lstrip("@").lower()
    plat = (platform or "").strip().lower()
    if not name or not plat:
        raise NotAnIdentifier(f"not a handle: {platform!r} {handle!r}")
    return f"{plat}:{name}"


def normalize_name(name: str) -> str:
    return " ".join(re.sub(r"[^\w\s'-]", " ", name or "").upper().split())


def _ref(type_: str, key: str, display: str, **attributes) -> dict:
    return {"type": type_, "key": key, "display": display, "attributes": attributes, "ambiguous": False}


def vehicle_ref(plate: str | None, state: str | None = None, vin: str | None = None, **details) -> dict:
    """A vehicle keyed by plate and state (``TX:ABC123``), or by VIN when there is no plate."""
    attributes = {k: v for k, v in details.items() if v not in (None, "")}
    if plate:
        value, where = normalize_plate(plate), normalize_state(state)
        ref = _ref("vehicle", f"{where}:{value}", f"{value} ({where})", plate=value, plate_state=where, **attributes)
        ref["ambiguous"] = where == UNKNOWN_STATE
        if vin:
            ref["attributes"]["vin"] = vin
        return ref
    value = normalize_vin(vin or "")
    return _ref("vehicle", f"VIN:{value}", f"VIN {value}", vin=value, **attributes)


def person_ref(name: str | None = None, dob=None, **ids) -> dict:
    """A person keyed by an external id (NCIC number, state id, vendor subject id) or name + DOB."""
    for id_type in ("ncic_number", "state_id", "subject_id"):
        if ids.get(id_type):
            key = f"{id_type}:{str(ids[id_type]).strip().upper()}"
            return _ref(
                "person", key, name or key, name=normalize_name(name) if name else None, dob=str(dob) if dob else None
            )
    if not name:
        raise NotAnIdentifier("a person needs a name or an external id")
    key = f"name:{normalize_name(name)}|{dob or '?'}"
    ref = _ref("person", key, name, name=normalize_name(name), dob=str(dob) if dob else None)
    ref["ambiguous"] = not dob
    return ref


def subject_ref(subject: dict, default_region: str) -> dict:
    """One subject named in a tip, CAD call or database hit."""
    kind = subject.get("type")
    if kind == "vehicle":
        return vehicle_ref(subject.get("plate"), subject.get("plate_state"), subject.get("vin"))
    if kind == "person":
        return person_ref(
            subject.get("name"),
            subject.get("dob"),
            ncic_number=subject.get("ncic_number"),
            state_id=subject.get("state_id"),
        )
    if kind == "phone":
        number = normalize_phone(subject.get("number", ""), default_region)
        return _ref("phone", number, number)
    if kind == "email":
        email = normalize_email(subject.get("address") or subject.get("name", ""))
        return _ref("email", email, email)
    if kind == "social_account":
        key = normalize_handle(subject.get("platform", ""), subject.get("handle", ""))
        return _ref("social_account", key, key)
    if kind == "address":
        text = normalize_name(subject.get("address", ""))
        if not text:
            raise NotAnIdentifier("an address needs text")
        return _ref("address", text, subject["address"])
    name = normalize_name(subject.get("name") or subject.get("description", ""))
    if not name:
        raise NotAnIdentifier(f"a {kind} needs a name or description")
    return _ref(kind, name, subject.get("name") or subject.get("description"))


def extract(alert: dict, default_region: str = "US") -> list[dict]:
    """Every entity an alert mentions, as refs; mentions that cannot be keyed are skipped."""
    source, payload = alert["source"], alert.get("payload") or {}
    found = []

    def add(build, *args, **kwargs):
        try:
            found.append(build(*args, **kwargs))
        except NotAnIdentifier:
            pass

    if source == "alpr":
        vehicle = payload.get("vehicle") or {}
        add(
            vehicle_ref,
            payload.get("plate"),
            payload.get("plate_state"),
            vehicle.get("vin"),
            make=vehicle.get("make"),
            model=vehicle.get("model"),
            color=vehicle.get("color"),
        )
    elif source == "face":
        candidate = payload.get("candidate") or {}
        add(person_ref, candidate.get("name"), candidate.get("dob"), subject_id=candidate.get("subject_id"))
    elif source == "social":
        add(
            lambda: _ref("social_account", key := normalize_handle(payload.get("platform"), payload.get("handle")), key)
        )
    subjects = payload.get("subjects") or ([payload["subject"]] if payload.get("subject") else [])
    for subject in subjects:
        add(subject_ref, subject, default_region)
    unique = {}
    for ref in found:
        unique.setdefault((ref["type"], ref["key"]), ref)
    return list(unique.values())
