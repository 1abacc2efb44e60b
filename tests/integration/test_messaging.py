"""casewire.messaging over the real RabbitMQ: retries, the dead-letter queue and its replay (CLI)."""

import json
import uuid

from click.testing import CliRunner
from nameko.events import EventDispatcher
from nameko.standalone.events import event_dispatcher

from casewire.messaging import DEAD_LETTER_EXCHANGE, DeadLetters, ReliableEventHandler, event_handler
from casewire_cli.main import main
from services.intake.service import IntakeService
from tests.polling import eventually

STATE = {"healthy": False, "seen": []}
QUEUE = "evt-dlqtest-poisoned--flaky.handle_poisoned"


class FlakyService:
    name = "flaky"

    @event_handler("dlqtest", "poisoned", max_attempts=3, retry_delay=0.01)
    def handle_poisoned(self, payload):
        STATE["seen"].append(payload["n"])
        if not STATE["healthy"]:
            raise ValueError(f"poison: cannot handle {payload['n']}")


def test_a_poison_message_is_retried_then_dead_lettered_and_replayed(container_factory, base_config):
    container_factory(FlakyService, base_config).start()
    uri, marker = base_config["AMQP_URI"], uuid.uuid4().hex
    STATE.update(healthy=False, seen=[])
    event_dispatcher(base_config)("dlqtest", "poisoned", {"n": marker})

    def dead_letter():
        return next((d for d in DeadLetters(uri).peek(500) if d["payload"].get("n") == marker), None)

    letter = eventually(dead_letter)
    assert STATE["seen"] == [marker] * 3  # three attempts, then no more
    assert letter["queue"] == QUEUE and letter["attempts"] == 3 and letter["event"] == "poisoned"
    assert "ValueError: poison: cannot handle" in letter["error"]

    listed = CliRunner().invoke(main, ["dlq", "list", "--amqp-uri", uri, "--json"])
    assert listed.exit_code == 0, listed.output
    assert letter["id"] in [json.loads(line)["id"] for line in listed.output.splitlines()]

    STATE["healthy"] = True
    replayed = CliRunner().invoke(main, ["dlq", "replay", "--amqp-uri", uri, "--id", letter["id"]])
    assert replayed.exit_code == 0 and "1 dead letter(s) replayed" in replayed.output
    eventually(lambda: STATE["seen"].count(marker) == 4)
    assert dead_letter() is None


def test_replaying_an_unknown_id_says_so(base_config):
    result = CliRunner().invoke(main, ["dlq", "replay", "--amqp-uri", base_config["AMQP_URI"], "--id", "nope"])
    assert result.exit_code != 0 and "not found: nope" in result.output


def test_events_leave_persistent_with_confirms_and_handlers_dead_letter(container_factory, config_for):
    """Nothing lost: intake's dispatcher publishes persistent messages, with publisher confirms, to a
    durable exchange; its handler's queue is durable and dead-letters to casewire.dlx."""
    container = container_factory(IntakeService, config_for("intake"))
    container.start()
    dispatcher = next(ext for ext in container.dependencies if isinstance(ext, EventDispatcher))
    assert dispatcher.publisher.use_confirms is True
    assert dispatcher.publisher.delivery_mode == 2 and dispatcher.exchange.durable
    handler = next(ext for ext in container.entrypoints if isinstance(ext, ReliableEventHandler))
    assert handler.queue.durable and not handler.queue.auto_delete
    assert handler.queue.queue_arguments["x-dead-letter-exchange"] == DEAD_LETTER_EXCHANGE.name


def test_a_queue_declared_earlier_without_dead_lettering_is_kept_and_still_dead_letters(container_factory, base_config):
    """Switching a service to casewire.messaging on a broker where nameko declared the queue."""
    from kombu import Connection, Queue
    from nameko.standalone.events import get_event_exchange

    class Switched:
        name = "switched"

        @event_handler("dlqtest", "legacy", max_attempts=2, retry_delay=0.01)
        def handle_legacy(self, payload):
            raise RuntimeError(f"legacy poison {payload['n']}")

    uri, marker = base_config["AMQP_URI"], uuid.uuid4().hex
    legacy = Queue("evt-dlqtest-legacy--switched.handle_legacy", exchange=get_event_exchange("dlqtest", {}),
                   routing_key="legacy", durable=True)  # fmt: skip
    with Connection(uri) as connection:
        legacy(connection.channel()).declare()
    container_factory(Switched, base_config).start()
    event_dispatcher(base_config)("dlqtest", "legacy", {"n": marker})
    letter = eventually(lambda: next((d for d in DeadLetters(uri).peek(500) if d["payload"].get("n") == marker), None))
    assert "legacy poison" in letter["error"] and letter["attempts"] == 2
    assert DeadLetters(uri).replay({letter["id"]}) == [letter["id"]]
