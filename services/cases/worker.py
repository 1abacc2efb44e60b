"""The worker every group of the cases service's entrypoints extends: the service's dependencies,
declared once, and what the groups share (loading input, opening a case, announcing changes).

Every entrypoint that touches one case receives the caller in ``context`` (``actor``, ``unit``,
``purpose``, ``case_number``, ``request_id``) and goes through :meth:`CaseWorker._open`, which applies
the visibility rule (rules.hidden_from) and C9 before anything is read or changed.
"""

import hashlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from marshmallow import Schema, ValidationError
from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import RpcProxy

from casewire import events
from casewire.audit import AuditLog
from casewire.clock import Clock
from casewire.errors import EXPECTED, Forbidden, InvalidInput, NotFound, PurposeRequired
from casewire.mongo import MongoStore
from services.cases import casefile, rules, webhooks
from services.cases.dependencies import CaseStore, ContentStore, OversightStore, WebhookStore

ERRORS = EXPECTED
log = logging.getLogger(__name__)
MIN_CHARS_KEY = "REASONABLE_SUSPICION_MIN_CHARS"


def load(schema: type[Schema], data: dict, message: str) -> dict:
    try:
        return utc(schema().load(data or {}))
    except ValidationError as exc:
        raise InvalidInput(message, exc.messages) from exc


def utc(value: object) -> object:
    """Datetimes as MongoDB keeps them: UTC, to the millisecond."""
    if isinstance(value, dict):
        return {key: utc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [utc(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def keyed_id(context: dict | None, what: str) -> str | None:
    """The id a request sent with an ``Idempotency-Key`` gives what it creates (``what``: ``case``,
    ``<case id>:notes``...): a retry of it finds the record instead of creating another. None without a key."""
    key = (context or {}).get("idempotency_key")
    return hashlib.sha256(f"{key}|{what}".encode()).hexdigest()[:32] if key else None


def actor_id(context: dict | None) -> str:
    return ((context or {}).get("actor") or {}).get("id") or "system"


class CaseWorker:
    """The cases service's dependencies and the helpers of its entrypoint groups.

    nameko finds a dependency on any base of the service class, so each group, and
    :class:`~services.cases.service.CasesService` made of them all, works with these one set.
    """

    store = MongoStore(CaseStore)
    contents = MongoStore(ContentStore)
    hooks = MongoStore(WebhookStore)
    oversight = MongoStore(OversightStore)
    dispatch = EventDispatcher()
    audit = AuditLog()
    now = Clock()
    config = Config()
    entities_rpc = RpcProxy("entities")
    intake_rpc = RpcProxy("intake")
    audit_rpc = RpcProxy("audit")

    def _now(self) -> datetime:
        return utc(self.now())

    def _min_chars(self) -> int:
        return int(self.config.get(MIN_CHARS_KEY, rules.DEFAULT_MIN_SUSPICION_CHARS))

    def _open(self, case_id: str, context: dict | None, action: str) -> dict:
        """The case, if the caller may see it; refusals are audited (C6 → 404, C9 → 400)."""
        case = self.store.get(case_id)
        reason = rules.hidden_from(case, context)
        if reason:
            self._refuse(action, case_id, context, reason, rules.contact_of(case), case.get("agency"))
        if rules.lacks_purpose(case, context):
            self._refuse(action, case_id, context, "purpose", record_agency=case.get("agency"))
        return case

    def _with_holds(self, cases: list[dict]) -> list[dict]:
        """``cases`` showing the legal holds in force on each (``legal_holds``: ``[{"id", "reference"}]``),
        read from the holds themselves."""
        held = self.oversight.active_holds([case["_id"] for case in cases])
        return [
            {**case, "legal_holds": [{"id": h["_id"], "reference": h["reference"]} for h in held.get(case["_id"], [])]}
            for case in cases
        ]

    def _may_see(self, case_id: str, context: dict | None) -> bool:
        try:
            case = self.store.get(case_id)
        except NotFound:
            return False
        return rules.hidden_from(case, context) is None and not rules.lacks_purpose(case, context)

    def _refuse(
        self,
        action: str,
        case_id: str | None,
        context: dict | None,
        reason: str,
        contact: str | None = None,
        record_agency: str | None = None,
    ) -> None:
        """Audit a refusal and raise it. ``record_agency`` (the case's) lets that agency's auditors see
        who was refused its records (docs/security.md, "Auditors")."""
        details = {"reason": reason, **({"record_agency": record_agency} if case_id else {})}
        self._audit(action, "denied", context, [case_id] if case_id else [], details=details)
        if reason == "purpose":
            raise PurposeRequired(
                "criminal intelligence is read only with a stated purpose (X-Purpose) "
                "and a case or incident number (X-Case-Number)"
            )
        if reason == "secret":
            raise NotFound(f"no case {case_id}")
        if contact:  # C6: agency_only intelligence answers with the agency contact only
            raise Forbidden("criminal intelligence of another unit: ask its control official", {"contact": [contact]})
        raise Forbidden("this case belongs to another unit and is not assigned to you")

    def _audit(self, action: str, outcome: str, context: dict | None, record_ids: list, **fields) -> None:
        """One audit event (C21) carrying the caller, request, purpose and client address from ``context``.

        Raises Unavailable when the event cannot be stored durably: the caller then does nothing (C23).
        """
        context = context or {}
        keys = ("request_id", "purpose", "case_number", "client_address")
        event = {"record_type": "case", **{key: context.get(key) for key in keys}, **fields}
        self.audit.record(action, outcome, actor=context.get("actor"), record_ids=record_ids, **event)

    def _touch(self, case: dict, change: str, context: dict, detail: dict, assigned: Iterable[str] = ()) -> None:
        """Record a change to the case's contents: history, a new version, the events."""
        now = self._now()
        updated = self.store.update(case["_id"], {}, now)
        self.store.record(case["_id"], change, actor_id(context), now, detail)
        self._changed(updated, change, context, assigned=assigned)

    def _changed(self, case: dict, change: str, context: dict | None, assigned: Iterable[str] = ()) -> None:
        """Announce a change (``case_updated``, ``case_assigned``) and queue webhook deliveries.

        The change is stored: an event that is not confirmed is logged, not raised, and the outbox timer
        announces the case again (``case_updated``; a lost ``case_assigned`` is not sent again).
        """
        payload = casefile.case_event(case, change)
        if self._announce(case, payload):
            self._enqueue(events.CASE_UPDATED, payload, case)
        for assignee in assigned:
            assignment = events.CaseAssigned().load(
                {
                    "case_id": case["_id"],
                    "title": case["title"],
                    "unit": case["unit"],
                    "assignee": assignee,
                    "assigned_by": actor_id(context),
                    "at": case["updated_at"].isoformat(),
                    "version": case.get("version", 1),
                }
            )
            try:
                self.dispatch(events.CASE_ASSIGNED, assignment)
            except Exception:  # stored; the assignee sees the case, the notice is lost
                log.exception("case_assigned for %s to %s not confirmed", case["_id"], assignee)
                continue
            self._enqueue(events.CASE_ASSIGNED, assignment, case)

    def _announce(self, case: dict, payload: dict) -> bool:
        """Publish ``case_updated`` for ``case``; once confirmed, its outbox marker goes."""
        try:
            self.dispatch(events.CASE_UPDATED, payload)
        except Exception:  # the broker is out of reach: the outbox timer announces the case again
            log.exception("case_updated for %s not confirmed; the outbox will announce it", case["_id"])
            return False
        self.store.announced(case)
        return True

    def _enqueue(self, event_type: str, payload: dict, case: dict) -> None:
        now = self._now()
        for hook in self.hooks.listening(event_type):
            if webhooks.may_receive(hook, case):
                self.hooks.enqueue(
                    {
                        "webhook_id": hook["_id"],
                        "url": hook["url"],
                        "event": event_type,
                        "data": webhooks.notice(event_type, payload),
                        "state": "pending",
                        "attempts": 0,
                        "created_at": now,
                        "next_at": now,
                    }
                )
