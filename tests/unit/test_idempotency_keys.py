"""``Idempotency-Key`` on POSTs (gateway/idempotency.py), with the key store and the services replaced:
the same answer for a retry, 422 for the key reused on another request, 409 while the first runs."""

import pytest

from casewire.errors import Unavailable
from gateway.app import create_app
from gateway.auth import mint_dev_token
from gateway.idempotency import HEADER, REPLAYED
from tests.unit.test_fail_closed import FakeAuditTrail


class FakeKeyStore:
    """The KeyStore's four operations over dicts."""

    def __init__(self):
        self.claims, self.answers = {}, {}

    def answer(self, key_id, now):
        return self.answers.get(key_id)

    def claim(self, key_id, request_id, now):
        return self.claims.setdefault(key_id, request_id) == request_id

    def release(self, key_id, request_id):
        if self.claims.get(key_id) == request_id:
            del self.claims[key_id]

    def keep(self, key_id, fingerprint, request_id, response, now):
        self.answers[key_id] = {
            "fingerprint": fingerprint,
            "request_id": request_id,
            "status": response.status_code,
            "headers": {"Content-Type": response.headers["Content-Type"]},
            "body": response.get_data(),
        }
        self.release(key_id, request_id)


class FakeCases:
    """``rpc.call`` for the cases service: opens a numbered case each time, or fails as told."""

    def __init__(self):
        self.opened, self.failure = [], None

    def __call__(self, service, method, *args, **kwargs):
        if self.failure:
            raise self.failure
        self.opened.append(args[0]["title"])
        return {"id": f"case-{len(self.opened)}", "title": args[0]["title"]}


@pytest.fixture
def app():
    app = create_app({"STREAM_ENABLED": "false"})
    app.extensions["audit"] = FakeAuditTrail()
    app.extensions["idempotency"].store = FakeKeyStore()
    app.extensions["rpc"].call = FakeCases()
    return app


def caller(app, sub="det-1", key="k-1", request_id="req-1") -> dict:
    token = mint_dev_token(app.config["DEV_JWT_SECRET"], sub, ["detective"], agency="TX0000000", unit="rtcc")
    return {"Authorization": f"Bearer {token}", HEADER: key, "X-Request-Id": request_id}


def test_a_retry_with_the_same_key_gets_the_first_answer_and_nothing_is_done_twice(app):
    client, cases = app.test_client(), app.extensions["rpc"].call
    first = client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app, request_id="req-1"))
    again = client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app, request_id="req-2"))
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers[REPLAYED] == "req-1" and REPLAYED not in first.headers
    assert cases.opened == ["Robbery"]


def test_the_key_reused_for_another_request_is_422_and_nothing_is_done(app):
    client, cases = app.test_client(), app.extensions["rpc"].call
    client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app))
    other = client.post("/api/v1/cases", json={"title": "Burglary"}, headers=caller(app, request_id="req-2"))
    assert other.status_code == 422 and HEADER in other.json["errors"]
    assert cases.opened == ["Robbery"]


def test_a_key_belongs_to_its_caller(app):
    client, cases = app.test_client(), app.extensions["rpc"].call
    client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app, sub="det-1"))
    theirs = client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app, sub="det-2"))
    assert theirs.status_code == 201 and REPLAYED not in theirs.headers and cases.opened == ["Robbery", "Robbery"]


def test_while_the_first_request_runs_a_retry_is_409(app):
    client = app.test_client()
    store = app.extensions["idempotency"].store
    store.claim = lambda key_id, request_id, now: False  # another request holds the key
    response = client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app))
    assert response.status_code == 409 and response.headers["Retry-After"]
    assert app.extensions["rpc"].call.opened == []


def test_a_503_is_not_kept_so_the_retry_runs(app):
    client, cases = app.test_client(), app.extensions["rpc"].call
    cases.failure = Unavailable("the case store is unavailable")
    assert client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app)).status_code == 503
    cases.failure = None
    retry = client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app, request_id="req-2"))
    assert retry.status_code == 201 and REPLAYED not in retry.headers and cases.opened == ["Robbery"]


def test_the_services_receive_the_key_scoped_to_the_caller(app):
    contexts = []
    app.extensions["rpc"].call = lambda service, method, body, context: contexts.append(context) or {"id": "c"}
    client = app.test_client()
    client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app, sub="det-1"))
    client.post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app, sub="det-2", request_id="r-2"))
    keys = [context["idempotency_key"] for context in contexts]
    assert all(keys) and keys[0] != keys[1] and "k-1" not in keys


@pytest.mark.parametrize("key", ["", "k" * 201, "a key with spaces"])
def test_a_malformed_key_is_400(app, key):
    response = app.test_client().post("/api/v1/cases", json={"title": "Robbery"}, headers=caller(app, key=key))
    assert response.status_code == 400 and HEADER in response.json["errors"]


def test_every_post_documents_the_key_and_its_refusals(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    posts = [(path, item["post"]) for path, item in spec["paths"].items() if "post" in item]
    assert len(posts) > 20
    for path, post in posts:
        assert HEADER in [p.get("name") for p in post.get("parameters", [])], path
        assert {"409", "422"} <= set(post["responses"]), path
