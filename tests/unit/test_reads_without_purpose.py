"""C27: the compliance report counts every read of criminal intelligence that stated no purpose (C9).

Reads of a case and its parts (``case.read``: items, evidence, related records, timeline,
dissemination log), its export, its files (``case.attachment.read``, whose case is in the path) and
the cases a search showed (``search.hits``, recorded by the gateway) are found from seeded audit events.
The cases service's own logic: such reads are refused before they happen (C9), so no test makes them
through the API; real reads, refused or with a purpose, are followed into the report over HTTP by
tests/e2e/test_report_reads.py.
"""

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory

from casewire.errors import Unavailable
from gateway.app import create_app
from gateway.auth import mint_dev_token
from services.cases import compliance
from services.cases.service import CasesService

NOW = datetime(2026, 6, 1, tzinfo=UTC)
INTELLIGENCE = {"ci-1", "ci-2"}


def event(seq, action, record_type, record_ids, path, request_id=None, **extra):
    return {
        "seq": seq,
        "at": "2026-05-31T12:00:00+00:00",
        "service": "gateway",
        "action": action,
        "outcome": "allowed",
        "actor": {"id": "mallory", "agency": "TX0000000", "roles": ["analyst"]},
        "record_type": record_type,
        "record_ids": record_ids,
        "request_id": request_id or f"r-{seq}",
        "purpose": None,
        "details": {"method": "GET", "path": path},
        **extra,
    }


SEEDED = [
    event(1, "case.read", "case", ["ci-1"], "/api/v1/cases/ci-1/notes"),
    event(2, "case.read", "case", ["inv-1"], "/api/v1/cases/inv-1"),  # investigative: no purpose needed
    event(3, "case.attachment.read", "attachment", ["f-1"], "/api/v1/cases/ci-1/attachments/f-1"),
    event(4, "search.hits", "case", ["inv-1", "ci-2"], "/api/v1/search"),
    event(5, "case.read", "case", ["ci-2"], "/api/v1/cases/ci-2/timeline", request_id="refused"),
    event(6, "case.export", "case", ["ci-2"], "/api/v1/cases/ci-2/export"),
    event(7, "case.read", "case", ["ci-1"], "/api/v1/cases/ci-1/disseminations"),
]


@pytest.fixture
def service():
    service = worker_factory(CasesService, now=lambda: NOW)

    def list_events(filters, cursor, limit):
        if "request_id" in filters:  # was the request refused after it was let in?
            refused = filters["request_id"] == "refused"
            return {"items": [{"outcome": "denied"}] if refused else [{"outcome": "allowed"}], "next_cursor": None}
        return {"items": [e for e in SEEDED if e["action"] in filters["actions"]], "next_cursor": None}

    service.audit_rpc.list_events.side_effect = list_events
    service.store.intelligence_ids.side_effect = lambda ids, scope: set(ids) & INTELLIGENCE
    service.oversight.purged_intelligence_ids.return_value = set()
    return service


def test_C27_every_read_of_intelligence_without_a_purpose_is_listed(service):
    rows = service._reads_without_purpose(NOW, NOW, None)
    assert [(r["seq"], r["action"], r["case_ids"]) for r in rows] == [
        (1, "case.read", ["ci-1"]),
        (3, "case.attachment.read", ["ci-1"]),
        (4, "search.hits", ["ci-2"]),
        (6, "case.export", ["ci-2"]),
        (7, "case.read", ["ci-1"]),
    ]
    assert rows[1]["record_ids"] == ["f-1"] and rows[0]["actor"] == "mallory"


def test_C27_the_report_asks_the_audit_log_for_every_kind_of_read_of_any_record_type(service):
    service._reads_without_purpose(NOW, NOW, None)
    filters = service.audit_rpc.list_events.call_args_list[0].args[0]
    assert set(filters["actions"]) == {"case.read", "case.export", "case.attachment.read", "search.hits"}
    assert filters["purpose_missing"] is True and filters["outcome"] == "allowed" and "record_type" not in filters


@pytest.mark.parametrize(
    "seeded, expected",
    [
        (event(1, "case.attachment.read", "attachment", ["f-9"], "/api/v1/cases/ci-9/attachments/f-9"), {"ci-9"}),
        (event(1, "search.hits", "case", ["a", "b"], "/api/v1/search"), {"a", "b"}),
        (event(1, "case.read", "case", ["c"], "/api/v1/cases/c/evidence/e-1"), {"c"}),
        (event(1, "alert.read", "alert", ["x"], "/api/v1/alerts/x"), set()),
    ],
    ids=["attachment", "search-hits", "evidence", "not-a-case"],
)
def test_C27_the_cases_a_read_touched(seeded, expected):
    assert compliance.read_case_ids(seeded) == expected


# -- the gateway records which cases a search showed -------------------------------------------------

SECRET = "unit-test-secret-of-at-least-32-bytes-long"
HITS = {
    "items": [
        {"type": "case", "id": "ci-2"},
        {"type": "alert", "id": "a-1"},
        {"type": "case", "id": None, "pointer": True},  # an agency contact only (C6): no id shown
        {"type": "case", "id": "inv-1"},
    ],
    "next_cursor": None,
}


class Recorder:
    def __init__(self, answer, fail_on=None):
        self.answer, self.fail_on, self.events = answer, fail_on, []

    def record(self, action, outcome, actor=None, record_type=None, record_ids=(), **fields):
        if action == self.fail_on:
            raise Unavailable("broker down")
        self.events.append((action, outcome, record_type, list(record_ids), fields.get("request_id")))

    def call(self, service, method, *args):
        return self.answer


def search(answer, fail_on=None):
    app = create_app({"STREAM_ENABLED": "false", "DEV_JWT_SECRET": SECRET})
    app.extensions["audit"] = app.extensions["rpc"] = Recorder(answer, fail_on)
    token = mint_dev_token(SECRET, "mallory", ["analyst"], agency="TX0000000", unit="robbery")
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": "req-42"}
    return app, app.test_client().get("/api/v1/search", query_string={"q": "Roe"}, headers=headers)


def test_C27_a_search_that_shows_cases_audits_which_ones():
    app, response = search(HITS)
    assert response.status_code == 200
    assert app.extensions["audit"].events == [
        ("search.query", "allowed", "search", [], "req-42"),
        ("search.hits", "allowed", "case", ["ci-2", "inv-1"], "req-42"),
    ]


def test_C27_a_search_without_case_hits_adds_no_event():
    app, _ = search({"items": [{"type": "alert", "id": "a-1"}], "next_cursor": None})
    assert [e[0] for e in app.extensions["audit"].events] == ["search.query"]


def test_C23_search_hits_that_cannot_be_audited_are_withheld():
    _, response = search(HITS, fail_on="search.hits")
    assert response.status_code == 503 and "ci-2" not in response.get_data(as_text=True)
