"""The rules a case obeys: its status workflow, the criminal intelligence gate and who may see it.

Requirement ids (docs/compliance.md) are cited where a rule comes from one: C2 (what a criminal intelligence record
needs), C3 (pending review), C4 (protected views), C5 (labels), C6 (restricted records), C7 (a
sensor hit is no predicate), C9 (purpose), C13 (review at most five years out).
"""

from datetime import datetime, timedelta
from itertools import pairwise

from casewire import access_rules as shared
from casewire.contracts.case_inputs import TRANSITIONS
from casewire.errors import Conflict, InvalidInput

CRIMINAL_INTELLIGENCE = "criminal_intelligence"
INVESTIGATIVE = "investigative"
IDENTIFYING = "identifying"
REVIEW_PERIOD = timedelta(days=5 * 365 + 1)  # five years, a leap day included (C13)
DEFAULT_MIN_SUSPICION_CHARS = 100


# C11: edits that move a case along rather than correct what it says (recipients are not told of them).
NOT_CORRECTIONS = frozenset({"status", "assignees", "priority"})
# C11: what added to a disseminated case changes the case file its recipients hold, so it counts as a
# correction. Tasks (who does what next) and custody transfers (an item already in the file changing
# hands) move the case along instead, like the edits above.
CORRECTING_ADDITIONS = frozenset({"notes", "reports", "interviews", "evidence", "attachments"})

# C2 and C5: each is required on criminal intelligence and named when missing.
CI_REQUIRED = (
    "subjects",
    "offense_category",
    "reasonable_suspicion",
    "submitter",
    "submitting_agency",
    "control_official",
    "source_type",
    "obtained_how",
    "sensitivity",
    "source_reliability",
    "content_validity",
)


def check_transition(current: str, wanted: str) -> None:
    """Raise Conflict unless ``current → wanted`` is in the workflow."""
    if wanted not in TRANSITIONS.get(current, set()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, set()))) or "nothing"
        raise Conflict(f"a case cannot go from {current} to {wanted}; from {current} it may go to {allowed}")


def ci_errors(case: dict, min_chars: int) -> dict:
    """C2 and C5: every missing or unacceptable field of a criminal intelligence record, by name."""
    errors = {}
    for field in CI_REQUIRED:
        value = case.get(field)
        if value in (None, "", []):
            errors[field] = [f"criminal intelligence needs {field}"]
    narrative = (case.get("reasonable_suspicion") or "").strip()
    if narrative and len(narrative) < min_chars:
        errors["reasonable_suspicion"] = [
            f"the reasonable-suspicion narrative must state the criminal predicate in at least {min_chars} characters"
        ]
    return errors


def protected_views_errors(case: dict) -> dict:
    """C4: political, religious or social views only when a field ties them to the criminal conduct."""
    if case.get("protected_views") and not (case.get("protected_views_link") or "").strip():
        return {
            "protected_views_link": [
                "information about political, religious or social views or associations is refused "
                "unless this field ties it to the criminal conduct"
            ]
        }
    return {}


def sensor_predicate_errors(narrative: str | None, alert: dict, min_chars: int) -> dict:
    """C7: promoting a sensor hit into criminal intelligence needs its own narrative, not the hit."""
    text = (narrative or "").strip()
    hit_text = {
        (value or "").strip().lower()
        for value in (
            alert.get("notes"),
            (alert.get("payload") or {}).get("hotlist_reason"),
            (alert.get("payload") or {}).get("narrative"),
        )
        if value
    }
    message = (
        f"a {alert.get('source', 'sensor')} hit alone is not reasonable suspicion: state the criminal predicate "
        f"in your own words (at least {min_chars} characters)"
    )
    if len(text) < min_chars or text.lower() in hit_text:
        return {"reasonable_suspicion": [message]}
    return {}


def custody_errors(chain: list[dict]) -> dict:
    """A new item's chain, checked whole before anything is stored: each transfer starts where the last ended."""
    errors = {}
    for index, (before, entry) in enumerate(pairwise(chain), start=1):
        if entry["from_"] != before["to"]:
            errors[f"custody.{index}.from"] = [
                f"the item was with {before['to']}: a transfer starts where the last ended"
            ]
        if entry["at"] < before["at"]:
            errors[f"custody.{index}.at"] = ["a transfer cannot come before the one it follows"]
    return errors


def review_due_errors(review_due: datetime | None, base: datetime) -> dict:
    """C13: review at most five years after submission or the last validation."""
    if review_due is not None and review_due > base + REVIEW_PERIOD:
        limit = (base + REVIEW_PERIOD).date().isoformat()
        return {"review_due": [f"review_due may be at most five years after {base.date().isoformat()} ({limit})"]}
    return {}


def past_review_due_errors(review_due: datetime | None, now: datetime) -> dict:
    """A review date a person sets lies ahead: one in the past would purge the record at once (C15)."""
    if review_due is not None and review_due <= now:
        return {"review_due": ["review_due must lie in the future"]}
    return {}


def acting_errors(data: dict, actor: dict) -> dict:
    """C3: who submitted a record, and for which agency, is the token's ``sub`` and ``agency``. A body may
    repeat them; one naming anyone else is refused (a supervisor could otherwise name a submitter and
    approve the record themselves)."""
    errors = {}
    for field, key in (("submitter", "id"), ("submitting_agency", "agency")):
        if field in data and data[field] != actor.get(key):
            errors[field] = [f"the {field.replace('_', ' ')} is the caller's (the token's {key}), never the body's"]
    return errors


def identifying_errors(data: dict, parent: dict) -> dict:
    """C8: identifying information attaches to a subject of approved criminal intelligence, never makes one."""
    errors = {}
    if data.get("subjects"):
        errors["subjects"] = ["identifying information never creates a criminal intelligence subject"]
    if parent.get("classification") != CRIMINAL_INTELLIGENCE or parent.get("review_state") != "approved":
        errors["attached_to"] = ["identifying information attaches only to approved criminal intelligence"]
        return errors
    names = {
        value for subject in parent.get("subjects") or [] for value in (subject.get("name"), subject.get("entity_id"))
    }
    if data.get("attached_subject") not in names - {None}:
        errors["attached_subject"] = ["name a subject (name or entity id) of the criminal intelligence record"]
    return errors


def raise_if(errors: dict, message: str) -> None:
    if errors:
        raise InvalidInput(message, errors)


def is_system(context: dict | None) -> bool:
    """Calls from other services carry no end-user actor."""
    return not context or not (context.get("actor") or {}).get("roles")


def hidden_from(case: dict, context: dict | None) -> str | None:
    """Why the caller may not see ``case`` (None if they may). ``"secret"`` means answer 404.

    The rule is :func:`casewire.access_rules.case_access` (shared with the gateway, search and the stream):
    the unit and the assignees read a case; criminal intelligence pending review (C3) only its
    submitting unit, restricted or unlabelled (C6) only its unit. Roles are the gateway's to check.
    """
    if is_system(context):
        return None
    access = shared.case_access(shared.Caller.from_context(context), case, check_role=False)
    return {shared.Access.ALLOWED: None, shared.Access.HIDDEN: "secret"}.get(access, "forbidden")


def contact_of(case: dict) -> str | None:
    """C6: whom to ask about ``agency_only`` intelligence one may not open: its agency and control official."""
    if case.get("classification") != CRIMINAL_INTELLIGENCE or case.get("sensitivity") != "agency_only":
        return None
    return f"{case.get('agency')}: control official {case.get('control_official')}"


# PATCH fields that change who may see a case, who hears of hits on it (C6) or when it is reviewed and
# purged (C13, C15): only a supervisor of the owning unit edits them, with a reason, and each change is
# audited as its own action (docs/security.md, "Who may change what").
SUPERVISED_EDITS = {
    "unit": "case.move",
    "sensitivity": "case.relabel",
    "control_official": "case.control_official",
    "review_due": "case.reschedule",
}


def edit_refusal(case: dict, changes: dict, context: dict | None) -> str | None:
    """Why the caller may not make ``changes`` to ``case`` (None if they may).

    Moving a case to another unit or changing its sensitivity is a supervisor's act in the owning unit;
    changing its assignees is the owning unit's. An outside assignee reads and works the case but never
    hands it to someone else, moves it into their own unit or lowers its labels.
    """
    if is_system(context):
        return None
    actor = context.get("actor") or {}
    in_unit = context.get("unit") == case.get("unit") and actor.get("agency") == case.get("agency")
    if set(changes) & set(SUPERVISED_EDITS) and not (in_unit and "supervisor" in (actor.get("roles") or [])):
        return (
            "only a supervisor of the owning unit moves a case to another unit or changes its sensitivity, "
            "control official or review date"
        )
    if "assignees" in changes and not in_unit:
        return "only the owning unit assigns a case"
    return None


def lacks_purpose(case: dict, context: dict | None) -> bool:
    """C9: criminal intelligence is read only for a stated purpose and a case or incident number."""
    if case.get("classification") != CRIMINAL_INTELLIGENCE or is_system(context):
        return False
    return not shared.states_purpose(context)
