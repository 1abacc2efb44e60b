"""Alerts ↔ cases in the gateway's answers: an alert's related cases, and list counts of related records.

Both cost one call per request, never one per record: ``entities.related_records`` and
``cases.visible_cases`` for one alert; ``entities.related_counts`` for a page of cases.
A case the caller may not open is never named (C3, C6): the cases service decides, by the same rule
as every case read.
"""

from flask import current_app

from casewire.errors import Unavailable


def _rpc():
    return current_app.extensions["rpc"]


def alert_with_cases(alert: dict, context: dict) -> dict:
    """``alert`` with current ``related`` records and ``related_cases``, cut to what the caller may see.

    ``related`` is asked of the entities service now (a case linked since the alert arrived shows up);
    if it does not answer, the alert's stored copy is used. ``cases`` (what the alert was promoted
    into) and ``related_cases`` keep the cases the caller may open; if the cases service does not
    answer, no case is named and ``related_cases_pending`` is true.
    """
    try:
        related = _rpc().call("entities", "related_records", "alert", alert["id"])
    except Unavailable:
        related = alert.get("related") or []
    case_ids = list(dict.fromkeys([r["id"] for r in related if r["record_type"] == "case"] + alert.get("cases", [])))
    visible, pending = {}, False
    if case_ids:
        try:
            visible = {case["id"]: case for case in _rpc().call("cases", "visible_cases", case_ids, context)["items"]}
        except Unavailable:
            pending = True
    agency = (context.get("actor") or {}).get("agency")
    alert["related"] = [
        record
        for record in related
        if (record["record_type"] == "case" and record["id"] in visible)
        or (record["record_type"] != "case" and record.get("agency") in (None, agency))
    ]
    alert["cases"] = [case_id for case_id in alert.get("cases", []) if case_id in visible]
    alert["related_cases"] = [visible[case_id] for case_id in case_ids if case_id in visible]
    if pending:
        alert["related_cases_pending"] = True
    return alert


def with_related_counts(page: dict) -> dict:
    """Each case of a list page with ``related_count`` (records sharing entities with it or its alerts).

    One ``entities.related_counts`` call for the page; ``null`` when the entities service does not answer.
    """
    items = page.get("items") or []
    groups = {case["id"]: [case["id"], *(case.get("alert_ids") or [])] for case in items}
    try:
        counts = _rpc().call("entities", "related_counts", groups) if groups else {}
    except Unavailable:
        counts = {}
    for case in items:
        case["related_count"] = counts.get(case["id"])
    return page
