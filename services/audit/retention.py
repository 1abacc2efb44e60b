"""Retention of the audit log (C24): archive, read back and verify, anchor, and only then delete.

Events are kept at least ``AUDIT_RETENTION_DAYS`` (365), ALPR query events (``AUDIT_ALPR_ACTIONS``)
at least ``AUDIT_ALPR_RETENTION_DAYS`` (730). The chain is only ever shortened at its start: the
archived segment runs from the last archive anchor up to the event before the first one still
retained, so an ALPR query holds back the events after it until its own time comes.

For a segment, :class:`Archivist` writes a JSON-lines file in ``AUDIT_ARCHIVE_DIR`` (a ``segment``
header, the ``event`` lines exactly as stored, the periodic ``checkpoint``\\ s inside it and a
signed ``seal`` of the segment's last seq and hash), reads it back and verifies it: the chain from
the previous anchor's hash, every checkpoint, the seal. Only then is a signed *archive anchor*
stored (it names the file and its SHA-256) and the segment deleted by :class:`RetiredSegments`,
the log's one deletion path. ``verify`` resumes the chain from the last anchor's hash.
"""

import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pymongo.database import Database

from services.audit.chain import GENESIS, canonical_json, iso, to_millis, walk
from services.audit.dependencies import AuditStore, Notary, key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    archive_dir: Path
    days: int = 365
    alpr_days: int = 730
    alpr_actions: tuple[str, ...] = ("search.plates", "alpr.*")
    max_events: int = 100_000

    @classmethod
    def from_config(cls, config: dict) -> "Policy":
        actions = str(config.get("AUDIT_ALPR_ACTIONS") or "search.plates,alpr.*")
        return cls(
            archive_dir=Path(config.get("AUDIT_ARCHIVE_DIR") or "audit-archive"),
            days=int(config.get("AUDIT_RETENTION_DAYS") or 365),
            alpr_days=int(config.get("AUDIT_ALPR_RETENTION_DAYS") or 730),
            alpr_actions=tuple(action.strip() for action in actions.split(",") if action.strip()),
            max_events=int(config.get("AUDIT_ARCHIVE_MAX_EVENTS") or 100_000),
        )

    def retained(self, now: datetime) -> dict:
        """The MongoDB filter of events still within retention at ``now``."""
        names = [re.escape(a[:-1]) + ".*" if a.endswith("*") else re.escape(a) for a in self.alpr_actions]
        alpr = {"action": {"$regex": f"^(?:{'|'.join(names)})$"}, "at": {"$gte": now - timedelta(days=self.alpr_days)}}
        return {"$or": [{"at": {"$gte": now - timedelta(days=self.days)}}, alpr]}


class RetiredSegments:
    """The one deletion path of the audit log: a segment covered by a stored, signed anchor."""

    def __init__(self, database: Database):
        self.events = database["events"]
        self.anchors = database["anchors"]

    def ensure_indexes(self) -> None:
        """The audit store creates the indexes."""

    def remove(self, anchor: dict, authentic: Callable[[dict], bool]) -> int:
        stored = self.anchors.find_one({"_id": key(anchor["seq_from"])}, {"_id": 0})
        if stored is None or stored != anchor or not authentic(stored):
            raise RuntimeError(f"no authentic archive anchor for seq {anchor['seq_from']}..{anchor['seq_to']}")
        bounds = {"$gte": key(anchor["seq_from"]), "$lte": key(anchor["seq_to"])}
        return self.events.delete_many({"_id": bounds}).deleted_count


class ArchiveRefused(Exception):
    """The segment could not be archived as it is (its chain does not verify); nothing was deleted."""


class Archivist:
    def __init__(self, store: AuditStore, notary: Notary, retired: RetiredSegments, policy: Policy):
        self.store, self.notary, self.retired, self.policy = store, notary, retired, policy

    def run(self, now: datetime) -> list[dict]:
        """Archive and delete every segment past retention at ``now``; return the new anchors."""
        self._finish_interrupted()
        anchors = []
        while (anchor := self.archive_one(now)) is not None:
            anchors.append(anchor)
        return anchors

    def _finish_interrupted(self) -> None:
        """Delete segments anchored by a run that stopped before deleting them."""
        for anchor in self.store.all_anchors():
            if self.store.event_at(anchor["seq_from"]) or self.store.event_at(anchor["seq_to"]):
                self.retired.remove(anchor, self.notary.authentic)

    def archive_one(self, now: datetime) -> dict | None:
        last = self.store.last_anchor()
        after, after_hash = (last["seq_to"], last["hash"]) if last else (0, GENESIS)
        head_seq, _ = self.store.head()
        first_kept = self.store.first_retained(after, self.policy.retained(now))
        # The newest event always stays, so the chain's head is never in a deleted range.
        seq_to = min(head_seq - 1, after + self.policy.max_events, first_kept - 1 if first_kept else head_seq)
        if seq_to <= after:
            return None
        path = self._write(after, after_hash, seq_to, now)
        try:
            anchor = self._verify_file(path, after, after_hash, seq_to)
        except ArchiveRefused as exc:
            path.unlink()
            log.error("audit archive of seq %s..%s refused, nothing deleted: %s", after + 1, seq_to, exc)
            raise
        anchor = self.notary.sign({**anchor, "file": path.name, "archived_at": to_millis(now)})
        if not self.store.add_anchor(anchor):
            path.unlink()  # another audit container archived this segment first
            return None
        self.retired.remove(anchor, self.notary.authentic)
        return anchor

    def _write(self, after: int, after_hash: str, seq_to: int, now: datetime) -> Path:
        self.policy.archive_dir.mkdir(parents=True, exist_ok=True)
        name = f"audit-{after + 1:015d}-{seq_to:015d}-{uuid.uuid4().hex[:8]}.jsonl"
        path, part = self.policy.archive_dir / name, self.policy.archive_dir / f"{name}.part"
        segment = {"seq_from": after + 1, "seq_to": seq_to, "prev_hash": after_hash}
        last_hash, count = after_hash, 0
        with open(part, "wb") as archive:
            archive.write(_line({"segment": {**segment, "written_at": iso(now)}}))
            for checkpoint in self.store.all_checkpoints(after + 1, seq_to):
                archive.write(_line({"checkpoint": checkpoint}))
            for event in self.store.in_order(after, seq_to):
                archive.write(_line({"event": event}))
                last_hash, count = event["hash"], count + 1
            seal = self.notary.sign({**segment, "hash": last_hash, "count": count, "sealed_at": iso(now)})
            archive.write(_line({"seal": seal}))
            archive.flush()
            os.fsync(archive.fileno())
        os.replace(part, path)
        return path

    def _verify_file(self, path: Path, after: int, after_hash: str, seq_to: int) -> dict:
        """Read the archive back and check it; the anchor it supports, or ArchiveRefused."""
        checkpoints, seals = {}, []
        for record in _records(path, skip_events=True):
            if "checkpoint" in record:
                checkpoints[record["checkpoint"]["seq"]] = record["checkpoint"]
            seals += [record["seal"]] if "seal" in record else []
        if len(seals) != 1 or not self.notary.authentic(seals[0]):
            raise ArchiveRefused("the archive's seal is missing or not authentic")
        if not all(self.notary.authentic(checkpoint) for checkpoint in checkpoints.values()):
            raise ArchiveRefused("a checkpoint in the segment is not authentic")
        events = (record["event"] for record in _records(path) if "event" in record)
        result, seal = walk(events, after, after_hash, checkpoints), seals[0]
        if not result["ok"] or result["head"]["seq"] != seq_to:
            raise ArchiveRefused(f"the stored chain does not verify: {result}")
        if (seal["seq_to"], seal["hash"], seal["count"]) != (seq_to, result["head"]["hash"], result["checked"]):
            raise ArchiveRefused("the seal does not match the archived events")
        return {
            "seq_from": after + 1,
            "seq_to": seq_to,
            "prev_hash": after_hash,
            "hash": seal["hash"],
            "count": result["checked"],
            "sha256": _sha256(path),
        }


def _records(path: Path, skip_events: bool = False) -> Iterator[dict]:
    with open(path, "rb") as archive:
        for line in archive:
            if not (skip_events and line.startswith(b'{"event":')):
                yield json.loads(line)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as archive:
        for block in iter(lambda: archive.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _line(record: dict) -> bytes:
    return canonical_json(record) + b"\n"
