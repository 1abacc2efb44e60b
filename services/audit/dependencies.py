"""The audit service's backend: the ``events`` collection, append-only by construction.

:class:`AuditStore` has no update or delete method. Total order with several audit consumers:
every append claims the next ``seq`` through a unique index, so two writers can never both hold
the same place in the chain; the loser re-reads the head and retries. Each event's ``event_id``
is unique too, so a redelivered message is appended once.
"""

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError, PyMongoError

from services.audit.chain import GENESIS, link

MAX_ATTEMPTS = 50


class AuditStore:
    def __init__(self, database):
        self.events = database["events"]

    def ensure_indexes(self) -> None:
        self.events.create_index([("seq", ASCENDING)], unique=True, name="seq")
        self.events.create_index([("event_id", ASCENDING)], unique=True, name="event_id")
        self.events.create_index([("record_ids", ASCENDING), ("seq", ASCENDING)], name="record")
        self.events.create_index([("actor.id", ASCENDING), ("seq", ASCENDING)], name="actor")
        self.events.create_index([("action", ASCENDING), ("seq", ASCENDING)], name="action")

    def head(self) -> tuple[int, str]:
        last = self.events.find_one(sort=[("seq", DESCENDING)])
        return (last["seq"], last["hash"]) if last else (0, GENESIS)

    def append(self, event: dict) -> dict | None:
        """Chain and store ``event``; None when an event with its ``event_id`` is already stored."""
        if self.events.find_one({"event_id": event["event_id"]}, {"_id": 1}):
            return None
        for _ in range(MAX_ATTEMPTS):
            seq, prev_hash = self.head()
            chained = link(event, seq + 1, prev_hash)
            try:
                self.events.insert_one({"_id": chained["seq"], **chained})
                return chained
            except DuplicateKeyError as exc:
                if "event_id" in str(exc):
                    return None
        raise RuntimeError("could not claim a place in the audit chain")

    def find(self, query: dict, after_seq: int, limit: int) -> list[dict]:
        query = {**query, "seq": {"$gt": after_seq}}
        return list(self.events.find(query, {"_id": 0}).sort([("seq", ASCENDING)]).limit(limit))

    def all_in_order(self, batch_size: int = 1000):
        return self.events.find({}, {"_id": 0}).sort([("seq", ASCENDING)]).batch_size(batch_size)

    def ping(self) -> bool:
        try:
            self.events.database.command("ping")
        except PyMongoError:
            return False
        return True
