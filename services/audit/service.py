"""The audit service's entrypoints: append what arrives on the audit queue; answer auditors."""

import base64
import binascii

from marshmallow import ValidationError
from nameko.dependency_providers import Config
from nameko.timer import timer

from casewire.audit import audit_queue
from casewire.batching import consume_batch
from casewire.clock import Clock
from casewire.errors import EXPECTED, InvalidInput
from casewire.mongo import MongoStore
from casewire.monitor import Monitor
from casewire.rpc import rpc
from services.audit import chain
from services.audit.checkpoints import DEFAULT_INTERVAL, INTERVAL_KEY, merged, record_checkpoint
from services.audit.dependencies import AuditStore, CheckpointKey
from services.audit.retention import Archivist, Policy, RetiredSegments
from services.audit.schemas import Filters, to_append, to_json

MAX_PAGE = 5000


class AuditService:
    name = "audit"

    store = MongoStore(AuditStore)
    retired = MongoStore(RetiredSegments)
    notary = CheckpointKey()
    config = Config()
    monitor = Monitor()
    now = Clock()

    @consume_batch(audit_queue, config_prefix="AUDIT")
    def handle_audit_events(self, payloads: list) -> int:
        """Append a batch of queue messages to the chain, in order; they are acknowledged only after.

        Each payload is a :class:`casewire.audit.AuditEvent`, or a list of them (a service's batch),
        e.g. ``{"event_id": "9f...", "at": "2026-01-05T22:14:00+00:00", "service": "gateway",
        "action": "alert.read", "outcome": "allowed",
        "actor": {"id": "alice", "agency": "TX0000000", "roles": ["analyst"]}, ...}``.
        """
        now = self.now()
        events = [event for payload in payloads for event in (payload if isinstance(payload, list) else [payload])]
        return len(self.store.append([to_append(event, now) for event in events]))

    @rpc(expected_exceptions=EXPECTED)
    def list_events(self, filters: dict, cursor: str | int | None = None, limit: int = 50) -> dict:
        """Events in chain order, filtered by actor, agency, record, type, action, outcome, service,
        request and time (``since``/``until``, ISO), and ``agencies`` (an auditor's scope: events whose
        actor is of one of them, or whose ``details.record_agency`` is). ``cursor`` is the previous page's
        ``next_cursor`` (an opaque string). Returns ``{"items": [...], "next_cursor": str|None}``."""
        query, after_seq = _filters(filters), _after(cursor)
        items = self.store.find(query, after_seq, max(1, min(int(limit), MAX_PAGE)))
        last = items[-1]["seq"] if len(items) == limit else None
        return {"items": to_json(items), "next_cursor": _cursor(last), "next_seq": last}

    @rpc(expected_exceptions=EXPECTED)
    def count_events(self, filters: dict) -> int:
        """How many events match ``filters`` (as in :meth:`list_events`, plus ``through_seq``)."""
        return self.store.count(_filters(filters))

    @rpc
    def head(self) -> dict:
        """The chain's newest ``{"seq", "hash"}``; an export bounds itself with it."""
        seq, head_hash = self.store.head()
        return {"seq": seq, "hash": head_hash}

    @rpc
    def verify(self) -> dict:
        """Recompute the chain from the last archive anchor, check every signed checkpoint (the database's
        and the checkpoint file's); name the first altered, removed or reordered event (``first_bad_seq``)
        or the failing checkpoint."""
        store, notary = self.store, self.notary
        checkpoints = merged(store.all_checkpoints(), notary.checkpoints.read())
        return chain.verify_log(store.all_anchors(), checkpoints, store.in_order, notary.authentic)

    @timer(interval=5)
    def record_checkpoint(self) -> dict | None:
        """Sign the chain head every ``AUDIT_CHECKPOINT_SECONDS`` while it moves."""
        every = self.config.get(INTERVAL_KEY)
        every = DEFAULT_INTERVAL if every in (None, "") else float(every)
        return to_json(record_checkpoint(self.store, self.notary, self.now(), every))

    @timer(interval=3600)
    def apply_retention(self) -> list:
        """Archive, verify and then delete events past retention (C24); return the new anchors."""
        archivist = Archivist(self.store, self.notary, self.retired, Policy.from_config(self.config))
        return to_json(archivist.run(self.now()))

    @rpc
    def health(self) -> dict:
        """Whether MongoDB answers."""
        return {"mongodb": self.store.ping()}


def _filters(filters: dict) -> dict:
    try:
        return Filters().load({key: value for key, value in (filters or {}).items() if value is not None})
    except ValidationError as exc:
        raise InvalidInput("the audit filters are invalid", exc.messages) from exc


def _cursor(seq: int | None) -> str | None:
    return None if seq is None else base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _after(cursor: str | int | None) -> int:
    """The seq a cursor stands for; a bare integer (the old ``after_seq``) is accepted too."""
    if cursor in (None, ""):
        return 0
    if isinstance(cursor, int) and cursor >= 0:
        return cursor
    if isinstance(cursor, str) and cursor.isdigit():  # a next_cursor of the first gateway version
        return int(cursor)
    try:
        kind, _, seq = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode().partition(":")
        if kind == "seq" and seq.isdigit():
            return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput("the cursor is invalid", {"cursor": ["not a cursor this service issued"]})
