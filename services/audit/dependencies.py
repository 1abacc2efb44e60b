"""The audit service's backends: the log in MongoDB (append-only by construction) and the signing key.

:class:`AuditStore` has no update or delete method; it only inserts. The one deletion path in the
service is :class:`services.audit.retention.RetiredSegments`, which removes a segment only after it
was archived, the archive read back and verified, and a signed anchor stored (C24).

Total order with several audit consumers: there is a single chain, and the unique index on ``seq``
(``_id`` is the zero-padded ``seq``) is the arbiter. A writer chains a batch in memory from the
head it knows and inserts it in ``seq`` order (``ordered``: the insert stops at the first
failure); when another writer already holds a ``seq``, the insert fails there, the writer finds the
new head and re-chains the rest. A seq is only ever inserted after its predecessor exists, so the
stored seqs are contiguous and the head is found with a few ``_id`` look-ups, starting from a
one-document *head hint* that writers move forward after each batch (a cache outside the log,
checked against the stored event before use). ``event_id`` is unique too: a redelivered event is
appended once.

Each insert carries at most :data:`casewire.docstore.INSERT_CHUNK` events: a server that splits an
ordered insert into chunks may stop only the chunk where a ``seq`` was taken and go on with the next
ones, which would store events chained to predecessors that never were.
"""

import base64
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from casewire.audit import SYSTEM_ACTOR
from casewire.docstore import INSERT_CHUNK
from services.audit.chain import GENESIS, link
from services.audit.checkpoints import KEY_ID, SIGNATURE, CheckpointFile, Verifier, signed_part

MAX_ROUNDS = 10_000
CHECKPOINT_KEY = "AUDIT_CHECKPOINT_KEY"
CHECKPOINT_FILE = "AUDIT_CHECKPOINT_FILE"
ARCHIVE_DIR = "AUDIT_ARCHIVE_DIR"
DEV_MODE = "DEV_MODE"
# The development key is derived from this public text: anyone can sign with it, so it is used only
# in development mode (CASEWIRE_DEV_MODE=1) and refused everywhere else.
DEVELOPMENT_SEED = b"casewire development audit checkpoint key: public, development mode only"
log = logging.getLogger(__name__)


def key(seq: int) -> str:
    """The ``_id`` of the event at ``seq``: zero-padded, so text order is chain order."""
    return f"{seq:015d}"


FILTERS = {
    "actor": "actor.id",
    "agency": "actor.agency",
    "record_id": "record_ids",
    "record_type": "record_type",
    "action": "action",
    "outcome": "outcome",
    "service": "service",
    "request_id": "request_id",
}


def query(filters: dict, after_seq: int = 0) -> dict:
    """The MongoDB filter for auditor ``filters``: exact fields, ``since``/``until`` (UTC datetimes
    on ``at``, until exclusive) and ``through_seq`` (an export's fixed end)."""
    found = {FILTERS[name]: value for name, value in filters.items() if name in FILTERS and value is not None}
    if filters.get("actions"):  # any of these actions (the compliance report's reads)
        found["action"] = {"$in": list(filters["actions"])}
    if filters.get("purpose_missing"):  # events that stated no purpose (C9, C27)
        found["purpose"] = None
    if filters.get("agencies") is not None:  # an auditor's scope: its agencies' people and records
        agencies = list(filters["agencies"])
        people = {"actor.agency": {"$in": agencies}, "actor.id": {"$ne": SYSTEM_ACTOR["id"]}}
        records = {"details.record_agency": {"$in": agencies, "$exists": True}}
        found["$or"] = [people, records]
    if filters.get("since") or filters.get("until"):
        found["at"] = {}
        if filters.get("since"):
            found["at"]["$gte"] = filters["since"]
        if filters.get("until"):
            found["at"]["$lt"] = filters["until"]
    ids = {"$gt": key(after_seq)}
    if filters.get("through_seq") is not None:
        ids["$lte"] = key(filters["through_seq"])
    found["_id"] = ids
    return found


class AuditStore:
    """The ``events``, ``checkpoints`` and ``anchors`` collections; inserts and reads only."""

    def __init__(self, database: Database):
        self.events = database["events"]
        self.checkpoints = database["checkpoints"]
        self.anchors = database["anchors"]
        self.hint = database["chain_head"]  # one document caching the head; checked before any use
        self._head: tuple[int, str] | None = None
        self.conflicts = 0  # how often another writer took a seq first (a figure for tests and benches)

    def ensure_indexes(self) -> None:
        self.events.create_index([("seq", ASCENDING)], unique=True, name="seq")
        self.events.create_index([("event_id", ASCENDING)], unique=True, name="event_id")
        self.events.create_index([("at", ASCENDING)], name="at")
        self.events.create_index([("record_ids", ASCENDING), ("seq", ASCENDING)], name="record")
        self.events.create_index([("actor.id", ASCENDING), ("seq", ASCENDING)], name="actor")
        self.events.create_index([("action", ASCENDING), ("seq", ASCENDING)], name="action")

    # -- appending ---------------------------------------------------------------------------

    def append(self, events: list[dict]) -> list[dict]:
        """Chain and store ``events`` in order; return those stored (known ``event_id``\\ s are skipped)."""
        pending, stored = list(events), []
        anchor = self.last_anchor()
        if self._head is not None and anchor is not None and self._head[0] < anchor["seq_to"]:
            self._head = None  # archived and deleted since this process last wrote: never write there
        seq, prev_hash = self._head or self.head()
        for _ in range(MAX_ROUNDS):
            if not pending:
                self._head = (seq, prev_hash)
                if stored:
                    self._advance_hint(seq, prev_hash)
                return stored
            chained = []
            for event in pending[:INSERT_CHUNK]:
                chained.append(link(event, seq + len(chained) + 1, chained[-1]["hash"] if chained else prev_hash))
            try:
                self.events.insert_many([{**e, "_id": key(e["seq"])} for e in chained], ordered=True)
            except BulkWriteError as exc:
                error = exc.details["writeErrors"][0]
                if error.get("code") != 11000:
                    raise
                done = error["index"]
                stored += chained[:done]
                if done:
                    seq, prev_hash = chained[done - 1]["seq"], chained[done - 1]["hash"]
                pending = pending[done:]
                seq, prev_hash, is_stored = self._after_conflict(chained[done], seq, prev_hash)
                if is_stored:
                    pending = pending[1:]
                continue
            stored += chained
            seq, prev_hash, pending = chained[-1]["seq"], chained[-1]["hash"], pending[len(chained) :]
        raise RuntimeError("could not claim places in the audit chain")

    def _after_conflict(self, refused: dict, seq: int, prev_hash: str) -> tuple[int, str, bool]:
        """Why ``refused`` was refused: its ``seq`` is taken (find the new head) or it is stored already."""
        occupant = self.event_at(refused["seq"])
        if occupant is None:  # nobody holds that seq: its event_id is already in the chain
            return seq, prev_hash, True
        if occupant["event_id"] == refused["event_id"]:  # another consumer appended this very event
            return occupant["seq"], occupant["hash"], True
        self.conflicts += 1
        seq, prev_hash = self._probe(*max((occupant["seq"], occupant["hash"]), self._hinted() or (0, GENESIS)))
        return seq, prev_hash, False

    def head(self) -> tuple[int, str]:
        """The chain's newest ``(seq, hash)``: probed from the best known start (this process's last
        head, the head hint, the last archive anchor or the genesis)."""
        known = [start for start in (self._head, self._hinted()) if start is not None]
        if not known:
            anchor = self.last_anchor()
            known = [(anchor["seq_to"], anchor["hash"]) if anchor else (0, GENESIS)]
        self._head = self._probe(*max(known))
        return self._head

    def _hinted(self) -> tuple[int, str] | None:
        """The head hint, if the event it names is stored with that hash (never trusted unchecked)."""
        hint = self.hint.find_one({"_id": "head"})
        if hint is None:
            return None
        event = self.event_at(hint["seq"])
        return (hint["seq"], hint["hash"]) if event is not None and event["hash"] == hint["hash"] else None

    def _advance_hint(self, seq: int, head_hash: str) -> None:
        """Move the hint forward (never back): it spares other writers a search for the head.

        It is a cache, not part of the log: a wrong hint is ignored (see :meth:`_hinted`)."""
        try:
            self.hint.update_one(
                {"_id": "head", "seq": {"$lt": seq}}, {"$set": {"seq": seq, "hash": head_hash}}, upsert=True
            )
        except DuplicateKeyError:
            pass  # the hint is already at a newer head

    def _probe(self, seq: int, prev_hash: str) -> tuple[int, str]:
        """The highest stored seq above ``seq`` (which exists, or is the start): gallop, then bisect."""
        step, missing = 1, None
        while missing is None:
            event = self.event_at(seq + step)
            if event is None:
                missing = seq + step
            else:
                seq, prev_hash, step = event["seq"], event["hash"], step * 2
        while missing - seq > 1:
            middle = (seq + missing) // 2
            event = self.event_at(middle)
            if event is None:
                missing = middle
            else:
                seq, prev_hash = event["seq"], event["hash"]
        return seq, prev_hash

    # -- reading -----------------------------------------------------------------------------

    def event_at(self, seq: int) -> dict | None:
        return self.events.find_one({"_id": key(seq)}, {"_id": 0})

    def find(self, filters: dict, after_seq: int, limit: int) -> list[dict]:
        """Events matching ``filters`` (see :func:`query`) after ``after_seq``, in chain order."""
        cursor = self.events.find(query(filters, after_seq), {"_id": 0}).sort([("_id", ASCENDING)])
        return list(cursor.limit(limit))

    def count(self, filters: dict) -> int:
        return self.events.count_documents(query(filters))

    def in_order(self, after_seq: int = 0, through_seq: int | None = None, batch_size: int = 2000) -> Iterator[dict]:
        """Every stored event after ``after_seq`` (up to ``through_seq``), in chain order."""
        bounds = {"$gt": key(after_seq)}
        if through_seq is not None:
            bounds["$lte"] = key(through_seq)
        return self.events.find({"_id": bounds}, {"_id": 0}).sort([("_id", ASCENDING)]).batch_size(batch_size)

    def first_retained(self, after_seq: int, query: dict) -> int | None:
        """The seq of the first event after ``after_seq`` that matches ``query`` (still retained)."""
        event = self.events.find_one({**query, "_id": {"$gt": key(after_seq)}}, {"seq": 1}, sort=[("_id", ASCENDING)])
        return event["seq"] if event else None

    # -- checkpoints and archive anchors ---------------------------------------------------------

    def add_checkpoint(self, checkpoint: dict) -> bool:
        """Store a signed checkpoint; False when another audit container stored that number first."""
        try:
            self.checkpoints.insert_one({"_id": key(checkpoint["number"]), **checkpoint})
        except DuplicateKeyError:
            return False
        return True

    def last_checkpoint(self) -> dict | None:
        return self.checkpoints.find_one({}, {"_id": 0}, sort=[("_id", DESCENDING)])

    def all_checkpoints(self, from_seq: int = 0, through_seq: int | None = None) -> list[dict]:
        checkpoints = self.checkpoints.find({}, {"_id": 0}).sort([("_id", ASCENDING)])
        bound = float("inf") if through_seq is None else through_seq
        return [checkpoint for checkpoint in checkpoints if from_seq <= checkpoint["seq"] <= bound]

    def add_anchor(self, anchor: dict) -> bool:
        """Store an archive anchor; False when another container anchored a segment from that seq."""
        try:
            self.anchors.insert_one({"_id": key(anchor["seq_from"]), **anchor})
        except DuplicateKeyError:
            return False
        return True

    def all_anchors(self) -> list[dict]:
        return list(self.anchors.find({}, {"_id": 0}).sort([("_id", ASCENDING)]))

    def last_anchor(self) -> dict | None:
        return self.anchors.find_one({}, {"_id": 0}, sort=[("_id", DESCENDING)])

    def ping(self) -> bool:
        try:
            self.events.database.command("ping")
        except PyMongoError:
            return False
        return True


class KeyRefused(RuntimeError):
    """The audit service has no usable signing key: it does not start."""


def development_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(DEVELOPMENT_SEED).digest())


def private_key_from_pem(pem: str | bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyRefused(f"{CHECKPOINT_KEY} is not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyRefused(f"{CHECKPOINT_KEY} must be an Ed25519 private key (casewire audit keygen)")
    return key


def _on(value: object) -> bool:
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def signing_key(config: dict) -> Ed25519PrivateKey:
    """The key of ``AUDIT_CHECKPOINT_KEY`` (Ed25519, PEM). Without one, development mode signs with the
    public development key; anywhere else the service refuses to start, as it does on that key."""
    pem, development = str(config.get(CHECKPOINT_KEY) or "").strip(), _on(config.get(DEV_MODE))
    if not pem:
        if not development:
            raise KeyRefused(
                f"{CHECKPOINT_KEY} is not set: give the audit service its Ed25519 private key (PEM, from "
                "casewire audit keygen) or set CASEWIRE_DEV_MODE=1 on a development machine"
            )
        log.warning("audit checkpoints are signed with the public development key (development mode)")
        return development_key()
    key = private_key_from_pem(pem)
    if not development and Verifier(key.public_key()).key_id == Verifier(development_key().public_key()).key_id:
        raise KeyRefused(f"{CHECKPOINT_KEY} is the public development key: outside development mode use your own")
    return key


class Notary:
    """Signs checkpoints, archive seals and anchors with the Ed25519 key only the audit service holds,
    and keeps the checkpoint file (:class:`~services.audit.checkpoints.CheckpointFile`).

    The signature (``signature``, base64) covers the record's canonical JSON with ``key_id`` (which
    key signed it); the public key alone verifies it (:class:`~services.audit.checkpoints.Verifier`).
    """

    def __init__(self, private_key: Ed25519PrivateKey, checkpoints: CheckpointFile | None = None):
        self._private_key = private_key
        self.verifier = Verifier(private_key.public_key())
        self.checkpoints = checkpoints or CheckpointFile(None)

    def sign(self, record: dict) -> dict:
        body = {name: value for name, value in record.items() if name not in ("_id", SIGNATURE)}
        body[KEY_ID] = self.verifier.key_id
        return {**body, SIGNATURE: base64.b64encode(self._private_key.sign(signed_part(body))).decode()}

    def authentic(self, record: dict) -> bool:
        return self.verifier.authentic(record)

    def public_pem(self) -> bytes:
        return self.verifier.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def checkpoint_path(config: dict) -> Path:
    """``AUDIT_CHECKPOINT_FILE``; by default ``checkpoints-<database>.jsonl`` beside the archive
    (``AUDIT_ARCHIVE_DIR``): one file per audit log."""
    given = str(config.get(CHECKPOINT_FILE) or "").strip()
    if given:
        return Path(given)
    database = config.get("MONGODB_DATABASE") or "casewire_audit"
    return Path(config.get(ARCHIVE_DIR) or "audit-archive") / f"checkpoints-{database}.jsonl"


class CheckpointKey(DependencyProvider):
    """Gives workers the :class:`Notary` of ``AUDIT_CHECKPOINT_KEY`` (config, a secret) and the checkpoint
    file; refuses to start without a key of its own outside development mode (:func:`signing_key`)."""

    def setup(self) -> None:
        config = self.container.config
        self.notary = Notary(signing_key(config), CheckpointFile(checkpoint_path(config)))
        log.info("audit checkpoints: key %s, file %s", self.notary.verifier.key_id, checkpoint_path(config))

    def get_dependency(self, worker_ctx: WorkerContext) -> "Notary":
        return self.notary
