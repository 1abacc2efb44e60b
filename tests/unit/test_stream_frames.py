"""One connection's frames: start at the head or resume after an id, late neighbours, reset, no repeats."""

import json
import threading

from gateway.api.stream import _frames
from gateway.stream import StreamRelay


class FakeStore:
    def __init__(self, rows=()):
        self.rows = {row["_id"]: row for row in rows}

    def add(self, seq, alert_id, agency="TX0000000"):
        self.rows[seq] = {"_id": seq, "type": "alert_received", "payload": {"alert_id": alert_id, "agency": agency}}

    def after(self, seq, limit):
        return [self.rows[key] for key in sorted(self.rows) if key > seq][:limit]

    def head(self):
        return max(self.rows, default=0)

    def oldest(self):
        return min(self.rows, default=None)


class FakeRelay:
    """``wait`` is where a live connection sleeps: the test adds rows there."""

    def __init__(self, store, arrivals=()):
        self.store, self.arrivals, self.handled = store, list(arrivals), 0

    def wait(self, since, timeout):
        if self.arrivals:
            self.arrivals.pop(0)()


def view(event_type, payload):
    return payload if payload.get("agency") == "TX0000000" else None


def sent(frames, count):
    """The (id, alert_id) of the first ``count`` event frames; comments and retry lines skipped."""
    out = []
    for frame in frames:
        if frame.startswith("id:") or frame.startswith("event:"):
            lines = dict(line.split(": ", 1) for line in frame.strip().split("\n"))
            out.append((lines.get("id"), lines["event"], json.loads(lines["data"])))
            if len(out) == count:
                return out
    return out


def test_a_new_connection_starts_at_the_head_and_gets_what_comes_next():
    store = FakeStore()
    store.add(1, "old")
    relay = FakeRelay(store, [lambda: store.add(2, "other-agency", "LA0000000"), lambda: store.add(3, "new")])
    frames = _frames(relay, view, None, keepalive=60, lifetime=60)
    assert next(frames).startswith("retry: 3000")
    assert [(seq, data["alert_id"]) for seq, _, data in sent(frames, 1)] == [("3", "new")]


def test_a_resume_replays_after_the_id_and_a_late_neighbour_is_not_lost():
    store = FakeStore()
    for seq in (1, 2, 3, 5):
        store.add(seq, f"a{seq}")
    relay = FakeRelay(store, [lambda: store.add(4, "late"), lambda: store.add(6, "a6")])
    frames = _frames(relay, view, 2, keepalive=60, lifetime=60)
    got = [(seq, data["alert_id"]) for seq, _, data in sent(frames, 4)]
    assert got == [("3", "a3"), ("5", "a5"), ("4", "late"), ("6", "a6")]


def test_a_resume_older_than_the_buffer_says_so():
    store = FakeStore()
    store.add(50, "a50")
    frames = _frames(FakeRelay(store), view, 10, keepalive=60, lifetime=60)
    (reset, first) = sent(frames, 2)
    assert reset == (None, "stream_reset", {"last_event_id": 10, "oldest_kept": 50})
    assert first[0] == "50"


def test_a_quiet_stream_sends_keepalives():
    frames = _frames(FakeRelay(FakeStore()), view, None, keepalive=0, lifetime=60)
    next(frames)
    assert next(frames) == ": keepalive\n\n"


def test_a_message_handled_while_a_connection_reads_wakes_it_at_once():
    """The relay handled a message after the connection noted ``handled`` and before it waited (it was
    reading the store): the wait returns at once instead of sleeping until the next message."""
    relay = StreamRelay.__new__(StreamRelay)  # the waiting alone: no broker, no store
    relay._changed, relay.handled = threading.Condition(), 0
    since = relay.handled
    with relay._changed:  # what _on_message does once a message is stored
        relay.handled += 1
        relay._changed.notify_all()
    woke = threading.Event()
    threading.Thread(target=lambda: (relay.wait(since, 60), woke.set()), daemon=True).start()
    assert woke.wait(10)
