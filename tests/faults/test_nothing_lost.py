"""Nothing lost (issue 17) on the private stack: events of case changes survive a broker outage, holds
and purges never both win, and a retried POST with its Idempotency-Key creates one record.

- A broker outage while cases are being edited: every edit the gateway answered 200 reaches search
  (the cases outbox announces it again), so ``casewire search check`` finds no drift.
- A purge racing a legal hold on the same record, 1,000 times: never both; a held record is never
  purged and a purged record keeps no hold.
- Cases opened with an ``Idempotency-Key``, each sent again with its key until answered, while the
  cases service is killed and restarted: one case per key.
"""

import json
import os
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.faults.conftest import SETTLE_SECONDS
from tests.integration.test_cases import ci_fields

PURPOSE = {"X-Purpose": "records review", "X-Case-Number": "HPD-2026-0042"}

RACES = int(os.environ.get("CASEWIRE_FAULTS_HOLD_RACES", "1000"))
KEYED_CASES = 200
RACING_AT_ONCE = 4


def _headers(stack, *roles: str, **extra) -> dict:
    return {"Authorization": f"Bearer {stack.token(*roles)}", **extra}


def _until_answered(method: str, url: str, deadline: float, again=(503,), **kwargs) -> requests.Response:
    """Send again after a connection error or a status of ``again`` (503), as a careful client does."""
    while time.monotonic() < deadline:
        try:
            response = requests.request(method, url, timeout=90, **kwargs)
        except requests.RequestException:
            time.sleep(0.5)
            continue
        if response.status_code not in again:
            return response
        time.sleep(0.5)
    raise TimeoutError(f"no answer but {again} before the deadline")


def _search_check(stack) -> dict:
    check = stack.cli("search", "check", "--json")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    return json.loads(check.stdout)


def test_a_broker_outage_while_cases_are_edited_leaves_search_consistent(stack, servers):
    detective = _headers(stack, "detective")
    cases = []
    for n in range(20):
        body = {"title": f"Outage {uuid.uuid4().hex[:8]} {n}", "unit": "rtcc", "assignees": ["ana"]}
        created = requests.post(f"{stack.url}/api/v1/cases", json=body, headers=detective, timeout=60)
        assert created.status_code == 201, created.text
        cases.append(created.json()["id"])
    stop, failures, edited = threading.Event(), [], []

    def edit():
        deadline, turn = time.monotonic() + SETTLE_SECONDS, 0
        while not stop.is_set():
            turn += 1
            for case_id in cases:
                patch = {"assignees": [f"user{turn}"], "summary": f"turn {turn}"}
                url = f"{stack.url}/api/v1/cases/{case_id}"
                answer = _until_answered("PATCH", url, deadline, json=patch, headers=detective)
                if answer.status_code not in (200, 409):
                    failures.append(answer.text[:500])
                edited.append(case_id)

    def edits_answered(count: int) -> None:
        """Until the editor has been answered ``count`` edits in all."""
        while len(edited) < count and editor.is_alive():
            time.sleep(0.05)

    editor = threading.Thread(target=edit, daemon=True)
    editor.start()
    edits_answered(len(cases) // 2)  # edits answered whose events are still being published when the broker goes
    servers.stop("rabbitmq")  # the editor goes on: sent again after each 503 until answered
    servers.start("rabbitmq")
    stack.services("start")
    edits_answered(len(edited) + len(cases) // 2)  # and more edits on the restarted broker
    stop.set()
    editor.join(SETTLE_SECONDS)
    assert not editor.is_alive() and not failures, failures[:5]
    deadline = time.monotonic() + SETTLE_SECONDS
    while (report := _search_check(stack))["drift"] and time.monotonic() < deadline:
        time.sleep(5)  # the outbox announces every 5 s what was not confirmed for 10 s
    assert report["drift"] is False, json.dumps(report)[-3000:]


def _race(stack, n: int, headers: tuple[dict, dict], holds, pairs: ThreadPoolExecutor) -> tuple[int, int]:
    """One record, a hold and a purge sent at once: ``(hold status, purge status)``."""
    detective, authority = headers
    body = ci_fields(title=f"Race {n} {uuid.uuid4().hex[:8]}", unit="rtcc")
    opened = requests.post(f"{stack.url}/api/v1/cases", json=body, headers=detective, timeout=60)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    path = f"{stack.url}/api/v1/cases/{case_id}"
    hold_body, purge_body = {"reference": f"CV-{n}", "reason": "suit"}, {"reason": "race test"}
    hold = pairs.submit(requests.post, f"{path}/holds", json=hold_body, headers=authority, timeout=60)
    purge = pairs.submit(requests.post, f"{path}/purge", json=purge_body, headers=authority, timeout=60)
    held, purged = hold.result().status_code, purge.result().status_code
    assert not (held == 201 and purged == 200), f"race {n}: both the hold and the purge won"
    still_there = requests.get(path, headers=detective, timeout=60).status_code
    if held == 201:
        assert still_there == 200, f"race {n}: a held record is gone"
    if purged == 200:
        assert still_there == 404 and holds.count_documents({"case_id": case_id}) == 0, f"race {n}"
    return held, purged


def test_a_purge_racing_a_legal_hold_never_deletes_a_held_record(stack):
    # Only criminal intelligence is purged by hand (C17), read with a stated purpose (C9).
    detective, authority = _headers(stack, "detective", **PURPOSE), _headers(stack, "purge_authority", **PURPOSE)
    # Several records race at once: the services see the contention of a busy deployment, and the
    # thousand races take a fraction of the time one after another would.
    with (
        ThreadPoolExecutor(RACING_AT_ONCE) as races,
        ThreadPoolExecutor(2 * RACING_AT_ONCE) as pairs,
        stack.mongo() as client,
    ):
        holds = stack.database(client, "cases")["holds"]
        outcomes = Counter(races.map(lambda n: _race(stack, n, (detective, authority), holds, pairs), range(RACES)))
    assert sum(outcomes.values()) == RACES, outcomes
    # Each side can win: unraced, such a record is held, and such a record is purged.
    for action, body, won in (
        ("holds", {"reference": "CV-x", "reason": "suit"}, 201),
        ("purge", {"reason": "sealed by court order"}, 200),
    ):
        body_of_case = ci_fields(title=f"Unraced {uuid.uuid4().hex[:8]}", unit="rtcc")
        case_id = requests.post(f"{stack.url}/api/v1/cases", json=body_of_case, headers=detective, timeout=60).json()[
            "id"
        ]
        answer = requests.post(f"{stack.url}/api/v1/cases/{case_id}/{action}", json=body, headers=authority, timeout=60)
        assert answer.status_code == won, answer.text


def test_a_retried_post_with_the_same_key_after_a_killed_service_creates_one_record(stack):
    detective = _headers(stack, "detective")
    run = uuid.uuid4().hex[:8]
    keys = [f"{run}-{n}" for n in range(KEYED_CASES)]
    answers, failures = {}, []

    def open_cases():
        deadline = time.monotonic() + SETTLE_SECONDS
        for key in keys:
            body = {"title": f"Keyed {key}", "unit": "rtcc"}
            keyed, url = {**detective, "Idempotency-Key": key}, f"{stack.url}/api/v1/cases"
            # 409: the key's first request is still being answered; send it again.
            answer = _until_answered("POST", url, deadline, (503, 409), json=body, headers=keyed)
            if answer.status_code != 201:
                failures.append(answer.text[:500])
            answers[key] = answer.json().get("id")

    sender = threading.Thread(target=open_cases, daemon=True)
    sender.start()
    for turn in (1, 2):
        while len(answers) < turn * KEYED_CASES // 3 and sender.is_alive():
            time.sleep(0.05)
        stack.kill("cases")
        time.sleep(2)  # requests queue up, time out at the gateway and expire at the broker
        stack.services("start")
    sender.join(SETTLE_SECONDS)
    assert not sender.is_alive() and not failures, failures[:5]
    with stack.mongo() as client:
        stored = stack.database(client, "cases")["cases"]
        for key in keys:
            assert stored.count_documents({"title": f"Keyed {key}"}) == 1, key
    assert len(set(answers.values())) == KEYED_CASES
