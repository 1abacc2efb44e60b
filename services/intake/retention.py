"""Retention deadlines: tip expiry (C18) and ALPR retention profiles per jurisdiction (C19).

A deadline is computed when an alert is stored and kept as ``purge_after``, with the minute it falls
in as ``purge_slot`` (:func:`slot_of`) and its hour in a small queue of markers. The intake timers
walk the minutes of the hours the queue names up to now, each found by equality, and delete what is
past its deadline unless a case names the alert or holds it; an alert let go of after its deadline
is put in the current minute's slot again.
"""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from nameko.timer import Timer

from casewire import events

if TYPE_CHECKING:
    from services.intake.service import IntakeService

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_PROFILES = {"NH": "3m", "ME": "21d", "MN": "60d", "TN": "90d"}
DEFAULT_PURGE_SECONDS = 10


def slot_of(at: datetime) -> str:
    """``"2026-03-02T08:15"``: the UTC minute ``at`` falls in (zero-padded years sort as text)."""
    return at.astimezone(UTC).isoformat(timespec="minutes")[:16]


def minutes_of(hour: str, until: datetime) -> list[str]:
    """The minute slots of ``hour`` (``"2026-03-02T08"``) up to and including the one ``until`` falls in."""
    last = slot_of(until)
    return [slot for minute in range(60) if (slot := f"{hour}:{minute:02d}") <= last]


def parse_duration(text: str | float) -> timedelta:
    """``"3m"``, ``"21d"``, ``"12h"``, ``"90s"`` (a bare number is days)."""
    if isinstance(text, int | float):
        return timedelta(days=text)
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 180s, 3m, 12h, 21d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class RetentionPolicy:
    """Built from the service config: ``TIP_RETENTION_DAYS``, ``ALPR_RETENTION_PROFILES`` (a mapping of
    jurisdiction → duration) and ``ALPR_JURISDICTION`` (used when the agency's ORI names no profile)."""

    def __init__(self, tip_days: float, profiles: dict, default_jurisdiction: str | None):
        self.tip_retention = timedelta(days=float(tip_days))
        self.profiles = {str(key).upper(): parse_duration(value) for key, value in profiles.items()}
        self.default_jurisdiction = (default_jurisdiction or "").upper() or None

    @classmethod
    def from_config(cls, config: dict) -> "RetentionPolicy":
        return cls(
            config.get("TIP_RETENTION_DAYS", 365),
            config.get("ALPR_RETENTION_PROFILES") or DEFAULT_PROFILES,
            config.get("ALPR_JURISDICTION"),
        )

    def jurisdiction(self, agency: str | None) -> str | None:
        """An ORI starts with its state's code (``NH0000000``); else the configured default."""
        state = (agency or "")[:2].upper()
        return state if state in self.profiles else self.default_jurisdiction

    def deadline(self, alert: dict) -> dict | None:
        """``{"rule", "jurisdiction"?, "purge_after"}`` for records that expire; None for the rest."""
        if alert["record_class"] == "tip_lead":
            return {"rule": "C18", "purge_after": alert["received_at"] + self.tip_retention}
        if alert["source"] == "alpr" and not alert["payload"].get("hotlist"):
            jurisdiction = self.jurisdiction(alert.get("agency"))
            if jurisdiction in self.profiles:
                when: datetime = alert["occurred_at"] + self.profiles[jurisdiction]
                return {"rule": "C19", "jurisdiction": jurisdiction, "purge_after": when}
        return None


def content_hash(alert: dict) -> str:
    """SHA-256 of the alert's canonical JSON: the tombstone a purge leaves in the audit log (C16)."""
    canonical = json.dumps(alert, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class PurgeTimer(Timer):
    """The C19 sweep's timer: every ``ALPR_PURGE_SECONDS`` (10 by default), read when intake starts.

    The interval must be shorter than the smallest retention profile (NH: 3 minutes), or a read would
    outlive its deadline by up to a whole interval; a longer one stops intake at start.
    """

    def __init__(self, **kwargs):
        super().__init__(interval=DEFAULT_PURGE_SECONDS, eager=True, **kwargs)

    def setup(self) -> None:
        config = self.container.config
        configured = config.get("ALPR_PURGE_SECONDS")
        self.interval = float(DEFAULT_PURGE_SECONDS if configured in (None, "") else configured)
        shortest = min(RetentionPolicy.from_config(config).profiles.values(), default=None)
        if self.interval <= 0 or (shortest is not None and timedelta(seconds=self.interval) >= shortest):
            raise ValueError(
                f"ALPR_PURGE_SECONDS ({self.interval:g}) must be above 0 and below the smallest "
                f"ALPR retention profile ({shortest})"
            )


purge_timer = PurgeTimer.decorator


def purge_due(worker: "IntakeService", record_class: str) -> int:
    """The timers' work: walk the minutes of every hour the purge queue names up to now, deleting what is still due,
    at most ``PURGE_MAX_PER_RUN`` alerts (the next run goes on); returns how many were deleted. An
    hour leaves the queue once it is over and walked."""
    now, purged = worker.now(), 0
    most = int(worker.config.get("PURGE_MAX_PER_RUN") or 20000)
    for hour in worker.alerts.due_hours(record_class, slot_of(now)[:13]):
        for slot in minutes_of(hour, now):
            for alert in worker.alerts.due_in_slot(slot, record_class):
                if purged >= most:
                    return purged
                if alert["purge_after"] <= now and _purge_one(worker, alert, now):
                    purged += 1
        if hour < slot_of(now)[:13]:
            worker.alerts.finish_hour(record_class, hour)
    return purged


def _purge_one(worker: "IntakeService", alert: dict, now: datetime) -> bool:
    """Audit the tombstone (once: the event id is the alert's), delete the alert if it is still due
    at that moment, and announce ``record_purged``; whether it was deleted."""
    if alert.get("case_ids") or alert.get("legal_hold"):
        return False
    retention = alert.get("retention") or {}
    reason = f"{retention.get('rule')} retention {retention.get('jurisdiction') or ''}".strip()
    worker.audit.record(
        "alert.purge",
        "allowed",
        record_type="alert",
        record_ids=[alert["_id"]],
        details={"reason": reason, "content_hash": content_hash(alert)},
        event_id=f"alert.purge-{alert['_id']}",
    )
    if worker.alerts.delete_if_due(alert, now) is None:
        return False
    purged_event = {"record_type": "alert", "record_id": alert["_id"], "reason": reason}
    worker.dispatch(events.RECORD_PURGED, events.RecordPurged().load(purged_event))
    return True
