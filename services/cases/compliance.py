"""The compliance report's checks (C13, C27): pure functions over stored documents.

Each exception row lists records that break a rule and must be empty in a compliant system; the
other rows describe what happened in the period.
"""

import re
from collections.abc import Iterable
from datetime import datetime

from casewire.contracts.cases import plain
from services.cases import rules

READ_ACTIONS = (
    "case.read",  # the case and its parts: items, evidence, related records, timeline, dissemination log
    "case.export",  # the whole case file
    "case.attachment.read",  # one of its files (record_type "attachment"; the case is in the path)
    "search.hits",  # the cases a search answer showed (gateway/api/search.py)
)
"""Audited reads of criminal intelligence the report looks at for a missing purpose (C9, C27)."""
CASE_PATH = re.compile(r"^/api/v1/cases/([^/]+)")
EXCEPTION_ROWS = (
    "intelligence_without_predicate_or_labels",
    "review_due_beyond_five_years",
    "reads_without_purpose",
)


EVERY_AGENCY = "*"


def report_scope(context: dict | None) -> tuple | None:
    """The agencies a compliance report covers: the auditor's own, plus those its token's oversight claim
    names (``context["oversight"]``); None for every agency (``*``, or a call without an end user)."""
    if rules.is_system(context):
        return None
    oversight = context.get("oversight") or []
    if EVERY_AGENCY in oversight:
        return None
    return tuple(dict.fromkeys([(context.get("actor") or {}).get("agency"), *oversight]))


def within(scope: tuple | None, documents: list[dict]) -> list[dict]:
    """The records, releases, notifications or tombstones of the agencies in ``scope`` (a release by the
    agency of the record it released; one stored before releases named it, by the releaser's agency)."""
    if scope is None:
        return documents
    return [doc for doc in documents if doc.get("record_agency", doc.get("by_agency", doc.get("agency"))) in scope]


def missing_predicate_or_labels(case: dict, min_chars: int) -> dict | None:
    """C2/C5: the fields a stored criminal intelligence record lacks (None when complete)."""
    errors = rules.ci_errors(case, min_chars)
    if not errors:
        return None
    return {"case_id": case["_id"], "unit": case.get("unit"), "missing": sorted(errors)}


def review_due_violation(case: dict) -> dict | None:
    """C13: a record whose ``review_due`` is missing or beyond five years after submission or validation."""
    base = case.get("last_validated_at") or case.get("submitted_at") or case.get("opened_at")
    due = case.get("review_due")
    if due is not None and base is not None and due <= base + rules.REVIEW_PERIOD:
        return None
    limit = base + rules.REVIEW_PERIOD if base else None
    return plain(
        {
            "case_id": case["_id"],
            "unit": case.get("unit"),
            "review_due": due,
            "counted_from": base,
            "latest_allowed": limit,
            "problem": "no review_due" if due is None else "review_due is more than five years out",
        }
    )


def overdue(case: dict, now: datetime) -> dict | None:
    due = case.get("review_due")
    if due is None or due > now:
        return None
    return plain(
        {
            "case_id": case["_id"],
            "unit": case.get("unit"),
            "review_due": due,
            "legal_holds": [hold["reference"] for hold in case.get("legal_holds") or []],
        }
    )


def dissemination_row(entry: dict) -> dict:
    keys = ("recipient", "agency", "need_to_know", "purpose", "kind", "at", "by", "classification", "sensitivity")
    return plain({"dissemination_id": entry["_id"], "record_ids": entry.get("record_ids"), **_pick(entry, keys)})


def read_case_ids(event: dict) -> set[str]:
    """The cases an audited read touched: its case record ids, and the case its path names (a file)."""
    ids = set(event.get("record_ids") or []) if event.get("record_type") == "case" else set()
    found = CASE_PATH.match(str((event.get("details") or {}).get("path") or ""))
    if found and found.group(1) != "review-queue":
        ids.add(found.group(1))
    return ids


def read_row(event: dict, case_ids: Iterable[str] = ()) -> dict:
    """One read without a purpose: the event, and which criminal intelligence it read (``case_ids``)."""
    actor = event.get("actor") or {}
    keys = ("seq", "at", "action", "record_type", "record_ids", "request_id", "service", "case_number")
    row = {**_pick(event, keys), "actor": actor.get("id"), "agency": actor.get("agency")}
    return {**row, "case_ids": sorted(case_ids)}


def sample_row(case: dict, disseminations: list[dict]) -> dict:
    """One sampled record as an auditor checks it: narrative, source, labels, reviews, releases."""
    return plain(
        {
            "case_id": case["_id"],
            "title": case.get("title"),
            "unit": case.get("unit"),
            "offense_category": case.get("offense_category"),
            "subjects": case.get("subjects"),
            "narrative": case.get("reasonable_suspicion"),
            "source": {"type": case.get("source_type"), "obtained_how": case.get("obtained_how")},
            "labels": {
                "sensitivity": case.get("sensitivity"),
                "source_reliability": case.get("source_reliability"),
                "content_validity": case.get("content_validity"),
            },
            "submitted": {
                "by": case.get("submitter"),
                "agency": case.get("submitting_agency"),
                "at": case.get("submitted_at"),
            },
            "control_official": case.get("control_official"),
            "review": {
                "state": case.get("review_state"),
                "approved_by": case.get("approved_by"),
                "approved_at": case.get("approved_at"),
                "last_validated_at": case.get("last_validated_at"),
                "review_due": case.get("review_due"),
                "history": case.get("reviews") or [],
            },
            "legal_holds": case.get("legal_holds") or [],
            "dissemination_log": [dissemination_row(entry) for entry in disseminations],
        }
    )


def summary(report: dict) -> dict:
    """Counts per row, and ``ok`` when every exception row is empty."""
    counts = {name: len(value) for name, value in report.items() if isinstance(value, list)}
    return {"counts": counts, "ok": not any(counts.get(name) for name in EXCEPTION_ROWS)}


def _pick(document: dict, keys: Iterable[str]) -> dict:
    return {key: document.get(key) for key in keys}


def as_text(report: dict) -> str:
    """The report as a reader sees it (``casewire compliance report`` without ``--json``)."""
    period = report["period"]
    lines = [
        f"Compliance report (28 CFR Part 23), {period['since']} to {period['until']}",
        f"generated {report['generated_at']}: {'OK' if report['ok'] else 'EXCEPTIONS FOUND'}",
        "",
    ]
    titles = {
        "intelligence_without_predicate_or_labels": "Intelligence without a predicate or labels (must be none)",
        "review_due_beyond_five_years": "Review dates beyond five years (must be none, C13)",
        "reviews_overdue": "Reviews overdue",
        "purges": "Purges done (tombstones)",
        "disseminations": "Disseminations",
        "restricted_disseminated": "Restricted records disseminated",
        "reads_without_purpose": "Criminal intelligence reads without a purpose (must be none)",
        "recipient_notifications": "Dissemination recipients notified of corrections and purges (C11)",
        "control_official_notifications": "Control officials notified of restricted hits (C6)",
    }
    for key, title in titles.items():
        rows = report.get(key) or []
        lines.append(f"{title}: {len(rows)}")
        for row in rows[:50]:
            lines.append("  - " + ", ".join(f"{k}={v}" for k, v in row.items() if v not in (None, [], {})))
        if len(rows) > 50:
            lines.append(f"  ... and {len(rows) - 50} more (use --json)")
    lines.append(f"Sample of {len(report.get('sample') or [])} records:")
    for row in report.get("sample") or []:
        lines += [
            f"  * {row['case_id']} {row['title']} ({row['offense_category']}, unit {row['unit']})",
            f"    narrative: {row['narrative']}",
            f"    source: {row['source']['type']}; {row['source']['obtained_how']}",
            "    labels: " + ", ".join(f"{k}={v}" for k, v in row["labels"].items()),
            f"    review: {row['review']['state']}, due {row['review']['review_due']}, "
            f"{len(row['review']['history'])} review(s)",
            f"    disseminations: {len(row['dissemination_log'])}",
        ]
    return "\n".join(lines) + "\n"
