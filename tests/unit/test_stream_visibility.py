"""Who sees what on the stream: by agency for alerts, by unit and assignment for cases, links cut to both."""

import pytest

from gateway.auth import Identity
from gateway.visibility import Visibility

CASES = {
    "c-homicide": {"unit": "homicide", "agency": "TX0000000", "assignees": ["dora"]},
    "c-burglary": {"unit": "burglary", "agency": "TX0000000", "assignees": []},
}
ALERTS = {"a-1": {"agency": "TX0000000"}, "a-other": {"agency": "LA0000000"}}


def user(sub="ann", agency="TX0000000", unit="rtcc"):
    identity = Identity(sub=sub, name=sub, roles=("analyst",), agency=agency, unit=unit)
    return Visibility(identity, CASES.get, ALERTS.get)


LINK = {
    "alert_id": "a-new",
    "occurred_at": "2026-03-18T08:02:00+00:00",
    "agency": "TX0000000",
    "unit": "rtcc",
    "related": [
        {"record_type": "alert", "id": "a-1", "agency": "TX0000000", "shared_entities": []},
        {"record_type": "alert", "id": "a-other", "agency": "LA0000000", "shared_entities": []},
        {"record_type": "case", "id": "c-homicide", "agency": "TX0000000", "shared_entities": []},
        {"record_type": "case", "id": "c-unknown", "agency": "TX0000000", "shared_entities": []},
    ],
}


def ids(view):
    return [record["id"] for record in view["related"]] if view else None


def test_alerts_reach_their_agency_as_notices_without_the_payload():
    event = {"alert_id": "a-1", "agency": "TX0000000", "source": "alpr", "payload": {"plate": "KGT4471"}}
    assert user().view("alert_received", event) == {"alert_id": "a-1", "source": "alpr"}
    assert user(agency="LA0000000").view("alert_received", event) is None
    assert user(agency="LA0000000").view("alert_received", {**event, "agency": None}) is None
    assert user(agency=None).view("alert_received", {**event, "agency": None}) is not None


def test_a_link_reaches_the_agency_cut_to_what_each_user_may_see():
    assert ids(user().view("link_found", LINK)) == ["a-1"]
    assert ids(user(sub="dora", unit="homicide").view("link_found", LINK)) == ["a-1", "c-homicide"]
    assert user(agency="LA0000000").view("link_found", LINK) is None


def test_a_link_reaches_the_assignee_of_a_related_case_in_another_unit():
    only_case = {**LINK, "related": [LINK["related"][2]]}
    assert user(sub="dora", unit="patrol").view("link_found", only_case) is not None
    assert user(sub="ann", unit="patrol").view("link_found", only_case) is None
    assert user(sub="hal", unit="homicide").view("link_found", only_case) is not None


@pytest.mark.parametrize(
    "sub,unit,agency,seen",
    [
        ("dora", "patrol", "TX0000000", True),  # assignee
        ("hal", "homicide", "TX0000000", True),  # the case's unit
        ("hal", "homicide", "LA0000000", False),  # same unit name, another agency
        ("ann", "rtcc", "TX0000000", False),
    ],
)
def test_case_updates_reach_the_unit_and_the_assignees(sub, unit, agency, seen):
    event = {"case_id": "c-homicide", "title": "t", "summary": "secret", "status": "open", **CASES["c-homicide"]}
    view = user(sub=sub, unit=unit, agency=agency).view("case_updated", event)
    assert (view is not None) is seen
    if view:
        assert "summary" not in view


def test_assignments_by_agency_or_to_the_assignee_looked_up_when_the_event_lacks_an_agency():
    assert user().view("alert_assigned", {"alert_id": "a-1", "assignee": "bob"}) is not None
    assert user().view("alert_assigned", {"alert_id": "a-other", "assignee": "bob"}) is None
    assert user(sub="bob").view("alert_assigned", {"alert_id": "a-other", "assignee": "bob"}) is not None
    assert user().view("alert_overdue", {"alert_id": "a-gone"}) is None
    assert user().view("something_else", {"alert_id": "a-1"}) is None


RESTRICTED = {
    "unit": "narcotics",
    "agency": "TX0000000",
    "assignees": ["olga"],
    "classification": "criminal_intelligence",
    "sensitivity": "restricted",
    "review_state": "approved",
}


@pytest.mark.parametrize(
    "case_id,assignee,sub,unit,agency,seen",
    [
        ("c-homicide", "bob", "bob", "patrol", "TX0000000", True),  # the assignee, before the cache knows it
        ("c-homicide", "bob", "hal", "homicide", "TX0000000", True),  # the case's unit
        ("c-homicide", "bob", "dora", "patrol", "TX0000000", True),  # an earlier assignee
        ("c-homicide", "bob", "ann", "rtcc", "TX0000000", False),
        ("c-homicide", "bob", "bob", "patrol", "LA0000000", False),  # a namesake in another agency
        ("c-restricted", "olga", "olga", "homicide", "TX0000000", False),  # C6: as if absent outside its unit
        ("c-restricted", "olga", "nate", "narcotics", "TX0000000", True),
        ("c-unknown", "bob", "bob", "patrol", "TX0000000", False),  # unknown case: fail closed
    ],
)
def test_case_assigned_reaches_the_assignee_or_whoever_may_see_the_case(case_id, assignee, sub, unit, agency, seen):
    cases = {**CASES, "c-restricted": RESTRICTED}
    identity = Identity(sub=sub, name=sub, roles=("detective",), agency=agency, unit=unit)
    event = {"case_id": case_id, "title": "Pharmacy burglaries", "unit": "homicide", "assignee": assignee}
    event |= {"assigned_by": "sam", "at": "2026-03-18T08:02:00+00:00", "version": 4, "summary": "not streamed"}
    view = Visibility(identity, cases.get, ALERTS.get, purpose=True).view("case_assigned", event)
    assert (view is not None) is seen
    if view:
        assert "summary" not in view and view["assignee"] == assignee and view["case_id"] == case_id


INTELLIGENCE = {
    "case_id": "c-intel",
    "title": "Eastside crew: Zebulon Q. distributes fentanyl",
    "status": "open",
    "classification": "criminal_intelligence",
    "sensitivity": "agency_only",
    "review_state": "approved",
    "unit": "rtcc",
    "agency": "TX0000000",
    "assignees": [],
}


def test_C9_criminal_intelligence_titles_reach_only_a_stream_opened_with_a_purpose():
    cases = {"c-intel": INTELLIGENCE}
    identity = Identity(sub="ann", name="ann", roles=("analyst",), agency="TX0000000", unit="rtcc")
    without, stated = (Visibility(identity, cases.get, ALERTS.get, purpose=purpose) for purpose in (False, True))
    assignment = {"case_id": "c-intel", "title": INTELLIGENCE["title"], "unit": "rtcc", "assignee": "ann"}
    link = {**LINK, "related": [{"record_type": "case", "id": "c-intel", "agency": "TX0000000"}]}
    for event_type, payload in (("case_updated", INTELLIGENCE), ("case_assigned", assignment), ("link_found", link)):
        assert without.view(event_type, payload) is None, event_type
        assert stated.view(event_type, payload) is not None, event_type
