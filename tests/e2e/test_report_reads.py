"""C27's reads without a purpose, on the real path: reads of criminal intelligence made through the API,
one refused for want of a purpose (C9) and one with it, are audited, and the compliance report lists
neither as a read without a purpose. The report's own logic over reads that did happen without one,
which the gateway and the cases service refuse before they happen, is fed seeded audit events in
tests/unit/test_reads_without_purpose.py and tests/integration/test_compliance.py's C13/C27 test."""

import uuid

import pytest

from tests.e2e.test_search_access import PURPOSE, intelligence
from tests.polling import eventually


@pytest.fixture(scope="module")
def users(gateway):
    return {
        "dana": gateway.token("detective", sub="dana", unit="narcotics"),
        "sam": gateway.token("supervisor", sub="sam", unit="narcotics"),
        "auditor": gateway.token("auditor", sub="aud"),
    }


def test_C9_C27_reads_refused_or_made_with_a_purpose_are_audited_and_never_reads_without_one(gateway, users):
    word = f"zp{uuid.uuid4().hex[:8]}"
    case_id = intelligence(gateway, users, f"{word} garage", "open")
    path = f"/api/v1/cases/{case_id}"
    refused = gateway.get(path, token=users["dana"])
    assert refused.status_code == 400, refused.text
    unstated = gateway.get("/api/v1/search", token=users["dana"], params={"q": word})
    assert unstated.status_code == 200 and unstated.json()["items"] == [], unstated.text
    stated = gateway.get(path, token=users["dana"], headers=dict(PURPOSE))
    assert stated.status_code == 200, stated.text

    def audited():
        response = gateway.get(
            "/api/v1/audit/events", token=users["auditor"], params={"record_id": case_id, "limit": 500}
        )
        assert response.status_code == 200, response.text
        reads = [(e["outcome"], e["purpose"]) for e in response.json()["items"] if e["action"] == "case.read"]
        return ("denied", None) in reads and ("allowed", "investigation") in reads

    eventually(audited)  # both reads are in the audit log the report reads
    report = gateway.get("/api/v1/compliance/report", token=users["auditor"])
    assert report.status_code == 200, report.text
    listed = [row for row in report.json()["reads_without_purpose"] if case_id in row["case_ids"]]
    assert listed == []
