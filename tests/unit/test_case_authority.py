"""Who may act on a case is the token's to say, never the body's: the submitter, review dates, control
officials, holds and purges (issue 16; docs/security.md)."""

from datetime import UTC, datetime

import pytest

from casewire import access_rules as shared
from casewire.errors import InvalidInput
from services.cases import casefile, retention, rules

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
    shooting = {"title": "Shooting on Main", "unit": "homicide", "classification": "investigative"}
    case = casefile.new_case(shooting, opener, NOW, 100)
    assert case["assignees"] == ["sam"]
    assert shared.case_access(shared.Caller.from_context(opener), case) is shared.Access.ALLOWED
    own = casefile.new_case({**shooting, "unit": "rtcc"}, ctx(unit="rtcc"), NOW, 100)
    assert own["assignees"] == []


def test_C3_criminal_intelligence_is_submitted_by_a_unit():
    with pytest.raises(InvalidInput) as error:
        casefile.new_case({**CI, "unit": "intel"}, ctx(unit=None), NOW, 100)
    assert "unit" in error.value.errors


CASE = {"_id": "c1", "unit": "intel", "agency": "TX0000000", **CI, "review_state": "approved"}


@pytest.mark.parametrize(
    "change", [{"review_due": datetime(2026, 6, 1, tzinfo=UTC)}, {"control_official": "det.rogue"}]
)
def test_C6_C17_only_a_supervisor_of_the_owning_unit_moves_a_review_date_or_the_control_official(change):
    assert rules.edit_refusal(CASE, change, ctx(sub="ann", roles=("analyst",)))
    assert rules.edit_refusal(CASE, change, ctx(sub="sue", unit="robbery"))
    assert rules.edit_refusal(CASE, change, ctx(sub="sue", agency="LA0000000"))
    assert rules.edit_refusal(CASE, change, ctx()) is None


def test_C15_C17_a_review_date_in_the_past_is_refused():
    assert "review_due" in rules.past_review_due_errors(datetime(2001, 1, 1, tzinfo=UTC), NOW)
    with pytest.raises(InvalidInput) as error:
        casefile.new_case({**CI, "review_due": datetime(2001, 1, 1, tzinfo=UTC)}, ctx(), NOW, 100)
    assert "review_due" in error.value.errors


def test_C17_a_review_date_moved_earlier_brings_the_review_forward_not_the_automatic_purge():
    case = casefile.new_case({**CI, "review_due": datetime(2027, 3, 1, tzinfo=UTC)}, ctx(), NOW, 100)
    moved = {**case, "review_due": datetime(2026, 4, 1, tzinfo=UTC)}
    assert not retention.purgeable_by_timer(moved, datetime(2026, 5, 1, tzinfo=UTC))
    assert retention.purgeable_by_timer(moved, datetime(2027, 3, 1, tzinfo=UTC))
    later = {**case, "review_due": datetime(2028, 3, 1, tzinfo=UTC)}
    assert not retention.purgeable_by_timer(later, datetime(2027, 6, 1, tzinfo=UTC))


def test_C16_the_tombstone_keeps_who_set_the_review_dates_without_any_text():
    history = [
        {"action": "created", "actor": "ivy", "at": NOW, "detail": None},
        {"action": "updated", "actor": "ivy", "at": NOW, "detail": {"fields": ["summary"]}},
        {
            "action": "reschedule",
            "actor": "sam",
            "at": NOW,
            "detail": {"from": NOW, "to": datetime(2026, 4, 1, tzinfo=UTC), "reason": "the subject moved away"},
        },
    ]
    stone = retention.tombstone(CASE, "hash", "C15", "system", NOW, True, history)
    assert stone["review_trail"] == [
        {"action": "created", "actor": "ivy", "at": NOW},
        {"action": "reschedule", "actor": "sam", "at": NOW, "from": NOW, "to": datetime(2026, 4, 1, tzinfo=UTC)},
    ]
    assert "moved away" not in str(stone)
