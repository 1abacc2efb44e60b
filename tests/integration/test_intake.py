"""Intake over the real RabbitMQ and FerretDB: batches, idempotency, near-duplicates, triage, lists,
retention timers with an injected clock, and the importer feeding the real store."""

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook, replace_dependencies

from casewire.errors import Conflict, InvalidInput
from casewire_cli.importer import read_records, run_import
from services.intake.dependencies import AlertStore
from services.intake.service import IntakeService

CONTEXT = {"actor": {"id": "alice", "agency": "TX0000000", "roles": ["analyst"]}, "request_id": "req-1"}
NH = {**CONTEXT, "actor": {**CONTEXT["actor"], "agency": "NH0000000"}}


def alpr(event_id=None, plate=None, camera="cam-7", at="2026-01-05T22:14:00Z", **payload):
    return {
        "source": "alpr",
        "source_system": "flock",
        "source_event_id": event_id or uuid.uuid4().hex,
        "occurred_at": at,
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"plate": plate or f"I{uuid.uuid4().hex[:6].upper()}", "camera_id": camera, **payload},
    }


class MovableClock:
    """The real time until a test sets ``at``: time-driven rules are tested by moving it."""

    def __init__(self):
        self.at = None

    def __call__(self):
        return self.at or datetime.now(UTC)


@pytest.fixture
def clock():
    return MovableClock()


@pytest.fixture
def intake_settings() -> dict:
    """Config the intake container gets on top of the defaults; a test parametrizes it to change one."""
    return {}


@pytest.fixture
def intake(container_factory, config_for, clock, intake_settings):
    container = container_factory(IntakeService, {**config_for("intake"), **intake_settings})
    replace_dependencies(container, "entities_rpc", now=clock)  # intake alone: entities is not running
    container.start()
    return container


@pytest.fixture
def rpc(intake, base_config):
    with ClusterRpcProxy(base_config) as proxy:
        yield proxy.intake


@pytest.fixture
def alerts(mongo, config_for):
    return mongo[config_for("intake")["MONGODB_DATABASE"]]["alerts"]


def test_a_batch_is_stored_once_with_results_in_order(rpc, alerts):
    plate = f"B{uuid.uuid4().hex[:6].upper()}"
    batch = [alpr(plate=plate), {"source": "alpr"}, alpr(), alpr(plate=plate, at="2026-01-05T22:14:30Z")]
    results = rpc.create_alerts(batch, CONTEXT)["results"]
    assert [r["status"] for r in results] == [201, 422, 201, 200]
    assert results[3] == {"index": 3, "status": 200, "id": results[0]["id"], "near_duplicate": True}
    again = rpc.create_alerts(batch, CONTEXT)["results"]
    assert [r["status"] for r in again] == [200, 422, 200, 200]
    assert [r.get("id") for r in again] == [r.get("id") for r in results]
    first = rpc.get_alert(results[0]["id"])
    assert [r["source_event_id"] for r in first["repeats"]] == [batch[3]["source_event_id"]]
    keys = [(a["source_system"], a["source_event_id"]) for a in batch if "source_system" in a]
    stored = alerts.count_documents({"source_event_id": {"$in": [k[1] for k in keys]}})
    assert stored == 2


def test_the_same_batch_sent_by_racing_requests_is_stored_once_and_answered_alike(rpc, alerts, base_config):
    """A source that times out and sends its batch again while the first is still being stored."""
    plate = f"R{uuid.uuid4().hex[:6].upper()}"
    batch = [alpr(plate=plate), alpr(plate=plate, at="2026-01-05T22:14:30Z"), alpr(), alpr()]
    answers = []

    def send():
        with ClusterRpcProxy(base_config) as proxy:
            answers.append(proxy.intake.create_alerts(batch, CONTEXT)["results"])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = {tuple(result["id"] for result in results) for results in answers}
    assert len(answers) == 4 and len(ids) == 1
    assert sorted(result["status"] for results in answers for result in results).count(201) == 3
    assert alerts.count_documents({"source_event_id": {"$in": [a["source_event_id"] for a in batch]}}) == 3


def test_the_same_event_from_two_agencies_is_an_alert_of_each_and_never_folded_across(rpc):
    plate = f"A{uuid.uuid4().hex[:6].upper()}"
    read = alpr(plate=plate)
    texas = rpc.create_alert(read, CONTEXT)
    new_hampshire = rpc.create_alert(read, NH)  # the same event of a shared camera network
    assert texas["created"] is True and new_hampshire["created"] is True
    assert texas["alert"]["id"] != new_hampshire["alert"]["id"]
    assert (texas["alert"]["agency"], new_hampshire["alert"]["agency"]) == ("TX0000000", "NH0000000")
    again = rpc.create_alert(read, NH)
    assert again["created"] is False and again["alert"]["id"] == new_hampshire["alert"]["id"]
    # Another read of the plate at the camera a minute later folds into each agency's own alert.
    repeat = alpr(plate=plate, at="2026-01-05T22:15:00Z")
    assert rpc.create_alert(repeat, NH)["alert"]["id"] == new_hampshire["alert"]["id"]
    assert rpc.create_alert(repeat, CONTEXT)["alert"]["id"] == texas["alert"]["id"]
    assert [r["source_event_id"] for r in rpc.get_alert(texas["alert"]["id"])["repeats"]] == [repeat["source_event_id"]]


def test_a_repeat_sighting_is_found_by_its_own_event_id(rpc):
    plate = f"R{uuid.uuid4().hex[:6].upper()}"
    first = rpc.create_alert(alpr(plate=plate), CONTEXT)["alert"]
    repeat = alpr(plate=plate.lower(), at="2026-01-05T22:15:00Z")
    folded = rpc.create_alert(repeat, CONTEXT)
    assert folded["near_duplicate"] is True and folded["alert"]["id"] == first["id"]
    again = rpc.create_alert(repeat, CONTEXT)
    assert again["created"] is False and again["alert"]["id"] == first["id"]
    assert len(again["alert"]["repeats"]) == 1


def at(seconds: float) -> str:
    """An ISO time ``seconds`` after the reads' base time, 2026-01-05T22:14:00Z."""
    return (datetime(2026, 1, 5, 22, 14, tzinfo=UTC) + timedelta(seconds=seconds)).isoformat()


def test_reads_outside_the_window_or_of_another_camera_system_or_plate_are_new_alerts(rpc, alerts):
    plate = f"D{uuid.uuid4().hex[:6].upper()}"
    first = rpc.create_alert(alpr(plate=plate, at=at(0)), CONTEXT)
    assert first["created"] is True
    others = {
        "later": alpr(plate=plate, at=at(121)),  # the default window is 120 s
        "earlier": alpr(plate=plate, at=at(-121)),
        "camera": alpr(plate=plate, at=at(30), camera="cam-8"),
        "system": {**alpr(plate=plate, at=at(30)), "source_system": "rekor"},
        "plate": alpr(plate=f"{plate}X", at=at(30)),
    }
    answers = {name: rpc.create_alert(body, CONTEXT) for name, body in others.items()}
    assert {name: (a["created"], a["near_duplicate"]) for name, a in answers.items()} == {
        name: (True, False) for name in others
    }
    ids = {first["alert"]["id"], *(a["alert"]["id"] for a in answers.values())}
    assert len(ids) == 6 and alerts.count_documents({"_id": {"$in": list(ids)}}) == 6
    assert rpc.get_alert(first["alert"]["id"])["repeats"] == []
    inside = rpc.create_alert(alpr(plate=plate.lower(), at=at(119)), CONTEXT)
    assert inside["near_duplicate"] is True and inside["alert"]["id"] == first["alert"]["id"]


@pytest.mark.parametrize("intake_settings", [{"NEAR_DUPLICATE_SECONDS": "30"}])
def test_a_shorter_near_duplicate_window_moves_the_boundary(rpc, alerts):
    """Reads fold within one slot of the window (``at(0)`` starts a slot of 30 s and of 120 s)."""
    plate = f"W{uuid.uuid4().hex[:6].upper()}"
    first = rpc.create_alert(alpr(plate=plate, at=at(0)), CONTEXT)["alert"]
    inside = rpc.create_alert(alpr(plate=plate, at=at(29)), CONTEXT)
    assert inside["near_duplicate"] is True and inside["alert"]["id"] == first["id"]
    outside = rpc.create_alert(alpr(plate=plate, at=at(-31)), CONTEXT)  # folds under the default 120 s
    assert (outside["created"], outside["near_duplicate"]) == (True, False)
    batch = rpc.create_alerts([alpr(plate=plate, at=at(31)), alpr(plate=plate, at=at(59))], CONTEXT)["results"]
    assert [r["status"] for r in batch] == [201, 200] and batch[1]["id"] == batch[0]["id"]
    assert [r["occurred_at"] for r in rpc.get_alert(first["id"])["repeats"]] == ["2026-01-05T22:14:29+00:00"]


def test_triage_transitions_and_conflicts(rpc):
    alert_id = rpc.create_alert(alpr(), CONTEXT)["alert"]["id"]
    assigned = rpc.assign_alert(alert_id, {"assignee": "bob"}, CONTEXT)
    assert assigned["status"] == "assigned" and assigned["assignee"] == "bob"
    rpc.add_note(alert_id, {"text": "Patrol en route"}, CONTEXT)
    dismissed = rpc.dismiss_alert(alert_id, {"reason": "handled_by_patrol", "text": "stopped"}, CONTEXT)
    assert dismissed["status"] == "dismissed"
    assert [a["action"] for a in dismissed["actions"]] == ["received", "assigned", "note", "dismissed"]
    assert all(a["actor"] == "alice" and a["at"] for a in dismissed["actions"])
    with pytest.raises(Conflict):
        rpc.assign_alert(alert_id, {"assignee": "carol"}, CONTEXT)
    with pytest.raises(Conflict):
        rpc.dismiss_alert(alert_id, {"reason": "duplicate", "text": "see a-0"}, CONTEXT)


def test_a_dismissed_alert_cannot_be_promoted_and_a_promoted_one_not_assigned_or_dismissed(rpc, alerts):
    dismissed = rpc.create_alert(alpr(), CONTEXT)["alert"]["id"]
    rpc.dismiss_alert(dismissed, {"reason": "false_read", "text": "8, not B"}, CONTEXT)
    with pytest.raises(Conflict):
        rpc.mark_promoted(dismissed, f"case-{uuid.uuid4().hex[:6]}", CONTEXT)
    stored = alerts.find_one({"_id": dismissed})
    assert stored["status"] == "dismissed" and not stored.get("case_ids")
    assert [a["action"] for a in stored["actions"]] == ["received", "dismissed"]

    promoted = rpc.create_alert(alpr(), CONTEXT)["alert"]["id"]
    case_id = f"case-{uuid.uuid4().hex[:6]}"
    assert rpc.mark_promoted(promoted, case_id, CONTEXT)["status"] == "promoted"
    with pytest.raises(Conflict):
        rpc.assign_alert(promoted, {"assignee": "bob"}, CONTEXT)
    with pytest.raises(Conflict):
        rpc.dismiss_alert(promoted, {"reason": "duplicate", "text": "see a-0"}, CONTEXT)
    stored = alerts.find_one({"_id": promoted})
    assert (stored["status"], stored["assignee"], stored["case_ids"]) == ("promoted", None, [case_id])
    assert [a["action"] for a in stored["actions"]] == ["received", "promoted"]


def test_C26_a_face_alert_is_identified_once_by_a_reviewer_with_independent_evidence(rpc, mongo, config_for):
    """Made and identified through intake's entrypoints; then the store's write is called directly, as a
    second reviewer racing the first reaches it past the entrypoint's check (a race no test can time
    through the service), to prove the store's own condition refuses it."""
    probe = "https://faces.example.gov/probes/p-1.jpg"
    face = {
        **alpr(),
        "source": "face",
        "source_system": "clearview",
        "payload": {"candidate": {"name": "John Roe", "subject_id": "S-9"}, "score": 88, "probe_image_url": probe},
    }
    alert_id = rpc.create_alert(face, CONTEXT)["alert"]["id"]
    detective = {"actor": {"id": "dana", "agency": "TX0000000", "roles": ["detective"]}, "request_id": "req-2"}
    with pytest.raises(InvalidInput) as refused:
        rpc.identify_alert(alert_id, {"evidence": [{"type": "document", "reference": probe}]}, detective)
    assert list(refused.value.errors) == ["evidence.0.reference"]
    evidence = [{"type": "dna", "reference": "CODIS-2026-17"}]
    identified = rpc.identify_alert(alert_id, {"evidence": evidence}, detective)
    assert identified["identified"] is True and identified["notice"].startswith("Investigative lead only")
    stored = rpc.get_alert(alert_id)
    assert (stored["identification"]["reviewer"], stored["identification"]["evidence"]) == ("dana", evidence)
    assert [a["action"] for a in stored["actions"]] == ["received", "identified"]
    with pytest.raises(Conflict):
        rpc.identify_alert(alert_id, {"evidence": evidence}, detective)
    store = AlertStore(mongo[config_for("intake")["MONGODB_DATABASE"]])  # the store's own condition, unchecked
    entry = {"action": "identified", "actor": "sam", "at": datetime.now(UTC)}
    with pytest.raises(Conflict):
        store.mark_identified(alert_id, {"reviewer": "sam"}, entry, ("new", "assigned", "promoted"))
    with pytest.raises(Conflict):
        rpc.identify_alert(rpc.create_alert(alpr(), CONTEXT)["alert"]["id"], {"evidence": evidence}, detective)
    assert rpc.get_alert(alert_id)["identification"]["reviewer"] == "dana"


def test_the_importer_reports_progress_for_every_record_it_sends_to_the_store(rpc, alerts, tmp_path):
    """``casewire import`` sizes its progress bar by the records in the file and advances it by ``on_chunk``."""
    plate = f"P{uuid.uuid4().hex[:6].upper()}"
    good = [alpr(), alpr(), alpr(plate=plate), alpr(plate=plate, at="2026-01-05T22:14:30Z"), alpr()]
    lines = [json.dumps(a) for a in good[:3]] + ["", '{"source": "alpr"}', "{not json"]
    lines += [json.dumps(a) for a in good[3:]]
    source = tmp_path / "reads.jsonl"
    source.write_text("\n".join(lines) + "\n")
    total = sum(1 for _ in read_records(source))
    sent, advanced = [], []

    def post_batch(batch):
        sent.append(len(batch))
        return rpc.create_alerts(batch, CONTEXT)["results"]

    report = run_import(read_records(source), post_batch, 3, advanced.append)
    assert total == 7 and advanced == [3, 3, 1] and sum(advanced) == total
    assert sent == [3, 2, 1]  # the unreadable line is counted, never sent
    assert report["counts"] == {"created": 4, "known": 0, "near_duplicate": 1, "failed": 2}
    ids = [a["source_event_id"] for a in good]
    assert alerts.count_documents({"source_event_id": {"$in": ids}}) == 4


def _listen(base_config, routing_key):
    """A queue bound to intake's events, so the test can see what was dispatched."""
    exchange = get_event_exchange("intake", {})
    queue = Queue(f"test-{uuid.uuid4().hex}", exchange=exchange, routing_key=routing_key, auto_delete=True)
    connection = Connection(base_config["AMQP_URI"])
    bound = queue(connection.channel())
    bound.declare()
    return connection, bound


def test_C19_intakes_own_sweep_deletes_expired_reads_keeps_what_cases_name_and_announces_it(
    intake, rpc, alerts, base_config, clock
):
    """Intake alone: the cases service's part is played by calling intake's entrypoints as it does
    (link_case, set_legal_hold, mark_promoted, record_purged). The real hand-off from the cases service
    is tests/integration/test_retention_links.py and tests/e2e/test_retention.py."""
    clock.at = datetime(2026, 1, 5, 22, 14, 30, tzinfo=UTC)  # so no sweep runs past the deadline early
    read = rpc.create_alert(alpr(), NH)["alert"]
    hit = rpc.create_alert(alpr(hotlist="stolen"), NH)["alert"]
    held = rpc.create_alert(alpr(), NH)["alert"]
    rpc.set_legal_hold([held["id"]], "case-1", True, NH)
    linked = rpc.create_alert(alpr(), NH)["alert"]
    rpc.link_case([linked["id"]], "case-2", True, NH)
    promoted = rpc.create_alert(alpr(), NH)["alert"]  # into a case that is then purged (C16): nothing keeps it
    rpc.mark_promoted(promoted["id"], "case-3", NH)
    with entrypoint_hook(intake, "handle_case_purged") as forget:
        forget({"record_type": "case", "record_id": "case-3", "reason": "C15 review date passed"})
    assert read["purge_after"] == "2026-01-05T22:17:00+00:00" and hit.get("purge_after") is None
    connection, queue = _listen(base_config, "record_purged")
    try:
        clock.at = datetime(2026, 1, 5, 22, 17, 1, tzinfo=UTC)
        with entrypoint_hook(intake, "purge_expired_reads") as purge:
            assert purge() >= 2
        assert alerts.find_one({"_id": read["id"]}) is None and alerts.find_one({"_id": hit["id"]})
        assert alerts.find_one({"_id": held["id"]}) and alerts.find_one({"_id": linked["id"]})
        assert alerts.find_one({"_id": promoted["id"]}) is None
        purged = [queue.get(no_ack=True) for _ in range(20)]
        ids = {message.payload["record_id"] for message in purged if message}
        assert {read["id"], promoted["id"]} <= ids and hit["id"] not in ids
    finally:
        connection.close()


def test_C18_the_tip_timer_expires_tips_after_a_year(intake, rpc, alerts, clock):
    tip = {**alpr(), "source": "tip", "payload": {"narrative": "A grey Altima circles the school."}}
    created = rpc.create_alert(tip, CONTEXT)["alert"]
    received = datetime.fromisoformat(created["received_at"])
    clock.at = received + timedelta(days=366)
    with entrypoint_hook(intake, "expire_tips") as expire:
        assert expire() >= 1
    assert alerts.find_one({"_id": created["id"]}) is None


def test_a_face_alert_with_the_candidates_date_of_birth_is_stored(rpc, alerts):
    """It was answered 503 with the internal document: a ``datetime.date`` cannot be stored."""
    face = {
        "source": "face",
        "source_system": "clearview",
        "source_event_id": uuid.uuid4().hex,
        "occurred_at": "2026-01-05T22:14:00Z",
        "location": {"lat": 29.76, "lon": -95.36},
        "payload": {"candidate": {"name": "John Doe", "dob": "1990-02-03"}, "score": 91.5},
    }
    created = rpc.create_alert(face, CONTEXT)
    assert created["created"] and created["alert"]["payload"]["candidate"]["dob"] == "1990-02-03"
    assert alerts.find_one({"_id": created["alert"]["id"]})["payload"]["candidate"]["dob"] == "1990-02-03"
