"""Case outcomes: the disposition of a closed or referred case, and outcomes by detection source.

A disposition (``arrest``, ``charges_filed``, ``referred_to_prosecutor``, ``cleared_by_exception``,
``unfounded``, ``inactive``) is recorded with its date, a note, who recorded it and when; it is
audited, part of the case's history (so its timeline and export) and announced like any change. A
later disposition replaces the current one and the earlier ones stay in ``dispositions``.

The metrics count cases *opened* in a period, by the sources of the alerts linked to them (each link
keeps its alert's ``source``), grouped by disposition, with one MongoDB ``$match`` + ``$group``.
"""

from datetime import timedelta

from marshmallow import Schema, fields, validate

from casewire import events
from casewire.alerts import SOURCES
from casewire.errors import Conflict, InvalidInput
from casewire.messaging import event_handler
from casewire.rpc import rpc
from services.cases.base import ERRORS, CaseWorker, actor_id, load
from services.cases.schemas import CaseOut

OUTCOMES = (
    "arrest",
    "charges_filed",
    "referred_to_prosecutor",
    "cleared_by_exception",
    "unfounded",
    "inactive",
)
NO_DISPOSITION = "no_disposition"
DISPOSED = ("closed", "referred")
DEFAULT_PERIOD = timedelta(days=30)


class DispositionIn(Schema):
    """``POST /api/v1/cases/{id}/disposition``."""

    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES), metadata={"example": "arrest"})
    date = fields.Date(required=True, metadata={"description": "when it happened", "example": "2026-03-01"})
    note = fields.String(validate=validate.Length(max=5000), metadata={"example": "Suspect arrested at home"})


class OutcomeQuery(Schema):
    agency = fields.String(allow_none=True, load_default=None)
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    source = fields.String(validate=validate.OneOf(SOURCES))


def _by_outcome() -> dict:
    return {"cases": 0, "cases_by_outcome": dict.fromkeys((*OUTCOMES, NO_DISPOSITION), 0)}


def _add(figures: dict, outcome: str | None, n: int) -> None:
    figures["cases"] += n
    key = outcome if outcome in OUTCOMES else NO_DISPOSITION
    figures["cases_by_outcome"][key] += n


def outcomes_by_source(store, agency: str | None, since, until, source: str | None = None) -> dict:
    """``{"sources": {source: {"cases", "cases_by_outcome"}}, "total": ..., "all_cases": ...}`` for the
    cases of ``agency`` opened in ``[since, until)``; ``total`` counts cases with an alert of the
    sources once each, ``all_cases`` every case.

    One ``$group`` counts the cases per (outcome, the sources of their linked alerts); a case counts
    once for each distinct source among its links."""
    match = {"agency": agency, "opened_at": {"$gte": since, "$lt": until}}
    sources = [source] if source else list(SOURCES)
    rows, total, all_cases = {name: _by_outcome() for name in sources}, _by_outcome(), _by_outcome()
    for outcome, linked, n in store.count_by_outcome_and_sources(match):
        present = [name for name in sources if name in linked]
        for name in present:
            _add(rows[name], outcome, n)
        if present:
            _add(total, outcome, n)
        _add(all_cases, outcome, n)
    return {"sources": rows, "total": total, "all_cases": all_cases}


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

    @rpc(expected_exceptions=ERRORS)
    def outcome_metrics(self, query: dict) -> dict:
        """Cases of one agency opened in the period, by disposition, overall and per alert source.

        ``{"agency", "since", "until", "source"?}`` → ``{"since", "until", "sources": {"alpr":
        {"cases", "cases_by_outcome": {"arrest": 2, ..., "no_disposition": 1}}}, "total": {...}}``.
        ``total`` counts each case once, however many sources its alerts came from.
        """
        loaded = load(OutcomeQuery, {k: v for k, v in (query or {}).items() if v is not None}, "the query is invalid")
        until = loaded.get("until") or self._now()
        since = loaded.get("since") or until - DEFAULT_PERIOD
        if since >= until:
            raise InvalidInput("the period is empty", {"since": ["must be before until"]})
        found = outcomes_by_source(self.store, loaded.get("agency"), since, until, loaded.get("source"))
        return {"since": since.isoformat(), "until": until.isoformat(), **found}

    @event_handler(events.INTAKE, events.ALERT_OVERDUE)
    def handle_alert_overdue(self, payload: dict) -> None:
        """Queue ``alert_overdue`` for the webhooks subscribed to it (same agency; a unit's, its unit)."""
        overdue = events.AlertOverdue().load(payload)
        self._enqueue(events.ALERT_OVERDUE, overdue, {"agency": overdue.get("agency"), "unit": overdue.get("unit")})
