"""The adapter's look-ups by ``_id`` on FerretDB: a large collection's ids asked side by side.

The collections and the look-up threads are fakes that log what is asked and when it is waited for;
the adapter against real servers is proved in tests/integration/test_docstore.py.
"""

from concurrent.futures import Future

import pytest

from casewire import docstore


class Raw:
    """A pymongo collection holding ``documents``: what the adapter calls on FerretDB for a look-up."""

    def __init__(self, name: str, documents: dict, log: list):
        self.name, self.documents, self.log = name, documents, log
        self.database = {f"{name}_locks": None}

    def aggregate(self, pipeline):
        return [{"count": 100_000}]  # a large collection: looked up by _id, never one $in

    def find_one(self, query, projection=None):
        self.log.append(("read", self.name, query["_id"]))
        found = self.documents.get(query["_id"])
        return {key: found[key] for key in ("_id", *(projection or found))} if found else None


class Lookups:
    """The look-up threads: runs nothing until a result is waited for, and logs each submission."""

    def __init__(self, log: list):
        self.log = log

    def submit(self, call, *args):
        self.log.append(("submitted", args[0]["_id"]))
        future = Future()
        future.result = lambda timeout=None: call(*args)
        return future


@pytest.fixture
def log(monkeypatch):
    log = []
    monkeypatch.setattr(docstore, "_lookups", lambda: Lookups(log))
    return log


def test_get_many_on_ferretdb_looks_each_id_up_once_side_by_side_and_keeps_only_what_exists(log):
    alerts = docstore.Collection(Raw("alerts", {"a": {"_id": "a", "n": 1}, "b": {"_id": "b", "n": 2}}, log), "ferretdb")
    found = alerts.get_many(["b", "x", "a", "b"], {"n": 1})
    assert found == {"b": {"_id": "b", "n": 2}, "a": {"_id": "a", "n": 1}}
    assert log[:3] == [("submitted", doc_id) for doc_id in ("b", "x", "a")]
    assert sorted(log[3:]) == [("read", "alerts", doc_id) for doc_id in ("a", "b", "x")]


def test_get_many_of_nothing_asks_nothing(log):
    alerts = docstore.Collection(Raw("alerts", {}, log), "ferretdb")
    assert alerts.get_many([]) == {} and log == []
