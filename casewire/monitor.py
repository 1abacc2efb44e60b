"""``Monitor``: what a service process tells its operators, as one dependency of each service class.

- **Heartbeat** (per pod health): every ``HEARTBEAT_SECONDS`` (default 10) the monitor runs the
  service's own ``health`` entrypoint in a worker of the service's pool and writes the answer to
  ``HEARTBEAT_DIR/casewire-<service>.heartbeat`` (``casewire.probe`` reads it), with ``rabbitmq``
  added: whether every broker consumer of this process (nameko's, for RPC and events, and
  ``casewire.batching``'s) holds a live connection (:class:`BrokerLink`). A hung event loop or a
  worker pool that never frees a slot stops the heartbeat; a sibling replica cannot hide that. A
  process that lost the broker (or never reached it: a wrong ``AMQP_URI``) keeps beating with
  ``"rabbitmq": false``, so it is not ready but alive while kombu reconnects.
- **Metrics**: every entrypoint call (RPC, event handler, timer) is counted by outcome and timed, in
  Prometheus format on ``METRICS_PORT`` (empty: not served, as on a developer machine where five
  services share one host).
- **Request ids**: the ``request_id`` of the call's context (RPC ``context`` argument or event
  payload) is the worker's ``casewire.logs.current_request_id``, so its log lines carry it.

Each setting is read from the service's config, else from the environment variable of the same name.
"""

import logging
import os
import time
from collections.abc import Iterable

import eventlet
from amqp import Channel
from eventlet.event import Event
from kombu import Connection, Consumer
from kombu.mixins import ConsumerMixin
from nameko.containers import WorkerContext
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider, Entrypoint
from nameko.rpc import Rpc
from nameko.timer import Timer
from prometheus_client import Counter, Histogram, start_http_server

from casewire.logs import add_request_id_filter, current_request_id
from casewire.probe import HEARTBEAT_DIR_KEY, heartbeat_dir, heartbeat_path, write_heartbeat

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS_KEY = "HEARTBEAT_SECONDS"
METRICS_PORT_KEY = "METRICS_PORT"
DEFAULT_HEARTBEAT_SECONDS = 10.0

CALLS = Counter(
    "casewire_service_calls_total",
    "Entrypoint calls handled, by service, entrypoint, kind (rpc, event, timer) and outcome",
    ["service", "entrypoint", "kind", "outcome"],
)
DURATION = Histogram(
    "casewire_service_call_duration_seconds",
    "Time a worker took to handle an entrypoint call, by service, entrypoint and kind",
    ["service", "entrypoint", "kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def outcome(entrypoint: Entrypoint, exc_info: tuple | None) -> str:
    """``ok``; ``expected_error`` for the service's own errors (bad input, not found); else ``error``."""
    if exc_info is None:
        return "ok"
    return "expected_error" if isinstance(exc_info[1], entrypoint.expected_exceptions) else "error"


def kind(entrypoint: Entrypoint) -> str:
    """``rpc``, ``event`` or ``timer``: the metric label for an entrypoint."""
    for base, name in ((Rpc, "rpc"), (EventHandler, "event"), (Timer, "timer")):
        if isinstance(entrypoint, base):
            return name
    return type(entrypoint).__name__.lower()


def request_id_of(args: tuple, kwargs: dict) -> str | None:
    """The ``request_id`` of the first dict argument that has one: an RPC ``context``, an event payload."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, dict) and isinstance(value.get("request_id"), str):
            return value["request_id"]
    return None


class BrokerLink:
    """Whether each broker consumer of a container holds a live connection.

    A consumer (a kombu ``ConsumerMixin``: nameko's shared ``QueueConsumer``, a ``BatchConsumer``)
    makes a new connection on every (re)connect and calls ``on_consume_ready`` with it once its
    consumers are declared; that connection is noted here. When kombu finds it broken (at once for a
    closed socket, after two missed AMQP heartbeats for a silent partition) it closes it, so
    ``connected`` turns false, and retries with a new one, noted once consuming again. Reading
    ``connected`` does no I/O, so the heartbeat never blocks on the broker.
    """

    def __init__(self, consumers: Iterable[ConsumerMixin]):
        self.connections = {}
        for consumer in consumers:
            self._watch(consumer)

    def _watch(self, consumer: ConsumerMixin) -> None:
        self.connections[consumer] = None
        ready = consumer.on_consume_ready

        def on_consume_ready(connection: Connection, channel: Channel, consumers: list[Consumer], **kwargs) -> None:
            self.connections[consumer] = connection
            return ready(connection, channel, consumers, **kwargs)

        consumer.on_consume_ready = on_consume_ready

    def __bool__(self) -> bool:
        return bool(self.connections)

    def connected(self) -> bool:
        """True when every consumer consumes over a connection that is still open."""
        return all(connection is not None and connection.connected for connection in self.connections.values())


class Monitor(DependencyProvider):
    """``monitor = Monitor()`` on a service class: heartbeat, metrics and request ids (module docstring)."""

    def setup(self) -> None:
        self.service = self.container.service_name
        self.interval = float(self._setting(HEARTBEAT_SECONDS_KEY) or DEFAULT_HEARTBEAT_SECONDS)
        directory = self.container.config.get(HEARTBEAT_DIR_KEY) or heartbeat_dir()
        self.heartbeat = heartbeat_path(directory, self.service)
        health = [e for e in self.container.entrypoints if e.method_name == "health"]
        if not health:
            raise TypeError(f"{self.service}: Monitor needs a `health` entrypoint to run for the heartbeat")
        self.health = health[0]
        self.broker = BrokerLink(e for e in self.container.extensions if isinstance(e, ConsumerMixin))
        self.server = None
        port = self._setting(METRICS_PORT_KEY)
        if port not in (None, ""):
            self.server, _ = start_http_server(int(port))
        self.started = {}
        self.beating = None
        add_request_id_filter()

    def _setting(self, key: str) -> str | float | None:
        return self.container.config.get(key, os.environ.get(key))

    def start(self) -> None:
        self.beating = self.container.spawn_managed_thread(self._beat)

    def stop(self) -> None:
        if self.beating is not None:  # None when the container stops before it started
            self.beating.kill()
        self.heartbeat.unlink(missing_ok=True)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def kill(self) -> None:
        self.stop()

    def _beat(self) -> None:
        while True:
            self.beat()
            eventlet.sleep(self.interval)

    def beat(self) -> None:
        """Run ``health``, add ``rabbitmq`` (:class:`BrokerLink`) and write the heartbeat once."""
        result, exc_info = self._run_health()
        error = None if exc_info is None else f"{type(exc_info[1]).__name__}: {exc_info[1]}"
        health = dict(result or {})
        if self.broker:  # a process that consumes nothing needs no broker to be ready
            health["rabbitmq"] = self.broker.connected()
        try:
            write_heartbeat(self.heartbeat, health, error)
        except OSError as exc:  # the probe will find the heartbeat stale; the service keeps serving
            log.error("could not write the heartbeat %s: %s", self.heartbeat, exc)

    def _run_health(self) -> tuple:
        """``(result, exc_info)`` of the service's ``health``, run by a worker from the service's pool."""
        answered = Event()

        def record(worker_ctx: WorkerContext, result: object, exc_info: tuple | None) -> tuple:
            answered.send((result, exc_info))
            return result, exc_info

        # Blocks while every worker is busy: a pool that never frees a slot stops the heartbeat.
        self.container.spawn_worker(self.health, (), {}, handle_result=record)
        return answered.wait()

    def worker_setup(self, worker_ctx: WorkerContext) -> None:
        token = current_request_id.set(request_id_of(worker_ctx.args, worker_ctx.kwargs))
        self.started[worker_ctx] = (time.perf_counter(), token)

    def worker_result(self, worker_ctx: WorkerContext, result: object = None, exc_info: tuple | None = None) -> None:
        started, _ = self.started[worker_ctx]
        entrypoint = worker_ctx.entrypoint
        labels = (self.service, entrypoint.method_name, kind(entrypoint))
        DURATION.labels(*labels).observe(time.perf_counter() - started)
        CALLS.labels(*labels, outcome(entrypoint, exc_info)).inc()

    def worker_teardown(self, worker_ctx: WorkerContext) -> None:
        _, token = self.started.pop(worker_ctx)
        current_request_id.reset(token)
