"""Integration fixtures: a service in a real nameko container over the real servers."""

import contextlib
import subprocess
from pathlib import Path

import eventlet
import pytest
from amqp.exceptions import NotFound, ResourceLocked
from elasticsearch import Elasticsearch
from kombu import Connection
from kombu.mixins import ConsumerMixin
from nameko.containers import get_container_cls
from nameko.messaging import QueueConsumer
from pymongo import MongoClient

from services.search import dependencies as search_dependencies
from services.search import rebuild
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


# How long a container's queue consumer waits for a message before it looks whether it is to stop
# (kombu's default is 1 s): every test kills its containers, and waited that out once per test.
CONSUMER_POLL_SECONDS = 0.05


@pytest.fixture
def container_factory(monkeypatch):
    """nameko's ``container_factory``, with consumers that notice a kill within ``CONSUMER_POLL_SECONDS``
    and the test's containers killed side by side at its end."""
    monkeypatch.setattr(QueueConsumer, "run", _run_polling_often)
    containers = []

    def make_container(service_cls, config):
        container = get_container_cls(config)(service_cls, config)
        containers.append(container)
        return container

    yield make_container
    pool = eventlet.GreenPool()
    for container in containers:
        pool.spawn_n(_kill, container)
    pool.waitall()


def _run_polling_often(consumer: QueueConsumer) -> None:
    ConsumerMixin.run(consumer, safety_interval=CONSUMER_POLL_SECONDS)


def _kill(container) -> None:
    with contextlib.suppress(Exception):  # as nameko's fixture: a container that failed is already dead
        container.kill()


@pytest.fixture(scope="session", autouse=True)
def _cleanup(drop_test_data):
    """Drop this run's databases and indices at the end of the session."""


def purge_vhost(amqp_uri: str) -> None:
    """Empty every queue of the virtual host of ``amqp_uri`` that holds messages."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "rabbitmq.sh"
    listed = subprocess.run([script, "queues", amqp_uri.rsplit("/", 1)[1]], check=True, capture_output=True, text=True)
    with Connection(amqp_uri) as connection:
        for queue in listed.stdout.split():
            try:
                with connection.channel() as channel:
                    channel.queue_purge(queue)
            except (NotFound, ResourceLocked):  # deleted since it was listed, or another connection's own
                pass


@pytest.fixture(scope="module", autouse=True)
def _empty_queues(base_config):
    """Each module starts with empty queues: services another module ran without their consumers
    (intake without entities, say) leave events behind that would otherwise delay this module's."""
    purge_vhost(base_config["AMQP_URI"])


@pytest.fixture(autouse=True)
def _quick_rebuild_handover(monkeypatch):
    """A rebuild waits twice the period at which writers look for its new index before it copies
    (services/search/rebuild.py): the same handover on a shorter period, both sides of it in this
    process (the search containers and ``casewire search reindex``), so less waiting."""
    monkeypatch.setattr(search_dependencies, "BUILD_CHECK_SECONDS", 0.25)
    monkeypatch.setattr(rebuild, "BUILD_CHECK_SECONDS", 0.25)
