"""28 CFR Part 23 through the gateway: a purge by the purge authority ends in 404 and no search hit
(C16, C17), legal holds, the review queue (C15) and the compliance report over HTTP and the CLI (C27)."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from casewire_cli.main import main
from tests.e2e.sse import EventStream
from tests.integration.test_cases import ci_fields
from tests.polling import eventually

PURPOSE = {"X-Purpose": "investigation", "X-Case-Number": "HPD-2026-0042"}


@pytest.fixture(scope="module")
def users(gateway):
    return {
        "dana": gateway.token("detective", sub="dana", unit="narcotics"),
        "sam": gateway.token("supervisor", sub="sam", unit="narcotics"),
        "pat": gateway.token("purge_authority", sub="pat", unit="records"),
        "auditor": gateway.token("auditor", sub="aud"),
        "admin": gateway.token("admin", sub="root"),
    }


def approved_intelligence(gateway, users, title, sensitivity="open"):
    created = gateway.post(
        "/api/v1/cases",
        token=users["dana"],
        headers=dict(PURPOSE),
        json=ci_fields(title=title, sensitivity=sensitivity),
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    review = {"decision": "approve", "justification": "predicate and labels checked"}
    approved = gateway.post(f"/api/v1/cases/{case_id}/review", token=users["sam"], headers=dict(PURPOSE), json=review)
    assert approved.status_code == 200, approved.text
    return case_id


def search_ids(gateway, users, word):
    found = gateway.get("/api/v1/search", token=users["dana"], headers=dict(PURPOSE), params={"q": word})
    assert found.status_code == 200, found.text
    return [item["id"] for item in found.json()["items"]]


def test_C16_C17_a_purge_by_the_purge_authority_leaves_get_404_no_search_hit_and_a_tombstone(gateway, users):
    word = f"zq{uuid.uuid4().hex[:8]}"
    case_id = approved_intelligence(gateway, users, f"Elm St {word}")
    eventually(lambda: case_id in search_ids(gateway, users, word))
    path = f"/api/v1/cases/{case_id}"

    refused = gateway.post(
        f"{path}/purge", token=users["sam"], headers=dict(PURPOSE), json={"reason": "not mine to purge"}
    )
    assert refused.status_code == 403
    hold = gateway.post(
        f"{path}/holds", token=users["pat"], headers=dict(PURPOSE), json={"reference": "2026-CV-9", "reason": "suit"}
    )
    assert hold.status_code == 201, hold.text
    blocked = gateway.post(
        f"{path}/purge", token=users["pat"], headers=dict(PURPOSE), json={"reason": "court order 12"}
    )
    assert blocked.status_code == 409
    released = gateway.post(
        f"{path}/holds/{hold.json()['id']}/release", token=users["pat"], headers=dict(PURPOSE), json={"reason": "done"}
    )
    assert released.status_code == 200, released.text

    purged = gateway.post(f"{path}/purge", token=users["pat"], headers=dict(PURPOSE), json={"reason": "court order 12"})
    assert purged.status_code == 200, purged.text
    stone = purged.json()
    assert stone["record_id"] == case_id and len(stone["content_hash"]) == 64 and word not in str(stone)
    assert gateway.get(path, token=users["dana"], headers=dict(PURPOSE)).status_code == 404
    eventually(lambda: case_id not in search_ids(gateway, users, word))

    def tombstone():
        events = gateway.get(
            "/api/v1/audit/events",
            token=users["auditor"],
            params={"record_id": case_id, "action": "case.purge", "service": "cases"},
        ).json()["items"]
        return events

    event = eventually(tombstone)[0]
    assert event["details"]["content_hash"] == stone["content_hash"] and event["actor"]["id"] == "pat"


def test_C15_the_review_queue_is_for_supervisors(gateway, users):
    case_id = approved_intelligence(gateway, users, "Queue check")
    soon = gateway.request(
        "PATCH",
        f"/api/v1/cases/{case_id}",
        token=users["sam"],  # a supervisor of the unit, with a reason (docs/security.md)
        headers=dict(PURPOSE),
        json={"review_due": (datetime.now(UTC) + timedelta(days=30)).isoformat(), "reason": "review it sooner"},
    )
    assert soon.status_code == 200, soon.text
    queue = gateway.get("/api/v1/cases/review-queue", token=users["sam"], params={"limit": 500})
    assert queue.status_code == 200 and case_id in [e["case_id"] for e in queue.json()["items"]]
    assert gateway.get("/api/v1/cases/review-queue", token=users["dana"]).status_code == 403


def test_C27_the_compliance_report_over_http_and_the_cli_lists_what_really_happened(gateway, users):
    """A restricted record released to another agency and a record purged, each through the API, are
    rows of the report over HTTP and of the CLI's text; with no exception possible through the API, the
    verdict is OK and the CLI exits 0 (the exceptions themselves are found in
    tests/integration/test_compliance.py, over records the API refuses to make)."""
    shared = approved_intelligence(gateway, users, "Released to the task force", sensitivity="restricted")
    release = {
        "recipient": "Sgt. Kim",
        "agency": "TX2270000",
        "purpose": "joint operation",
        "need_to_know": "same crew",
    }
    released = gateway.post(
        f"/api/v1/cases/{shared}/disseminations", token=users["dana"], headers=dict(PURPOSE), json=release
    )
    assert released.status_code == 201, released.text
    release_id = released.json()["id"]
    gone = approved_intelligence(gateway, users, "Purged by court order")
    purged = gateway.post(
        f"/api/v1/cases/{gone}/purge", token=users["pat"], headers=dict(PURPOSE), json={"reason": "court order 31"}
    )
    assert purged.status_code == 200, purged.text

    assert gateway.get("/api/v1/compliance/report", token=users["admin"]).status_code == 403
    response = gateway.get("/api/v1/compliance/report", token=users["auditor"])
    assert response.status_code == 200, response.text
    report = response.json()
    [row] = [row for row in report["disseminations"] if row["dissemination_id"] == release_id]
    assert (row["record_ids"], row["recipient"], row["agency"], row["sensitivity"]) == (
        [shared],
        "Sgt. Kim",
        "TX2270000",
        "restricted",
    )
    assert release_id in [row["dissemination_id"] for row in report["restricted_disseminated"]]
    [stone] = [row for row in report["purges"] if row["record_id"] == gone]
    assert stone["content_hash"] == purged.json()["content_hash"] and stone["reason"] == "court order 31"
    assert all(report["counts"][name] == len(report[name]) for name in ("disseminations", "purges"))
    # Everything on this stack was done through the API, which refuses each of these exceptions (C2, C4,
    # C9): the verdict is OK, and a report that found one here would be wrong.
    exceptions = ("intelligence_without_predicate_or_labels", "review_due_beyond_five_years", "reads_without_purpose")
    assert [name for name in exceptions if report[name]] == [] and report["ok"] is True

    no_purpose = gateway.get("/api/v1/compliance/report", token=users["auditor"], params={"sample": 2})
    assert no_purpose.status_code == 400
    sampled = gateway.get(
        "/api/v1/compliance/report", token=users["auditor"], params={"sample": 2}, headers={**PURPOSE}
    )
    assert sampled.status_code == 200 and len(sampled.json()["sample"]) == 2
    env = {"CASEWIRE_GATEWAY": gateway.url, "CASEWIRE_TOKEN": users["auditor"]}
    # Nothing changes between the HTTP report and the CLI's: the same verdict.
    text = CliRunner().invoke(main, ["compliance", "report", "--sample", "1", "--case-number", "AUD-1"], env=env)
    assert "Compliance report (28 CFR Part 23)" in text.output and "Sample of 1 records" in text.output
    assert "OK" in text.output.splitlines()[1] and "EXCEPTIONS FOUND" not in text.output
    assert text.exit_code == 0, text.output
    as_json = CliRunner().invoke(main, ["compliance", "report", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    found = json.loads(as_json.output)
    assert gone in [row["record_id"] for row in found["purges"]]
    assert release_id in [row["dissemination_id"] for row in found["restricted_disseminated"]]


def test_C6_another_units_search_hit_on_a_restricted_case_reaches_its_control_official(gateway, users):
    """The whole chain, each step by its real producer: a restricted case stored and approved through the
    API, indexed by the search service, hit by another unit's search (answered as a miss), and the
    control official told on ``/api/v1/notifications`` and on the stream, and the auditor's report lists it."""
    word = f"zr{uuid.uuid4().hex[:8]}"
    official = f"vega-{uuid.uuid4().hex[:6]}"
    created = gateway.post(
        "/api/v1/cases",
        token=users["dana"],
        headers=dict(PURPOSE),
        json=ci_fields(title=f"Elm St {word}", sensitivity="restricted", control_official=official),
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    review = {"decision": "approve", "justification": "predicate and labels checked"}
    approved = gateway.post(f"/api/v1/cases/{case_id}/review", token=users["sam"], headers=dict(PURPOSE), json=review)
    assert approved.status_code == 200, approved.text
    eventually(lambda: case_id in search_ids(gateway, users, word))  # indexed: the controlling unit finds it

    official_token = gateway.token("detective", sub=official, unit="narcotics")
    stream = EventStream(f"{gateway.url}/api/v1/stream", official_token)
    try:
        olga = gateway.token("detective", sub="olga", unit="homicide")
        outside = gateway.get("/api/v1/search", token=olga, headers=dict(PURPOSE), params={"q": word})
        assert outside.status_code == 200, outside.text
        assert outside.json()["items"] == []  # what a miss answers

        def told():
            response = gateway.get("/api/v1/notifications", token=official_token)
            assert response.status_code == 200, response.text
            return [n for n in response.json()["items"] if n["case_id"] == case_id]

        [notice] = eventually(told)
        assert (notice["kind"], notice["detail"]["searcher"], notice["detail"]["terms"]) == (
            "restricted_hit",
            "olga",
            word,
        )
        heard = stream.until(lambda e: e["event"] == "control_official_notified" and e["data"]["case_id"] == case_id)
        assert (heard[-1]["data"]["searcher"], heard[-1]["data"]["searcher_unit"]) == ("olga", "homicide")
        others = gateway.get("/api/v1/notifications", token=olga).json()["items"]
        assert case_id not in [n["case_id"] for n in others]
        report = gateway.get("/api/v1/compliance/report", token=users["auditor"]).json()  # C27
        assert case_id in [n["case_id"] for n in report["control_official_notifications"]]
    finally:
        stream.close()
