"""Who may act on a case is the token's to say, never the body's: the submitter, review dates, control
officials, holds and purges (issue 16; README "Security", docs/security.md)."""

from datetime import UTC, datetime

import pytest

from casewire import access as shared
from casewire.errors import InvalidInput
from services.cases import casefile

NOW = datetime(2026, 3, 1, tzinfo=UTC)
NARRATIVE = "An informant saw the driver hand packages to buyers at the Elm St garage on three Fridays. " * 2
CI = {
    "title": "Elm St",
    "classification": "criminal_intelligence",
    "subjects": [{"name": "John Roe"}],
    "offense_category": "narcotics_trafficking",
    "reasonable_suspicion": NARRATIVE,
    "control_official": "lt.vega",
    "source_type": "confidential_informant",
    "obtained_how": "debriefing",
    "sensitivity": "agency_only",
    "source_reliability": "B",
    "content_validity": "2",
}


def ctx(sub="sam", unit="intel", roles=("supervisor",), agency="TX0000000", **extra):
    return {"actor": {"id": sub, "agency": agency, "roles": list(roles)}, "unit": unit, **extra}


@pytest.mark.parametrize("field, value", [("submitter", "someone-else"), ("submitting_agency", "LA0000000")])
def test_C3_the_body_never_names_the_submitter(field, value):
    with pytest.raises(InvalidInput) as error:
        casefile.new_case({**CI, field: value}, ctx(), NOW, 100)
    assert field in error.value.errors


def test_C3_the_submitter_is_the_tokens_sub_and_agency():
    case = casefile.new_case({**CI, "submitter": "sam", "submitting_agency": "TX0000000"}, ctx(), NOW, 100)
    assert (case["submitter"], case["submitting_agency"]) == ("sam", "TX0000000")
    case = casefile.new_case(dict(CI), ctx(sub="ivy"), NOW, 100)
    assert (case["submitter"], case["submitting_agency"]) == ("ivy", "TX0000000")


@pytest.mark.parametrize("unit", [None, "rtcc"])
def test_the_opener_of_a_case_for_another_unit_keeps_access_to_it(unit):
    """The choice made (docs/security.md): opening a case for a unit that is not the caller's assigns
    it to the opener, who can go on working it (link the alert that led to it), never re-assign it."""
    opener = ctx(sub="sam", unit=unit)
    case = casefile.new_case({"title": "Shooting on Main", "unit": "homicide", "classification": "investigative"}, opener, NOW, 100)
    assert case["assignees"] == ["sam"]
    assert shared.case_access(shared.Caller.from_context(opener), case) is shared.Access.ALLOWED
    own = casefile.new_case({"title": "Shooting on Main", "unit": "rtcc", "classification": "investigative"}, ctx(unit="rtcc"), NOW, 100)
    assert own["assignees"] == []


def test_C3_criminal_intelligence_is_submitted_by_a_unit():
    with pytest.raises(InvalidInput) as error:
        casefile.new_case({**CI, "unit": "intel"}, ctx(unit=None), NOW, 100)
    assert "unit" in error.value.errors
