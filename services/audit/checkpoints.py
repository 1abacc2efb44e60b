"""Signed checkpoints: every so often, the chain head (seq, hash) and the time, signed (C22).

A checkpoint is numbered (1, 2, 3... so a removed one is noticed) and signed with Ed25519 by the
private key only the audit service holds (``AUDIT_CHECKPOINT_KEY``). Its public half verifies it, so an
auditor checks checkpoints with the public key alone, offline (``casewire audit check-file --checkpoints
FILE --public-key KEY``), and no one who can write to the audit database can make one.

Each checkpoint is kept twice: in the audit database (its ``checkpoints`` collection, where the unique
number settles which of several audit containers records it) and appended to the checkpoint file
(``AUDIT_CHECKPOINT_FILE``, by default ``checkpoints-<database>.jsonl`` in ``AUDIT_ARCHIVE_DIR``), which belongs on
storage the database's writers cannot rewrite (docs/audit.md, "Signed checkpoints"). ``verify`` checks the
chain against both, so deleting the newest events together with their checkpoints in the database is
still found: the file's checkpoints name hashes the chain no longer has.
"""

import base64
import binascii
import hashlib
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.chain import canonical_json, to_millis

if TYPE_CHECKING:
    from services.audit.dependencies import AuditStore, Notary

INTERVAL_KEY = "AUDIT_CHECKPOINT_SECONDS"
DEFAULT_INTERVAL = 60
SIGNATURE, KEY_ID = "signature", "key_id"


def signed_part(record: dict) -> bytes:
    """What a signature covers: the record's canonical JSON without ``_id`` and the signature itself."""
    return canonical_json({name: value for name, value in record.items() if name not in ("_id", SIGNATURE)})


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key (SHA-256 of its raw bytes): which key signed a record."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class Verifier:
    """Checks signatures with a public key only: what an auditor holds."""

    def __init__(self, public_key: Ed25519PublicKey):
        self.public_key = public_key
        self.key_id = key_id_of(public_key)

    @classmethod
    def from_pem(cls, pem: bytes) -> "Verifier":
        key = serialization.load_pem_public_key(pem)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return cls(key)

    def authentic(self, record: dict) -> bool:
        """True when ``record`` carries this key's signature over its content."""
        try:
            signature = base64.b64decode(str(record.get(SIGNATURE, "")), validate=True)
            self.public_key.verify(signature, signed_part(record))
        except (InvalidSignature, binascii.Error, ValueError, TypeError):
            return False
        return record.get(KEY_ID) == self.key_id


class CheckpointFile:
    """The checkpoints as JSON lines in a file that is only ever appended to (``None``: not kept)."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None

    def append(self, checkpoint: dict) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as kept:
            kept.write(canonical_json(checkpoint) + b"\n")
            kept.flush()
            os.fsync(kept.fileno())

    def read(self) -> list[dict]:
        if self.path is None or not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_bytes().splitlines() if line.strip()]


def merged(stored: list[dict], kept: list[dict]) -> list[dict]:
    """The checkpoints of the database and of the file, each once, in number order: one removed from
    either place is still checked, and two that differ under one number are both checked."""
    seen: dict[bytes, dict] = {}
    for checkpoint in [*stored, *kept]:
        seen.setdefault(canonical_json({k: v for k, v in checkpoint.items() if k != "_id"}), checkpoint)
    return sorted(seen.values(), key=lambda checkpoint: (checkpoint.get("number", 0), checkpoint.get("seq", 0)))


def record_checkpoint(store: "AuditStore", notary: "Notary", now: datetime, every_seconds: float = 0) -> dict | None:
    """Sign and store the current head, unless it has not moved or the last checkpoint is recent.

    ``store`` is the :class:`~services.audit.dependencies.AuditStore`, ``notary`` the
    :class:`~services.audit.dependencies.Notary` (it keeps the checkpoint file too)."""
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
    notary.checkpoints.append(checkpoint)
    return checkpoint
