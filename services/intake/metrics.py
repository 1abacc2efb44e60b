"""Intake's part of the outcome metrics: the alert funnel by source (README, Outcomes).

Every figure counts alerts *received* in ``[since, until)`` of one agency. The counts come from
``$group`` aggregations; the percentiles of the stored durations (``seconds_to_assignment``,
``seconds_to_first_action``, set once by the triage steps) by counting, then reading the value at
the nearest rank with ``sort`` + ``skip`` on an index that holds the duration.
"""

from datetime import datetime, timedelta

from casewire.alerts import DISMISS_REASONS, SOURCES

DEFAULT_PERIOD = timedelta(days=30)
PERCENTILES = (50, 90)
TIMINGS = {"time_to_assignment": "seconds_to_assignment", "time_to_first_action": "seconds_to_first_action"}
COUNTS = (
    "alerts",
    "assigned",
    "dismissed",
    "promoted",
    "open",
    "escalated",
    "overdue_now",
    "connected_to_earlier_records",
    "connected_to_earlier_cases",
)
FLAGGED = {
    "escalated": {"escalated_at": {"$ne": None}},
    "overdue_now": {"overdue": True},
    "connected_to_earlier_records": {"related_count": {"$gt": 0}},
    "connected_to_earlier_cases": {"related_case_count": {"$gt": 0}},
}


def period(query: dict, now: datetime) -> tuple[datetime, datetime]:
    """``until`` defaults to now, ``since`` to 30 days before ``until``."""
    until = query.get("until") or now
    return query.get("since") or until - DEFAULT_PERIOD, until


def nearest_rank(count: int, percentile: int) -> int:
    """0-based rank of the ``percentile``-th value among ``count`` sorted values (nearest-rank method)."""
    return max((percentile * count + 99) // 100 - 1, 0)


def _empty() -> dict:
    return {
        **dict.fromkeys(COUNTS, 0),
        "dismissed_by_reason": dict.fromkeys(DISMISS_REASONS, 0),
        **{name: {"count": 0, **{f"p{p}": None for p in PERCENTILES}} for name in TIMINGS},
    }


def _percentiles(store, match: dict, field: str, count: int) -> dict:
    return {f"p{p}": store.value_at(match, field, nearest_rank(count, p)) if count else None for p in PERCENTILES}


def alert_funnel(store, agency: str | None, since: datetime, until: datetime, source: str | None = None) -> dict:
    """``{"sources": {source: figures}, "total": figures}``; figures are :data:`COUNTS`,
    ``dismissed_by_reason`` and, per timing, ``{"count", "p50", "p90"}`` in seconds."""
    match = {"agency": agency, "received_at": {"$gte": since, "$lt": until}}
    if source:
        match["source"] = source
    rows = {name: _empty() for name in ([source] if source else SOURCES)}
    total = _empty()

    def add(name: str, key: str, n: int, reason: str | None = None) -> None:
        for figures in (rows.setdefault(name, _empty()), total):
            if reason is None:
                figures[key] += n
            else:
                figures[key][reason] = figures[key].get(reason, 0) + n

    for (name, status), n in store.count_by(match, ("source", "status")):
        add(name, "alerts", n)
        if status in ("dismissed", "promoted"):
            add(name, status, n)
        elif status in ("new", "assigned"):
            add(name, "open", n)
    for (name, reason), n in store.count_by({**match, "status": "dismissed"}, ("source", "dismissal.reason")):
        add(name, "dismissed_by_reason", n, reason or "unknown")
    for key, condition in FLAGGED.items():
        for (name,), n in store.count_by({**match, **condition}, ("source",)):
            add(name, key, n)
    for timing, field in TIMINGS.items():
        for (name,), n in store.count_by({**match, field: {"$gte": 0}}, ("source",)):
            rows[name][timing]["count"] = n
            total[timing]["count"] += n
        for name, figures in rows.items():
            count = figures[timing]["count"]
            figures[timing].update(_percentiles(store, {**match, "source": name}, field, count))
        total[timing].update(_percentiles(store, match, field, total[timing]["count"]))
    total["assigned"] = total["time_to_assignment"]["count"]
    for figures in rows.values():
        figures["assigned"] = figures["time_to_assignment"]["count"]
    return {"sources": rows, "total": total}
