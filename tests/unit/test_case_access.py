"""Per-record access: who reads which case (casewire/access_rules.py, as the gateway asks it), and C6's "what a miss
returns"."""

import pytest

from casewire import access_rules as shared
from casewire.access_rules import Access, Visibility
from gateway.auth import Identity


def who(*roles, sub="dana", unit="homicide", agency="TX0000000"):
    return Identity(sub=sub, name=sub, roles=tuple(roles), agency=agency, unit=unit)


def case(**overrides):
    base = {
        "id": "c1",
        "unit": "homicide",
        "agency": "TX0000000",
        "assignees": [],
        "record_class": "investigative",
        "classification": "investigative",
    }
    return {**base, **overrides}


def intelligence(sensitivity="agency_only", review_state="approved", **overrides):
    return case(
        record_class="criminal_intelligence",
        classification="criminal_intelligence",
        sensitivity=sensitivity,
        review_state=review_state,
        unit="gangs",
        **overrides,
    )


@pytest.mark.parametrize(
    "identity, record, expected",
    [
        (who("detective"), case(), Access.ALLOWED),  # own unit
        (who("analyst", unit="rtcc"), case(), Access.FORBIDDEN),  # another unit
        (who("analyst", unit="rtcc"), case(assignees=["dana"]), Access.ALLOWED),  # assigned
        (who("supervisor"), case(), Access.ALLOWED),
        (who("supervisor", unit="robbery"), case(), Access.FORBIDDEN),  # supervisors: their own unit
        (who("detective", agency="LA0000000"), case(), Access.FORBIDDEN),  # same unit name, other agency
        (who("detective", agency=None), case(), Access.FORBIDDEN),  # no agency claim: not a member
        (who("detective"), case(agency=None), Access.FORBIDDEN),  # no agency is not every agency
        (who("detective", agency=None), case(agency=None), Access.ALLOWED),
        (who("detective", unit=None), case(), Access.FORBIDDEN),
        (who("auditor"), case(), Access.FORBIDDEN),
        (who("admin"), case(), Access.FORBIDDEN),
        (who("source"), case(), Access.FORBIDDEN),
    ],
)
def test_investigative_cases_are_read_by_their_unit_and_assignees(identity, record, expected):
    assert shared.case_access(identity.caller(), record) is expected


@pytest.mark.parametrize(
    "identity, record, expected",
    [
        (who("analyst", unit="gangs"), intelligence("restricted"), Access.ALLOWED),
        (who("analyst"), intelligence("restricted"), Access.HIDDEN),
        (who("analyst", sub="al"), intelligence("restricted", assignees=["al"]), Access.HIDDEN),
        (who("supervisor"), intelligence("restricted"), Access.HIDDEN),
        (who("analyst"), intelligence(None), Access.HIDDEN),  # no label: fail closed as restricted
        (who("analyst"), intelligence("agency_only"), Access.FORBIDDEN),
        (who("analyst", sub="al"), intelligence("agency_only", assignees=["al"]), Access.ALLOWED),
        (who("analyst"), intelligence("open"), Access.FORBIDDEN),
    ],
)
def test_C6_restricted_intelligence_is_hidden_outside_its_controlling_unit(identity, record, expected):
    assert shared.case_access(identity.caller(), record) is expected


@pytest.mark.parametrize("review_state", ["pending_review", None])
def test_C3_unapproved_intelligence_is_seen_only_by_its_submitting_unit(review_state):
    record = intelligence("open", review_state=review_state, assignees=["al"])
    assert shared.case_access(who("detective", unit="gangs").caller(), record) is Access.ALLOWED
    assert shared.case_access(who("supervisor", unit="gangs").caller(), record) is Access.ALLOWED
    assert shared.case_access(who("detective", sub="al").caller(), record) is Access.HIDDEN
    assert shared.case_access(who("supervisor").caller(), record) is Access.HIDDEN


@pytest.mark.parametrize(
    "identity, record, expected",
    [
        (who("analyst"), case(), Visibility.FULL),
        (who("analyst", unit="rtcc"), case(), Visibility.NONE),  # another unit's case: as search does, not shown
        (who("analyst"), intelligence("open"), Visibility.CONTACT),  # approved open intelligence: a pointer
        (who("analyst", agency="LA0000000"), case(), Visibility.NONE),
        (who("analyst"), intelligence("restricted"), Visibility.NONE),
        (who("analyst"), intelligence("agency_only"), Visibility.CONTACT),
        (who("analyst", agency="LA0000000"), intelligence("agency_only"), Visibility.NONE),  # its agency only
        (who("analyst", agency="LA0000000"), intelligence("open"), Visibility.CONTACT),  # open: every agency
        (who("analyst"), intelligence("open", review_state="pending_review"), Visibility.NONE),
        (who("admin"), case(), Visibility.NONE),
    ],
)
def test_C6_search_hits_show_full_contact_or_nothing(identity, record, expected):
    assert shared.hit_visibility(identity.caller(), record) is expected


@pytest.mark.parametrize(
    "alert,caller,visible",
    [
        ({"agency": "TX0000000"}, who("analyst"), True),
        ({"agency": None}, who("analyst"), False),
        ({"agency": "OK0000000"}, who("analyst"), False),
        ({"agency": "OK0000000", "assignee": "dana"}, who("analyst"), True),
        ({"agency": "OK0000000", "assignee": "erin"}, who("supervisor"), False),
        ({"agency": "TX0000000"}, who("analyst", agency=None), False),
        ({}, who("analyst", agency=None), True),
    ],
    ids=["own-agency", "no-agency", "other-agency", "assigned-to-caller", "assigned-to-another", "caller-agencyless",
         "both-agencyless"],
)  # fmt: skip
def test_an_alert_is_its_agencys_and_its_assignees(alert, caller, visible):
    assert shared.alert_visible(caller.caller(), alert) is visible
