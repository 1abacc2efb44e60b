"""SIGKILL the cases service while legal holds are placed and released, reads are linked and records are
purged, restart it, and lose, double or half-store nothing (issue 22; C16, C17, C19).

Criminal intelligence records of a New Hampshire agency, whose reads the private stack keeps
``NH_RETENTION`` (45 s) and sweeps every second (tests/faults/conftest.py), each get ``KEPT`` reads
linked, one more read taken just before the kill (so its deadline falls after the restart), and a fate,
a quarter of them each:

- ``held``: a legal hold is placed, then one more read is linked;
- ``released``: held before the kill, the hold is released, one read is unlinked, one more is linked;
- ``purged``: one more read is linked, then the purge authority purges the record;
- ``refused``: a legal hold is placed, a purge is tried (refused, 409), one more read is linked.

Half the records' work is under way when the cases service is SIGKILLed; the other half is sent while
it is down. Each request is sent again after a 503 or a connection error, as a careful client does. A
request sent again, or redelivered by the broker to the restarted service, finds what its first attempt
did and finishes it: each is answered as if it had run once (a link or unlink 200, a hold 201, a
release 200, a purge its tombstone, a purge of a held record 409).

Once the sweep has judged the reads past their deadline (a read nothing keeps is gone):

- every hold is there once, in force or released as its client was told (none lost or doubled);
- every read of a kept record is there past its deadline, names its case, and is held by it exactly
  while the case is held; the case names exactly those reads (no link one side knows and the other not),
  and a read unlinked is deleted by the next sweep (C19);
- a purged record is 404, its reads are deleted by the next sweep (C19), it left exactly one
  tombstone (C16) in the audit log and in the cases service, no purge is left half done, and search,
  entities and the stream keep nothing of it.
"""

import os
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests

from gateway.auth import mint_dev_token
from tests.faults.conftest import SETTLE_SECONDS
from tests.integration.test_cases import NARRATIVE, ci_fields
from tests.polling import eventually

NH = "NH0100000"
PURPOSE = {"X-Purpose": "records review", "X-Case-Number": "HPD-2026-0042"}
LONG_AGO = "2026-01-05T22:14:00Z"  # a read taken then is due as soon as it is stored
RECORDS = int(os.environ.get("CASEWIRE_FAULTS_KILL_CASES_RECORDS", "40"))
KEPT = 3  # reads linked to each record before the kill; one more is linked during it
FATES = ("held", "released", "purged", "refused")
HELD = ("held", "refused")
# What each request is answered, whether it was done once or (sent again, or redelivered to the restarted
# service) finished by a later attempt.
ANSWERS = {"link": 200, "unlink": 200, "hold": 201, "release": 200, ("purge", "purged"): 200, ("purge", "refused"): 409}


class Caller:
    """One user of the New Hampshire agency, stating a purpose (C9)."""

    def __init__(self, stack, sub: str, role: str, unit: str):
        self.url = stack.url
        token = mint_dev_token(stack.secret, sub, [role], agency=NH, unit=unit)
        self.headers = {"Authorization": f"Bearer {token}", **PURPOSE}

    def send(self, method: str, path: str, body: dict | None = None) -> tuple[requests.Response, bool]:
        """The first answer that is not a 503, and whether the request had to be sent again to get it."""
        deadline, retried = time.monotonic() + SETTLE_SECONDS, False
        while time.monotonic() < deadline:
            try:
                answer = requests.request(method, f"{self.url}{path}", json=body, headers=self.headers, timeout=90)
            except requests.RequestException:
                answer = None
            if answer is not None and answer.status_code != 503:
                return answer, retried
            retried = True
            time.sleep(0.5)
        raise TimeoutError(f"{method} {path}: nothing but 503 before the deadline")

    def get(self, path: str) -> requests.Response:
        return self.send("GET", path)[0]


def post_reads(reader: Caller, count: int, at: str | None = None) -> list[str]:
    """``count`` ALPR reads taken ``at`` (now by default) in one batch, so they share one deadline."""
    batch = [
        {
            "source": "alpr",
            "source_system": "faults-kill-cases",
            "source_event_id": uuid.uuid4().hex,
            "occurred_at": at or datetime.now(UTC).isoformat(),
            "location": {"lat": 43.2, "lon": -71.5},
            "payload": {
                "plate": f"K{uuid.uuid4().hex[:6].upper()}",
                "plate_state": "NH",
                "camera_id": uuid.uuid4().hex[:8],
            },
        }
        for _ in range(count)
    ]
    answer, _ = reader.send("POST", "/api/v1/alerts/batch", {"alerts": batch})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [result["status"] for result in results] == [201] * count, results
    return [result["id"] for result in results]


class Records:
    """The records, their reads and holds, and what the clients did to them."""

    def __init__(self, stack):
        self.stack = stack
        self.dana = Caller(stack, "dana", "detective", "narcotics")
        self.pat = Caller(stack, "pat", "purge_authority", "records")
        self.reader = Caller(stack, "nh-reader", "source", "rtcc")
        self.fates: dict[str, str] = {}
        self.reads: dict[str, list[str]] = {}
        self.holds: dict[str, dict] = {}  # case id → {"reference", "id"}
        self.unlinked: dict[str, str] = {}  # case id → the read unlinked from it
        self.answers: list[tuple] = []  # (case id, action, status, sent again, body): checked at the end

    def open(self, count: int) -> None:
        """``count`` records and the reads linked to them before the kill (one batch)."""
        for n in range(count):
            body = ci_fields(title=f"Kill cases {n} {uuid.uuid4().hex[:8]}", unit="narcotics")
            answer, _ = self.dana.send("POST", "/api/v1/cases", body)
            assert answer.status_code == 201, answer.text
            self.fates[answer.json()["id"]] = FATES[n % len(FATES)]
        ids = post_reads(self.reader, count * KEPT)
        for n, case_id in enumerate(self.fates):
            self.reads[case_id] = ids[n * KEPT : (n + 1) * KEPT]

    def more_reads(self) -> str:
        """One more read for each record, linked around the kill, and a witness that nothing keeps: one
        batch taken just before the kill, whose deadline the sweep judges after the restart."""
        *ids, witness = post_reads(self.reader, len(self.fates) + 1)
        for case_id, read in zip(self.fates, ids, strict=True):
            self.reads[case_id].append(read)
        return witness

    def _answered(self, case_id: str, action: str, sent: tuple[requests.Response, bool]) -> requests.Response:
        answer, retried = sent
        self.answers.append((case_id, action, answer.status_code, retried, answer.text[:300]))
        return answer

    def link(self, case_id: str, read: str) -> None:
        body = {"alert_id": read, "reason": "seen near the garage", "reasonable_suspicion": NARRATIVE}
        self._answered(case_id, "link", self.dana.send("POST", f"/api/v1/cases/{case_id}/alerts", body))

    def unlink(self, case_id: str, read: str) -> None:
        self.unlinked[case_id] = read
        path = f"/api/v1/cases/{case_id}/alerts/{read}/unlink"
        self._answered(case_id, "unlink", self.dana.send("POST", path, {"reason": "another vehicle"}))

    def hold(self, case_id: str) -> None:
        reference = f"2026-CV-{uuid.uuid4().hex[:8]}"
        self.holds[case_id] = {"reference": reference}
        body = {"reference": reference, "reason": "civil suit over the stops"}
        answer = self._answered(case_id, "hold", self.pat.send("POST", f"/api/v1/cases/{case_id}/holds", body))
        if answer.status_code == 201:
            self.holds[case_id]["id"] = answer.json()["id"]

    def release(self, case_id: str) -> None:
        path = f"/api/v1/cases/{case_id}/holds/{self.holds[case_id]['id']}/release"
        self._answered(case_id, "release", self.pat.send("POST", path, {"reason": "suit settled"}))

    def purge(self, case_id: str) -> None:
        body = {"reason": "predicate did not hold"}
        self._answered(case_id, "purge", self.pat.send("POST", f"/api/v1/cases/{case_id}/purge", body))

    def before_the_kill(self, case_id: str) -> None:
        for read in self.reads[case_id][:KEPT]:
            self.link(case_id, read)
        if self.fates[case_id] == "released":
            self.hold(case_id)

    def around_the_kill(self, case_id: str) -> None:
        fate, last = self.fates[case_id], self.reads[case_id][KEPT]
        if fate in HELD:
            self.hold(case_id)
        if fate == "released":
            self.release(case_id)
            self.unlink(case_id, self.reads[case_id][0])
        if fate == "purged":
            self.link(case_id, last)
        if fate in ("purged", "refused"):
            self.purge(case_id)
        if fate != "purged":
            self.link(case_id, last)

    def gone(self, alert_id: str) -> bool:
        answer = self.dana.get(f"/api/v1/alerts/{alert_id}")
        assert answer.status_code in (200, 404), answer.text
        return answer.status_code == 404

    def of(self, *fates: str) -> list[str]:
        return [case_id for case_id, fate in self.fates.items() if fate in fates]


def test_C16_C17_C19_sigkill_of_cases_during_holds_links_and_purges_loses_and_doubles_nothing(stack):
    records = Records(stack)
    records.open(RECORDS)
    cases = list(records.fates)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(records.before_the_kill, cases))
        witness = records.more_reads()
        first, rest = cases[: len(cases) // 2], cases[len(cases) // 2 :]
        under_way = [pool.submit(records.around_the_kill, case_id) for case_id in first]
        while sum(future.done() for future in under_way) < len(under_way) // 4:
            time.sleep(0.05)
        stack.kill("cases")
        with ThreadPoolExecutor(len(rest)) as while_down:  # each sent at once, while cases is down
            sent_later = [while_down.submit(records.around_the_kill, case_id) for case_id in rest]
            stack.services("start")
            for future in under_way + sent_later:
                future.result()
    wrong = [
        answer
        for answer in records.answers
        if answer[2] != ANSWERS.get(answer[1], ANSWERS.get((answer[1], records.fates[answer[0]])))
    ]
    assert not wrong, wrong

    # The sweep has passed the deadline: the witness is gone, and so is a read stored after it already due.
    eventually(lambda: records.gone(witness), timeout=SETTLE_SECONDS)
    [later] = post_reads(records.reader, 1, at=LONG_AGO)
    eventually(lambda: records.gone(later), timeout=60)

    for case_id in records.of("held", "released", "refused"):
        case = records.dana.get(f"/api/v1/cases/{case_id}")
        assert case.status_code == 200, case.text
        story = [answer for answer in records.answers if answer[0] == case_id]
        kept = [read for read in records.reads[case_id] if read != records.unlinked.get(case_id)]
        assert sorted(case.json()["alert_ids"]) == sorted(kept), (case_id, story)
        holds = records.pat.get(f"/api/v1/cases/{case_id}/holds").json()["items"]
        assert [hold["reference"] for hold in holds] == [records.holds[case_id]["reference"]], holds
        released = records.fates[case_id] == "released"
        assert (holds[0].get("released_at") is not None) == released, holds
        for read in kept:
            alert = records.dana.get(f"/api/v1/alerts/{read}")
            assert alert.status_code == 200, (read, story)
            assert alert.json()["cases"] == [case_id], (alert.json(), story)
            assert alert.json()["legal_hold"] == (None if released else [case_id]), (alert.json(), story)

    purged = records.of("purged")
    purged_reads = [read for case_id in purged for read in records.reads[case_id]]
    let_go = purged_reads + list(records.unlinked.values())  # past their deadline, nothing keeps them
    eventually(lambda: all(records.gone(read) for read in let_go), timeout=60)
    for case_id in purged:
        assert records.dana.get(f"/api/v1/cases/{case_id}").status_code == 404, case_id
    assert_purges_left_nothing_behind(stack, records, purged, purged_reads)


def assert_purges_left_nothing_behind(stack, records: Records, purged: list[str], purged_reads: list[str]) -> None:
    """One tombstone per purge in each log, no purge half done, and no copy left in search, entities or
    the stream (each reached by ``record_purged``, asynchronously: waited for, then checked)."""
    with stack.mongo() as client:
        cases_db, audit_db = stack.database(client, "cases"), stack.database(client, "audit")

        def tombstones() -> Counter:
            found = audit_db["events"].find(
                # The cases service's tombstone; the gateway audits each request it lets through as well.
                {
                    "service": "cases",
                    "action": "case.purge",
                    "outcome": "allowed",
                    "record_ids": {"$in": list(records.fates)},
                },
                {"record_ids": 1},
            )
            return Counter(record_id for event in found for record_id in event["record_ids"])

        audited = eventually(lambda: (found := tombstones()) and set(found) == set(purged) and found, timeout=60)
        assert audited == Counter(purged), audited
        buried = Counter(stone["_id"] for stone in cases_db["tombstones"].find({"_id": {"$in": list(records.fates)}}))
        assert buried == Counter(purged), buried
        assert cases_db["cases"].count_documents({"_id": {"$in": purged}}) == 0  # no purge left half done
        assert cases_db["holds"].count_documents({"case_id": {"$in": purged}}) == 0

        gone_ids = purged + purged_reads
        sightings = stack.database(client, "entities")["sightings"]
        stream = stack.database(client, "gateway")["stream_events"]
        eventually(lambda: sightings.count_documents({"record_id": {"$in": gone_ids}}) == 0, timeout=60)
        eventually(lambda: stream.count_documents({"record_ids": {"$in": gone_ids}}) == 0, timeout=60)
    es = stack.elasticsearch()
    try:
        alias = f"{stack.env['INDEX_PREFIX']}-cases"

        def indexed() -> int:
            es.indices.refresh(index=alias)
            return es.count(index=alias, query={"ids": {"values": purged}})["count"]

        eventually(lambda: indexed() == 0, timeout=60)
    finally:
        es.close()
