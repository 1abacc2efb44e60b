"""The audit contract and its durable publisher, shared by the gateway and every service.

Audit events travel on their own durable exchange and queue, published with publisher confirms
and ``mandatory``, one event or a list of events per message: :meth:`AuditTrail.record` returns
only once RabbitMQ has taken the event into its durable queue, and raises
:class:`~casewire.errors.Unavailable` otherwise, so a caller can refuse the action the event
describes (C23, fail closed).
"""

import uuid
from datetime import UTC, datetime

from kombu import Exchange, Queue
from marshmallow import Schema, fields, validate
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from casewire.errors import Unavailable

OUTCOMES = ("allowed", "denied", "failed")

audit_exchange = Exchange("casewire.audit", type="direct", durable=True)
audit_queue = Queue("casewire.audit.events", exchange=audit_exchange, routing_key="audit", durable=True)


class Actor(Schema):
    id = fields.String(required=True)
    agency = fields.String(allow_none=True)
    roles = fields.List(fields.String(), load_default=list)


class AuditEvent(Schema):
    """One audited action (C21). ``record_ids`` names every record it touched."""

    event_id = fields.String(required=True)
    at = fields.String(required=True)
    service = fields.String(required=True)
    action = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    actor = fields.Nested(Actor, required=True)
    record_type = fields.String(allow_none=True)
    record_ids = fields.List(fields.String(), load_default=list)
    purpose = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True)
    client_address = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    details = fields.Dict(load_default=dict)


SYSTEM_ACTOR = {"id": "system", "agency": None, "roles": ["system"]}
_EVENT = AuditEvent()  # one instance: building a schema copies every field


class AuditTrail:
    """Publishes audit events durably for one service (or the gateway)."""

    def __init__(self, amqp_uri: str, service: str):
        self.service = service
        self._publisher = Publisher(
            amqp_uri,
            use_confirms=True,
            mandatory=True,
            delivery_mode=2,
            declare=[audit_exchange, audit_queue],
            exchange=audit_exchange,
            routing_key="audit",
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2},
        )

    def record(self, action: str, outcome: str, actor: dict | None = None, **fields_) -> dict:
        """Build, validate and durably publish one event; raise Unavailable if it cannot be."""
        event = self.event(action, outcome, actor, **fields_)
        self._publish(event, action)
        return event

    def record_many(self, events: list[dict]) -> list[dict]:
        """Durably publish events built by :meth:`event` as one message (a list); all or nothing."""
        if events:
            self._publish(events, events[0]["action"])
        return events

    def event(self, action: str, outcome: str, actor: dict | None = None, **fields_) -> dict:
        """One validated event of this service, e.g. ``event("alert.create", "allowed", record_ids=[...])``."""
        return _EVENT.load(
            _printable(
                {
                    "event_id": uuid.uuid4().hex,
                    "at": datetime.now(UTC).isoformat(),
                    "service": self.service,
                    "action": action,
                    "outcome": outcome,
                    "actor": actor or SYSTEM_ACTOR,
                    **fields_,
                }
            )
        )

    def _publish(self, body: dict, action: str) -> None:
        try:
            self._publisher.publish(body)
        except Exception as exc:  # any broker failure means the event is not durable
            raise Unavailable(f"the audit log cannot record {action}: {exc}") from exc


def _printable(value: object) -> object:
    """``value`` with NUL characters shown as U+FFFD: an audited request may carry them (a refused one
    especially), and the audit store must never be handed what it cannot keep."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable(item) for item in value]
    return value


class AuditLog(DependencyProvider):
    """Gives each worker the service's :class:`AuditTrail`."""

    def setup(self) -> None:
        self.trail = AuditTrail(self.container.config[AMQP_URI_CONFIG_KEY], self.container.service_name)

    def get_dependency(self, worker_ctx: WorkerContext) -> "AuditTrail":
        return self.trail
