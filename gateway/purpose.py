"""Purpose of use (C9, C25): where a request states it, what each endpoint asks of it, what a refusal says.

A request states why it reads (``X-Purpose`` or ``?purpose=``) and for which case or incident
(``X-Case-Number`` or ``?case_number=``). The guard (:mod:`gateway.guards`) refuses a request that
must state them and does not; every audit event records them (:mod:`gateway.audit_trail`).
"""

from dataclasses import dataclass

from flask import request

PURPOSE_HEADER, CASE_NUMBER_HEADER = "X-Purpose", "X-Case-Number"
MAX_PURPOSE, MAX_CASE_NUMBER = 500, 100
PURPOSE_MODES = {
    False: "no purpose asked for (one may still be sent: it is audited)",
    True: "the gateway refuses (400) a request without a purpose and a case number (C9)",
    "purpose": "the gateway refuses (400) a request without a purpose (C25: ALPR queries)",
    "intelligence": "documented, decided by the service per record (C9): a record of criminal intelligence "
    "without a purpose and case number is 400, a list or search leaves intelligence out",
}
NO_PURPOSE = f"state the purpose of use ({PURPOSE_HEADER} header or purpose query field)"
NO_CASE_NUMBER = f"give the case or incident number ({CASE_NUMBER_HEADER} header or case_number query field)"


@dataclass(frozen=True)
class Purpose:
    """The stated purpose of use and the case or incident number it serves (C9)."""

    purpose: str
    case_number: str


def stated() -> tuple[str | None, str | None]:
    """The purpose and case number the request states, stripped; None for a blank one."""
    purpose = request.headers.get(PURPOSE_HEADER) or request.args.get("purpose")
    case_number = request.headers.get(CASE_NUMBER_HEADER) or request.args.get("case_number")
    return (purpose or "").strip() or None, (case_number or "").strip() or None


def missing(case_number_required: bool = True) -> dict[str, list[str]]:
    """What the request's statement lacks, by field (empty when it suffices): a purpose, and unless
    only the purpose is asked for (C25), a case or incident number; each within its length."""
    purpose, case_number = stated()
    errors = {}
    if not purpose:
        errors["purpose"] = [NO_PURPOSE]
    elif len(purpose) > MAX_PURPOSE:
        errors["purpose"] = [f"at most {MAX_PURPOSE} characters"]
    if not case_number and case_number_required:
        errors["case_number"] = [NO_CASE_NUMBER]
    elif case_number and len(case_number) > MAX_CASE_NUMBER:
        errors["case_number"] = [f"at most {MAX_CASE_NUMBER} characters"]
    return errors


def purpose_errors() -> dict[str, list[str]]:
    """The ``errors`` of a C9 refusal decided by a service (it knows the record is intelligence): the
    same field names and messages as :func:`require_purpose`, for whichever of the two is missing."""
    purpose, case_number = stated()
    errors = {} if purpose else {"purpose": [NO_PURPOSE]}
    return errors if case_number else {**errors, "case_number": [NO_CASE_NUMBER]}
