"""Oversight: control officials hear of restricted hits (C6), dissemination recipients of corrections
and purges (C11), and the compliance report (C13, C27)."""

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from casewire import events
from casewire.contracts.case_inputs import ReportQuery
from casewire.contracts.cases import plain
from casewire.errors import Forbidden
from casewire.messaging import event_handler
from casewire.rpc import rpc
from services.cases import compliance, rules
from services.cases.worker import ERRORS, CaseWorker, actor_id, load

DEFAULT_PERIOD = timedelta(days=30)
MAX_READ_EVENTS = 20000  # audit events examined for reads without a purpose, per report
REPORT_ROLES = {"auditor"}


class OversightEntrypoints(CaseWorker):
    """Notifications and the compliance report."""

    @event_handler(events.SEARCH, events.RESTRICTED_HIT)
    def handle_restricted_hit(self, payload: dict) -> None:
        """C6: tell the control official of a restricted record who searched what (stored, streamed, webhooks)."""
        hit = events.RestrictedHit().load(payload)
        notification = self.oversight.notify(
            {
                "kind": "restricted_hit",
                "recipient": hit.get("control_official"),
                "case_id": hit["case_id"],
                "unit": hit.get("unit"),
                "agency": hit.get("agency"),
                "at": self._now(),
                "detail": {key: hit.get(key) for key in ("searcher", "searcher_agency", "searcher_unit", "terms")}
                | {key: hit.get(key) for key in ("purpose", "case_number", "request_id", "at")},
            }
        )
        notice = events.ControlOfficialNotified().load(
            {**{k: v for k, v in hit.items() if k != "request_id"}, "notification_id": notification["_id"]}
        )
        self.dispatch(events.CONTROL_OFFICIAL_NOTIFIED, notice)
        stub = {"_id": hit["case_id"], "agency": hit.get("agency"), "unit": hit.get("unit")}
        self._enqueue(events.CONTROL_OFFICIAL_NOTIFIED, notice, {**stub, **_restricted})

    @rpc(expected_exceptions=ERRORS)
    def list_notifications(self, query: dict, context: dict) -> dict:
        """Notifications addressed to the caller (as a control official), newest first."""
        limit = max(1, min(int((query or {}).get("limit") or 50), 500))
        actor = (context or {}).get("actor") or {}
        found = self.oversight.notifications_for({"recipient": actor.get("id"), "agency": actor.get("agency")}, limit)
        return {"items": plain(found), "next_cursor": None}

    @rpc(expected_exceptions=ERRORS)
    def compliance_report(self, query: dict, context: dict) -> dict:
        """C27: ``{"since", "until", "sample": N}`` → the exception rows (must be empty), what happened in
        the period (overdue reviews, purges, disseminations, notifications) and a random sample of N records.

        It covers the auditor's agency, or the agencies of its oversight claim (``context["oversight"]``,
        docs/security.md): rows, reads and the sample hold nothing of any other agency.

        Calls audit.list_events for criminal intelligence reads that stated no purpose.
        """
        query = load(ReportQuery, query, "the report query is invalid")
        roles = set(((context or {}).get("actor") or {}).get("roles") or [])
        if not rules.is_system(context) and not roles & REPORT_ROLES:
            raise Forbidden("the compliance report is for auditors")
        now = self._now()
        until = query.get("until") or now
        since = query.get("since") or until - DEFAULT_PERIOD
        scope = compliance.report_scope(context)
        records = compliance.within(scope, self._with_holds(self.store.intelligence({})))
        min_chars = self._min_chars()
        releases = compliance.within(scope, self.store.disseminations_between(since, until))
        disseminations = [compliance.dissemination_row(entry) for entry in releases]
        kinds = ["recipient_notified", "restricted_hit"]
        notices = compliance.within(scope, self.oversight.notifications_between(kinds, since, until))
        purges = compliance.within(scope, self.oversight.tombstones_between(since, until))
        report = {
            "period": {"since": since.isoformat(), "until": until.isoformat()},
            "generated_at": now.isoformat(),
            "generated_by": actor_id(context),
            "intelligence_without_predicate_or_labels": _rows(
                compliance.missing_predicate_or_labels, records, min_chars
            ),
            "review_due_beyond_five_years": _rows(compliance.review_due_violation, records),
            "reviews_overdue": _rows(compliance.overdue, records, now),
            "purges": plain(purges),
            "disseminations": disseminations,
            "restricted_disseminated": [d for d in disseminations if d.get("sensitivity") == "restricted"],
            "reads_without_purpose": self._reads_without_purpose(since, until, scope),
            "recipient_notifications": plain([n for n in notices if n["kind"] == "recipient_notified"]),
            "control_official_notifications": plain([n for n in notices if n["kind"] == "restricted_hit"]),
            "sample": self._sample(records, query["sample"]),
        }
        return {**report, **compliance.summary(report)}

    def _reads_without_purpose(self, since: datetime, until: datetime, scope: tuple | None) -> list[dict]:
        """Allowed reads of criminal intelligence with no stated purpose that were not then refused: of a
        case or its parts, its files, its export, or the cases a search showed (compliance.READ_ACTIONS);
        of the intelligence of the agencies in ``scope`` (whoever read it)."""
        filters = {
            "outcome": "allowed",
            "purpose_missing": True,
            "actions": list(compliance.READ_ACTIONS),
            "since": since.isoformat(),
            "until": until.isoformat(),
        }
        found, cursor = [], None
        while len(found) < MAX_READ_EVENTS:
            page = self.audit_rpc.list_events(filters, cursor, 2000)
            found += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        ids = set().union(*(compliance.read_case_ids(event) for event in found))
        intelligence = self.store.intelligence_ids(ids, scope) | self.oversight.purged_intelligence_ids(ids, scope)
        rows = []
        for event in found:
            read = compliance.read_case_ids(event) & intelligence
            if not read:
                continue
            if event.get("request_id") and self._refused(event["request_id"]):
                continue
            rows.append(compliance.read_row(event, read))
        return rows

    def _refused(self, request_id: str) -> bool:
        events_ = self.audit_rpc.list_events({"request_id": request_id}, None, 50)["items"]
        return any(event.get("outcome") in ("denied", "failed") for event in events_)

    def _sample(self, records: list[dict], size: int) -> list[dict]:
        chosen = random.SystemRandom().sample(records, min(size, len(records)))
        return [compliance.sample_row(case, self.store.disseminations_of(case["_id"])) for case in chosen]

    def _notify_recipients(self, case: dict, change: str, fields_changed: list[str]) -> list[dict]:
        """C11: each recipient in the record's dissemination log hears that it was corrected or purged."""
        sent, seen = [], set()
        for entry in self.store.disseminations_of(case["_id"]):
            key = (entry["recipient"], entry["agency"])
            if key in seen:
                continue
            seen.add(key)
            now = self._now()
            notification = self.oversight.notify(
                {
                    "kind": "recipient_notified",
                    "recipient": entry["recipient"],
                    "recipient_agency": entry["agency"],
                    "case_id": case["_id"],
                    "dissemination_id": entry["_id"],
                    "change": change,
                    "fields_changed": fields_changed,
                    "unit": case.get("unit"),
                    "agency": case.get("agency"),
                    "at": now,
                }
            )
            notice = events.DisseminationRecipientNotified().load(
                {
                    "notification_id": notification["_id"],
                    "case_id": case["_id"],
                    "dissemination_id": entry["_id"],
                    "recipient": entry["recipient"],
                    "agency": entry["agency"],
                    "change": change,
                    "fields_changed": fields_changed,
                    "unit": case.get("unit"),
                    "record_agency": case.get("agency"),
                    "at": now.isoformat(),
                }
            )
            self.dispatch(events.DISSEMINATION_RECIPIENT_NOTIFIED, notice)
            self._enqueue(events.DISSEMINATION_RECIPIENT_NOTIFIED, notice, case)
            sent.append(notification)
        return sent


_restricted = {"classification": rules.CRIMINAL_INTELLIGENCE, "sensitivity": "restricted"}


def _rows(check: Callable[..., dict | None], records: list[dict], *args) -> list[dict]:
    return [row for row in (check(case, *args) for case in records) if row is not None]
