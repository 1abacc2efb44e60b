"""One writer at a time per document, for a server whose single-document updates are not atomic.

FerretDB 1.24 updates a document by reading it and later writing the whole of it back (README,
"FerretDB and MongoDB"): an analyst's assignment and the entity resolution stored a moment later
could each undo the other. A store whose documents have several writers takes a lock around each
write: a document of its own in the lock collection, taken by inserting it (the unique ``_id``
makes only one insert succeed, on FerretDB through a PostgreSQL unique index) and given back by
deleting it. A lock whose holder died is taken over once it is ``stale`` seconds old.

The same code runs on MongoDB, where the lock costs an insert and a delete per write and changes
nothing else.
"""

import random
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from casewire.clock import utcnow
from casewire.errors import Unavailable


class DocumentLocks:
    """Locks on the documents of one collection, kept in ``collection`` (e.g. ``alert_locks``)."""

    def __init__(self, collection, stale: float = 30.0, wait: float = 10.0):
        self.collection, self.stale, self.wait = collection, timedelta(seconds=stale), wait

    @contextmanager
    def held(self, doc_id: str) -> Iterator[None]:
        """Hold the lock on ``doc_id`` for the block; Unavailable (503) after ``wait`` seconds of waiting."""
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self.wait
        while not self._take(doc_id, owner):
            if time.monotonic() > deadline:
                raise Unavailable(f"record {doc_id} is being changed by another request; try again")
            time.sleep(random.uniform(0.002, 0.02))  # green under eventlet
        try:
            yield
        finally:
            self.collection.delete_one({"_id": doc_id, "owner": owner})

    @contextmanager
    def held_all(self, *doc_ids: str) -> Iterator[None]:
        """Hold the locks of several documents, taken in one order so two holders of a pair never
        wait on each other."""
        with ExitStack() as held:
            for doc_id in sorted(set(doc_ids)):
                held.enter_context(self.held(doc_id))
            yield

    def _take(self, doc_id: str, owner: str) -> bool:
        try:
            self.collection.insert_one({"_id": doc_id, "owner": owner, "at": utcnow()})
        except DuplicateKeyError:
            held = self.collection.find_one({"_id": doc_id})
            if held is not None and held["at"] <= utcnow() - self.stale:  # its holder died holding it
                self.collection.delete_one({"_id": doc_id, "owner": held["owner"]})
            return False
        return True
