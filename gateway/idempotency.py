"""``Idempotency-Key`` on every POST: a retry gets the first answer instead of doing the work twice.

A caller that may retry a POST (after a 503, a timeout or a lost answer) sends a key of its own choosing,
``Idempotency-Key: 7c0e...`` (1 to 200 visible ASCII characters), and sends it again with the retry:

- The key is scoped to the caller: two callers never share one (``_id`` = SHA-256 of the token subject
  and the key). The gateway keeps it, in its own database, for ``IDEMPOTENCY_HOURS`` (24).
- The first request with a key claims it (``idempotency_claims``: one document per key, inserted; the
  unique ``_id`` lets one request run per key) and its answer is kept (``idempotency_answers``: one
  document per key, inserted once: status, body, ``Content-Type`` and ``Location``, the request id).
- A retry with the same key and the same request (method, path, query and body) gets that answer again,
  marked ``Idempotency-Replayed: <the first request's id>``; nothing is done twice.
- The same key with a different request is **422** (the key names another request: use a new key).
- The same key while its first request is still running is **409** with ``Retry-After``.
- Answers of 500 and above are not kept (nothing was done, or the gateway cannot tell): the claim is given
  back so that a retry runs again. The services receive the key (``context()["idempotency_key"]``) and
  use it to make the work itself idempotent where a retry could double it (a case, a note, evidence);
  alerts already are, by their natural key.

Documents are only inserted and deleted, never read, changed and written back. Expired keys are deleted
by the gateway itself (every ``SWEEP_EVERY`` answers kept), so no TTL index is needed.
"""

import hashlib
import json
import logging
import re
import threading
from datetime import UTC, datetime, timedelta

from apispec import BasePlugin
from bson import Binary
from flask import Flask, Response, current_app, g, request
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from casewire.mongo import connect
from gateway.errors import Problem
from gateway.guards import guard_for

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
KEY = re.compile(r"[\x21-\x7e]{1,200}")
DEFAULT_HOURS = 24
SWEEP_EVERY = 100
KEPT_HEADERS = ("Content-Type", "Location")
log = logging.getLogger(__name__)


class KeyStore:
    """``idempotency_claims`` and ``idempotency_answers`` in the gateway's database."""

    def __init__(self, database: Database, lifetime: timedelta, claim_lifetime: timedelta):
        self.claims = database["idempotency_claims"]
        self.answers = database["idempotency_answers"]
        self.lifetime, self.claim_lifetime = lifetime, claim_lifetime
        self._kept, self._lock = 0, threading.Lock()

    def ensure_indexes(self) -> None:
        for collection in (self.claims, self.answers):
            collection.create_index([("expires_at", ASCENDING)], name="expiry")

    def answer(self, key_id: str, now: datetime) -> dict | None:
        return self.answers.find_one({"_id": key_id, "expires_at": {"$gt": now}})

    def claim(self, key_id: str, request_id: str, now: datetime) -> bool:
        """Take the key for this request; False while another request holds it. A claim older than
        ``claim_lifetime`` was left by a gateway that stopped mid-request and is taken over."""
        document = {"_id": key_id, "request_id": request_id, "at": now, "expires_at": now + self.lifetime}
        for _ in range(2):
            try:
                self.claims.insert_one(document)
                return True
            except DuplicateKeyError:
                held = self.claims.find_one({"_id": key_id})
                if held is None:
                    continue
                if held["at"] > now - self.claim_lifetime and held["expires_at"] > now:
                    return False
                self.claims.delete_one({"_id": key_id, "at": held["at"]})
        return False

    def release(self, key_id: str, request_id: str) -> None:
        self.claims.delete_one({"_id": key_id, "request_id": request_id})

    def keep(self, key_id: str, fingerprint: str, request_id: str, response: Response, now: datetime) -> None:
        self.answers.insert_one(
            {
                "_id": key_id,
                "fingerprint": fingerprint,
                "request_id": request_id,
                "status": response.status_code,
                "headers": {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers},
                "body": Binary(response.get_data()),
                "at": now,
                "expires_at": now + self.lifetime,
            }
        )
        self.release(key_id, request_id)
        with self._lock:
            self._kept += 1
            sweep = self._kept % SWEEP_EVERY == 0
        if sweep:
            for collection in (self.answers, self.claims):
                collection.delete_many({"expires_at": {"$lte": now}})


def key_id(subject: str, key: str) -> str:
    """The stored id of ``key`` as used by ``subject``: no caller can reach another's answers."""
    return hashlib.sha256(json.dumps([subject, key]).encode()).hexdigest()


def fingerprint() -> str:
    """What makes this request the one its key names: method, path, query and body."""
    body = hashlib.sha256(request.get_data(cache=True)).hexdigest()
    parts = [request.method, request.path, request.query_string.decode(), body]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _store() -> KeyStore:
    extension = current_app.extensions["idempotency"]
    if extension.store is None:
        with extension.lock:
            if extension.store is None:
                store = KeyStore(extension.database(), extension.lifetime, extension.claim_lifetime)
                store.ensure_indexes()
                extension.store = store
    return extension.store


def _replay(answer: dict) -> Response:
    response = Response(bytes(answer["body"]), status=answer["status"], headers=answer["headers"])
    response.headers[REPLAYED] = answer["request_id"]
    return response


def _now() -> datetime:
    return datetime.now(UTC)


def _before() -> Response | None:
    """After the access checks (the caller is known and allowed): replay, refuse, or claim the key."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or g.get("identity") is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if guard_for(view, request.method) is None:
        return None
    if not KEY.fullmatch(key):
        raise Problem(400, "Bad Request", f"{HEADER} is 1 to 200 visible ASCII characters", {HEADER: ["invalid"]})
    key_hash, printed, now = key_id(g.identity.sub, key), fingerprint(), _now()
    try:
        store = _store()
        answer = store.answer(key_hash, now)
        if answer is None and not store.claim(key_hash, g.request_id, now):
            answer = store.answer(key_hash, now)
            if answer is None:
                raise Problem(
                    409,
                    "Conflict",
                    f"a request with this {HEADER} is still being answered; retry later",
                    headers={"Retry-After": "5"},
                )
    except PyMongoError as exc:
        log.warning("idempotency keys unavailable: %s", exc, extra={"request_id": g.get("request_id")})
        raise Problem(503, "Service Unavailable", f"the {HEADER} cannot be honoured now; nothing was done") from exc
    if answer is not None:
        if answer["fingerprint"] != printed:
            raise Problem(
                422,
                "Unprocessable Entity",
                f"this {HEADER} was used for another request; a new request needs a new key",
                {HEADER: ["used for another request"]},
            )
        return _replay(answer)
    g.idempotency = (key_hash, printed)
    return None


def _after(response: Response) -> Response:
    claimed = g.pop("idempotency", None)
    if claimed is None:
        return response
    key_hash, printed = claimed
    store = current_app.extensions["idempotency"].store
    try:
        if response.status_code >= 500 or response.is_streamed:
            store.release(key_hash, g.request_id)
        else:
            store.keep(key_hash, printed, g.request_id, response, _now())
    except PyMongoError:
        log.exception("the answer to an %s could not be kept", HEADER, extra={"request_id": g.get("request_id")})
    return response


class Idempotency:
    """The Flask extension: where keys are kept and for how long (``app.extensions["idempotency"]``)."""

    def __init__(self, app: Flask | None = None):
        self.store: KeyStore | None = None
        self.lock = threading.Lock()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register after ``gateway.guards.init_app``: keys are looked at only for callers it let through."""
        config = app.config
        self.lifetime = timedelta(hours=float(config.get("IDEMPOTENCY_HOURS") or DEFAULT_HOURS))
        # A claim outlives the longest a request can run (its RPC calls), then counts as abandoned.
        self.claim_lifetime = timedelta(seconds=4 * float(config.get("RPC_TIMEOUT") or 30))
        self.database = lambda: connect(config["MONGODB_URI"]).get_database(config["GATEWAY_DATABASE"])
        app.extensions["idempotency"] = self
        app.before_request(_before)
        app.after_request(_after)


class IdempotencyDocs(BasePlugin):
    """apispec plugin: every guarded POST documents the header and its two refusals."""

    PARAMETER = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": "A key of your own for this request (kept 24 h, per caller): a retry with the same key "
        f"gets the first answer again (marked `{REPLAYED}`) and nothing is done twice.",
    }
    REFUSALS = {
        "409": f"The first request with this `{HEADER}` is still being answered; retry after `Retry-After`.",
        "422": f"This `{HEADER}` was used for another request (another body, path or query).",
    }

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs) -> None:
        post = (operations or {}).get("post")
        if post is None or "x-casewire-action" not in post:
            return
        post.setdefault("parameters", []).append(dict(self.PARAMETER))
        responses = post.setdefault("responses", {})
        for status, description in self.REFUSALS.items():
            known = responses.get(status) or responses.get(int(status))
            if known is None:
                responses[status] = {"description": description}
            elif isinstance(known, dict) and description not in known.get("description", ""):
                known["description"] = f"{known.get('description', '')} Or: {description}".strip()
