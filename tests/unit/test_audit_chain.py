"""C22: the hash chain finds the first altered, removed or reordered event."""

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from services.audit.chain import GENESIS, iso, link, storable, to_millis, verify, verify_log
from services.audit.retention import Policy


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


def test_C22_a_time_hashes_the_same_as_a_datetime_and_as_its_canonical_text():
    at = to_millis(datetime(2026, 1, 5, 16, 14, 0, 123456, tzinfo=timezone(timedelta(hours=-6))))
    assert iso(at) == "2026-01-05T22:14:00.123Z"
    as_datetime = link({"event_id": "e1", "at": at}, 1, GENESIS)
    as_text = link({"event_id": "e1", "at": "2026-01-05T22:14:00.123Z"}, 1, GENESIS)
    assert as_datetime["hash"] == as_text["hash"]


def test_C22_unstorable_parts_are_escaped_deterministically():
    value = {"query": {"a.b": 1, "$where": "x", "50%": [float("nan"), 2**64, True]}}
    assert storable(value) == {"query": {"a%2Eb": 1, "%24where": "x", "50%25": ["nan", str(2**64), True]}}


class Signer:
    """A stand-in for the Notary: a record is authentic unless marked forged."""

    @staticmethod
    def authentic(record):
        return not record.get("forged")


def _log(n=6):
    events = _chain(n)
    checkpoints = [
        {"number": 1, "seq": 3, "hash": events[2]["hash"]},
        {"number": 2, "seq": 6, "hash": events[5]["hash"]},
    ]
    return events, checkpoints


def _after(events):
    return lambda seq: [event for event in events if event["seq"] > seq]


def test_C22_verify_log_resumes_after_the_archive_anchor():
    events, checkpoints = _log()
    anchor = {"seq_from": 1, "seq_to": 3, "prev_hash": GENESIS, "hash": events[2]["hash"]}
    result = verify_log([anchor], checkpoints, _after(events[3:]), Signer.authentic)
    assert result["ok"] is True and result["checked"] == 3 and result["archived"]["through_seq"] == 3


def test_C22_verify_log_refuses_an_anchor_that_does_not_continue_the_chain():
    events, checkpoints = _log()
    first = {"seq_from": 1, "seq_to": 2, "prev_hash": GENESIS, "hash": events[1]["hash"]}
    gap = {"seq_from": 4, "seq_to": 4, "prev_hash": events[2]["hash"], "hash": events[3]["hash"]}
    result = verify_log([first, gap], checkpoints, _after(events), Signer.authentic)
    assert result["ok"] is False and result["failed_anchor"]["seq_from"] == 4


def test_C22_verify_log_finds_a_forged_checkpoint_and_a_missing_one():
    events, checkpoints = _log()
    forged = [checkpoints[0], {**checkpoints[1], "forged": True}]
    assert verify_log([], forged, _after(events), Signer.authentic)["failed_checkpoint"]["number"] == 2
    missing = verify_log([], checkpoints[1:], _after(events), Signer.authentic)
    assert missing["failed_checkpoint"] == {"number": 1, "reason": "this checkpoint is missing"}


def test_C24_alpr_queries_are_kept_longer():
    policy = Policy(archive_dir=Path("/nonexistent"), alpr_actions=("search.plates", "alpr.*"))
    now = datetime(2027, 1, 1, tzinfo=UTC)
    general, alpr = policy.retained(now)["$or"]
    assert general["at"]["$gte"] == now - timedelta(days=365) and alpr["at"]["$gte"] == now - timedelta(days=730)
    pattern = re.compile(alpr["action"]["$regex"])
    assert pattern.match("search.plates") and pattern.match("alpr.query") and not pattern.match("search.platesx")
