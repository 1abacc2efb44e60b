"""The document-store adapter: plain MongoDB semantics for the stores, whichever server answers.

Stores open their collections through :func:`open_collections` and call a few operations that a
server may have to carry out differently:

- :meth:`Collection.get_many`: documents by ``_id``, one query for many ids;
- :meth:`Collection.insert_new`: an unordered insert that reports which documents existed already;
- :meth:`Collection.update_atomic` and :meth:`Collection.delete_atomic`: one conditional
  single-document write that no concurrent write to that document interleaves with.

On MongoDB each is the obvious single command. FerretDB 1.24 (the local stand-in of the tests and
the development run) differs in two ways, and this module is the only place that knows: it answers a
``$in`` by decoding every document of the collection (so ``get_many`` asks a large collection by
equality, a few ids at a time side by side, and a small one with one ``$in``),
and it applies an update or a delete as a read followed by a later write of the whole document (so
a conditional write holds a lock: a document of its own in ``<collection>_locks``, taken by inserting
it, given back by deleting it, taken over once its holder has been gone for ``STALE_SECONDS``).

The flavor is configuration (``DOCUMENT_STORE``: ``mongodb``, ``ferretdb`` or ``auto``, which asks the
server's ``buildInfo``). Everything else a store does is plain pymongo on the wrapped collection.
"""

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pymongo.collection
from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from casewire.clock import utcnow
from casewire.errors import Unavailable

DOCUMENT_STORE_KEY = "DOCUMENT_STORE"
MONGODB, FERRETDB, AUTO = "mongodb", "ferretdb", "auto"
DUPLICATE_KEY = 11000
NAMESPACE_NOT_FOUND = 26
INSERT_CHUNK = 100  # FerretDB's own insert batch: an ordered insert of more may go on past a failure
# FerretDB redoes an insert that meets a stored document one document per transaction, each costing
# about what a clean insert of ten does (docs/benchmarks.md). A collection whose inserts meet stored
# documents at a rate p is written in chunks of about 1/sqrt(p), which minimises that cost, but never
# smaller than this; the rate is followed per collection as a moving average of what inserts meet.
MIN_INSERT_CHUNK = 2
REFUSAL_WEIGHT = 0.2
STALE_SECONDS = 30.0
LOCK_WAIT_SECONDS = 10.0
BEFORE, AFTER = ReturnDocument.BEFORE, ReturnDocument.AFTER

LOOKUPS_AT_ONCE = 8  # concurrent look-ups by _id: each waits mostly on the server
# FerretDB reads and decodes a whole collection to answer a ``$in``, while a look-up by ``_id`` is an
# index read of one document: both cost CPU, which the other services need under load. Below this many
# documents per wanted id, one ``$in`` costs less CPU than the look-ups (docs/benchmarks.md).
SCAN_PER_LOOKUP = 10
SIZE_SECONDS = 30.0
_flavors: dict[tuple, str] = {}
_pool: ThreadPoolExecutor | None = None


def _lookups() -> ThreadPoolExecutor:
    """The threads (green threads under eventlet) that run look-ups by ``_id`` side by side."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(LOOKUPS_AT_ONCE, thread_name_prefix="docstore")
    return _pool


def flavor_of(database: Database, configured: str | None = None) -> str:
    """``mongodb`` or ``ferretdb``: as configured, else as the server describes itself (cached per server)."""
    configured = (configured or AUTO).lower()
    if configured not in (MONGODB, FERRETDB, AUTO):
        raise ValueError(f"{DOCUMENT_STORE_KEY} must be mongodb, ferretdb or auto, not {configured!r}")
    client = database.client
    address = tuple(sorted(str(host) for host in client.topology_description.server_descriptions()))
    if configured != AUTO:
        _flavors[address] = configured
    if address not in _flavors:
        info = client.admin.command("buildInfo")
        _flavors[address] = FERRETDB if "ferretdbVersion" in info else MONGODB
    return _flavors[address]


class Collection:
    """A pymongo collection (every pymongo method passes through) plus the adapter's operations."""

    def __init__(self, collection: pymongo.collection.Collection, flavor: str):
        self.raw, self.flavor = collection, flavor
        self._locks = collection.database[f"{collection.name}_locks"] if flavor == FERRETDB else None
        self._sized, self._sized_at = 0, float("-inf")
        self._refusals = 0.0  # the moving share of inserted documents that met a stored one

    def __getattr__(self, name: str) -> Any:  # whatever pymongo's collection holds
        return getattr(self.raw, name)

    @property
    def name(self) -> str:
        return self.raw.name

    def get_many(self, ids: Iterable, projection: dict | None = None) -> dict:
        """``{id: document}`` for those of ``ids`` that exist."""
        return self.asking(ids, projection)()

    def asking(self, ids: Iterable, projection: dict | None = None) -> Callable[[], dict]:
        """:meth:`get_many` started now and answered by the function returned: the look-ups of several
        collections started before any is waited for share the look-up threads."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return lambda: {}
        if self.flavor == FERRETDB and self._size() > SCAN_PER_LOOKUP * len(wanted):
            pending = [_lookups().submit(self.raw.find_one, {"_id": doc_id}, projection) for doc_id in wanted]
            return lambda: {doc["_id"]: doc for doc in (future.result() for future in pending) if doc is not None}
        return lambda: {doc["_id"]: doc for doc in self.raw.find({"_id": {"$in": wanted}}, projection)}

    def _size(self) -> int:
        """About how many documents the collection holds (asked at most every :data:`SIZE_SECONDS`)."""
        now = time.monotonic()
        if now - self._sized_at > SIZE_SECONDS:
            # The server's statistics lag a table that grows fast: never less than this process saw
            # inserted, so a stale count never makes a whole large collection be read for a few ids.
            self._sized, self._sized_at = max(self._statistics(), self._sized), now
        return self._sized

    def estimated_count(self) -> int:
        """About how many documents the collection holds, from the server's statistics: FerretDB answers
        ``estimated_document_count`` by reading every document, ``$collStats`` from its table's."""
        count = self._statistics()
        # A table the server has not analysed yet has no statistics (-1): count it, it is a new one.
        return count if count >= 0 else self.raw.estimated_document_count()

    def _statistics(self) -> int:
        """The server's count of the collection's documents; -1 when it has none yet."""
        try:
            found = list(self.raw.aggregate([{"$collStats": {"count": {}}}]))
        except OperationFailure as exc:
            if exc.code == NAMESPACE_NOT_FOUND:  # no collection yet: nothing in it
                return 0
            raise
        return int(found[0].get("count", 0)) if found else 0

    def insert_new(self, documents: list[dict]) -> set[int]:
        """Insert ``documents`` unordered; the positions of those whose ``_id`` (or another unique key)
        was taken. Any other failure raises (pymongo's own error)."""
        refused: set[int] = set()
        step = self._insert_chunk() if self.flavor == FERRETDB else max(len(documents), 1)
        for start in range(0, len(documents), step):
            try:
                self.raw.insert_many(documents[start : start + step], ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(error.get("code") != DUPLICATE_KEY for error in errors):
                    raise
                refused.update(start + error["index"] for error in errors)
        self._sized += len(documents) - len(refused)
        if documents:
            share = len(refused) / len(documents)
            self._refusals += REFUSAL_WEIGHT * (share - self._refusals)
        return refused

    def _insert_chunk(self) -> int:
        """How many documents one insert carries on FerretDB (:data:`MIN_INSERT_CHUNK`)."""
        if self._refusals <= 1 / INSERT_CHUNK**2:
            return INSERT_CHUNK
        return max(MIN_INSERT_CHUNK, min(INSERT_CHUNK, round(self._refusals**-0.5)))

    def update_atomic(
        self, query: dict, update: dict, return_document: bool = AFTER, upsert: bool = False
    ) -> dict | None:
        """``find_one_and_update`` on the one document ``query["_id"]`` names, never interleaved with
        another atomic write to it."""
        with self._held(query["_id"]):
            return self.raw.find_one_and_update(query, update, return_document=return_document, upsert=upsert)

    def delete_atomic(self, query: dict) -> dict | None:
        """Delete the document ``query["_id"]`` names if it still matches ``query``; the deleted document."""
        with self._held(query["_id"]):
            return self.raw.find_one_and_delete(query)

    @contextmanager
    def held(self, *doc_ids: str) -> Iterator[None]:
        """Several documents kept from atomic writes of others for a block (a merge of two entities),
        taken in one order so two holders of a pair never wait on each other."""
        if self._locks is None or not doc_ids:
            yield
            return
        ordered = sorted(set(doc_ids))
        with self._held(ordered[0]):
            with self.held(*ordered[1:]):
                yield

    @contextmanager
    def _held(self, doc_id: str) -> Iterator[None]:
        if self._locks is None:
            yield
            return
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not self._take(doc_id, owner):
            if time.monotonic() > deadline:
                raise Unavailable(f"record {doc_id} is being changed by another request; try again")
            time.sleep(random.uniform(0.002, 0.02))  # green under eventlet
        try:
            yield
        finally:
            self._locks.delete_one({"_id": doc_id, "owner": owner})

    def _take(self, doc_id: str, owner: str) -> bool:
        try:
            self._locks.insert_one({"_id": doc_id, "owner": owner, "at": utcnow()})
        except DuplicateKeyError:
            held = self._locks.find_one({"_id": doc_id})
            if held is not None and held["at"] <= utcnow() - timedelta(seconds=STALE_SECONDS):
                self._locks.delete_one({"_id": doc_id, "owner": held["owner"]})  # its holder died holding it
            return False
        return True


def open_collections(database: Database, *names: str, flavor: str | None = None) -> list[Collection]:
    """The named collections of ``database``, wrapped for its server's flavor."""
    chosen = flavor_of(database, flavor)
    return [Collection(database[name], chosen) for name in names]


def apply_update(document: dict, update: dict) -> dict:
    """``document`` as a successful ``update`` of it leaves it (``$set``, ``$unset``, ``$inc``, ``$push``,
    ``$addToSet`` on top-level fields): what a caller holding the document before an atomic write
    knows of it after, without reading it again."""
    after = dict(document)
    for field, value in update.get("$set", {}).items():
        after[field] = value
    for field in update.get("$unset", {}):
        after.pop(field, None)
    for field, value in update.get("$inc", {}).items():
        after[field] = (after.get(field) or 0) + value
    for field, value in update.get("$push", {}).items():
        after[field] = [*(after.get(field) or []), *_each(value)]
    for field, value in update.get("$addToSet", {}).items():
        items = list(after.get(field) or [])
        for item in _each(value):
            if item not in items:
                items.append(item)
        after[field] = items
    unknown = set(update) - {"$set", "$unset", "$inc", "$push", "$addToSet"}
    if unknown or any("." in field for op in update.values() for field in op):
        raise ValueError(f"apply_update handles top-level $set/$unset/$inc/$push/$addToSet only: {update}")
    return after


def _each(value: object) -> list:
    """The items a ``$push`` or ``$addToSet`` adds: ``{"$each": [...]}`` or one value."""
    return list(value["$each"]) if isinstance(value, dict) and "$each" in value else [value]
