"""Issue 16: the rate limit and the stream's per-user seats hold across gateway replicas, counted in the
gateway's own MongoDB database (gateway/limits.py), so N replicas never multiply them."""

from datetime import timedelta

import pytest

from gateway.limits import SharedSeats
from tests.integration.gateway.support import call
from tests.integration.gateway.test_guards import build, token


@pytest.fixture
def gateway_db(mongo, run_id):
    name = f"test_{run_id}_gateway_limits"
    yield mongo[name]
    mongo.drop_database(name)


def test_the_rate_limit_is_one_limit_across_replicas(base_config, gateway_db, audit_reader, close_rpc):
    settings = {"RATE_LIMIT_PER_MINUTE": 3, "RATE_LIMIT_STORE": "mongodb", "GATEWAY_DATABASE": gateway_db.name}
    replicas = [build(base_config, MONGODB_URI="mongodb://127.0.0.1:27017/", **settings) for _ in range(2)]
    for app in replicas:
        close_rpc(app)
    clients = [app.test_client() for app in replicas]
    answers = [call(clients[n % 2], "GET", "/test/cases/homicide-1", token("detective"))[0] for n in range(5)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    other = call(clients[1], "GET", "/test/cases/homicide-1", token("detective", sub="frank"))[0]
    assert other.status_code == 200  # the limit is per caller


def test_one_user_holds_at_most_its_seats_across_replicas(gateway_db):
    replicas = [SharedSeats(gateway_db["stream_seats"], 2, timedelta(minutes=6)) for _ in range(3)]
    first, second = replicas[0].take("alice"), replicas[1].take("alice")
    assert first and second
    assert replicas[2].take("alice") is None
    assert replicas[2].take("bob")  # each user has seats of their own
    replicas[0].give_back(first)
    assert replicas[2].take("alice")


def test_a_seat_its_replica_never_gave_back_expires(gateway_db):
    dead = SharedSeats(gateway_db["stream_seats"], 1, timedelta(seconds=-1))  # a replica long gone
    assert dead.take("carol")
    assert SharedSeats(gateway_db["stream_seats"], 1, timedelta(minutes=6)).take("carol")
