"""Who may act on a case is the token's to say, never the body's: the submitter, review dates, control
officials, holds and purges (issue 16; README "Security", docs/security.md)."""

from datetime import UTC, datetime

import pytest

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
