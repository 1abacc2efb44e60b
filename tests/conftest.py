"""Casewire's test policy.

- ``tests/unit``: one function or one service class at a time. Services are built with nameko's
  ``worker_factory`` and their dependencies replaced by small fakes; no server is touched.
- ``tests/integration``: one service running in a real nameko container over the real RabbitMQ,
  FerretDB and Elasticsearch that ``scripts/test.sh`` starts.
- ``tests/e2e``: the five services and the gateway as real processes, driven over HTTP.

A missing server fails the run: nothing is skipped because a server is absent. Tests that prove a
requirement (docs/compliance.md) carry its id (C1...C28) in their name.
"""

import eventlet

eventlet.monkey_patch()  # nameko's containers need it before anything imports socket users

import os  # noqa: E402
import socket  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from elasticsearch import Elasticsearch  # noqa: E402
from pymongo import MongoClient  # noqa: E402

# Tests build gateways on the public development secret (gateway/auth.py refuses it otherwise);
# tests/unit/test_dev_tokens.py proves the refusal by switching the mode off in the app's config.
os.environ.setdefault("CASEWIRE_DEV_MODE", "1")
# Gateways built in-process count requests in their own memory; the shared store (the gateway's MongoDB)
# is proven by tests/integration/gateway/test_shared_limits.py and run by the e2e stack.
os.environ.setdefault("RATE_LIMIT_STORE", "memory")
TEST_VHOST = os.environ.get("CASEWIRE_TEST_VHOST", "casewire-test")
SERVERS = {"RabbitMQ": 5672, "FerretDB": 27017, "Elasticsearch": 9200}
AUDIT_KEY_PEM = (
    Ed25519PrivateKey.generate()
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)  # the audit service's signing key in this run


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def servers():
    """Fail, never skip, when a real server is not running (scripts/test.sh starts them)."""
    missing = [name for name, port in SERVERS.items() if not _reachable(port)]
    if missing:
        pytest.fail(f"servers not running: {', '.join(missing)}; run the tests with scripts/test.sh", pytrace=False)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def base_config(servers, run_id) -> dict:
    """Settings shared by every service under test: a private vhost, databases and index prefix."""
    return {
        "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{TEST_VHOST}",
        "MONGODB_URI": "mongodb://127.0.0.1:27017/",
        "ELASTICSEARCH_URL": "http://127.0.0.1:9200",
        "INDEX_PREFIX": f"test-{run_id}",
        "DEFAULT_PHONE_REGION": "US",
    }


def service_config(base_config: dict, service: str, run_id: str) -> dict:
    config = {**base_config, "MONGODB_DATABASE": f"test_{run_id}_{service}"}
    if service == "audit":  # the checkpoint key is the audit service's alone
        config.update(AUDIT_CHECKPOINT_KEY=AUDIT_KEY_PEM, AUDIT_ARCHIVE_DIR=f"/tmp/casewire-{run_id}")
    return config


@pytest.fixture(scope="session")
def drop_test_data(servers, run_id):
    """Leave no databases or indices of this run behind."""
    yield
    client = MongoClient("mongodb://127.0.0.1:27017/")
    for name in client.list_database_names():
        if name.startswith(f"test_{run_id}_"):
            client.drop_database(name)
    client.close()
    es = Elasticsearch("http://127.0.0.1:9200")
    indices = list(es.indices.get(index=f"test-{run_id}-*", expand_wildcards="all"))
    # By name (a wildcard delete is refused), many per request: each request is one cluster state update;
    # 50 names keep the request line under Elasticsearch's 4 KB limit.
    for start in range(0, len(indices), 50):
        es.indices.delete(index=",".join(indices[start : start + 50]))
    es.close()
