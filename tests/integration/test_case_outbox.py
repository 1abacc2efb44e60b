"""The outbox of ``case_updated`` over the real servers: a change stored while the broker refused the
event is announced again by the outbox timer, so what search and the stream hold catches up (no old
unit, sensitivity or assignees)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook, replace_dependencies

from casewire import events
from services.audit.service import AuditService
from services.cases.service import CasesService
from tests.integration.test_cases import ctx
from tests.polling import eventually

SAM = ctx("sam", ("supervisor",), unit="robbery")


class Clock:
    def __init__(self):
        self.at = None

    def __call__(self):
        return self.at or datetime.now(UTC)


class Broker:
    """The cases service's event dispatcher: the real one, or refusing every event while ``down``."""

    def __init__(self, config: dict):
        self.publish, self.down, self.refused = event_dispatcher(config), False, 0

    def __call__(self, event_type: str, payload: dict) -> None:
        if self.down:
            self.refused += 1
            raise ConnectionError("the broker is out of reach")
        self.publish("cases", event_type, payload)


def listener_class(heard: list):
    class Listener:
        name = f"case_listener_{uuid.uuid4().hex[:8]}"

        @event_handler("cases", events.CASE_UPDATED)
        def case_updated(self, payload):
            heard.append(payload)

    return Listener


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def broker(base_config):
    return Broker(base_config)


@pytest.fixture
def heard(container_factory, base_config):
    heard = []
    container_factory(listener_class(heard), base_config).start()
    return heard


@pytest.fixture
def cases(container_factory, config_for, clock, broker, heard):
    container_factory(AuditService, config_for("audit")).start()
    container = container_factory(CasesService, config_for("cases"))
    replace_dependencies(container, dispatch=broker, now=clock)
    container.start()
    return container


@pytest.fixture
def rpc(cases, base_config):
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy.cases


def outbox_timer(cases) -> list[str]:
    with entrypoint_hook(cases, "announce_unconfirmed") as run:
        return run()


def latest(heard: list, case_id: str) -> dict | None:
    mine = [payload for payload in heard if payload["case_id"] == case_id]
    return max(mine, key=lambda payload: payload["version"]) if mine else None


def test_a_change_stored_while_the_broker_refused_its_event_is_announced_by_the_outbox(
    rpc, cases, broker, clock, heard
):
    case = rpc.create_case({"title": f"Outbox {uuid.uuid4().hex}", "unit": "robbery", "assignees": ["bob"]}, SAM)
    eventually(lambda: latest(heard, case["id"]))
    assert outbox_timer(cases) == []  # confirmed: nothing to announce again

    broker.down = True
    changed = rpc.update_case(case["id"], {"assignees": [], "unit": "homicide", "reason": "reassigned"}, SAM)
    assert broker.refused and changed["assignees"] == [] and changed["version"] == 2
    assert outbox_timer(cases) == []  # too recent: the write's own announcement may still come

    broker.down = False
    clock.at = datetime.now(UTC) + timedelta(seconds=11)
    assert outbox_timer(cases) == [case["id"]]
    announced = eventually(lambda: (found := latest(heard, case["id"])) and found["version"] == 2 and found)
    assert announced["assignees"] == [] and announced["unit"] == "homicide"
    assert outbox_timer(cases) == []
