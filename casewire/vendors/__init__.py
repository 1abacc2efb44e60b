"""Vendor adapters: the formats detection systems actually send, mapped to the alert contract.

Each adapter loads the vendor's body with a marshmallow schema of its own (so a bad body is a 422
naming the vendor's own field) and returns the ``AlertSubmission`` bodies it holds: one for most
posts, one per plate for a Plate Recognizer Stream frame, none for an agent's heartbeat
(:class:`NothingToStore`). Each then goes through the same validation and intake path as
``POST /api/v1/alerts``. Vendor fields an adapter does not map are kept under the alert's
``source_payload`` at their path in the vendor's body (``device.model`` →
``source_payload.device.model``); image crops sent inside the JSON are kept as their SHA-256 and
size only. ``docs/vendor-formats.md`` says where each format's fields come from.
"""

from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import ValidationError

from casewire.vendors import flock, ncic, platerecognizer, rekor, shotspotter, verkada
from casewire.vendors.common import NothingToStore, VendorSettings


@dataclass(frozen=True)
class Adapter:
    summary: str  # the endpoint's summary in the OpenAPI document
    body: object  # the request body's schema there (a schema class, or a dict with ``oneOf``)
    to_alerts: Callable[[dict, VendorSettings], list[dict]]


ADAPTERS = {
    "rekor": Adapter(
        "an OpenALPR / Rekor Scout agent's post: alpr_group (a read) or alpr_alert (a hit)", rekor.BODY, rekor.to_alerts
    ),
    "verkada": Adapter("a Verkada LPR webhook (webhook_type lpr): one read", verkada.VerkadaLpr, verkada.to_alerts),
    "platerecognizer": Adapter(
        "a Plate Recognizer Stream webhook: a frame's reads", platerecognizer.StreamWebhook, platerecognizer.to_alerts
    ),
    "flock": Adapter("a Flock-style plate read", flock.FlockRead, flock.to_alerts),
    "shotspotter": Adapter(
        "a ShotSpotter-style gunshot incident", shotspotter.ShotSpotterIncident, shotspotter.to_alerts
    ),
    "ncic": Adapter("an NCIC hotlist hit", ncic.NcicHit, ncic.to_alerts),
}
FORMATS = tuple(ADAPTERS)

__all__ = ["ADAPTERS", "FORMATS", "Adapter", "NothingToStore", "VendorSettings", "adapt", "settings_from_config"]


def settings_from_config(config: dict) -> VendorSettings:
    """The vendor settings of a gateway config; ValueError naming what is wrong."""
    return VendorSettings.from_config(config, FORMATS)


def adapt(vendor_format: str, body: dict, settings: VendorSettings | None = None) -> list[dict]:
    """Map one vendor body to the alert submissions it holds; raises ValidationError naming the vendor's
    fields, or NothingToStore for a well-formed body that holds no read or hit."""
    if vendor_format not in ADAPTERS:
        raise ValidationError({"format": [f"unknown vendor format; choose from {list(FORMATS)}"]})
    return ADAPTERS[vendor_format].to_alerts(body, settings or VendorSettings())
