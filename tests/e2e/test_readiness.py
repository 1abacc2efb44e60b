"""/readyz is 200 with everything up and 503 naming the part that is down.

The servers are shared by the whole suite (and by the other checkouts of a machine), so none is
stopped here: a second gateway, beside the stack's and over the same services, reaches each server
through a relay (tests/relay.py) that a test cuts, as a stopped server would be, and then restores.
"""

import time

import pytest

from tests.e2e.conftest import GATEWAY_PORT, Gateway, second_gateway
from tests.relay import Relay

RELAYED_PORT = GATEWAY_PORT + 4
SERVERS = {"rabbitmq": 5672, "mongodb": 27017, "elasticsearch": 9200}


def wait_ready(gateway, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway.get("/readyz", roles=()).status_code == 200:
            return
        time.sleep(0.5)
    pytest.fail(f"not ready again: {gateway.get('/readyz', roles=()).text}")


@pytest.fixture(scope="module")
def relays():
    relays = {name: Relay(("127.0.0.1", port)) for name, port in SERVERS.items()}
    for relay in relays.values():
        relay.up()
    yield relays
    for relay in relays.values():
        relay.down()


@pytest.fixture(scope="module")
def relayed_gateway(stack, gateway, relays, tmp_path_factory) -> Gateway:
    """A gateway whose RabbitMQ, MongoDB and Elasticsearch are the relays, up at first."""
    env = {
        **stack,
        "AMQP_URI": relays["rabbitmq"].uri(stack["AMQP_URI"]),
        "MONGODB_URI": f"mongodb://127.0.0.1:{relays['mongodb'].port}/",
        "ELASTICSEARCH_URL": f"http://127.0.0.1:{relays['elasticsearch'].port}",
        "STREAM_ENABLED": "false",
    }
    with second_gateway(env, RELAYED_PORT, tmp_path_factory.mktemp("relayed-gateway") / "gateway.log") as url:
        yield Gateway(url, gateway.secret)


def test_ready_when_everything_is_up(gateway):
    response = gateway.get("/readyz", roles=())
    assert response.status_code == 200, response.text
    assert set(response.json()["checks"]) == {
        "rabbitmq",
        "mongodb",
        "elasticsearch",
        "intake",
        "entities",
        "search",
        "cases",
        "audit",
    }


@pytest.mark.parametrize("name", ["mongodb", "elasticsearch", "rabbitmq"])
def test_not_ready_names_the_server_it_cannot_reach_and_ready_once_it_is_back(relayed_gateway, relays, name):
    wait_ready(relayed_gateway)
    relays[name].down()
    try:
        response = relayed_gateway.get("/readyz", roles=())
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert name in response.json()["failed"]
    finally:
        relays[name].up()
    wait_ready(relayed_gateway)
