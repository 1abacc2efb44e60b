"""Extraction: every entity an alert mentions, from every source schema."""

from collections.abc import Callable, Iterator

from services.entities.identity import (
    NotAnIdentifier,
    address_ref,
    email_ref,
    named_ref,
    person_ref,
    phone_ref,
    social_ref,
    vehicle_ref,
)

VEHICLE_DETAILS = ("make", "model", "color", "year")


def ref_for(subject: dict, default_region: str = "US", mention: str | None = None) -> dict:
    """The ref for one described entity: a subject in a tip, CAD call or database hit, or a hand-made one.

    ``mention`` names where it was said (the alert's id): a person known by name alone is keyed by it.
    """
    kind = subject.get("type")
    if kind == "vehicle":
        details = {key: subject.get(key) for key in VEHICLE_DETAILS}
        return vehicle_ref(subject.get("plate"), subject.get("plate_state"), subject.get("vin"), **details)
    if kind == "person":
        return person_ref(
            subject.get("name"),
            subject.get("dob"),
            mention,
            **{key: subject.get(key) for key in ("ncic_number", "state_id", "subject_id")},
        )
    if kind == "phone":
        return phone_ref(subject.get("number", ""), default_region)
    if kind == "email":
        return email_ref(subject.get("email") or subject.get("address") or subject.get("name", ""))
    if kind == "social_account":
        return social_ref(subject.get("platform", ""), subject.get("handle", ""), subject.get("profile_url"))
    if kind == "address":
        return address_ref(subject.get("address", ""), subject.get("lat"), subject.get("lon"))
    if kind in ("weapon", "organization"):
        return named_ref(
            kind, subject.get("name"), subject.get("description"), serial_number=subject.get("serial_number")
        )
    raise NotAnIdentifier(f"unknown entity type {kind!r}")


def _source_refs(
    source: str, payload: dict, location: dict | None, default_region: str, mention: str | None
) -> Iterator[Callable[[], dict]]:
    """The mentions each source schema makes outside its ``subjects``, as builders."""
    if source == "alpr":
        vehicle = payload.get("vehicle") or {}
        details = {key: vehicle.get(key) for key in VEHICLE_DETAILS}
        yield lambda: vehicle_ref(payload.get("plate"), payload.get("plate_state"), vehicle.get("vin"), **details)
    elif source == "face":
        yield lambda: ref_for({"type": "person", **(payload.get("candidate") or {})}, default_region, mention)
    elif source == "social":
        yield lambda: social_ref(payload.get("platform"), payload.get("handle"), payload.get("profile_url"))
    elif source == "cad" and location and location.get("address"):
        # A CAD call's address is where the incident is: repeat calls to one address are a link.
        # Sensor positions (cameras, microphones) are not: they would relate every read at one pole.
        yield lambda: address_ref(location["address"], location.get("lat"), location.get("lon"))


def extract(alert: dict, default_region: str = "US") -> list[dict]:
    """Every entity an alert mentions, as refs, once each; mentions that cannot be keyed are skipped."""
    payload = alert.get("payload") or {}
    mention = alert.get("alert_id")
    builders = list(_source_refs(alert["source"], payload, alert.get("location"), default_region, mention))
    subjects = list(payload.get("subjects") or [])
    if payload.get("subject"):
        subjects.append(payload["subject"])
    builders += [lambda subject=subject: ref_for(subject, default_region, mention) for subject in subjects]
    unique: dict[tuple, dict] = {}
    for build in builders:
        try:
            ref = build()
        except NotAnIdentifier:
            continue
        unique.setdefault((ref["type"], ref["key"]), ref)
    return list(unique.values())
