"""Triage deadlines: how long an alert may wait for someone to take it, by source and priority.

Every alert gets ``triage_due`` (``received_at`` plus the table's duration) when it is stored. The
table (config ``TRIAGE_DEADLINES``) maps a source to one duration for every priority, or to a
mapping priority → duration; ``none`` (or ``off``) means no deadline. What the config names replaces
the default for that source; the rest keep their defaults. ALPR reads that are not hotlist hits are
sensor reads, not leads: they are looked up as ``alpr_read`` (no deadline by default).

Durations use the retention syntax: ``90s``, ``5m``, ``12h``, ``2d`` (a bare number is days).
"""

from datetime import datetime, timedelta

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from services.intake.retention import parse_duration

PRIORITY_LEVELS = ("critical", "high", "normal", "low")
OFF = ("none", "off", "")

DEFAULT_TRIAGE_DEADLINES: dict[str, dict[str, str] | str | None] = {
    "alpr": {"critical": "5m", "high": "5m", "normal": "10m", "low": "30m"},  # hotlist hits: a stolen car moves
    "alpr_read": None,  # reads without a hotlist hit are kept for searches, nobody triages them
    "gunshot": {"critical": "5m", "high": "5m", "normal": "10m", "low": "30m"},
    "cad": {"critical": "5m", "high": "10m", "normal": "30m", "low": "2h"},
    "face": {"critical": "15m", "high": "30m", "normal": "2h", "low": "8h"},
    # critical: an NCIC stolen vehicle or plate, felony vehicle or wanted person hit, as fast as an ALPR hit
    "database": {"critical": "5m", "high": "30m", "normal": "2h", "low": "8h"},
    "social": {"critical": "30m", "high": "1h", "normal": "8h", "low": "24h"},
    "tip": {"critical": "1h", "high": "4h", "normal": "24h", "low": "72h"},
}


def _duration(value: str | float | None) -> timedelta | None:
    if value is None or str(value).strip().lower() in OFF:
        return None
    return parse_duration(value)


def _by_priority(value: dict | str | float | None) -> dict[str, timedelta | None]:
    if isinstance(value, dict):
        unknown = set(value) - set(PRIORITY_LEVELS)
        if unknown:
            raise ValueError(f"TRIAGE_DEADLINES names unknown priorities: {', '.join(sorted(unknown))}")
        return {priority: _duration(value.get(priority)) for priority in PRIORITY_LEVELS}
    return dict.fromkeys(PRIORITY_LEVELS, _duration(value))


class TriageDeadlines:
    """``TriageDeadlines.from_config(config).due(alert)`` → the alert's ``triage_due``, or None."""

    def __init__(self, table: dict):
        self.table = {str(source): _by_priority(value) for source, value in table.items()}

    @classmethod
    def from_config(cls, config: dict) -> "TriageDeadlines":
        configured = config.get("TRIAGE_DEADLINES") or {}
        if not isinstance(configured, dict):
            raise ValueError("TRIAGE_DEADLINES must map sources to durations")
        return cls({**DEFAULT_TRIAGE_DEADLINES, **configured})

    @staticmethod
    def kind(alert: dict) -> str:
        """The table row for ``alert``: its source, or ``alpr_read`` for an ALPR read that hit no hotlist."""
        if alert["source"] == "alpr" and not (alert.get("payload") or {}).get("hotlist"):
            return "alpr_read"
        return alert["source"]

    def allowed(self, alert: dict) -> timedelta | None:
        row = self.table.get(self.kind(alert)) or {}
        return row.get(alert.get("priority") or "normal")

    def due(self, alert: dict, received_at: datetime) -> datetime | None:
        allowed = self.allowed(alert)
        return received_at + allowed if allowed is not None else None


class Deadlines(DependencyProvider):
    """The configured table, read once when the container starts: a bad ``TRIAGE_DEADLINES`` stops
    intake at start instead of failing alerts one by one."""

    def setup(self) -> None:
        self.table = TriageDeadlines.from_config(self.container.config)

    def get_dependency(self, worker_ctx: WorkerContext) -> TriageDeadlines:
        return self.table
