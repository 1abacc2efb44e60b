"""A single submission's entities, asked of the entities service while its submitter waits.

``POST /api/v1/alerts`` is answered with the alert's entities and the earlier records it relates to.
Once a group of single submissions is stored and announced (flagged ``resolving``, so the entities
service does not resolve them a second time from the event), intake asks for them, and closes the
group's outbox entry when they came. When they do not come within :data:`RESOLVE_SECONDS`, the
submitters are answered "pending" and the entry stays open: the outbox sends the alerts again without
the flag, and the entities service resolves them from that event.
"""

import logging
from typing import TYPE_CHECKING

import eventlet

from services.intake.schemas import AlertEvent

if TYPE_CHECKING:
    from services.intake.service import IntakeService

RESOLVE_SECONDS = 5.0  # also the request's time to live at the broker: nobody waits for it after that
log = logging.getLogger(__name__)


def answer(service: "IntakeService", entry_id: str, alerts: list[dict], results: list[dict]) -> None:
    """Give each new alert's result of the group its ``resolution``: its ``{"entities", "related"}``, or
    None when the entities service did not give them in time."""
    resolutions = resolve(service, entry_id, alerts) if alerts else {}
    for result in results:
        if result["status"] == 201:
            result["resolution"] = resolutions.get(result["id"])


def resolve(service: "IntakeService", entry_id: str, alerts: list[dict]) -> dict[str, dict]:
    """Alert id → ``{"entities", "related"}`` of each of ``alerts``; ``{}`` when the entities service
    did not answer in time (its outbox entry stays open)."""
    resolved = None
    try:
        with eventlet.Timeout(RESOLVE_SECONDS, False):  # False: on time out, leave the block quietly
            resolved = service.entities_rpc.resolve_alerts({"alerts": AlertEvent(many=True).dump(alerts)})
    except Exception:
        log.warning("batch %s not resolved; the outbox announces it again for entities", entry_id, exc_info=True)
        return {}
    if resolved is None:
        log.warning("batch %s not resolved in %s s; the outbox announces it again", entry_id, RESOLVE_SECONDS)
        return {}
    service.alerts.close_outbox(entry_id)
    return {item["alert_id"]: {"entities": item["entities"], "related": item["related"]} for item in resolved}
