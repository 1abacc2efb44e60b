"""Intake's outcome entrypoints: escalate alerts nobody triaged in time and those a person escalates, keep
the funnel's tallies, and read the alert funnel.

:class:`~services.intake.service.IntakeService` supplies the dependencies (``alerts``, ``dispatch``,
``audit``, ``now``). docs/outcomes.md describes the rules.
"""

import logging

from marshmallow import Schema, ValidationError, fields, validate
from nameko.timer import timer

from casewire import tallies
from casewire.alerts import SOURCES
from casewire.errors import EXPECTED, InvalidInput
from casewire.rpc import rpc
from services.intake import escalation, metrics, outbox
from services.intake.schemas import AlertOut

log = logging.getLogger(__name__)
SWEEP_WAIT = 30.0
"""How long a sweep waits for another (another replica's, or the timer's) to finish."""


class MetricsQuery(Schema):
    agency = fields.String(allow_none=True, load_default=None)
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    source = fields.String(validate=validate.OneOf(SOURCES))


class OutcomeEntrypoints:
    """Escalation (the sweep's and a person's), the funnel's tallies and the funnel."""

    @timer(interval=15)
    def escalate_overdue(self) -> int:
        """Escalate, once, every alert past its ``triage_due`` that is still ``new`` or untouched by
        its assignee: claim it (mark it ``overdue``, log it), then audit it and announce ``alert_overdue``.

        Only the alerts this sweep claimed are audited: one triaged between the query and the claim,
        or claimed first by a concurrent sweep, is neither audited nor announced here. An
        announcement that fails is repeated by the outbox (``services.intake.outbox``).
        """
        now, escalated = self.now(), 0
        for due in self.alerts.due_for_escalation(now):
            entry = {
                "action": "escalated",
                "actor": "system",
                "at": now,
                "detail": {"reason": "triage deadline passed"},
            }
            alert = self.alerts.escalate(due["_id"], now, entry)
            if alert is not None:
                outbox.announce_overdue(self, alert)
                escalated += 1
        return escalated

    @rpc(expected_exceptions=EXPECTED)
    def escalate_alert(self, alert_id: str, body: dict, context: dict) -> dict:
        """A person escalates an open alert now, e.g. ``{"reason": "stolen car seen twice near the school"}``:
        marked, audited and announced as the sweep does (``services.intake.escalation``), once; asked
        again, it answers that escalation. Raises Conflict for an alert dismissed or promoted."""
        return AlertOut().dump(escalation.escalate(self, alert_id, body, context))

    @tallies.tally_timer
    def sweep_tallies(self) -> dict:
        """Fold the funnel's waiting deltas into its hour and day buckets (every ``TALLY_SECONDS``), one
        replica at a time: ``{"swept", "deltas", "hours", "days"}``."""
        return self.alerts.tallies.sweep(wait=SWEEP_WAIT)

    @rpc(expected_exceptions=EXPECTED)
    def alert_metrics(self, query: dict) -> dict:
        """The alert funnel of one agency by source, for alerts received in the period, rounded out to
        whole UTC hours (the answer's ``since``/``until``), from the tallies (at most one sweep behind).

        ``{"agency": "TX0000000", "since": "2026-01-01T00:00:00Z", "until": ..., "source": "alpr"?}`` →
        ``{"since", "until", "sources": {"alpr": {"alerts", "assigned", "dismissed",
        "dismissed_by_reason", "promoted", "open", "escalated", "overdue_now",
        "connected_to_earlier_records", "connected_to_earlier_cases", "time_to_assignment":
        {"count", "p50", "p90"}, "time_to_first_action": {...}}}, "total": {...}}`` (seconds).
        """
        try:
            loaded = MetricsQuery().load({key: value for key, value in (query or {}).items() if value is not None})
        except ValidationError as exc:
            raise InvalidInput("the metrics query is invalid", exc.messages) from exc
        since, until = metrics.period(loaded, self.now())
        if since >= until:
            raise InvalidInput("the period is empty", {"since": ["must be before until"]})
        since, until = tallies.whole_hours(since, until)
        funnel = metrics.alert_funnel(self.alerts, loaded.get("agency"), since, until, loaded.get("source"))
        return {"since": since.isoformat(), "until": until.isoformat(), **funnel}
