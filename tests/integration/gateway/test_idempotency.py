"""``Idempotency-Key`` over the real servers: the keys in the gateway's own database, the real cases
service, and a retry whose first answer was lost (the service did the work, the gateway never heard)."""

import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from gateway.app import create_app
from gateway.auth import mint_dev_token
from gateway.idempotency import HEADER, REPLAYED
from services.cases.service import CasesService
from tests.integration.gateway.support import call

SECRET = "integration-test-secret-of-at-least-32-bytes"


def token(sub="dana"):
    return mint_dev_token(SECRET, sub, ["detective"], agency="TX0000000", unit="homicide")


@pytest.fixture
def cases_db(container_factory, config_for, mongo):
    container_factory(CasesService, config_for("cases")).start()
    return mongo[config_for("cases")["MONGODB_DATABASE"]]


@pytest.fixture
def gateway_db(mongo, run_id):
    name = f"test_{run_id}_gateway_idempotency"
    yield mongo[name]
    mongo.drop_database(name)


@pytest.fixture
def app(base_config, gateway_db, audit_reader, close_rpc):
    settings = {"DEV_JWT_SECRET": SECRET, "STREAM_ENABLED": "false", "GATEWAY_DATABASE": gateway_db.name}
    app = create_app({"AMQP_URI": base_config["AMQP_URI"], "MONGODB_URI": base_config["MONGODB_URI"], **settings})
    close_rpc(app)
    return app


def test_a_retried_case_creation_opens_one_case_and_answers_the_same(app, cases_db, gateway_db):
    client, key, title = app.test_client(), uuid.uuid4().hex, f"Robbery {uuid.uuid4().hex}"
    first, first_id = call(client, "POST", "/api/v1/cases", token(), {HEADER: key}, json={"title": title})
    again, _ = call(client, "POST", "/api/v1/cases", token(), {HEADER: key}, json={"title": title})
    assert first.status_code == again.status_code == 201, first.json
    assert again.json == first.json and again.headers[REPLAYED] == first_id
    assert cases_db["cases"].count_documents({"title": title}) == 1
    other, _ = call(client, "POST", "/api/v1/cases", token(), {HEADER: key}, json={"title": f"{title}!"})
    assert other.status_code == 422
    assert gateway_db["idempotency_answers"].count_documents({}) == 1
    assert gateway_db["idempotency_claims"].count_documents({}) == 0


def test_a_retry_after_a_lost_answer_finds_what_the_first_attempt_created(cases_db, base_config):
    """The service opened the case and added the note but the gateway got no answer (a 503): the retry
    reaches the service again with the same key and gets the same records, not new ones."""
    title = f"Lost answer {uuid.uuid4().hex}"
    context = {"actor": {"id": "dana", "agency": "TX0000000", "roles": ["detective"]}, "unit": "homicide"}
    keyed = {**context, "idempotency_key": uuid.uuid4().hex}
    with ClusterRpcProxy(base_config) as proxy:
        first, retry = (proxy.cases.create_case({"title": title}, keyed) for _ in range(2))
        note, note_again = (proxy.cases.add_item(first["id"], "notes", {"text": "seen"}, keyed) for _ in range(2))
        unkeyed = proxy.cases.add_item(first["id"], "notes", {"text": "seen"}, context)
    assert retry == first and cases_db["cases"].count_documents({"title": title}) == 1
    assert note_again == note and unkeyed["id"] != note["id"]
    assert cases_db["items"].count_documents({"case_id": first["id"], "kind": "notes"}) == 2
