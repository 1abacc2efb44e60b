"""``@consume_batch(queue)``: a nameko entrypoint that hands a worker many messages at once.

nameko's ``@consume`` runs one worker per message. A consumer that writes to a database does far
better with one write per batch, so this entrypoint keeps its own connection, collects messages
until the batch is full or ``wait`` seconds have passed since its first message, runs one worker
with the list of bodies, and only then acknowledges every one of them. The prefetch is two
batches, so the next batch arrives while one is written. If the worker fails, every message of
the batch is requeued (after a short pause, so a backend that is down is not hammered) and
nothing is lost. One batch is in flight at a time per container, so the worker sees the batches
in delivery order.

Configuration (container config, read at setup): ``<PREFIX>_BATCH_SIZE`` (default 500) and
``<PREFIX>_BATCH_WAIT`` in seconds (default 0.05), where ``PREFIX`` is the decorator's
``config_prefix``.
"""

import logging
import time

import eventlet
from amqp import Channel
from eventlet.event import Event
from kombu import Connection, Consumer, Queue
from kombu.message import Message
from kombu.mixins import ConsumerMixin
from nameko.constants import AMQP_URI_CONFIG_KEY, DEFAULT_HEARTBEAT, HEARTBEAT_CONFIG_KEY
from nameko.containers import WorkerContext
from nameko.extensions import Entrypoint

log = logging.getLogger(__name__)

RETRY_PAUSE = 1.0


class BatchConsumer(Entrypoint, ConsumerMixin):
    def __init__(self, queue: Queue, config_prefix: str = "BATCH", **kwargs):
        self.queue = queue
        self.config_prefix = config_prefix
        super().__init__(**kwargs)

    def setup(self) -> None:
        config = self.container.config
        self.batch_size = int(config.get(f"{self.config_prefix}_BATCH_SIZE", 500))
        self.batch_wait = float(config.get(f"{self.config_prefix}_BATCH_WAIT", 0.05))
        self.should_stop = False
        self._pending: list = []
        self._first_at = 0.0
        self._ready = Event()
        self._gt = None

    @property
    def connection(self) -> Connection:
        config = self.container.config
        return Connection(config[AMQP_URI_CONFIG_KEY], heartbeat=config.get(HEARTBEAT_CONFIG_KEY, DEFAULT_HEARTBEAT))

    def start(self) -> None:
        self._gt = self.container.spawn_managed_thread(self._run, identifier=f"{self}.consume")
        self._ready.wait()

    def stop(self) -> None:
        self.should_stop = True
        if self._gt is not None:
            self._gt.wait()

    def kill(self) -> None:
        self.should_stop = True
        if self._gt is not None:
            self._gt.kill()

    def _run(self) -> None:
        self.run(safety_interval=min(self.batch_wait, 1.0))

    def get_consumers(self, consumer_cls: type[Consumer], channel: Channel) -> list[Consumer]:
        return [
            consumer_cls(
                queues=[self.queue],
                callbacks=[self._collect],
                accept=self.container.accept,
                prefetch_count=2 * self.batch_size,  # the next batch arrives while this one is written
            )
        ]

    def on_consume_ready(self, connection: Connection, channel: Channel, consumers: list[Consumer], **kwargs) -> None:
        self._pending = []  # unacknowledged deliveries of a lost channel come back from the broker
        if not self._ready.ready():
            self._ready.send(None)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        log.warning("audit batch consumer cannot reach the broker (%s); retrying in %ss", exc, interval)

    def _collect(self, body: dict, message: Message) -> None:
        if not self._pending:
            self._first_at = time.monotonic()
        self._pending.append((body, message))

    def on_iteration(self) -> None:
        if not self._pending:
            return
        if len(self._pending) >= self.batch_size or time.monotonic() - self._first_at >= self.batch_wait:
            batch, self._pending = self._pending, []
            self._process(batch)

    def _process(self, batch: list) -> None:
        done = Event()

        def handle_result(worker_ctx: WorkerContext, result: object = None, exc_info: tuple | None = None) -> tuple:
            done.send(exc_info)
            return result, exc_info

        self.container.spawn_worker(self, ([body for body, _ in batch],), {}, handle_result=handle_result)
        if done.wait() is None:
            batch[-1][1].ack(multiple=True)
            return
        eventlet.sleep(RETRY_PAUSE)
        for _, message in batch:
            message.requeue()


consume_batch = BatchConsumer.decorator
