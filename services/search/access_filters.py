"""Who may see what, as Elasticsearch filters: search never shows a record the caller cannot open.

The caller is the gateway's request context: ``{"actor": {"id", "agency", "roles"}, "unit",
"purpose", "case_number"}``. The rules, applied inside every query (never after it):

- alerts: the caller's agency (a record without an agency only for callers without one), and those
  assigned to the caller;
- cases: :func:`casewire.access_rules.case_access` written as filters (the one rule the gateway, the cases
  service and the stream use; docs/security.md): intelligence pending review only its submitting unit
  (C3); otherwise the owning unit in its agency and the assignees, but ``restricted`` or unlabelled
  intelligence only its unit (C6, failing closed); criminal intelligence at all only when the search
  states a purpose and a case or incident number (C9);
- entities and sightings: an entity only when a record of the caller's agency names it (a sighting
  recorded for that agency, :func:`sightings_filter`), and of its sightings only the agency's, whose
  records are themselves filtered (:func:`record_visible`). Entities are ranked with alerts and cases
  in one query, then those no record of the agency names are left out (``finder.entities_seen``).

Criminal intelligence the caller may not open (C6): approved ``open`` (and ``agency_only`` of the caller's
own agency) is answered with the agency contact only (:func:`pointer_filter`); ``restricted`` returns
nothing, exactly like a miss, and the control official is told (:func:`restricted_filter`).
"""

from casewire import access_rules as shared

CI = shared.CRIMINAL_INTELLIGENCE
SHAREABLE = list(shared.SHAREABLE)  # approved intelligence an assignee outside its unit may open


def _term(field: str, value: str) -> dict:
    return {"term": {field: value}}


def _actor(caller: dict | None) -> dict:
    return (caller or {}).get("actor") or {}


def states_purpose(caller: dict | None) -> bool:
    """C9: criminal intelligence is searched only with a purpose and a case or incident number."""
    return shared.states_purpose(caller)


def _same_agency(caller: dict | None) -> dict:
    """The caller's agency; a record without one is only for callers without one (never every agency)."""
    agency = _actor(caller).get("agency")
    return _term("agency", agency) if agency else {"bool": {"must_not": [{"exists": {"field": "agency"}}]}}


_PENDING_CI = {"bool": {"filter": [_term("classification", CI)], "must_not": [_term("review_state", "approved")]}}
_NOT_PENDING_CI = {"bool": {"must_not": [_PENDING_CI]}}


def _case_opener(caller: dict | None) -> dict:
    """Cases the caller may open, as :func:`casewire.access_rules.case_access` decides (docs/security.md):

    intelligence pending review only by its submitting unit (C3); otherwise the owning unit in its
    agency, and assignees, but intelligence reaches an assignee outside its unit only once approved and
    labelled ``open`` or ``agency_only`` (``restricted`` or unlabelled: its unit only, failing closed).
    """
    should = []
    unit = (caller or {}).get("unit")
    if unit:
        no_submitter = {"bool": {"must_not": [{"exists": {"field": "submitting_unit"}}]}}
        submitter = {
            "bool": {
                "should": [_term("submitting_unit", unit), {"bool": {"filter": [no_submitter, _term("unit", unit)]}}]
            }
        }
        should.append({"bool": {"filter": [_PENDING_CI, submitter, _same_agency(caller)]}})
        should.append({"bool": {"filter": [_NOT_PENDING_CI, _term("unit", unit), _same_agency(caller)]}})
    if _actor(caller).get("id"):
        shareable = {
            "bool": {
                "should": [
                    {"bool": {"must_not": [_term("classification", CI)]}},
                    {"bool": {"filter": [_term("review_state", "approved"), {"terms": {"sensitivity": SHAREABLE}}]}},
                ]
            }
        }
        should.append({"bool": {"filter": [_term("assignees", _actor(caller)["id"]), shareable]}})
    return {"bool": {"should": should or [{"match_none": {}}], "minimum_should_match": 1}}


def _opens(caller: dict | None) -> dict:
    return _case_opener(caller)


def case_filter(caller: dict | None) -> dict:
    must_not = [] if states_purpose(caller) else [_term("classification", CI)]
    return {"bool": {"filter": [_term("kind", "case"), _opens(caller)], "must_not": must_not}}


def alert_filter(caller: dict | None) -> dict:
    """:func:`casewire.access_rules.alert_visible`: the caller's agency's alerts, and those assigned to the caller."""
    opens = [_same_agency(caller)]
    if _actor(caller).get("id"):
        opens.append(_term("assignees", _actor(caller)["id"]))
    return {"bool": {"filter": [_term("kind", "alert"), {"bool": {"should": opens}}]}}


def entity_filter(caller: dict | None) -> dict:
    return {"bool": {"filter": [_term("kind", "entity")]}}


def _ci_not_openable(caller: dict | None, sensitivities: list[str], approved_only: bool) -> dict:
    filters = [_term("kind", "case"), _term("classification", CI), {"terms": {"sensitivity": sensitivities}}]
    if approved_only:
        filters.append(_term("review_state", "approved"))
    return {"bool": {"filter": filters, "must_not": [_opens(caller)]}}


def pointer_filter(caller: dict | None) -> dict:
    """Approved ``open`` intelligence the caller cannot open, and ``agency_only`` intelligence of its own
    agency: only its agency contact (C6). Another agency's ``agency_only`` intelligence is no hit at all."""
    reach = {"bool": {"should": [_term("sensitivity", "open"), _same_agency(caller)], "minimum_should_match": 1}}
    return {"bool": {"filter": [_ci_not_openable(caller, SHAREABLE, approved_only=True), reach]}}


def restricted_filter(caller: dict | None) -> dict:
    """``restricted`` criminal intelligence of the caller's agency the caller cannot open: a silent hit the
    control official hears of. Another agency's is no hit at all: its control official never learns what
    another agency's people search for (docs/security.md)."""
    return {"bool": {"filter": [_ci_not_openable(caller, ["restricted"], approved_only=False), _same_agency(caller)]}}


def sightings_filter(caller: dict | None) -> dict:
    """Sightings recorded for the caller's agency: the only ones that show an entity to it, or place it
    in time and space (docs/security.md)."""
    return _same_agency(caller)


def record_visible(caller: dict | None) -> dict:
    """Alerts and cases the caller may open (to filter the records sightings point at)."""
    return {"bool": {"should": [alert_filter(caller), case_filter(caller)], "minimum_should_match": 1}}
