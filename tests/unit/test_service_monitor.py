"""``casewire.monitor.Monitor``: each service's Prometheus metrics, the request id in its logs and the
broker link its heartbeat reports.

The provider is driven through nameko's worker hooks (``worker_setup``, ``worker_result``,
``worker_teardown``) as a container drives them, with a small fake container; its metrics are
scraped over HTTP from the server it starts. Its consumers are kombu ``ConsumerMixin`` objects called
as kombu calls them (``tests/integration/test_probe.py`` does it with the real RabbitMQ).
"""

import importlib
import io
import json
import logging
import sys
import urllib.request

import pytest
from kombu.mixins import ConsumerMixin
from nameko.containers import ServiceContainer
from nameko.events import EventHandler
from nameko.messaging import QueueConsumer
from nameko.rpc import Rpc
from nameko.timer import Timer

from casewire.batching import BatchConsumer
from casewire.errors import InvalidInput
from casewire.logs import JsonFormatter, RequestIdFilter, current_request_id
from casewire.monitor import Monitor, kind, request_id_of
from casewire.probe import probe


def entrypoint(cls, method_name: str, **kwargs):
    instance = cls(**kwargs)
    instance.method_name = method_name
    return instance


class FakeContainer:
    """What ``Monitor`` reads from a nameko container; a worker answers ``health`` at once."""

    service_name = "monitored"

    def __init__(self, config: dict, entrypoints: list, consumers: tuple = ()):
        self.config, self.entrypoints = config, entrypoints
        self.extensions = [*entrypoints, *consumers]
        self.health = {"mongodb": True}

    def spawn_worker(self, entrypoint, args, kwargs, handle_result):
        handle_result(None, self.health, None)


class FakeConsumer(ConsumerMixin):
    """A broker consumer as kombu drives it: ``on_consume_ready`` after each (re)connection."""

    def __init__(self):
        self.readied = []

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.readied.append(connection)


class FakeConnection:
    """kombu's ``Connection.connected``: false once kombu closed it after losing the broker."""

    connected = True


class Worker:
    """The parts of a nameko ``WorkerContext`` the monitor reads."""

    def __init__(self, ep, args: tuple):
        self.entrypoint, self.args, self.kwargs = ep, args, {}


def set_up(config: dict, consumers: tuple = ()) -> Monitor:
    """A Monitor bound to a fake container (kept on the provider: nameko holds containers weakly)."""
    container = FakeContainer(config, [entrypoint(Rpc, "health")], consumers)
    provider = Monitor().bind(container, "monitor")
    provider.fake_container = container
    provider.setup()
    return provider


@pytest.fixture
def monitor(tmp_path):
    provider = set_up({"METRICS_PORT": 0, "HEARTBEAT_DIR": str(tmp_path)})
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


def call(monitor: Monitor, ep, args=(), exc=None):
    """One worker's life as nameko runs it; ``exc`` is what the entrypoint raised."""
    worker_ctx = Worker(ep, args)
    monitor.worker_setup(worker_ctx)
    seen = current_request_id.get()
    exc_info = None if exc is None else (type(exc), exc, None)
    monitor.worker_result(worker_ctx, None, exc_info)
    monitor.worker_teardown(worker_ctx)
    return seen


def scrape(monitor: Monitor) -> dict[str, float]:
    port = monitor.server.server_port
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("casewire_service_") and 'service="monitored"' in line:
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_calls_are_counted_by_outcome_and_timed_on_the_metrics_port(monitor):
    create = entrypoint(Rpc, "create_case", expected_exceptions=InvalidInput)
    before = scrape(monitor)
    call(monitor, create)
    call(monitor, create)
    call(monitor, create, exc=InvalidInput("no title"))
    call(monitor, create, exc=RuntimeError("bug"))
    after = scrape(monitor)
    prefix = 'casewire_service_calls_total{entrypoint="create_case",kind="rpc",'

    def grew(key: str) -> float:
        return after.get(key, 0) - before.get(key, 0)

    assert grew(prefix + 'outcome="ok",service="monitored"}') == 2
    assert grew(prefix + 'outcome="expected_error",service="monitored"}') == 1
    assert grew(prefix + 'outcome="error",service="monitored"}') == 1
    count = 'casewire_service_call_duration_seconds_count{entrypoint="create_case",kind="rpc",service="monitored"}'
    assert grew(count) == 4


def test_entrypoint_kinds_are_named_for_operators():
    assert kind(entrypoint(Rpc, "a")) == "rpc"
    assert kind(entrypoint(EventHandler, "b", source_service="intake", event_type="alert_received")) == "event"
    assert kind(entrypoint(Timer, "c", interval=5)) == "timer"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("case-1", {"actor": {"id": "u"}, "request_id": "req-7"}), "req-7"),  # an RPC context argument
        (({"alert_id": "a1", "request_id": "req-8"},), "req-8"),  # an event payload
        (("case-1", {"actor": {"id": "u"}}), None),
        ((), None),
    ],
)
def test_the_request_id_comes_from_the_calls_context(args, expected):
    assert request_id_of(args, {}) == expected


def test_a_workers_log_lines_carry_its_request_id_and_only_while_it_runs(monitor):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.monitor")
    logger.addHandler(handler)
    try:
        worker_ctx = Worker(entrypoint(Rpc, "get_case"), ("c1", {"request_id": "req-9"}))
        monitor.worker_setup(worker_ctx)
        logger.warning("inside the worker")
        monitor.worker_result(worker_ctx)
        monitor.worker_teardown(worker_ctx)
        logger.warning("after the worker")
    finally:
        logger.removeHandler(handler)
    inside, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["request_id"] == "req-9" and inside["message"] == "inside the worker"
    assert "request_id" not in after


def test_setup_puts_the_request_id_filter_on_the_handlers_nameko_run_configured(tmp_path):
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    root.addHandler(handler)
    try:
        for _ in range(2):
            set_up({"HEARTBEAT_DIR": str(tmp_path)})
        assert sum(isinstance(f, RequestIdFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


def beat(monitor: Monitor) -> dict:
    monitor.beat()
    return json.loads(monitor.heartbeat.read_text())["health"]


def test_the_heartbeat_reports_rabbitmq_down_until_every_consumer_consumes_over_an_open_connection(tmp_path):
    rpc_consumer, batch_consumer = FakeConsumer(), FakeConsumer()
    monitor = set_up({"HEARTBEAT_DIR": str(tmp_path)}, (rpc_consumer, batch_consumer))
    assert beat(monitor) == {"mongodb": True, "rabbitmq": False}  # not connected yet (or a wrong AMQP_URI)
    first, second = FakeConnection(), FakeConnection()
    rpc_consumer.on_consume_ready(first, None, [])
    assert beat(monitor)["rabbitmq"] is False, "one consumer is still connecting"
    batch_consumer.on_consume_ready(second, None, [])
    assert beat(monitor) == {"mongodb": True, "rabbitmq": True}
    assert rpc_consumer.readied == [first] and batch_consumer.readied == [second], "the consumers' own hooks ran"

    first.connected = False  # the broker went away: kombu closed the connection and is retrying
    assert beat(monitor)["rabbitmq"] is False
    ready, why = probe(monitor.heartbeat, "monitored")
    assert not ready and "rabbitmq" in why
    assert probe(monitor.heartbeat, "monitored", live=True)[0], "losing the broker must not restart the pod"

    rpc_consumer.on_consume_ready(FakeConnection(), None, [])  # reconnected
    assert beat(monitor)["rabbitmq"] is True and probe(monitor.heartbeat, "monitored")[0]


def test_a_process_that_consumes_nothing_reports_no_broker(tmp_path):
    monitor = set_up({"HEARTBEAT_DIR": str(tmp_path)})
    assert beat(monitor) == {"mongodb": True}


@pytest.mark.parametrize("service", ["intake", "entities", "search", "cases", "audit"])
def test_every_broker_consumer_of_each_service_is_watched(service, tmp_path):
    """nameko's shared queue consumer (RPC and events) everywhere; the audit log's batch consumer too."""
    module = importlib.import_module(f"services.{service}.service")
    service_class = next(
        value for value in vars(module).values() if isinstance(value, type) and getattr(value, "name", None) == service
    )
    container = ServiceContainer(service_class, {"AMQP_URI": "memory://", "HEARTBEAT_DIR": str(tmp_path)})
    monitor = next(dependency for dependency in container.dependencies if isinstance(dependency, Monitor))
    monitor.setup()
    watched = {type(consumer) for consumer in monitor.broker.connections}
    assert watched == ({QueueConsumer, BatchConsumer} if service == "audit" else {QueueConsumer})
    assert monitor.broker.connected() is False, "not ready before its consumers reached the broker"
