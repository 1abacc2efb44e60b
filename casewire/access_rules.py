"""Who may open which case or alert: the rules the gateway, the cases service, search and the stream share.

Alerts (:func:`alert_visible`) belong to the agency of the token that submitted them: a caller sees its
agency's alerts and any alert assigned to it. A record without an agency belongs to no agency: only
callers whose token names none (a deployment without agency claims) see it, never every agency.

Cases:

docs/security.md states it; C3, C6 and C9 (docs/compliance.md) are where it comes from:

1. Only analysts, detectives and supervisors read cases (the gateway's permission table decides the
   rest; services called without an end user's roles skip this step).
2. Criminal intelligence not yet approved (C3) is seen only by its submitting unit (``submitting_unit``,
   or ``unit`` when none was recorded) in its agency: anyone else, even an assignee, gets HIDDEN.
3. The owning unit (``unit``) in the case's agency reads it.
4. ``restricted`` criminal intelligence, or intelligence without a sensitivity label (failing closed),
   is seen only by its unit: anyone else gets HIDDEN, exactly what a miss returns (C6).
5. An assignee reads it (``assignees`` holds user ids).
6. Anyone else: FORBIDDEN (403).

A search hit (:func:`hit_visibility`) shows in FULL what the caller may open; approved ``open``
intelligence they may not open shows only its agency contact (C6, a pointer), ``agency_only`` only to
its own agency's people; anything else, other units' investigative cases and another agency's
``agency_only`` intelligence included, is left out (NONE), as if it did not exist. Reading or
searching criminal intelligence also needs a stated purpose and case number (:func:`states_purpose`, C9).

``services/search/access_filters.py`` writes the same rule as Elasticsearch filters;
``tests/integration/test_access_agreement.py`` proves all of them agree on a table of callers and cases.
"""

from dataclasses import dataclass
from enum import StrEnum

CASE_READERS = frozenset({"analyst", "detective", "supervisor"})
CRIMINAL_INTELLIGENCE = "criminal_intelligence"
SHAREABLE = ("open", "agency_only")  # approved intelligence an assignee outside its unit may open
APPROVED = "approved"


class Access(StrEnum):
    """How a caller stands towards one case."""

    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"  # 403: the caller may know the case exists, not read it
    HIDDEN = "hidden"  # 404, exactly what a miss returns (C3, C6)


class Visibility(StrEnum):
    """How much of a case a search hit may show."""

    FULL = "full"
    CONTACT = "contact"  # only that it exists and whom to ask: its agency contact (C6)
    NONE = "none"  # left out of the results, as if it did not exist


@dataclass(frozen=True)
class Caller:
    """The person asking: user id, agency (ORI), unit and roles."""

    id: str | None
    agency: str | None
    unit: str | None
    roles: tuple[str, ...] = ()

    @classmethod
    def from_context(cls, context: dict | None) -> "Caller":
        """From a request context ``{"actor": {"id", "agency", "roles"}, "unit", ...}``."""
        actor = (context or {}).get("actor") or {}
        return cls(actor.get("id"), actor.get("agency"), (context or {}).get("unit"), tuple(actor.get("roles") or ()))


def alert_visible(caller: Caller, alert: dict) -> bool:
    """Whether ``caller`` may read and triage ``alert`` (an alert as intake stores or returns it)."""
    if same_agency(caller, alert.get("agency")):
        return True
    return bool(caller.id) and alert.get("assignee") == caller.id


def same_agency(caller: Caller, agency: str | None) -> bool:
    """Whether a record of ``agency`` is the caller's agency's; no agency is nobody's but the agencyless'."""
    return agency == caller.agency


def is_intelligence(case: dict) -> bool:
    return CRIMINAL_INTELLIGENCE in (case.get("classification"), case.get("record_class"))


def _in_agency(caller: Caller, case: dict) -> bool:
    return same_agency(caller, case.get("agency"))


def _member_of(caller: Caller, unit: str | None, case: dict) -> bool:
    return bool(caller.unit) and caller.unit == unit and _in_agency(caller, case)


def submitting_unit(case: dict) -> str | None:
    return case.get("submitting_unit") or case.get("unit")


def case_access(caller: Caller, case: dict, check_role: bool = True) -> Access:
    """Whether ``caller`` may read ``case`` (a case as the cases service stores or announces it).

    Fields used: ``unit``, ``agency``, ``assignees``, ``classification`` (or ``record_class``), and for
    criminal intelligence ``review_state``, ``sensitivity`` and ``submitting_unit``. ``check_role=False``
    leaves step 1 to the gateway's permission table (the cases service).
    """
    if check_role and not CASE_READERS & set(caller.roles):
        return Access.FORBIDDEN
    intelligence = is_intelligence(case)
    if intelligence and case.get("review_state") != APPROVED:
        return Access.ALLOWED if _member_of(caller, submitting_unit(case), case) else Access.HIDDEN
    if _member_of(caller, case.get("unit"), case):
        return Access.ALLOWED
    if intelligence and case.get("sensitivity") not in SHAREABLE:
        return Access.HIDDEN
    return Access.ALLOWED if caller.id and caller.id in (case.get("assignees") or []) else Access.FORBIDDEN


def hit_visibility(caller: Caller, case: dict) -> Visibility:
    """What a search hit on ``case`` may show ``caller`` (who stated a purpose where intelligence needs one)."""
    access = case_access(caller, case)
    if access is Access.ALLOWED:
        return Visibility.FULL
    if access is Access.FORBIDDEN and CASE_READERS & set(caller.roles) and is_intelligence(case):
        # approved open or agency_only intelligence (everything else is HIDDEN); agency_only points
        # only its own agency's people to its control official, open every agency's
        if case.get("sensitivity") == "open" or _in_agency(caller, case):
            return Visibility.CONTACT
    return Visibility.NONE


def states_purpose(context: dict | None) -> bool:
    """C9: a purpose of use and a case or incident number were stated."""
    context = context or {}
    return bool((context.get("purpose") or "").strip() and (context.get("case_number") or "").strip())
