"""Abuse limits: request body size, batch size, a per-caller rate limit, and the CORS allow-list.

Configuration (``gateway/config.yaml``, each an environment variable of the same name):

- ``MAX_BODY_BYTES`` (8 MiB): a larger body is refused with 413 before it is read or the token checked.
- ``MAX_BATCH`` (1000): the most items a batch endpoint accepts; :func:`check_batch_size` refuses more
  with 413.
- ``RATE_LIMIT_PER_MINUTE`` (600; 0 turns it off): requests per minute per token subject, across every
  gateway replica: each allowed request leaves a mark in the gateway's MongoDB database
  (:class:`SharedRate`, ``rate_marks``), and a subject with a minute's worth of marks gets 429 with
  ``Retry-After`` until its oldest ages out. While that database does not answer, each process falls
  back to a token bucket of its own. ``RATE_LIMIT_STORE=memory`` keeps the buckets in each process only
  (one process; the test suite). Why not the ``limits`` library: docs/security.md, "Limits".
- ``LOGON_FAILURES_PER_MINUTE`` (30; 0 turns it off): refused tokens per minute per client address.
  Past it, a refused token gets 429 with ``Retry-After`` instead of 401, and only the first one over
  the limit is audited (``auth.token``, reason ``logon_rate_limit``), so a flood of forged tokens
  cannot fill the durable audit log. Valid tokens from that address still pass: many users may share
  one address (a station's NAT), and only the refusals count.
- ``CORS_ORIGINS`` (empty): comma-separated origins allowed to call the API from a browser; empty
  means no CORS headers at all. There is no wildcard unless an operator writes ``*``.
"""

import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, request
from flask_cors import CORS
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import PyMongoError

from casewire.mongo import connect
from gateway.errors import Problem

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 1000
DEFAULT_RATE_LIMIT_PER_MINUTE = 600
DEFAULT_LOGON_FAILURES_PER_MINUTE = 30
CORS_HEADERS = ["Authorization", "Content-Type", "X-Request-Id", "X-Purpose", "X-Case-Number", "Last-Event-ID"]
CORS_EXPOSED = ["X-Request-Id", "Retry-After", "Location"]


class TokenBucket:
    """``per_minute`` requests a minute per key, bursts up to ``per_minute``; thread-safe.

    ``take(key)`` answers 0 when the request may pass, else the seconds until it could.
    """

    MAX_KEYS = 50_000  # past this, buckets that have refilled completely are forgotten

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self.MAX_KEYS:
                self._forget_full(now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        for key, (tokens, then) in list(self._buckets.items()):
            if tokens + (now - then) * self.rate >= self.capacity:
                del self._buckets[key]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SharedRate:
    """``per_minute`` requests a minute per key, counted in one MongoDB collection every gateway replica
    shares: a sliding window of marks, one inserted per allowed request (each its own document, so
    replicas never write the same one). Two replicas counting at the same instant may each let one more
    through; no replica lets a key through its whole minute twice. ``take(key)`` answers as
    :meth:`TokenBucket.take`; while the database does not answer, ``fallback`` (this process's bucket) does.
    """

    WINDOW = timedelta(minutes=1)
    SWEEP_ODDS = 50  # about one allowed request in this many deletes the marks past the window

    def __init__(
        self, marks: Collection, per_minute: int, fallback: TokenBucket, clock: Callable[[], datetime] = _utcnow
    ):
        self.marks, self.capacity, self.fallback, self.clock = marks, per_minute, fallback, clock

    def ensure_indexes(self) -> None:
        self.marks.create_index([("key", ASCENDING), ("at", ASCENDING)], name="key_at")

    def take(self, key: str) -> float:
        now = self.clock()
        window = {"key": key, "at": {"$gt": now - self.WINDOW}}
        try:
            if self.marks.count_documents(window) >= self.capacity:
                oldest = self.marks.find_one(window, sort=[("at", ASCENDING)])
                return max(0.001, ((oldest["at"] if oldest else now) + self.WINDOW - now).total_seconds())
            self.marks.insert_one({"_id": uuid.uuid4().hex, "key": key, "at": now})
            if random.randrange(self.SWEEP_ODDS) == 0:
                self.marks.delete_many({"at": {"$lte": now - self.WINDOW}})
        except PyMongoError:
            log.warning("the shared rate limit is out of reach; this process counts on its own", exc_info=True)
            return self.fallback.take(key)
        return 0.0


class SharedSeats:
    """At most ``per_user`` open streams per user across every gateway replica: one document per open
    stream in ``stream_seats``, inserted when it opens and deleted when it closes; one its replica never
    closed (it died) stops counting at ``expires``, after the longest a stream lives."""

    SWEEP_ODDS = 20

    def __init__(self, seats: Collection, per_user: int, lifetime: timedelta, clock: Callable[[], datetime] = _utcnow):
        self.seats, self.per_user, self.lifetime, self.clock = seats, per_user, lifetime, clock

    def ensure_indexes(self) -> None:
        self.seats.create_index([("user", ASCENDING)], name="user")

    def take(self, user: str) -> str | None:
        """A seat for ``user``'s new stream, or None when it holds ``per_user`` already. Two replicas
        seating one user at once may both refuse (each counts the other); never both let it through."""
        now = self.clock()
        live = {"user": user, "expires": {"$gt": now}}
        if self.seats.count_documents(live) >= self.per_user:
            return None
        seat = uuid.uuid4().hex
        self.seats.insert_one({"_id": seat, "user": user, "expires": now + self.lifetime})
        if self.seats.count_documents(live) > self.per_user:
            self.give_back(seat)
            return None
        if random.randrange(self.SWEEP_ODDS) == 0:
            self.seats.delete_many({"expires": {"$lte": now}})
        return seat

    def give_back(self, seat: str) -> None:
        self.seats.delete_one({"_id": seat})


class FailedLogons:
    """Refused tokens per client address: a :class:`TokenBucket`, and which addresses are over it."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.bucket = TokenBucket(per_minute, clock)
        self._over: set[str] = set()
        self._lock = threading.Lock()

    def refused(self, address: str) -> tuple[float, bool]:
        """Count one refusal from ``address``: (seconds until it may try again, 0 while under the limit;
        True for the first refusal over the limit since it was last under it)."""
        wait = self.bucket.take(address)
        with self._lock:
            if wait <= 0:
                self._over.discard(address)
                return 0.0, False
            first = address not in self._over
            self._over.add(address)
            return wait, first


def check_failed_logon(address: str | None) -> tuple[Problem | None, bool]:
    """After a refused token from ``address``: a 429 problem when the address is over
    ``LOGON_FAILURES_PER_MINUTE`` (else None), and whether that refusal should still be audited."""
    limiter: FailedLogons | None = current_app.extensions.get("logon_limit")
    if limiter is None:
        return None, True
    wait, first = limiter.refused(address or "unknown")
    if wait <= 0:
        return None, True
    seconds = max(1, math.ceil(wait))
    problem = Problem(
        429,
        "Too Many Requests",
        f"too many refused tokens from this address; retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )
    return problem, first


def check_rate(key: str) -> None:
    """Raise a 429 problem with ``Retry-After`` when ``key`` (a token subject) is over its limit."""
    bucket: SharedRate | TokenBucket | None = current_app.extensions.get("rate_limit")
    wait = bucket.take(key) if bucket else 0.0
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise Problem(
            429,
            "Too Many Requests",
            f"more than {int(bucket.capacity)} requests a minute; retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


def max_batch() -> int:
    """The most items one batch request may carry (config ``MAX_BATCH``)."""
    return int(current_app.config.get("MAX_BATCH") or DEFAULT_MAX_BATCH)


def check_batch_size(items: list, field: str) -> None:
    """Refuse a batch larger than :func:`max_batch` with a 413 problem naming ``field``; nothing of it is stored.

    413 like an oversized body: the request is too large as a whole, not invalid item by item (those
    are the batch's per-item 422 results).
    """
    limit = max_batch()
    if len(items) > limit:
        raise Problem(
            413,
            "Content Too Large",
            f"a batch holds at most {limit} items; split it",
            {field: [f"at most {limit} items per request, got {len(items)}"]},
        )


def refuse_large_bodies() -> None:
    """413 before reading a body whose declared length is over ``MAX_CONTENT_LENGTH``.

    A chunked body without a length is cut by Werkzeug at the same limit when it is read.
    """
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length and request.content_length > limit:
        raise Problem(413, "Content Too Large", f"the request body is larger than {limit} bytes")


def shared_database(app: Flask) -> Database:
    """The gateway's own MongoDB database (``GATEWAY_DATABASE``), which every replica shares."""
    if "gateway_db" not in app.extensions:
        client = connect(app.config["MONGODB_URI"], server_selection_timeout_ms=1000)
        app.extensions["gateway_db"] = client.get_database(app.config["GATEWAY_DATABASE"])
    return app.extensions["gateway_db"]


def _rate_limit(app: Flask, per_minute: int) -> SharedRate | TokenBucket:
    bucket = TokenBucket(per_minute)
    if str(app.config.get("RATE_LIMIT_STORE", "mongodb")).lower() == "memory":
        return bucket
    shared = SharedRate(shared_database(app)["rate_marks"], per_minute, bucket)
    try:
        shared.ensure_indexes()
    except PyMongoError:  # the database is down at start: the indexes come with the next start
        log.warning("could not create the rate limit's indexes", exc_info=True)
    return shared


def init_app(app: Flask) -> None:
    app.config.setdefault("MAX_BATCH", DEFAULT_MAX_BATCH)
    per_minute = int(app.config.get("RATE_LIMIT_PER_MINUTE", DEFAULT_RATE_LIMIT_PER_MINUTE) or 0)
    app.extensions["rate_limit"] = _rate_limit(app, per_minute) if per_minute > 0 else None
    failures = int(app.config.get("LOGON_FAILURES_PER_MINUTE", DEFAULT_LOGON_FAILURES_PER_MINUTE) or 0)
    app.extensions["logon_limit"] = FailedLogons(failures) if failures > 0 else None
    app.before_request(refuse_large_bodies)
    origins = [origin.strip() for origin in str(app.config.get("CORS_ORIGINS") or "").split(",") if origin.strip()]
    if origins:
        CORS(
            app,
            origins=origins,
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            supports_credentials=False,
            max_age=600,
        )
