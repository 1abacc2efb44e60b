"""C3, C6: the gateway, the cases service, search (as Elasticsearch filters) and the stream agree on who
sees which case, for every caller × case of a table, against the one rule in casewire/access_rules.py."""

import itertools
import uuid

import pytest

from casewire import access_rules, events
from gateway.auth import Identity
from gateway.visibility import Visibility as StreamView
from services.cases import rules
from services.search import access_filters as search_access
from services.search import indexing
from services.search.dependencies import SearchIndex

CI = "criminal_intelligence"
PURPOSE = {"purpose": "robbery series", "case_number": "HPD-2026-7"}

CALLERS = {
    "gangs detective": ("dana", "TX1", "gangs", "detective"),
    "gangs supervisor": ("gus", "TX1", "gangs", "supervisor"),
    "rtcc analyst (submitter's unit)": ("rita", "TX1", "rtcc", "analyst"),
    "homicide assignee": ("al", "TX1", "homicide", "detective"),
    "homicide stranger": ("pat", "TX1", "homicide", "detective"),
    "gangs of another agency": ("lou", "LA1", "gangs", "detective"),
    "assignee of another agency": ("al", "LA1", "robbery", "analyst"),
    "no unit": ("nu", "TX1", None, "analyst"),
}


def cases() -> list[dict]:
    table = [{"classification": "investigative"}, {"classification": "investigative", "agency": None}]
    for review, sensitivity in itertools.product(
        ("pending_review", "approved"), ("open", "agency_only", "restricted", None)
    ):
        table.append({"classification": CI, "review_state": review, "sensitivity": sensitivity})
        table.append(
            {"classification": CI, "review_state": review, "sensitivity": sensitivity, "submitting_unit": "rtcc"}
        )
    built = []
    for fields in table:
        case = {"unit": "gangs", "agency": "TX1", "assignees": ["al"], **fields}
        case["_id"] = case["id"] = uuid.uuid4().hex
        case["record_class"] = case["classification"]
        built.append(case)
    return built


def context_of(who: str) -> dict:
    sub, agency, unit, role = CALLERS[who]
    return {"actor": {"id": sub, "agency": agency, "roles": [role]}, "unit": unit, **PURPOSE}


def identity_of(who: str) -> Identity:
    sub, agency, unit, role = CALLERS[who]
    return Identity(sub=sub, name=sub, roles=(role,), agency=agency, unit=unit)


def event_of(case: dict) -> dict:
    return events.CaseUpdated().load(
        {
            "case_id": case["id"],
            "title": "Case",
            "status": "open",
            "classification": case["classification"],
            "sensitivity": case.get("sensitivity"),
            "review_state": case.get("review_state"),
            "submitting_unit": case.get("submitting_unit"),
            "unit": case["unit"],
            "agency": case.get("agency"),
            "assignees": case["assignees"],
            "opened_at": "2026-03-01T00:00:00+00:00",
            "updated_at": "2026-03-01T00:00:00+00:00",
            "version": 1,
        }
    )


@pytest.fixture(scope="module")
def indexed(es, run_id):
    index = SearchIndex(es, f"test-{run_id}-access{uuid.uuid4().hex[:6]}")
    index.ensure_indices()
    table = cases()
    for case in table:
        indexing.index_case(index, event_of(case))
    index.refresh("cases")
    return index, table


def search_ids(index: SearchIndex, table: list[dict], query: dict) -> set[str]:
    body = {"bool": {"filter": [{"ids": {"values": [c["id"] for c in table]}}, query]}}
    return {hit["_id"] for hit in index.search("cases", query=body, size=100)["hits"]["hits"]}


@pytest.mark.parametrize("who", list(CALLERS))
def test_C3_C6_every_implementation_agrees_with_the_one_rule(indexed, who):
    """Each implementation's own logic over one table of cases: search's filters meet the cases as
    hand-made ``case_updated`` events indexed by its handler, since the table holds every combination
    of labels, most of which no single walk through the API makes. Cases made through the API are
    checked where the user sees them in tests/e2e/test_entities_visibility.py and
    tests/e2e/test_search_access.py."""
    index, table = indexed
    context, identity = context_of(who), identity_of(who)
    caller = access_rules.Caller.from_context(context)
    full = search_ids(index, table, search_access.case_filter(context))
    contact = search_ids(index, table, search_access.pointer_filter(context))
    stream = StreamView(identity, lambda _: None, lambda _: None, purpose=True)  # the callers state one
    for case in table:
        rule = access_rules.case_access(caller, case)
        keys = ("classification", "review_state", "sensitivity", "submitting_unit", "agency")
        label = f"{who} x {[case.get(k) for k in keys]}"
        assert access_rules.case_access(identity.caller(), case) is rule, label
        assert (
            rules.hidden_from(case, context) == {"allowed": None, "hidden": "secret", "forbidden": "forbidden"}[rule]
        ), label
        assert stream.case_visible(case) is (rule is access_rules.Access.ALLOWED), label
        seen = access_rules.hit_visibility(caller, case)
        assert access_rules.hit_visibility(identity.caller(), case) is seen, label
        in_search = "full" if case["id"] in full else "contact" if case["id"] in contact else "none"
        assert in_search == seen.value, label


def test_the_table_covers_every_outcome():
    outcomes = {
        (
            access_rules.case_access(access_rules.Caller.from_context(context_of(who)), case),
            access_rules.hit_visibility(access_rules.Caller.from_context(context_of(who)), case),
        )
        for who in CALLERS
        for case in cases()
    }
    assert {a for a, _ in outcomes} == set(access_rules.Access)
    assert {v for _, v in outcomes} == set(access_rules.Visibility)
