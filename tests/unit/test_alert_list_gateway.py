"""The alert list at the gateway: items from intake, counts from search, asked side by side.

The gateway runs in-process with its audit trail and RPC client replaced by a fake, so no server is
needed; the services' sides are proved in tests/integration (test_intake.py, test_search_listing.py)
and the whole list in tests/e2e (test_intake_api.py, test_entities_visibility.py).
"""

import pytest
from nameko.exceptions import RpcTimeout

from casewire.errors import Unavailable
from gateway.app import create_app
from gateway.auth import mint_dev_token
from gateway.rpc import NoAnswer, Rpc

SECRET = "unit-test-secret-of-at-least-32-bytes-long"
PAGE = {"ids": ["a-3", "a-1", "a-2"], "next_cursor": "next"}


def summary(alert_id: str) -> dict:
    return {"id": alert_id, "source": "alpr", "status": "new", "agency": "TX0000000"}


class FakeRpc:
    """Stands in for the audit trail and the RPC client: the search and intake answers of one page,
    with a log of when each call was sent and when its answer was waited for."""

    def __init__(self, counts: dict | Exception, summaries: list[str]):
        self.counts, self.summaries, self.log = counts, summaries, []

    def record(self, action, outcome, actor=None, **fields):
        pass

    def call(self, service, method, *args):
        return self.send(service, method, *args)()

    def send(self, service, method, *args):
        self.log.append(("sent", method))

        def answer():
            self.log.append(("waited", method))
            if method == "alert_page":
                return PAGE
            if method == "summaries":
                assert args[0] == PAGE["ids"]
                return [summary(alert_id) for alert_id in self.summaries]
            assert method == "related_counts" and args[0] == {alert_id: [alert_id] for alert_id in PAGE["ids"]}
            if isinstance(self.counts, Exception):
                raise self.counts
            return self.counts

        return answer


def listed(fake: FakeRpc) -> dict:
    app = create_app({"STREAM_ENABLED": "false", "DEV_JWT_SECRET": SECRET})
    app.extensions["audit"] = app.extensions["rpc"] = fake
    token = mint_dev_token(SECRET, "dana", ["analyst"], agency="TX0000000", unit="rtcc")
    response = app.test_client().get("/api/v1/alerts?status=new", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    return response.json


def test_the_counts_are_asked_before_the_items_and_both_answers_are_waited_for():
    fake = FakeRpc({"a-1": 2, "a-2": 0, "a-3": 5}, ["a-3", "a-1", "a-2"])
    listed(fake)
    assert fake.log == [
        ("sent", "alert_page"),
        ("waited", "alert_page"),
        ("sent", "related_counts"),
        ("sent", "summaries"),
        ("waited", "summaries"),
        ("waited", "related_counts"),
    ]


def test_items_keep_intakes_order_and_counts_of_alerts_it_left_out_are_dropped():
    page = listed(FakeRpc({"a-1": 2, "a-2": 0, "a-3": 5}, ["a-3", "a-2"]))  # a-1: not for this caller
    assert [(item["id"], item["related_count"]) for item in page["items"]] == [("a-3", 5), ("a-2", 0)]
    assert page["next_cursor"] == "next"


@pytest.mark.parametrize("failure", [NoAnswer("the search service did not answer", "no_answer"), Unavailable("down")])
def test_the_list_answers_with_related_count_null_when_search_does_not_count(failure):
    page = listed(FakeRpc(failure, ["a-3", "a-1", "a-2"]))
    assert [(item["id"], item["related_count"]) for item in page["items"]] == [
        ("a-3", None),
        ("a-1", None),
        ("a-2", None),
    ]


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
