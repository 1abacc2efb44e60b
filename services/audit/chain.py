"""The hash chain: each event's hash covers its canonical JSON and the previous event's hash.

Canonical JSON is the event without ``hash``, keys sorted, no whitespace, UTF-8. Changing,
removing or reordering any stored event breaks every hash after it (COMPLIANCE C22).
"""

import hashlib
import json

GENESIS = "0" * 64


def canonical(event: dict) -> bytes:
    body = {key: value for key, value in event.items() if key not in ("hash", "_id")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def link(event: dict, seq: int, prev_hash: str) -> dict:
    """``event`` with its place in the chain: ``seq``, ``prev_hash`` and its own ``hash``."""
    chained = {**event, "seq": seq, "prev_hash": prev_hash}
    chained["hash"] = hashlib.sha256(canonical(chained)).hexdigest()
    return chained


def verify(events) -> dict:
    """Walk events in ``seq`` order; name the first one that was altered, removed or reordered."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for event in events:
        if event.get("seq") != expected_seq or event.get("prev_hash") != prev_hash:
            return {"ok": False, "checked": checked, "first_bad_seq": expected_seq}
        if hashlib.sha256(canonical(event)).hexdigest() != event.get("hash"):
            return {"ok": False, "checked": checked, "first_bad_seq": event["seq"]}
        prev_hash, expected_seq, checked = event["hash"], expected_seq + 1, checked + 1
    return {"ok": True, "checked": checked}
