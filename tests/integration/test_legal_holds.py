"""Legal holds against each other and against purges (C17), over the real servers.

Interleavings are forced, not hoped for: intake's ``set_legal_hold`` (called while a hold is placed) and
the content read a purge makes before its claim are replaced by hooks that place another hold right
there, through the running service."""

import uuid
from datetime import UTC, datetime, timedelta

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook, replace_dependencies

from casewire.contracts.cases import LegalHold
from casewire.errors import Conflict, NotFound
from casewire.mongo import connect
from services.audit.service import AuditService
from services.cases.dependencies import ContentStore, OversightStore
from services.cases.service import CasesService
from tests.integration.test_cases import ci_fields, ctx

PURPOSE = {"purpose": "investigation", "case_number": "HPD-2026-0042"}
DANA = ctx(**PURPOSE)
SAM = ctx("sam", ("supervisor",), **PURPOSE)


class Clock:
    def __init__(self):
        self.at = None

    def __call__(self):
        return self.at or datetime.now(UTC)


class Hooks:
    """Actions to run once, the next time the service reaches a point (``intake`` or ``purge_read``)."""

    def __init__(self):
        self.pending = {}

    def run(self, point: str) -> None:
        action = self.pending.pop(point, None)
        if action:
            action()


class Intake:
    """intake.set_legal_hold, answered here; placing a hold reaches it after the case was read."""

    def __init__(self, hooks: Hooks):
        self.hooks, self.calls, self.links = hooks, [], []

    def set_legal_hold(self, alert_ids, case_id, held, context):
        self.calls.append((case_id, sorted(alert_ids), held))
        self.hooks.run("intake")
        return len(alert_ids)

    def link_case(self, alert_ids, case_id, linked, context):
        self.links.append((case_id, sorted(alert_ids), linked))
        return len(alert_ids)

    def get_alert(self, alert_id):
        return {"id": alert_id, "source": "alpr", "agency": "TX0000000", "occurred_at": "2026-03-01T10:00:00+00:00"}


class Contents(ContentStore):
    """The real content store; a purge reads the case's items after choosing it and before its claim."""

    hooks: Hooks

    def items_of(self, case_id, kind=None):
        if kind is None:
            self.hooks.run("purge_read")
        return super().items_of(case_id, kind)


class Oversight(OversightStore):
    """The real holds; placing one reaches its insert after the case was read and found."""

    hooks: Hooks

    def add_hold(self, hold):
        self.hooks.run("hold_insert")
        return super().add_hold(hold)


@pytest.fixture
def hooks():
    return Hooks()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def db(mongo, config_for):
    return mongo[config_for("cases")["MONGODB_DATABASE"]]


@pytest.fixture
def intake(hooks):
    return Intake(hooks)


@pytest.fixture
def cases(container_factory, config_for, hooks, clock, intake):
    config = config_for("cases")
    container_factory(AuditService, config_for("audit")).start()
    container = container_factory(CasesService, config)
    database = connect(config["MONGODB_URI"]).get_database(config["MONGODB_DATABASE"])
    contents, oversight = Contents(database), Oversight(database)
    contents.hooks = oversight.hooks = hooks
    replace_dependencies(container, intake_rpc=intake, contents=contents, oversight=oversight, now=clock)
    container.start()
    return container


@pytest.fixture
def rpc(cases, base_config):
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        yield proxy.cases


def approved(rpc, **fields) -> dict:
    case = rpc.create_case({"unit": "narcotics", **ci_fields(**fields)}, DANA)
    return rpc.review_case(case["id"], {"decision": "approve", "justification": "predicate checked"}, SAM)


def place(base_config, case_id: str, reference: str) -> dict:
    with ClusterRpcProxy(base_config, timeout=30) as proxy:
        return proxy.cases.place_hold(case_id, {"reference": reference, "reason": "civil suit"}, SAM)


def purge_timer(cases) -> list[str]:
    with entrypoint_hook(cases, "purge_due_records") as run:
        return run()


def due_in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def test_C17_two_holds_placed_at_once_are_both_kept(rpc, hooks, base_config):
    case = approved(rpc, review_due=due_in(10))
    hooks.pending["intake"] = lambda: place(base_config, case["id"], "2026-CV-2")  # lands mid-placement
    rpc.place_hold(case["id"], {"reference": "2026-CV-1", "reason": "civil suit"}, SAM)
    held = rpc.get_case(case["id"], DANA)["legal_holds"]
    assert sorted(hold["reference"] for hold in held) == ["2026-CV-1", "2026-CV-2"]
    active = [h for h in rpc.list_holds(case["id"], SAM)["items"] if not h.get("released_at")]
    assert len(active) == 2


def test_C17_a_hold_placed_while_the_purge_chose_its_record_stops_the_purge(rpc, cases, hooks, clock, base_config):
    case = approved(rpc, review_due=due_in(10))
    clock.at = datetime.now(UTC) + timedelta(days=11)
    hooks.pending["purge_read"] = lambda: place(base_config, case["id"], "2026-CV-3")  # after the choice
    assert case["id"] not in purge_timer(cases)
    assert rpc.get_case(case["id"], DANA)["legal_holds"][0]["reference"] == "2026-CV-3"


def test_C17_a_hold_that_comes_after_the_purges_claim_is_refused_and_leaves_nothing(rpc, cases, hooks, clock, db):
    case = approved(rpc, review_due=due_in(10))
    clock.at = datetime.now(UTC) + timedelta(days=11)
    purged = []
    hooks.pending["hold_insert"] = lambda: purged.extend(purge_timer(cases))  # the case was read, then purged
    with pytest.raises((Conflict, NotFound)):
        rpc.place_hold(case["id"], {"reference": "2026-CV-7", "reason": "civil suit"}, SAM)
    assert purged == [case["id"]] and db["holds"].count_documents({"case_id": case["id"]}) == 0


def test_C17_a_released_hold_of_two_leaves_the_record_held(rpc, cases, clock):
    case = approved(rpc, review_due=due_in(10))
    first = rpc.place_hold(case["id"], {"reference": "2026-CV-4", "reason": "civil suit"}, SAM)
    rpc.place_hold(case["id"], {"reference": "2026-CV-5", "reason": "civil suit"}, SAM)
    rpc.release_hold(case["id"], first["id"], {"reason": "settled"}, SAM)
    clock.at = datetime.now(UTC) + timedelta(days=11)
    assert case["id"] not in purge_timer(cases)
    holds = {h["reference"]: h for h in rpc.list_holds(case["id"], SAM)["items"]}
    assert holds["2026-CV-4"]["release_reason"] == "settled" and not holds["2026-CV-5"].get("released_at")
    assert set(holds["2026-CV-4"]) <= set(LegalHold().fields)  # the released one as the API describes it


def test_C15_C17_two_hundred_held_records_never_stop_the_purge_of_the_others(rpc, cases, db, clock, base_config):
    """The 200 held records are copies of one approved through the service, written at once for speed;
    their holds are placed through the service. A held record made and held through the services and
    skipped by the timer is tests/integration/test_compliance.py's
    ``test_C17_records_under_legal_hold_are_skipped_by_the_automatic_purge``; through the API,
    tests/e2e/test_compliance.py's C16/C17 test."""
    unheld = approved(rpc, review_due=due_in(10))
    template = db["cases"].find_one({"_id": unheld["id"]})
    older = template["opened_at"] - timedelta(days=1)  # read first by any order of age
    copies = [{**template, "_id": uuid.uuid4().hex, "opened_at": older} for _ in range(200)]
    db["cases"].insert_many(copies)
    pool = eventlet.GreenPool(10)
    list(pool.imap(lambda copy: place(base_config, copy["_id"], "2026-CV-6"), copies))
    clock.at = datetime.now(UTC) + timedelta(days=11)
    purged = purge_timer(cases)
    assert unheld["id"] in purged and not {copy["_id"] for copy in copies} & set(purged)
    assert db["cases"].count_documents({"_id": {"$in": [copy["_id"] for copy in copies]}}) == 200


def test_C17_an_alert_linked_to_a_held_case_is_held_and_one_unlinked_is_let_go(rpc, intake):
    case = rpc.create_case({"title": f"Held links {uuid.uuid4().hex}", "unit": "narcotics"}, DANA)
    rpc.place_hold(case["id"], {"reference": "2026-CV-8", "reason": "civil suit"}, SAM)
    rpc.link_alert(case["id"], {"alert_id": "alert-late", "reason": "same plate"}, DANA)
    assert (case["id"], ["alert-late"], True) in intake.calls
    rpc.unlink_alert(case["id"], "alert-late", {"reason": "wrong plate"}, DANA)
    assert intake.calls[-1] == (case["id"], ["alert-late"], False)


# -- sent again after a crash: a retry, or the broker redelivering a request the dead process held -------------

PAT = ctx("pat", ("purge_authority",), unit="records", **PURPOSE)


def linked_case(rpc) -> str:
    case = rpc.create_case({"title": f"Sent again {uuid.uuid4().hex}", "unit": "narcotics"}, DANA)
    rpc.link_alert(case["id"], {"alert_id": "alert-again", "reason": "same plate"}, DANA)
    return case["id"]


def claim(db, case_id: str, at: datetime) -> None:
    """The claim a purge that died after it leaves (written by hand: no entrypoint stops halfway)."""
    stone = {"record_type": "case", "record_id": case_id, "reason": "court order", "content_hash": "0" * 64}
    stone.update(automatic=False, actor="pat", at=at)
    db["cases"].update_one({"_id": case_id}, {"$set": {"purging": stone}})


def test_C17_a_hold_placed_again_is_the_same_hold_and_tells_intake_again(rpc, intake, db):
    case_id = linked_case(rpc)
    hold = {"reference": "2026-CV-9", "reason": "civil suit"}
    first = rpc.place_hold(case_id, hold, SAM)
    again = rpc.place_hold(case_id, hold, SAM)  # its first attempt may have died before telling intake
    assert again["id"] == first["id"] and len(rpc.list_holds(case_id, SAM)["items"]) == 1
    assert intake.calls.count((case_id, ["alert-again"], True)) == 2
    assert db["history"].count_documents({"case_id": case_id, "action": "legal_hold.placed"}) == 1


def test_C17_a_release_sent_again_tells_intake_again(rpc, intake, db):
    case_id = linked_case(rpc)
    hold = rpc.place_hold(case_id, {"reference": "2026-CV-10", "reason": "civil suit"}, SAM)
    rpc.release_hold(case_id, hold["id"], {"reason": "settled"}, SAM)
    del intake.calls[:]
    again = rpc.release_hold(case_id, hold["id"], {"reason": "settled"}, SAM)
    assert again["id"] == hold["id"] and again["released_at"]
    assert intake.calls == [(case_id, ["alert-again"], False)]
    assert db["history"].count_documents({"case_id": case_id, "action": "legal_hold.released"}) == 1


def test_C19_an_unlink_sent_again_tells_intake_again(rpc, intake):
    case_id = linked_case(rpc)
    rpc.place_hold(case_id, {"reference": "2026-CV-12", "reason": "civil suit"}, SAM)
    rpc.unlink_alert(case_id, "alert-again", {"reason": "wrong plate"}, DANA)
    del intake.calls[:], intake.links[:]
    again = rpc.unlink_alert(case_id, "alert-again", {"reason": "wrong plate"}, DANA)  # the first may have died
    assert again["alert_ids"] == [] and len(again["unlinked_alerts"]) == 1
    assert intake.links == [(case_id, ["alert-again"], False)] and intake.calls == intake.links


def test_C16_a_purge_sent_again_after_its_claim_finishes_it(rpc, db):
    case = approved(rpc)
    claim(db, case["id"], datetime.now(UTC))  # the process died right after claiming it
    stone = rpc.purge_case(case["id"], {"reason": "court order"}, PAT)
    assert stone["record_id"] == case["id"] and stone["content_hash"] == "0" * 64
    assert db["cases"].count_documents({"_id": case["id"]}) == 0
    assert db["tombstones"].count_documents({"_id": case["id"]}) == 1


def test_C17_a_purge_that_died_before_reading_the_holds_gives_way_to_a_hold_placed_before_it(rpc, cases, db):
    case = approved(rpc)
    rpc.place_hold(case["id"], {"reference": "2026-CV-11", "reason": "civil suit"}, SAM)
    claim(db, case["id"], datetime.now(UTC) - timedelta(minutes=10))  # long enough ago for the timer to take it
    assert case["id"] not in purge_timer(cases)
    assert rpc.get_case(case["id"], DANA)["legal_holds"][0]["reference"] == "2026-CV-11"
