"""Real time: ``GET /api/v1/stream``, Server-Sent Events filtered per user, resumable."""

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import timedelta

from flask import Flask, Response, current_app, g, request
from pymongo.errors import PyMongoError

from casewire import events
from casewire.access_rules import states_purpose
from casewire.errors import CasewireError, Unavailable
from gateway.errors import Problem
from gateway.guards import context, guarded
from gateway.limits import SharedSeats, shared_database
from gateway.openapi import Blueprint
from gateway.rpc import Rpc
from gateway.stream import LruCache, StreamRelay
from gateway.visibility import Lookup, Visibility

blp = Blueprint("stream", __name__, url_prefix="/api/v1/stream", description="Events as they happen (SSE).")

OVERLAP = 20  # re-read this many sequence numbers back: replicas may store neighbours out of order
RETRY_MS = 3000
BATCH = 200


def init_app(app: Flask) -> None:
    """Start this process's relay (config ``STREAM_ENABLED``) and bound its concurrent streams."""
    if str(app.config.get("STREAM_ENABLED", "true")).lower() in ("1", "true", "yes"):
        relay = StreamRelay(app.config)
        relay.start()
        app.extensions["stream"] = relay
        app.extensions["stream_slots"] = threading.BoundedSemaphore(int(app.config.get("STREAM_MAX_CLIENTS", 8)))
        lifetime = timedelta(seconds=float(app.config.get("STREAM_MAX_SECONDS", 300)) + 60)
        seats = SharedSeats(
            shared_database(app)["stream_seats"], int(app.config.get("STREAM_MAX_PER_USER", 3)), lifetime
        )
        app.extensions["stream_seats"] = seats
        try:
            seats.ensure_indexes()
        except PyMongoError:  # the database is down at start: the index comes with the next start
            app.logger.warning("could not create the stream seats' index")


@blp.route("")
@blp.response(
    200,
    {"type": "string", "description": "frames of `id`, `event` and one line of JSON `data` (docs/api.md)"},
    content_type="text/event-stream",
    description="`text/event-stream`: `id`, `event` and one line of JSON `data` per event.",
)
@guarded("stream.read", record_type="stream", purpose_required="intelligence")
def stream() -> Response:
    """Alerts, links and case changes as they happen, filtered to what you may see; resume with `Last-Event-ID`."""
    relay: StreamRelay | None = current_app.extensions.get("stream")
    if relay is None:
        raise Problem(503, "Service Unavailable", "the stream is not enabled on this gateway")
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if raw is not None and not raw.isdigit():
        raise Problem(400, "Bad Request", "Last-Event-ID must be an id this stream sent")
    config = current_app.config
    view = Visibility(g.identity, *_lookups(relay, current_app.extensions["rpc"]), purpose=states_purpose(context()))
    frames = _frames(
        relay,
        view.view,
        int(raw) if raw is not None else None,
        float(config.get("STREAM_KEEPALIVE_SECONDS", 10)),
        float(config.get("STREAM_MAX_SECONDS", 300)),
    )
    slots, seats = current_app.extensions["stream_slots"], current_app.extensions["stream_seats"]
    if not slots.acquire(blocking=False):
        raise Problem(503, "Service Unavailable", "too many open streams on this gateway", headers={"Retry-After": "5"})
    try:
        seat = seats.take(g.identity.sub)
    except PyMongoError as exc:
        slots.release()
        raise Problem(
            503, "Service Unavailable", "the stream's store does not answer", headers={"Retry-After": "5"}
        ) from exc
    if seat is None:
        slots.release()
        message = f"you have {seats.per_user} streams open already (across every gateway); close one"
        raise Problem(429, "Too Many Requests", message, headers={"Retry-After": "5"})
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    response = Response(frames, mimetype="text/event-stream", headers=headers)

    def close() -> None:
        slots.release()
        seats.give_back(seat)

    response.call_on_close(close)  # WSGI servers close every response, however it ended
    return response


def _frame(event_type: str, data: dict, seq: int | None = None) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {event_type}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _frames(
    relay: StreamRelay, view: Visibility, resume_from: int | None, keepalive: float, lifetime: float
) -> Iterator[str]:
    """The stream for one connection: the backlog after ``resume_from``, then live events, until ``lifetime``."""
    # The starting point is fixed before the first byte leaves: once a client sees the
    # connection open, every later event reaches it.
    floor = relay.store.head() if resume_from is None else resume_from
    oldest = relay.store.oldest() if resume_from is not None else None
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    if oldest is not None and resume_from < oldest - 1:
        yield _frame("stream_reset", {"last_event_id": resume_from, "oldest_kept": oldest})
    last, recent = floor, deque(maxlen=OVERLAP * 10)
    deadline, quiet_since = time.monotonic() + lifetime, time.monotonic()
    while time.monotonic() < deadline:
        handled = relay.handled  # before the read: what arrives during it does not wait for the next
        rows = relay.store.after(max(floor, last - OVERLAP), BATCH)
        for row in rows:
            if row["_id"] in recent:
                continue
            recent.append(row["_id"])
            last = max(last, row["_id"])
            data = view(row["type"], row["payload"])
            if data is not None:
                yield _frame(row["type"], data, row["_id"])
                quiet_since = time.monotonic()
        if time.monotonic() - quiet_since >= keepalive:
            yield ": keepalive\n\n"
            quiet_since = time.monotonic()
        if len(rows) < BATCH:
            relay.wait(handled, 1.0)


ACCESS_FIELDS = ("unit", "agency", "assignees", "classification", "sensitivity", "review_state", "submitting_unit")


def _lookups(relay: StreamRelay, rpc: Rpc) -> tuple[Lookup, Lookup]:
    """Who may see a case or an alert: this process's cache, then the stored events, then the owning service."""

    def case_access(case_id: str) -> dict | None:
        return _cached(relay.cases, case_id, events.CASE_UPDATED, lambda: rpc.call("cases", "get_case", case_id))

    def alert_access(alert_id: str) -> dict | None:
        return _cached(relay.alerts, alert_id, events.ALERT_RECEIVED, lambda: rpc.call("intake", "get_alert", alert_id))

    def _cached(cache: LruCache, record_id: str, event_type: str, fetch: Callable[[], dict]) -> dict | None:
        found = cache.get(record_id)
        if found is None:
            stored = relay.store.latest_about(record_id, event_type)
            try:
                record = stored["payload"] if stored else fetch()
            except (CasewireError, Unavailable):  # unknown or unreachable: not shown (fail closed)
                return None
            found = {key: record.get(key) for key in ACCESS_FIELDS}
            cache.put(record_id, found)
        return found

    return case_access, alert_access
