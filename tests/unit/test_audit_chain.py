"""C22: the hash chain finds the first altered, removed or reordered event."""

from services.audit.chain import GENESIS, link, verify


def _chain(n):
    events, prev = [], GENESIS
    for i in range(1, n + 1):
        event = link({"event_id": f"e{i}", "action": "alert.read", "actor": {"id": "alice"}}, i, prev)
        events.append(event)
        prev = event["hash"]
    return events


def test_C22_intact_chain_verifies():
    assert verify(_chain(5)) == {"ok": True, "checked": 5}


def test_C22_altered_event_is_named():
    events = _chain(5)
    events[2] = {**events[2], "action": "alert.delete"}
    assert verify(events) == {"ok": False, "checked": 2, "first_bad_seq": 3}


def test_C22_removed_event_is_named():
    events = _chain(5)
    del events[1]
    assert verify(events)["first_bad_seq"] == 2


def test_C22_reordered_events_are_named():
    events = _chain(5)
    events[1], events[2] = events[2], events[1]
    assert verify(events)["first_bad_seq"] == 2
