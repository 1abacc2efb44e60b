"""Integration fixtures: a service in a real nameko container over the real servers."""

import subprocess
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from pymongo import MongoClient

from tests.conftest import service_config


@pytest.fixture(scope="session")
def mongo(servers):
    client = MongoClient("mongodb://127.0.0.1:27017/", tz_aware=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def es(servers):
    client = Elasticsearch("http://127.0.0.1:9200")
    yield client
    client.close()


@pytest.fixture
def config_for(base_config, run_id, request):
    """``config_for("intake")``: the config a service container gets in these tests.

    Each test module has its own databases, so records one module seeds (partial ones included)
    never show up in another module's exports, lists or counts.
    """
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:24]

    def config(service: str) -> dict:
        config = service_config(base_config, service, run_id)
        return {**config, "MONGODB_DATABASE": f"{config['MONGODB_DATABASE']}_{module}"}

    return config


@pytest.fixture(scope="session", autouse=True)
def _cleanup(drop_test_data):
    """Drop this run's databases and indices at the end of the session."""


@pytest.fixture(scope="module", autouse=True)
def _empty_queues(base_config):
    """Each module starts with empty queues: services another module ran without their consumers
    (intake without entities, say) leave events behind that would otherwise delay this module's."""
    vhost = base_config["AMQP_URI"].rsplit("/", 1)[1]
    script = Path(__file__).resolve().parents[2] / "scripts" / "rabbitmq.sh"
    subprocess.run([script, "purge_vhost", vhost], check=True, capture_output=True)
