"""Reliable events: durable queues, acknowledgement after the work, bounded retries, a dead-letter queue.

nameko's own ``event_handler`` acknowledges a message even when its handler fails, so a failure
loses the event. :func:`event_handler` here is a drop-in replacement::

    from casewire.messaging import event_handler

    @event_handler(events.ENTITIES, events.ALERTS_RESOLVED)
    def handle_alerts_resolved(self, payload): ...

- The handler's queue is durable (``evt-<source>-<event>--<service>.<method>``, as nameko names it)
  and is declared with ``x-dead-letter-exchange: casewire.dlx``, so anything the broker rejects
  from it lands in the dead-letter queue too.
- A message is acknowledged only after the handler returned, i.e. after its work is stored.
- When the handler raises, the message is published again to its own queue (publisher confirms,
  persistent) with ``x-casewire-attempts`` increased, then acknowledged; after ``max_attempts`` it
  is published, with the error, to ``casewire.dlx`` → ``casewire.dead-letters``. A payload that
  breaks its event schema (marshmallow ``ValidationError``) is dead-lettered at once: a retry
  cannot fix it. If even that
  publish fails, the message is requeued: nothing is lost.
- A backend that is down is not the message's fault: when the handler raises
  :class:`~casewire.errors.Unavailable` or a pymongo ``ConnectionFailure``, the message is
  requeued after ``retry_delay`` seconds without counting an attempt, as long as the outage lasts,
  so a restart of MongoDB or Elasticsearch sends nothing to the dead-letter queue.
- :class:`DeadLetters` lists and replays the dead-letter queue (``casewire dlq list|replay``).

Events leave through nameko's ``EventDispatcher``, which publishes persistent messages to a durable
topic exchange with publisher confirms on (``tests/integration/test_messaging.py`` checks it).
Works on RabbitMQ 3.10 (classic queues; no quorum-queue delivery counts needed).
"""

import logging
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import eventlet
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Queue
from kombu.message import Message
from marshmallow import ValidationError
from nameko.amqp.publish import get_producer
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import SERVICE_POOL, EventHandler
from pymongo.errors import ConnectionFailure

from casewire.errors import Unavailable

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = Exchange("casewire.dlx", type="topic", durable=True)
DEAD_LETTER_QUEUE = Queue("casewire.dead-letters", exchange=DEAD_LETTER_EXCHANGE, routing_key="#", durable=True)

ATTEMPTS = "x-casewire-attempts"
ERROR = "x-casewire-error"
ORIGIN_QUEUE = "x-casewire-queue"
DEAD_LETTER_ID = "x-casewire-dead-letter-id"
FAILED_AT = "x-casewire-failed-at"
EVENT_TYPE = "x-casewire-event"  # the original routing key, kept across retries
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_RETRY_DELAY = 0.5  # seconds, times the attempt number
_OWN_HEADERS = (ATTEMPTS, ERROR, ORIGIN_QUEUE, DEAD_LETTER_ID, FAILED_AT)  # reset on replay
TRANSIENT = (Unavailable, ConnectionFailure)  # a backend is down: wait for it, never dead-letter


def declare_dead_letters(amqp_uri: str) -> None:
    """Declare the dead-letter exchange and queue (idempotent)."""
    with Connection(amqp_uri) as connection:
        DEAD_LETTER_QUEUE(connection.channel()).declare()


def _publish_raw(amqp_uri: str, message: Message, exchange: str, routing_key: str, headers: dict) -> None:
    """Publish ``message``'s body unchanged, persistent, and wait for the broker's confirm."""
    with get_producer(amqp_uri, confirms=True) as producer:
        producer.publish(
            message.body,
            exchange=exchange,
            routing_key=routing_key,
            headers=headers,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            delivery_mode=2,
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.1, "interval_step": 0.5},
        )


class ReliableEventHandler(EventHandler):
    """A service-pool event handler that retries, then dead-letters, instead of dropping failures."""

    def __init__(
        self,
        source_service: str,
        event_type: str,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        **kwargs,
    ):
        kwargs.update(handler_type=SERVICE_POOL, reliable_delivery=True, requeue_on_error=False)
        super().__init__(source_service, event_type, **kwargs)
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay

    @property
    def amqp_uri(self) -> str:
        return self.container.config[AMQP_URI_CONFIG_KEY]

    def setup(self) -> None:
        super().setup()
        plain = self.queue
        self.queue = Queue(
            plain.name,
            exchange=plain.exchange,
            routing_key=plain.routing_key,
            durable=True,
            queue_arguments={
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
                "x-dead-letter-routing-key": plain.name,
            },
        )
        declare_dead_letters(self.amqp_uri)
        with Connection(self.amqp_uri) as connection:
            try:
                self.queue(connection.channel()).declare()
            except PreconditionFailed:
                # Declared earlier without the dead-letter argument (by nameko's own handler): keep it
                # as it is. Retries and dead letters still work; only broker-side rejections do not
                # reach the dead-letter queue until the queue is recreated (docs/messaging.md).
                log.warning("%s exists without x-dead-letter-exchange; using it as it is", plain.name)
                self.queue = plain

    def handle_message_processed(self, message: Message, result: object = None, exc_info: tuple | None = None) -> None:
        if exc_info is not None and issubclass(exc_info[0], TRANSIENT):
            log.warning("%s: a backend is unavailable (%s); requeueing", self.queue.name, exc_info[1])
            eventlet.sleep(self.retry_delay)
            self.queue_consumer.requeue_message(message)
            return
        if exc_info is not None:
            try:
                self._retry_or_dead_letter(message, exc_info)
            except Exception:  # the broker refused even that: keep the message where it is
                log.exception("could not retry or dead-letter a message from %s; requeueing it", self.queue.name)
                self.queue_consumer.requeue_message(message)
                return
        self.queue_consumer.ack_message(message)

    def _retry_or_dead_letter(self, message: Message, exc_info: tuple) -> None:
        headers = {k: v for k, v in (message.headers or {}).items() if k not in _OWN_HEADERS}
        headers.setdefault(EVENT_TYPE, message.delivery_info.get("routing_key"))
        attempts = int((message.headers or {}).get(ATTEMPTS, 1))
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()[:4000]
        if attempts < self.max_attempts and not issubclass(exc_info[0], ValidationError):
            eventlet.sleep(self.retry_delay * attempts)
            log.warning(
                "%s failed (attempt %s of %s): %s; retrying", self.queue.name, attempts, self.max_attempts, error
            )
            _publish_raw(self.amqp_uri, message, "", self.queue.name, {**headers, ATTEMPTS: attempts + 1})
            return
        letter_id = uuid.uuid4().hex
        log.error("%s failed %s times; dead-lettered as %s: %s", self.queue.name, attempts, letter_id, error)
        _publish_raw(
            self.amqp_uri,
            message,
            DEAD_LETTER_EXCHANGE.name,
            self.queue.name,
            {
                **headers,
                ATTEMPTS: attempts,
                ERROR: error,
                ORIGIN_QUEUE: self.queue.name,
                DEAD_LETTER_ID: letter_id,
                FAILED_AT: datetime.now(UTC).isoformat(),
            },
        )


event_handler = ReliableEventHandler.decorator


class DeadLetters:
    """The dead-letter queue, for operators: list what failed and replay it to its queue."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri

    @staticmethod
    def _describe(message: Message) -> dict:
        headers = message.headers or {}
        death = (headers.get("x-death") or [{}])[0]
        return {
            "id": headers.get(DEAD_LETTER_ID) or message.properties.get("message_id") or message.delivery_tag,
            "queue": headers.get(ORIGIN_QUEUE) or death.get("queue"),
            "event": headers.get(EVENT_TYPE) or death.get("routing-keys", [None])[0],
            "attempts": headers.get(ATTEMPTS),
            "error": headers.get(ERROR) or (f"rejected by the broker: {death.get('reason')}" if death else None),
            "failed_at": headers.get(FAILED_AT),
            "payload": message.payload,
        }

    def _each(self, connection: Connection, limit: int) -> Iterator[Message]:
        queue = DEAD_LETTER_QUEUE(connection.channel())
        queue.declare()
        for _ in range(limit):
            message = queue.get(no_ack=False)
            if message is None:
                return
            yield message

    def peek(self, limit: int = 100) -> list[dict]:
        """Up to ``limit`` dead letters, oldest first; they stay in the queue."""
        with Connection(self.amqp_uri) as connection:
            return [self._describe(message) for message in self._each(connection, limit)]

    def replay(self, ids: set[str] | None = None, limit: int = 10000) -> list[str]:
        """Send dead letters (all, or those whose id is in ``ids``) back to their queues, attempts reset."""
        replayed = []
        with Connection(self.amqp_uri) as connection:
            for message in self._each(connection, limit):
                described = self._describe(message)
                if ids is not None and described["id"] not in ids or not described["queue"]:
                    continue
                headers = {k: v for k, v in (message.headers or {}).items() if k not in _OWN_HEADERS}
                headers.pop("x-death", None)
                _publish_raw(self.amqp_uri, message, "", described["queue"], headers)
                message.ack()
                replayed.append(described["id"])
        return replayed
