"""What the vendor adapters share: extras, image crops, plate regions, camera positions, and the
answer for a body that holds nothing to store."""

import base64
import binascii
import hashlib
from collections.abc import Mapping

from marshmallow import Schema, ValidationError, fields, post_load, validate

from casewire.extras import Open, pop_unknown

ID = validate.Length(min=1, max=200)
PLATE = validate.Length(min=1, max=12)
STATE = validate.Length(min=2, max=3)
REGION = validate.Length(max=10)  # a vendor's region code: "us-tx", "ca-qc", "gb"
URL = validate.Length(max=2000)
EPOCH_MS = validate.Range(0, 32503680000000)  # milliseconds up to the year 3000
EPOCH_S = validate.Range(0, 32503680000)


class Vendor(Open):
    """Loads the declared fields; collects the rest, at any depth, under ``extra`` by their path."""

    @post_load
    def collect_extra(self, data: dict, **kwargs) -> dict:
        data["extra"] = pop_unknown(self, data)
        return data


class NothingToStore(Exception):
    """A well-formed vendor body that is no plate read or hit (an agent's heartbeat): answered, not stored."""


def compact(mapping: dict) -> dict:
    """Drop keys whose value is None or empty, so optional fields stay absent."""
    return {key: value for key, value in mapping.items() if value not in (None, {}, [], "")}


class Crop(fields.Field):
    """A base64 JPEG a vendor sends inside its JSON. Loads as ``{"sha256", "bytes"}`` of the decoded
    image: the image itself is never kept in an alert (docs/vendor-formats.md, Images)."""

    default_error_messages = {"invalid": "not base64 image data"}

    def _deserialize(self, value: object, attr: str | None, data: Mapping | None, **kwargs) -> dict:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            image = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self.make_error("invalid") from exc
        return {"sha256": hashlib.sha256(image).hexdigest(), "bytes": len(image)}


def region_state(region: str | None) -> str | None:
    """The plate's state or province from a vendor region code: ``us-tx`` → ``TX``, ``ca-qc`` → ``QC``.
    A country alone (``gb``) or an empty code names no state."""
    country, _, state = (region or "").strip().partition("-")
    state = state.upper()
    return state if country and 2 <= len(state) <= 3 else None


def percent(score: float | None) -> float | None:
    """A 0–1 score as the alert's 0–100 confidence."""
    return None if score is None else round(score * 100, 2)


def best(candidates: list | None, key: str = "name") -> str | None:
    """The first (most likely) candidate's ``key`` of a vendor's ranked list."""
    return candidates[0].get(key) if candidates else None


# -- camera positions ---------------------------------------------------------------------------


class Camera(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    label = fields.String(validate=validate.Length(min=1, max=200))


class _Cameras(Schema):
    cameras = fields.Dict(keys=fields.String(validate=ID), values=fields.Nested(Camera), required=True)


class VendorSettings:
    """The gateway's ``VENDOR_CAMERAS``: where each camera of a vendor whose reads carry no position
    stands, by the vendor's camera id, e.g. ``{verkada: {b018c3c4-...: {lat: 29.76, lon: -95.36,
    label: Main St EB}}}``. Read once when the gateway starts; a bad table stops it there."""

    def __init__(self, cameras: dict[str, dict[str, dict]] | None = None):
        self.cameras = cameras or {}

    @classmethod
    def from_config(cls, config: dict, formats: tuple[str, ...]) -> "VendorSettings":
        table = config.get("VENDOR_CAMERAS") or {}
        if not isinstance(table, dict):
            raise ValueError("VENDOR_CAMERAS must map vendor formats to cameras")
        unknown = sorted(set(table) - set(formats))
        if unknown:
            raise ValueError(f"VENDOR_CAMERAS names unknown vendor formats: {', '.join(map(str, unknown))}")
        cameras = {}
        for vendor, entries in table.items():
            # YAML reads an unquoted numeric id as a number; vendors send their ids as text.
            entries = {str(key): value for key, value in entries.items()} if isinstance(entries, dict) else entries
            try:
                cameras[vendor] = _Cameras().load({"cameras": entries})["cameras"]
            except ValidationError as exc:
                raise ValueError(f"VENDOR_CAMERAS.{vendor}: {exc.messages['cameras']}") from exc
        return cls(cameras)

    def camera(self, vendor: str, camera_id: str, path: str) -> dict:
        """The camera's position and label; a ValidationError naming the vendor's field at ``path``
        when the agency has not said where it stands."""
        found = self.cameras.get(vendor, {}).get(camera_id)
        if found is None:
            raise ValidationError(_at(path, f"camera {camera_id!r} has no position: add it to VENDOR_CAMERAS.{vendor}"))
        return found


def _at(path: str, message: str) -> dict:
    """``"data.camera_id"`` → ``{"data": {"camera_id": [message]}}``: errors nest as marshmallow's do."""
    *parents, leaf = path.split(".")
    errors: dict = {leaf: [message]}
    for part in reversed(parents):
        errors = {part: errors}
    return errors
