"""Case outcomes: the disposition of a closed or referred case, and outcomes by detection source.

A disposition (``arrest``, ``charges_filed``, ``referred_to_prosecutor``, ``cleared_by_exception``,
``unfounded``, ``inactive``) is recorded with its date, a note, who recorded it and when; it is
audited, part of the case's history (so its timeline and export) and announced like any change. A
later disposition replaces the current one and the earlier ones stay in ``dispositions``.

The metrics count cases *opened* in a period, by the sources of the alerts linked to them (each link
keeps its alert's ``source``), grouped by disposition, from the outcome tallies (:mod:`services.cases.metrics`)
that :meth:`OutcomeEntrypoints.sweep_tallies` keeps.
"""

from datetime import timedelta

from marshmallow import Schema, fields, validate

from casewire import events, tallies
from casewire.alerts import SOURCES
from casewire.contracts.case_inputs import DispositionIn
from casewire.contracts.cases import CaseOut
from casewire.errors import Conflict, InvalidInput
from casewire.messaging import event_handler
from casewire.rpc import rpc
from services.cases.metrics import outcomes_by_source
from services.cases.worker import ERRORS, CaseWorker, actor_id, load

DISPOSED = ("closed", "referred")
DEFAULT_PERIOD = timedelta(days=30)
SWEEP_WAIT = 30.0
"""How long a sweep waits for another (another replica's, or the timer's) to finish."""


class OutcomeQuery(Schema):
    agency = fields.String(allow_none=True, load_default=None)
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    source = fields.String(validate=validate.OneOf(SOURCES))


class OutcomeEntrypoints(CaseWorker):
    """Dispositions, case outcomes by source, and ``alert_overdue`` for webhooks."""

    @rpc(expected_exceptions=ERRORS)
    def record_disposition(self, case_id: str, body: dict, context: dict) -> dict:
        """Record how a closed or referred case ended: ``{"outcome": "arrest", "date": "2026-03-01",
        "note": "..."}``. Conflict (409) while the case is open, active or suspended."""
        data = load(DispositionIn, body, "the disposition is invalid")
        case = self._open(case_id, context, "case.disposition")
        now = self._now()
        if data["date"] > now.date():
            raise InvalidInput("the disposition is invalid", {"date": ["a disposition cannot be dated in the future"]})
        if case["status"] not in DISPOSED:
            raise Conflict(
                f"case {case_id} is {case['status']}: a disposition is recorded when the case is closed or referred",
                {"status": [f"is {case['status']}"]},
            )
        who = actor_id(context)
        disposition = {
            "outcome": data["outcome"],
            "date": data["date"].isoformat(),
            "note": data.get("note") or "",
            "recorded_by": who,
            "recorded_at": now,
            "case_status": case["status"],
        }
        self._audit(
            "case.disposition",
            "allowed",
            context,
            [case_id],
            details={"outcome": data["outcome"], "date": disposition["date"]},
        )
        changes = {"$set": {"disposition": disposition}, "$push": {"dispositions": disposition}}
        updated = self.store.update(case_id, changes, now, {"version": case.get("version")})
        detail = {key: disposition[key] for key in ("outcome", "date", "note") if disposition[key]}
        self.store.record(case_id, "disposition_recorded", who, now, detail)
        self._changed(updated, "disposition_recorded", context)
        return CaseOut().dump(updated)

    @tallies.tally_timer
    def sweep_tallies(self) -> dict:
        """Recompute the outcome tallies' hour and day buckets of the cases changed or purged since the
        last sweep (every ``TALLY_SECONDS``), one replica at a time: ``{"swept", "marks", "hours", "days"}``."""
        return self.store.tallies.sweep(wait=SWEEP_WAIT)

    @rpc(expected_exceptions=ERRORS)
    def outcome_metrics(self, query: dict) -> dict:
        """Cases of one agency opened in the period, rounded out to whole UTC hours (the answer's
        ``since``/``until``), by disposition, overall and per alert source, from the tallies (at most
        one sweep behind).

        ``{"agency", "since", "until", "source"?}`` → ``{"since", "until", "sources": {"alpr":
        {"cases", "cases_by_outcome": {"arrest": 2, ..., "no_disposition": 1}}}, "total": {...}}``.
        ``total`` counts each case once, however many sources its alerts came from.
        """
        loaded = load(OutcomeQuery, {k: v for k, v in (query or {}).items() if v is not None}, "the query is invalid")
        until = loaded.get("until") or self._now()
        since = loaded.get("since") or until - DEFAULT_PERIOD
        if since >= until:
            raise InvalidInput("the period is empty", {"since": ["must be before until"]})
        since, until = tallies.whole_hours(since, until)
        found = outcomes_by_source(self.store, loaded.get("agency"), since, until, loaded.get("source"))
        return {"since": since.isoformat(), "until": until.isoformat(), **found}

    @event_handler(events.INTAKE, events.ALERT_OVERDUE)
    def handle_alert_overdue(self, payload: dict) -> None:
        """Queue ``alert_overdue`` for the webhooks subscribed to it (same agency; a unit's, its unit)."""
        overdue = events.AlertOverdue().load(payload)
        self._enqueue(events.ALERT_OVERDUE, overdue, {"agency": overdue.get("agency"), "unit": overdue.get("unit")})
