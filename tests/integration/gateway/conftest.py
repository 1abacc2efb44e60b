"""The gateway runs in-process (Flask's test client); its audit events go over the real RabbitMQ to a
real audit service container, and the tests read what that service stored in its MongoDB database."""

import pytest

from services.audit.service import AuditService
from tests.integration.gateway.support import AuditReader, Jwks


@pytest.fixture
def audit_reader(container_factory, config_for, mongo) -> AuditReader:
    # One worker, as in services/audit/config.yaml: events are chained in the order they were sent.
    container_factory(AuditService, {**config_for("audit"), "max_workers": 1}).start()
    return AuditReader(mongo[config_for("audit")["MONGODB_DATABASE"]]["events"])


@pytest.fixture
def jwks():
    server = Jwks()
    server.add_key("key-1")
    yield server
    server.close()


@pytest.fixture
def close_rpc():
    """Stops the RPC proxies of the apps a test built."""
    apps = []
    yield apps.append
    for app in apps:
        app.extensions["rpc"]._reset()
        if "stream" in app.extensions:
            app.extensions["stream"].stop()
