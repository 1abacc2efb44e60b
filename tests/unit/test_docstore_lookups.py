"""The adapter's look-ups by ``_id`` on FerretDB: several collections' asked side by side.

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


def test_get_many_of_starts_every_collections_lookups_before_waiting_and_keeps_only_what_exists(log):
    alerts = docstore.Collection(Raw("alerts", {"a": {"_id": "a", "n": 1}, "b": {"_id": "b", "n": 2}}, log), "ferretdb")
    resolved = {"b": {"_id": "b", "entities": [1], "other": 0}}
    resolutions = docstore.Collection(Raw("resolutions", resolved, log), "ferretdb")
    found, entities = docstore.get_many_of(
        (alerts, ["b", "x", "a", "b"], None), (resolutions, ["a", "b"], {"entities": 1})
    )
    assert found == {"b": {"_id": "b", "n": 2}, "a": {"_id": "a", "n": 1}}
    assert entities == {"b": {"_id": "b", "entities": [1]}}
    assert log[:5] == [("submitted", doc_id) for doc_id in ("b", "x", "a", "a", "b")]
    reads = [("alerts", "a"), ("alerts", "b"), ("alerts", "x"), ("resolutions", "a"), ("resolutions", "b")]
    assert sorted(log[5:]) == [("read", *read) for read in reads]


def test_get_many_of_nothing_asks_nothing(log):
    alerts = docstore.Collection(Raw("alerts", {}, log), "ferretdb")
    assert docstore.get_many_of((alerts, [], None)) == [{}] and log == []
