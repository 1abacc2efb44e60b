"""The audit service's logic over real FerretDB: tampering found (C22), auditor queries (C20, C21),
retention by verified archive (C24). The service class runs with ``worker_factory`` and its real
stores, an injected clock and the checkpoint key; the queue is exercised in test_audit_chain_concurrency.
The C22 tests write into the audit database directly: that is the tampering the chain must reveal.
Events reach the service through its ``audit_events`` handler, shaped as the services publish them;
events of real actions through the API are verified, paged and exported in tests/e2e/test_audit_api.py.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.testing.services import worker_factory

from casewire.errors import InvalidInput
from casewire_cli.main import main
from services.audit.chain import link
from services.audit.checkpoints import CheckpointFile
from services.audit.dependencies import AuditStore, Notary, key
from services.audit.retention import ArchiveRefused, RetiredSegments
from services.audit.service import AuditService

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()


class Clock:
    """The injected clock: tests move it; nothing sleeps."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(mongo, config_for):
    return mongo[f"{config_for('audit')['MONGODB_DATABASE']}_{uuid.uuid4().hex[:6]}"]


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def audit(db, clock, tmp_path):
    store = AuditStore(db)
    store.ensure_indexes()
    config = {"AUDIT_CHECKPOINT_SECONDS": 0, "AUDIT_ARCHIVE_DIR": str(tmp_path / "archive")}
    return worker_factory(
        AuditService,
        store=store,
        retired=RetiredSegments(db),
        notary=Notary(KEY, CheckpointFile(tmp_path / "checkpoints.jsonl")),
        config=config,
        now=clock,
    )


def event(n: int, at: datetime = T0, action: str = "alert.read", **fields) -> dict:
    return {
        "event_id": uuid.uuid4().hex,
        "at": at.isoformat(),
        "service": "gateway",
        "action": action,
        "outcome": "allowed",
        "actor": {"id": f"user{n % 3}", "agency": "TX0000000", "roles": ["analyst"]},
        "record_type": "alert",
        "record_ids": [f"alert-{n}"],
        "request_id": f"req-{n}",
        **fields,
    }


def append(audit, count: int, start: int = 1, **fields) -> None:
    audit.handle_audit_events([event(n, **fields) for n in range(start, start + count)])


@pytest.fixture
def twenty(audit):
    """Twenty events with a signed checkpoint after the 10th and the 20th."""
    append(audit, 10)
    assert audit.record_checkpoint()["seq"] == 10
    append(audit, 10, start=11)
    assert audit.record_checkpoint()["seq"] == 20
    assert audit.verify()["ok"] is True
    return audit


# -- C22: tampering directly in MongoDB is found --------------------------------------------------


def test_C22_an_intact_log_verifies_with_its_checkpoints(twenty):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them.
    A log of real actions through the API verifies in tests/e2e/test_audit_api.py's C20 test."""
    result = twenty.verify()
    assert result["ok"] is True and result["checked"] == 20 and result["head"]["seq"] == 20
    assert result["checkpoints"]["checked"] == 2 and result["checkpoints"]["latest"]["seq"] == 20


def test_C22_an_altered_event_is_named(twenty, db):
    """Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    db["events"].update_one({"_id": key(7)}, {"$set": {"actor.id": "mallory"}})
    result = twenty.verify()
    assert result["ok"] is False and result["first_bad_seq"] == 7 and result["checked"] == 6


def test_C22_a_removed_event_is_named(twenty, db):
    """Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    db["events"].delete_one({"_id": key(7)})
    assert twenty.verify()["first_bad_seq"] == 7


def test_C22_swapped_events_are_named(twenty, db):
    """Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    seventh, eighth = db["events"].find_one({"_id": key(7)}), db["events"].find_one({"_id": key(8)})
    db["events"].delete_many({"_id": {"$in": [key(7), key(8)]}})
    db["events"].insert_many([{**eighth, "_id": key(7)}, {**seventh, "_id": key(8)}])
    assert twenty.verify()["first_bad_seq"] == 7


def test_C22_a_rewrite_with_recomputed_hashes_fails_the_signed_checkpoint(twenty, db):
    """Alter seq 14 and re-hash everything after it: the chain is consistent again, but the
    checkpoint signed at seq 20 (before the rewrite) no longer matches.

    Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    prev_hash = db["events"].find_one({"_id": key(13)})["hash"]
    for seq in range(14, 21):
        stored = db["events"].find_one({"_id": key(seq)}, {"_id": 0, "hash": 0})
        if seq == 14:
            stored["outcome"] = "denied"
        forged = link({k: v for k, v in stored.items() if k not in ("seq", "prev_hash")}, seq, prev_hash)
        db["events"].replace_one({"_id": key(seq)}, {"_id": key(seq), **forged})
        prev_hash = forged["hash"]
    result = twenty.verify()
    assert "first_bad_seq" not in result  # the chain alone would pass
    assert result["ok"] is False
    assert result["failed_checkpoint"]["number"] == 2 and result["failed_checkpoint"]["seq"] == 20
    assert result["suspect_from_seq"] == 11  # checkpoint 1 (seq 10) still holds


def test_C22_removing_the_newest_events_fails_the_checkpoint(twenty, db):
    """Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    db["events"].delete_many({"_id": {"$gte": key(15)}})
    result = twenty.verify()
    assert result["ok"] is False and result["failed_checkpoint"]["seq"] == 20
    assert "ends at seq 14" in result["failed_checkpoint"]["reason"]


def test_C22_a_removed_or_forged_checkpoint_is_found(twenty, db, tmp_path):
    """Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    db["checkpoints"].update_one({"_id": key(2)}, {"$set": {"seq": 19}})
    assert twenty.verify()["failed_checkpoint"] == {"number": 2, "seq": 19, "reason": "its signature does not match"}
    db["checkpoints"].delete_one({"_id": key(1)})  # the checkpoint file still holds it
    assert twenty.verify()["failed_checkpoint"]["number"] == 2
    kept = tmp_path / "checkpoints.jsonl"
    kept.write_text("".join(line + "\n" for line in kept.read_text().splitlines() if '"number":1,' not in line))
    assert twenty.verify()["failed_checkpoint"] == {"number": 1, "reason": "this checkpoint is missing"}


def test_C22_checkpoints_are_signed_only_with_the_audit_services_key(twenty, db):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them."""
    stored = db["checkpoints"].find_one({"_id": key(1)}, {"_id": 0})
    assert Notary(KEY).authentic(stored) and not Notary(Ed25519PrivateKey.generate()).authentic(stored)


def test_C22_a_checkpoint_is_recorded_only_when_the_head_moved(twenty):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them."""
    assert twenty.record_checkpoint() is None
    append(twenty, 1, start=21)
    assert twenty.record_checkpoint()["number"] == 3


def test_C22_the_log_is_stored_with_utc_datetimes_and_hashes_stay_stable(twenty, db):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them."""
    stored = db["events"].find_one({"_id": key(1)})
    assert isinstance(stored["at"], datetime) and stored["at"] == T0
    listed = twenty.list_events({}, None, 1)["items"][0]
    assert listed["at"] == "2027-03-01T12:00:00.000Z" and listed["hash"] == stored["hash"]


# -- C20, C21: auditor queries ----------------------------------------------------------------


def test_C21_events_are_found_by_actor_record_action_outcome_and_time(audit):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them.
    Events of real actions are found through the API in tests/e2e/test_audit_api.py."""
    append(audit, 6)
    append(audit, 1, start=7, at=T0 + timedelta(days=2), action="search.plates", outcome="denied")
    by = lambda **filters: [e["seq"] for e in audit.list_events(filters, None, 50)["items"]]  # noqa: E731
    assert by(actor="user1") == [1, 4, 7]
    assert by(record_id="alert-5") == [5]
    assert by(action="search.plates") == [7] and by(outcome="denied") == [7]
    assert by(since=(T0 + timedelta(days=1)).isoformat()) == [7]
    assert by(until=(T0 + timedelta(days=1)).isoformat()) == [1, 2, 3, 4, 5, 6]
    assert audit.count_events({"actor": "user1"}) == 3


def test_C20_pages_follow_an_opaque_cursor(audit):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them.
    Real events are paged through the API in tests/e2e/test_audit_api.py's C20 test."""
    append(audit, 7)
    first = audit.list_events({}, None, 3)
    second = audit.list_events({}, first["next_cursor"], 3)
    last = audit.list_events({}, second["next_cursor"], 3)
    assert [e["seq"] for e in first["items"] + second["items"] + last["items"]] == list(range(1, 8))
    assert last["next_cursor"] is None and not first["next_cursor"].isdigit()
    with pytest.raises(InvalidInput) as bad:
        audit.list_events({}, "not-a-cursor", 3)
    assert "cursor" in bad.value.errors
    with pytest.raises(InvalidInput):
        audit.list_events({"since": "yesterday"}, None, 3)


# -- C24: retention by verified archive, with an injected clock ------------------------------------


@pytest.fixture
def aged(audit):
    """seq 1-3 old, 4 an old ALPR query, 5-6 past a year, 7-8 recent (relative to T0)."""
    append(audit, 3, at=T0 - timedelta(days=800))
    append(audit, 1, start=4, at=T0 - timedelta(days=500), action="search.plates")
    append(audit, 2, start=5, at=T0 - timedelta(days=400))
    assert audit.record_checkpoint()["seq"] == 6
    append(audit, 2, start=7, at=T0 - timedelta(days=10))
    return audit


def archive_lines(tmp_path: Path) -> list[list[dict]]:
    files = sorted((tmp_path / "archive").glob("audit-*.jsonl"))
    return [[json.loads(line) for line in path.read_text().splitlines()] for path in files]


def test_C24_events_past_retention_are_archived_verified_then_deleted(aged, db, clock, tmp_path):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them.
    Events a year old are stamped so by hand: a state production reaches only after the retention period."""
    anchors = aged.apply_retention()
    # The ALPR query (730 days) holds back everything after it; only 1-3 are past retention.
    assert [(a["seq_from"], a["seq_to"]) for a in anchors] == [(1, 3)]
    assert sorted(e["seq"] for e in db["events"].find()) == [4, 5, 6, 7, 8]
    [segment] = archive_lines(tmp_path)
    assert [r["event"]["seq"] for r in segment if "event" in r] == [1, 2, 3]
    assert segment[-1]["seal"]["hash"] == anchors[0]["hash"] and Notary(KEY).authentic(segment[-1]["seal"])
    result = aged.verify()
    assert result["ok"] is True and result["checked"] == 5 and result["archived"] == {"segments": 1, "through_seq": 3}

    clock.now = T0 + timedelta(days=300)  # the ALPR query is now 800 days old; 7-8 are 310
    anchors = aged.apply_retention()
    assert [(a["seq_from"], a["seq_to"]) for a in anchors] == [(4, 6)]
    assert sorted(e["seq"] for e in db["events"].find()) == [7, 8]
    second = archive_lines(tmp_path)[1]
    assert [r["checkpoint"]["seq"] for r in second if "checkpoint" in r] == [6]  # its checkpoint travels along
    assert aged.verify() | {"head": None, "checkpoints": None} == {
        "ok": True,
        "checked": 2,
        "head": None,
        "checkpoints": None,
        "archived": {"segments": 2, "through_seq": 6},
    }
    assert aged.apply_retention() == []  # nothing more is due


def test_C24_nothing_within_retention_is_touched(aged, db, clock):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them.
    Events a year old are stamped so by hand: a state production reaches only after the retention period."""
    clock.now = T0 - timedelta(days=500)  # the oldest events are 300 days old then
    assert aged.apply_retention() == []
    assert db["events"].count_documents({}) == 8 and db["anchors"].count_documents({}) == 0


def test_C24_a_segment_that_does_not_verify_is_never_archived_or_deleted(aged, db, tmp_path):
    """Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    db["events"].update_one({"_id": key(2)}, {"$set": {"action": "alert.update"}})
    with pytest.raises(ArchiveRefused):
        aged.apply_retention()
    assert db["events"].count_documents({}) == 8 and db["anchors"].count_documents({}) == 0
    assert archive_lines(tmp_path) == []


def test_C24_a_forged_archive_anchor_is_found(aged, db):
    """Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    aged.apply_retention()
    db["anchors"].update_one({}, {"$set": {"seq_to": 2}})
    assert aged.verify()["failed_anchor"]["reason"] == "its signature does not match"


def test_C24_an_interrupted_deletion_is_finished_and_verify_ignores_its_leftovers(aged, db, tmp_path):
    """Archived events written back by hand: what a crash between the archive and its deletion leaves;
    no entrypoint stops halfway."""
    assert [a["seq_to"] for a in aged.apply_retention()] == [3]
    # Put the archived events back, as if the run had stopped between anchoring and deleting.
    segment = archive_lines(tmp_path)[0]
    for record in segment:
        if "event" in record:
            stored = {**record["event"], "at": datetime.fromisoformat(record["event"]["at"])}
            db["events"].insert_one({"_id": key(stored["seq"]), **stored})
    assert db["events"].count_documents({}) == 8
    assert aged.verify()["ok"] is True and aged.verify()["checked"] == 5
    again = aged.apply_retention()
    assert again == [], again
    assert db["events"].count_documents({}) == 5


@pytest.mark.parametrize("hint", [{"seq": 100, "hash": "f" * 64}, {"seq": 2, "hash": "stale"}, None])
def test_C22_a_wrong_or_missing_head_hint_never_breaks_the_chain(audit, db, hint):
    """The head hint written by hand: what a crashed or racing writer leaves, which no test can time
    through the services."""
    append(audit, 5)
    fresh = worker_factory(AuditService, store=AuditStore(db), notary=Notary(KEY), now=Clock(T0))  # no cached head
    db["chain_head"].delete_many({})
    if hint:
        db["chain_head"].insert_one({"_id": "head", **hint})
    fresh.handle_audit_events([event(n) for n in range(6, 9)])
    assert sorted(e["seq"] for e in db["events"].find()) == list(range(1, 9))
    assert fresh.verify()["ok"] is True and fresh.head()["seq"] == 8


def test_C24_the_newest_event_stays_and_a_stale_writer_never_writes_into_an_archived_range(aged, db, clock):
    """A second writer with a stale cached head, fed events as the services publish them: the state of a
    replica that slept through an archive run, which no test can time through the services."""
    stale = worker_factory(AuditService, store=AuditStore(db), notary=Notary(KEY), now=clock)
    stale.handle_audit_events([event(9, at=T0 - timedelta(days=10))])  # this writer now believes the head is 9
    append(aged, 3, start=10, at=T0 - timedelta(days=10))  # another writer moves the head to 12
    clock.now = T0 + timedelta(days=2000)  # everything is past retention
    anchors = aged.apply_retention()
    assert anchors[-1]["seq_to"] == 11 and [e["seq"] for e in db["events"].find()] == [12]
    stale.handle_audit_events([event(13)])
    assert sorted(e["seq"] for e in db["events"].find()) == [12, 13] and aged.verify()["ok"] is True


def test_C24_an_archive_file_re_hashes_offline_and_a_tampered_one_does_not(aged, tmp_path):
    """The archive file is tampered with by hand: the act the offline check must reveal."""
    aged.apply_retention()
    [path] = sorted((tmp_path / "archive").glob("audit-*.jsonl"))
    assert CliRunner().invoke(main, ["audit", "check-file", str(path)]).exit_code == 0
    path.write_text(path.read_text().replace('"user1"', '"mallory"'))
    result = CliRunner().invoke(main, ["audit", "check-file", str(path)])
    assert result.exit_code == 1 and json.loads(result.output)["first_bad_seq"] == 1


def test_C22_checkpoints_are_also_written_to_the_checkpoint_file(db, clock, tmp_path):
    """The audit service's own logic, its ``audit_events`` handler fed events as the services publish them."""
    store = AuditStore(db)
    store.ensure_indexes()
    exported = tmp_path / "checkpoints.jsonl"
    audit = worker_factory(
        AuditService, store=store, notary=Notary(KEY, CheckpointFile(exported)), config={}, now=clock
    )
    append(audit, 3)
    audit.record_checkpoint()  # the default interval applies only between checkpoints
    [line] = [json.loads(line) for line in exported.read_text().splitlines()]
    assert line["seq"] == 3 and line["at"] == "2027-03-01T12:00:00.000Z" and Notary(KEY).authentic(line)


def test_C22_deleting_the_newest_events_with_their_checkpoints_in_the_database_is_found(twenty, db):
    """Whoever can write to the audit database deletes the last events and the checkpoints naming them:
    the checkpoint file, which that writer cannot rewrite, still names them.

    Tampering written by hand in the audit database: the act the chain must reveal, which no path of the
    code or the API can do (C22)."""
    db["events"].delete_many({"_id": {"$gt": key(12)}})
    db["checkpoints"].delete_many({"seq": {"$gt": 12}})
    db["chain_head"].delete_many({})
    result = twenty.verify()
    assert result["ok"] is False and result["failed_checkpoint"]["seq"] == 20
    assert "ends at seq 12" in result["failed_checkpoint"]["reason"]


def test_C22_an_auditor_checks_an_export_against_the_checkpoints_with_the_public_key_alone(twenty, tmp_path):
    """The export and its forgeries are files written by hand, as an auditor holds them offline; an
    export through the API re-hashes in tests/e2e/test_audit_api.py's C22 test."""
    runner = CliRunner()
    private, public = tmp_path / "audit-key.pem", tmp_path / "audit-key.pub"
    made = runner.invoke(main, ["audit", "keygen", "--private", str(private), "--public", str(public)])
    assert made.exit_code == 0, made.output
    assert private.stat().st_mode & 0o777 == 0o600 and b"PRIVATE" not in public.read_bytes()

    exported = tmp_path / "export.jsonl"
    exported.write_text("".join(json.dumps(e) + "\n" for e in twenty.list_events({}, None, 1000)["items"]))
    checkpoints = tmp_path / "checkpoints.jsonl"
    auditor_key = tmp_path / "auditor.pub"
    auditor_key.write_bytes(twenty.notary.public_pem())

    def check(*paths) -> tuple[int, dict]:
        args = ["audit", "check-file", str(paths[0]), "--checkpoints", str(paths[1]), "--public-key", str(paths[2])]
        result = runner.invoke(main, args)
        return result.exit_code, json.loads(result.output)

    code, result = check(exported, checkpoints, auditor_key)
    assert code == 0 and result["ok"] and result["checkpoints"]["checked"] == 2
    assert check(exported, checkpoints, public)[0] == 1  # another key signed nothing here
    shortened = tmp_path / "shortened.jsonl"
    shortened.write_text("".join(exported.read_text().splitlines(keepends=True)[:15]))
    code, result = check(shortened, checkpoints, auditor_key)
    assert code == 1 and "ends at seq 15" in result["failed_checkpoint"]["reason"]
    forged = tmp_path / "forged.jsonl"
    lines = [json.loads(line) for line in checkpoints.read_text().splitlines()]
    forged.write_text("".join(json.dumps({**line, "seq": 9}) + "\n" for line in lines))
    code, result = check(exported, forged, auditor_key)
    assert code == 1 and result["failed_checkpoint"]["reason"] == "its signature does not match"
