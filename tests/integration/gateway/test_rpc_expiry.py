"""503 means nothing done: a request the gateway stopped waiting for expires at the broker, so a service
that comes back later never does it (the caller was told 503, the audit log says failed)."""

import uuid

import pytest
from flask import Flask
from nameko.rpc import rpc

from casewire.errors import Unavailable
from gateway.rpc import Rpc


def recorder_class(calls: list):
    class Recorder:
        name = f"expiry_{uuid.uuid4().hex[:8]}"

        @rpc
        def record(self, tag: str) -> str:
            calls.append(tag)
            return tag

    return Recorder


def gateway_rpc(base_config: dict, timeout: float) -> Rpc:
    app = Flask(__name__)
    app.config.update(AMQP_URI=base_config["AMQP_URI"], RPC_TIMEOUT=timeout)
    return Rpc(app)


@pytest.fixture
def rpcs():
    made = []
    yield made.append
    for made_rpc in made:
        made_rpc._reset()


def test_a_request_nobody_waits_for_any_more_is_never_done(container_factory, base_config, rpcs):
    calls = []
    service = recorder_class(calls)
    first = container_factory(service, base_config)
    first.start()
    first.stop()  # the service's queue stays (durable); nothing consumes it

    impatient = gateway_rpc(base_config, timeout=1)
    rpcs(impatient)
    with pytest.raises(Unavailable):
        impatient.call(service.name, "record", "given up")

    container_factory(service, base_config).start()
    patient = gateway_rpc(base_config, timeout=30)
    rpcs(patient)
    assert patient.call(service.name, "record", "after") == "after"  # the queue is served in order
    assert calls == ["after"]
