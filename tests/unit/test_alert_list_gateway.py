"""The alert list at the gateway: one page served by search (its items, entities and counts); and
``Rpc.send``, a call answered later (the overdue queue's counts).

The gateway runs in-process with its audit trail and RPC client replaced by a fake, so no server is
needed; search's side is proved in tests/integration/test_search_listing.py and the whole list in
tests/e2e (test_intake_api.py, test_entities_visibility.py).
"""

import pytest
from nameko.exceptions import RpcTimeout

from gateway.app import create_app
from gateway.auth import mint_dev_token
from gateway.rpc import NoAnswer, Rpc

SECRET = "unit-test-secret-of-at-least-32-bytes-long"
PAGE = {"items": [{"id": "a-3", "related_count": 5}, {"id": "a-1", "related_count": None}], "next_cursor": "next"}


class FakeRpc:
    """Stands in for the audit trail and the RPC client: search's answer of one page, with a log of the calls."""

    def __init__(self):
        self.log = []

    def record(self, action, outcome, actor=None, **fields):
        pass

    def call(self, service, method, *args):
        self.log.append((service, method, args))
        return PAGE


def test_a_page_is_one_search_call_with_the_filters_and_the_caller_answered_as_search_serves_it():
    fake = FakeRpc()
    app = create_app({"STREAM_ENABLED": "false", "DEV_JWT_SECRET": SECRET})
    app.extensions["audit"] = app.extensions["rpc"] = fake
    token = mint_dev_token(SECRET, "dana", ["analyst"], agency="TX0000000", unit="rtcc")
    response = app.test_client().get("/api/v1/alerts?status=new&limit=2", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    assert [(item["id"], item["related_count"]) for item in response.json["items"]] == [("a-3", 5), ("a-1", None)]
    assert response.json["next_cursor"] == "next"
    [(service, method, (filters, context, limit, cursor))] = fake.log
    assert (service, method, filters, limit, cursor) == ("search", "alert_page", {"status": "new"}, 2, None)
    assert context["actor"]["id"] == "dana" and context["actor"]["agency"] == "TX0000000"


class Reply:
    def __init__(self, answer):
        self.answer = answer

    def result(self):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class Method:
    def __init__(self, replies: list, method: str):
        self.replies, self.method = replies, method

    def call_async(self, *args):
        reply = Reply(RpcTimeout(1) if self.method == "slow" else {"args": list(args)})
        self.replies.append(reply)
        return reply


class Proxy:
    """A nameko cluster proxy whose calls answer at once, except ``slow``, which times out."""

    def __init__(self):
        self.replies = []

    def __getattr__(self, service):
        return type("Service", (), {"__getattr__": lambda _, method: Method(self.replies, method)})()


def test_a_call_sent_is_answered_when_waited_for_and_a_timeout_is_no_answer():
    rpc, proxy = Rpc(), Proxy()
    rpc._proxy = lambda: proxy
    first, second = rpc.send("search", "count", 1), rpc.send("intake", "slow")
    assert len(proxy.replies) == 2  # both sent before either is waited for
    assert first() == {"args": [1]}
    with pytest.raises(NoAnswer) as refused:
        second()
    assert refused.value.reason == "no_answer"
