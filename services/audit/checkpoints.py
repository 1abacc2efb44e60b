"""Signed checkpoints: every so often, the chain head (seq, hash) and the time, signed (C22).

A checkpoint is numbered (1, 2, 3... so a removed one is noticed), signed with the HMAC key only
the audit service holds, stored in its own collection and, when ``AUDIT_CHECKPOINT_FILE`` is set,
appended to that file too (point it at storage the database's administrators cannot rewrite).
Someone who rewrites the whole events collection and recomputes every hash still cannot make the
chain agree with the checkpoints signed before the rewrite.
"""

from datetime import datetime, timedelta

from services.audit.chain import canonical_json, to_millis
from services.audit.dependencies import AuditStore, Notary

INTERVAL_KEY = "AUDIT_CHECKPOINT_SECONDS"
DEFAULT_INTERVAL = 60


def record_checkpoint(store: AuditStore, notary: Notary, now: datetime, every_seconds: float = 0) -> dict | None:
    """Sign and store the current head, unless it has not moved or the last checkpoint is recent."""
    last = store.last_checkpoint()
    if last and now - last["at"] < timedelta(seconds=every_seconds):
        return None  # checked first: finding the head costs look-ups in the events collection
    seq, head_hash = store.head()
    if seq == 0 or (last and last["seq"] >= seq):
        return None
    number = last["number"] + 1 if last else 1
    checkpoint = notary.sign({"number": number, "seq": seq, "hash": head_hash, "at": to_millis(now)})
    if not store.add_checkpoint(checkpoint):
        return None
    notary.export(canonical_json(checkpoint))
    return checkpoint
