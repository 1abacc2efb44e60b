"""The hash chain: each event's hash covers its canonical JSON and the previous event's hash.

Canonical JSON is the event without ``hash`` and ``_id``, keys sorted, no whitespace, UTF-8, with
datetimes written as UTC ISO 8601 to the millisecond (``2026-01-05T22:14:00.000Z``), which is what
MongoDB stores, so an event read back hashes exactly as it did when it was appended. Changing,
removing or reordering any stored event breaks every hash after it (C22).
"""

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

GENESIS = "0" * 64
_INT64 = 2**63


def iso(value: datetime) -> str:
    """The canonical text of a time: UTC, milliseconds, ``Z``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def to_millis(value: datetime) -> datetime:
    """A UTC datetime with the precision MongoDB keeps (milliseconds)."""
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} has no canonical form")


def canonical_json(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_encode).encode()


def canonical(event: dict) -> bytes:
    return canonical_json({key: value for key, value in event.items() if key not in ("hash", "_id")})


def digest(event: dict) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def _storable_key(key: str) -> str:
    key = str(key).replace("%", "%25").replace(".", "%2E").replace("\x00", "%00")
    return "%24" + key[1:] if key.startswith("$") else key


def storable(value: object) -> object:
    """``value`` as the document store will store and return it unchanged.

    Free-form parts of an event (``details`` holds request query strings) may carry keys with ``.``
    or a leading ``$``, integers beyond 64 bits or NaN, which the database refuses. They are
    escaped deterministically *before* hashing, so one odd event can never block the audit queue.
    """
    if isinstance(value, dict):
        return {_storable_key(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | datetime):
        return value
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def link(event: dict, seq: int, prev_hash: str) -> dict:
    """``event`` with its place in the chain: ``seq``, ``prev_hash`` and its own ``hash``."""
    chained = {**event, "seq": seq, "prev_hash": prev_hash}
    chained["hash"] = digest(chained)
    return chained


def walk(
    events: Iterable[dict], start_seq: int = 0, start_hash: str = GENESIS, checkpoints: dict | None = None
) -> dict:
    """Walk events in ``seq`` order from ``start_seq`` (whose hash is ``start_hash``).

    Names the first event that was altered, removed or reordered (``first_bad_seq``) and the first
    checkpoint (a ``{seq: checkpoint}`` map) whose hash the stored chain no longer has.
    """
    checkpoints = checkpoints or {}
    expected_seq, prev_hash, checked, vouched = start_seq + 1, start_hash, 0, start_seq
    result: dict = {"ok": True}
    for event in events:
        intact = event.get("seq") == expected_seq and event.get("prev_hash") == prev_hash
        if not intact or digest(event) != event.get("hash"):
            result.update(ok=False, first_bad_seq=expected_seq)
            break
        checkpoint = checkpoints.get(expected_seq)
        if checkpoint is not None and "failed_checkpoint" not in result:
            if checkpoint["hash"] == event["hash"]:
                vouched = expected_seq
            else:
                failure = failed(checkpoint, "the stored chain no longer has this checkpoint's hash")
                result.update(ok=False, failed_checkpoint=failure, suspect_from_seq=vouched + 1)
        prev_hash, expected_seq, checked = event["hash"], expected_seq + 1, checked + 1
    result.update(checked=checked, head={"seq": expected_seq - 1, "hash": prev_hash})
    return result


def failed(record: dict, reason: str) -> dict:
    """How a checkpoint or an archive anchor failed, for the verify answer."""
    keys = ("number", "seq", "seq_from", "seq_to")
    return {**{key: record[key] for key in keys if key in record}, "reason": reason}


def verify(events: Iterable[dict]) -> dict:
    """Walk a whole chain from the genesis; the short answer of :func:`walk`."""
    result = walk(events)
    return {key: result[key] for key in ("ok", "checked", "first_bad_seq") if key in result}


def verify_log(
    anchors: list, checkpoints: list, events_after: Callable[[int], Iterable[dict]], authentic: Callable[[dict], bool]
) -> dict:
    """Verify the whole log: archive anchors, then checkpoints, then the stored chain (C22, C24).

    ``anchors`` (by ``seq_from``) stand for archived, deleted segments: the chain resumes after the
    last one, from its hash. ``checkpoints`` (by ``number``) are signed chain heads: each must be
    authentic, none may be missing, and the stored chain must still hold each one's hash at its
    ``seq``; so a rewrite of the whole collection with recomputed hashes, or the removal of its
    newest events, is found too. ``events_after(seq)`` iterates the stored events after ``seq``;
    ``authentic(record)`` checks a signature.
    """
    start_seq, start_hash = 0, GENESIS
    for anchor in anchors:
        reason = None
        if not authentic(anchor):
            reason = "its signature does not match"
        elif anchor["seq_from"] != start_seq + 1 or anchor["prev_hash"] != start_hash:
            reason = "it does not continue the chain of the archive before it"
        if reason:
            return {"ok": False, "checked": 0, "failed_anchor": failed(anchor, reason)}
        start_seq, start_hash = anchor["seq_to"], anchor["hash"]
    archived_heads = {anchor["seq_to"]: anchor["hash"] for anchor in anchors}
    result = verify_events(events_after(start_seq), start_seq, start_hash, checkpoints, authentic, archived_heads)
    if anchors:
        result["archived"] = {"segments": len(anchors), "through_seq": start_seq}
    return result


def verify_events(
    events: Iterable[dict],
    start_seq: int,
    start_hash: str,
    checkpoints: list,
    authentic: Callable[[dict], bool],
    archived_heads: dict | None = None,
) -> dict:
    """Walk ``events`` (the chain after ``start_seq``) against signed ``checkpoints``: each authentic,
    numbered without gaps, its hash still at its seq, and none beyond the last event (events removed).
    The service's ``verify`` and the auditor's offline ``casewire audit check-file --checkpoints`` both
    use it; ``authentic(record)`` checks a signature (with the public key alone, offline)."""
    problem, live = _check_checkpoints(checkpoints, start_seq, archived_heads or {}, authentic)
    result = walk(events, start_seq, start_hash, live)
    if "first_bad_seq" not in result and "failed_checkpoint" not in result:
        beyond = [checkpoint for checkpoint in live.values() if checkpoint["seq"] > result["head"]["seq"]]
        if beyond:
            reason = f"the chain ends at seq {result['head']['seq']}: events after it were removed"
            problem = problem or failed(min(beyond, key=lambda c: c["seq"]), reason)
    if problem and "failed_checkpoint" not in result:
        result.update(ok=False, failed_checkpoint=problem)
    result["checkpoints"] = {"checked": len(checkpoints), "latest": _summary(checkpoints[-1]) if checkpoints else None}
    return result


def _check_checkpoints(
    checkpoints: list, start_seq: int, archived_heads: dict, authentic: Callable[[dict], bool]
) -> tuple:
    """The first bad checkpoint (or None) and the ``{seq: checkpoint}`` map of those to walk."""
    problem, live, expected = None, {}, 1
    for checkpoint in checkpoints:
        reason = None
        if checkpoint.get("number") != expected:
            problem = problem or {"number": expected, "reason": "this checkpoint is missing"}
        if not authentic(checkpoint):
            reason = "its signature does not match"
        elif archived_heads.get(checkpoint["seq"], checkpoint["hash"]) != checkpoint["hash"]:
            reason = "the archive anchor at its seq has another hash"
        elif checkpoint["seq"] > start_seq:
            live.setdefault(checkpoint["seq"], checkpoint)
        if reason:
            problem = problem or failed(checkpoint, reason)
        expected = checkpoint.get("number", expected) + 1
    return problem, live


def _summary(checkpoint: dict) -> dict:
    summary = {key: checkpoint.get(key) for key in ("number", "seq", "hash", "at")}
    if isinstance(summary["at"], datetime):
        summary["at"] = iso(summary["at"])
    return summary
