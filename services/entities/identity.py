"""Normalizers: how a mention becomes an entity key.

The same thing seen twice must produce the same ``(type, key)``; that pair is unique in MongoDB.
Normalizers never guess: a hand-typed O for 0 stays an O (merging is a person's decision). A ref
may carry ``aliases``, other keys that name the same thing (a person's NCIC number and name + DOB,
a vehicle's VIN next to its plate): a later mention by any of them lands on the same entity.
"""

import re
from collections.abc import Iterable
from datetime import date
from urllib.parse import urlparse

import phonenumbers

UNKNOWN_STATE = "??"
PERSON_ID_TYPES = ("ncic_number", "state_id", "subject_id")

_PLATE_JUNK = re.compile(r"[\s\-\.·]")
_PLATE_OK = re.compile(r"^[A-Z0-9]{1,10}$")
_STATE_OK = re.compile(r"^[A-Z]{2,3}$")
_VIN_OK = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", "12345678123457923456789", strict=True))
_VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
_EMAIL_OK = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Platform spellings people and vendors use, and each platform's own handle rules.
PLATFORMS = {
    "twitter": "x",
    "x.com": "x",
    "twitter.com": "x",
    "ig": "instagram",
    "insta": "instagram",
    "instagram.com": "instagram",
    "fb": "facebook",
    "facebook.com": "facebook",
    "tiktok.com": "tiktok",
    "snap": "snapchat",
    "snapchat.com": "snapchat",
}
HANDLE_RULES = {
    "instagram": re.compile(r"^[a-z0-9._]{1,30}$"),
    "x": re.compile(r"^[a-z0-9_]{1,15}$"),
    "tiktok": re.compile(r"^[a-z0-9._]{2,24}$"),
    "facebook": re.compile(r"^[a-z0-9]{5,50}$"),  # Facebook ignores the dots in usernames
    "snapchat": re.compile(r"^[a-z0-9._-]{3,15}$"),
}
_ANY_HANDLE = re.compile(r"^[a-z0-9._\-]{1,100}$")

_ADDRESS_WORDS = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "BOULEVARD": "BLVD",
    "ROAD": "RD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "HIGHWAY": "HWY",
    "PARKWAY": "PKWY",
    "FREEWAY": "FWY",
    "CIRCLE": "CIR",
    "SUITE": "STE",
    "APARTMENT": "APT",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}


class NotAnIdentifier(ValueError):
    """The input cannot be normalized into a key of that type."""


def normalize_plate(plate: str) -> str:
    """Upper case, without spaces, dashes or dots: ``"abc-1 23"`` → ``"ABC123"``."""
    value = _PLATE_JUNK.sub("", plate or "").upper()
    if not _PLATE_OK.match(value):
        raise NotAnIdentifier(f"not a plate: {plate!r}")
    return value


def normalize_state(state: str | None) -> str:
    """A state or province code (``"tx "`` → ``"TX"``); ``??`` when none is given."""
    value = (state or "").strip().upper()
    if not value:
        return UNKNOWN_STATE
    if not _STATE_OK.match(value):
        raise NotAnIdentifier(f"not a state code: {state!r}")
    return value


def normalize_vin(vin: str) -> str:
    """A 17-character VIN whose check digit (position 9) is right."""
    value = _PLATE_JUNK.sub("", vin or "").upper()
    if not _VIN_OK.match(value):
        raise NotAnIdentifier(f"not a VIN: {vin!r}")
    total = sum(int(c if c.isdigit() else _VIN_VALUES[c]) * w for c, w in zip(value, _VIN_WEIGHTS, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    if value[8] != check:
        raise NotAnIdentifier(f"VIN check digit is wrong: {vin!r}")
    return value


def normalize_phone(number: str, default_region: str = "US") -> str:
    """E.164: ``"(713) 555-0100"`` → ``"+17135550100"``; national numbers use ``default_region``."""
    try:
        parsed = phonenumbers.parse(number or "", default_region)
    except phonenumbers.NumberParseException as exc:
        raise NotAnIdentifier(f"not a phone number: {number!r}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise NotAnIdentifier(f"not a phone number: {number!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(email: str) -> str:
    value = (email or "").strip().lower().removeprefix("mailto:")
    if not _EMAIL_OK.match(value):
        raise NotAnIdentifier(f"not an email address: {email!r}")
    return value


def normalize_platform(platform: str) -> str:
    value = (platform or "").strip().lower().removeprefix("www.")
    return PLATFORMS.get(value, value)


def normalize_handle(platform: str, handle: str) -> str:
    """``platform:handle`` by the platform's own rules: lower case, no ``@``, profile URLs unwrapped."""
    raw = (handle or "").strip()
    if "/" in raw:
        url = urlparse(raw if "://" in raw else f"https://{raw}")
        platform = platform or url.netloc
        raw = next((part for part in url.path.split("/") if part), "")
    name, plat = raw.lstrip("@").lower(), normalize_platform(platform)
    if plat == "facebook":
        name = name.replace(".", "")
    if not plat or not HANDLE_RULES.get(plat, _ANY_HANDLE).match(name):
        raise NotAnIdentifier(f"not a {plat or 'social'} handle: {handle!r}")
    return f"{plat}:{name}"


def normalize_name(name: str) -> str:
    return " ".join(re.sub(r"[^\w\s'-]", " ", name or "").upper().split())


def normalize_address(address: str) -> str:
    """Upper case, punctuation dropped, street words abbreviated: ``"2400 Rusk Street."`` → ``"2400 RUSK ST"``."""
    words = re.sub(r"[^\w\s-]", " ", address or "").upper().split()
    value = " ".join(_ADDRESS_WORDS.get(word, word) for word in words)
    if not value:
        raise NotAnIdentifier("an address needs text")
    return value


def normalize_dob(dob: str | date | None) -> str | None:
    if dob in (None, ""):
        return None
    try:
        return date.fromisoformat(str(dob)[:10]).isoformat()
    except ValueError as exc:
        raise NotAnIdentifier(f"not a date of birth: {dob!r}") from exc


def _ref(
    type_: str, key: str, display: str, aliases: Iterable[str] = (), ambiguous: bool = False, **attributes
) -> dict:
    attributes = {k: v for k, v in attributes.items() if v not in (None, "")}
    return {
        "type": type_,
        "key": key,
        "display": display,
        "aliases": [alias for alias in aliases if alias != key],
        "attributes": attributes,
        "ambiguous": ambiguous,
    }


def vehicle_ref(plate: str | None, state: str | None = None, vin: str | None = None, **details) -> dict:
    """A vehicle keyed by plate and state (``TX:ABC123``), or by VIN when there is no plate.

    A plate read without a state is keyed ``??:ABC123`` and flagged ambiguous: it is matched against
    that plate in every state. A valid VIN next to a plate becomes an alias; an invalid one is dropped.
    """
    try:
        vin_key = normalize_vin(vin) if vin else None
    except NotAnIdentifier:
        if not plate:
            raise
        vin_key = None
    if plate:
        value, where = normalize_plate(plate), normalize_state(state)
        return _ref(
            "vehicle",
            f"{where}:{value}",
            f"{value} ({where})",
            aliases=[f"VIN:{vin_key}"] if vin_key else [],
            ambiguous=where == UNKNOWN_STATE,
            plate=value,
            plate_state=where,
            vin=vin_key,
            **details,
        )
    if not vin_key:
        raise NotAnIdentifier("a vehicle needs a plate or a VIN")
    return _ref("vehicle", f"VIN:{vin_key}", f"VIN {vin_key}", vin=vin_key, **details)


def person_ref(name: str | None = None, dob: str | date | None = None, mention: str | None = None, **ids) -> dict:
    """A person keyed by an external id (NCIC number, state id, vendor subject id) or name + DOB.

    Every identifier given is kept: the first is the key, the others aliases. A name without a date
    of birth or an id does not say who it is (many people are called John Smith): it is keyed by the
    name and the ``mention`` that named it (``name:JOHN SMITH|?|<mention>``) and flagged ambiguous, so
    two records naming a John Smith are two entities, never a link; a person may merge them.
    """
    dob, clean_name = normalize_dob(dob), normalize_name(name) if name else ""
    keys = [f"{kind}:{str(ids[kind]).strip().upper()}" for kind in PERSON_ID_TYPES if ids.get(kind)]
    if clean_name and dob:
        keys.append(f"name:{clean_name}|{dob}")
    if not keys:
        if not clean_name:
            raise NotAnIdentifier("a person needs a name or an external id")
        if not mention:
            raise NotAnIdentifier("a person known by name alone needs the mention that named them")
        keys, ambiguous = [f"name:{clean_name}|?|{mention}"], True
    else:
        ambiguous = False
    present = {kind: str(ids[kind]).strip().upper() for kind in PERSON_ID_TYPES if ids.get(kind)}
    return _ref(
        "person", keys[0], name or keys[0], aliases=keys[1:], ambiguous=ambiguous, name=clean_name, dob=dob, **present
    )


def phone_ref(number: str, default_region: str) -> dict:
    value = normalize_phone(number, default_region)
    return _ref("phone", value, value)


def email_ref(address: str) -> dict:
    value = normalize_email(address)
    return _ref("email", value, value)


def social_ref(platform: str, handle: str, profile_url: str | None = None) -> dict:
    key = normalize_handle(platform, handle)
    return _ref("social_account", key, key, platform=key.split(":", 1)[0], handle=key.split(":", 1)[1], url=profile_url)


def address_ref(address: str, lat: float | None = None, lon: float | None = None) -> dict:
    """An address; geocoded (``lat``, ``lon``) when coordinates come with it."""
    key = normalize_address(address)
    if (lat is None) != (lon is None) or (lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180)):
        raise NotAnIdentifier(f"not a coordinate pair: {lat!r}, {lon!r}")
    return _ref("address", key, address.strip(), lat=lat, lon=lon)


def named_ref(kind: str, name: str | None, description: str | None = None, **attributes) -> dict:
    """A weapon or organization: keyed by its serial number when given, else its name."""
    serial = attributes.pop("serial_number", None)
    text = normalize_name(name or description or "")
    if serial:
        return _ref(kind, f"SERIAL:{normalize_name(serial)}", name or serial, serial_number=serial, **attributes)
    if not text:
        raise NotAnIdentifier(f"a {kind} needs a name or description")
    return _ref(kind, text, name or description, description=description, **attributes)
