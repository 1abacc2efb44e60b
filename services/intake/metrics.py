"""Intake's part of the outcome metrics: the alert funnel by source (README, Outcomes).

Every figure counts alerts *received* in ``[since, until)`` of one agency, in three round trips to
the database, each starting with ``$match`` on the ``metrics_funnel`` index (agency, received_at):

- one ``$group`` counts the alerts per (source, status, dismissal reason, overdue, escalated);
- one ``$group`` counts the alerts connected to earlier records, per (source, related cases);
- one covered query reads the stored durations (``seconds_to_assignment``,
  ``seconds_to_first_action``, set once by the triage steps), and the percentiles are the values at
  their nearest ranks. FerretDB 1.24 has no ``$push``, ``$percentile`` or ``$facet`` (its only
  ``$group`` accumulators are ``$sum`` and ``$count``), so the ranks are taken here, over the numbers
  alone: never a document.
"""

from collections import defaultdict
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
UNSET = ("missing", "null")
"""What ``$type`` answers for a field an alert does not have (or holds None)."""


def period(query: dict, now: datetime) -> tuple[datetime, datetime]:
    """``until`` defaults to now, ``since`` to 30 days before ``until``."""
    until = query.get("until") or now
    return query.get("since") or until - DEFAULT_PERIOD, until


def nearest_rank(count: int, percentile: int) -> int:
    """0-based rank of the ``percentile``-th value among ``count`` sorted values (nearest-rank method)."""
    return max((percentile * count + 99) // 100 - 1, 0)


def percentiles(values: list[float]) -> dict:
    """``{"count", "p50", "p90"}`` of ``values`` (None without values)."""
    ordered = sorted(values)
    found = {f"p{p}": ordered[nearest_rank(len(ordered), p)] if ordered else None for p in PERCENTILES}
    return {"count": len(ordered), **found}


def _empty() -> dict:
    return {
        **dict.fromkeys(COUNTS, 0),
        "dismissed_by_reason": dict.fromkeys(DISMISS_REASONS, 0),
        **{name: percentiles([]) for name in TIMINGS},
    }


def _count(figures: dict, key: dict, n: int) -> None:
    """Add one ``$group`` row of the funnel counts (its ``_id`` is ``key``) to ``figures``."""
    figures["alerts"] += n
    status = key.get("status")
    if status in ("dismissed", "promoted"):
        figures[status] += n
    elif status in ("new", "assigned"):
        figures["open"] += n
    if status == "dismissed":
        reason = key.get("reason") or "unknown"
        figures["dismissed_by_reason"][reason] = figures["dismissed_by_reason"].get(reason, 0) + n
    if key.get("escalated", "missing") not in UNSET:
        figures["escalated"] += n
    if key.get("overdue") is True:
        figures["overdue_now"] += n


def alert_funnel(store, agency: str | None, since: datetime, until: datetime, source: str | None = None) -> dict:
    """``{"sources": {source: figures}, "total": figures}``; figures are :data:`COUNTS`,
    ``dismissed_by_reason`` and, per timing, ``{"count", "p50", "p90"}`` in seconds."""
    match = {"agency": agency, "received_at": {"$gte": since, "$lt": until}}
    if source:
        match["source"] = source
    rows = {name: _empty() for name in ([source] if source else SOURCES)}
    total = _empty()
    for key, n in store.funnel_counts(match):
        for figures in (rows.setdefault(key.get("source"), _empty()), total):
            _count(figures, key, n)
    for name, related_cases, n in store.connected_counts(match):
        for figures in (rows.setdefault(name, _empty()), total):
            figures["connected_to_earlier_records"] += n
            figures["connected_to_earlier_cases"] += n if (related_cases or 0) > 0 else 0
    values = {timing: defaultdict(list) for timing in TIMINGS}
    for name, durations in store.durations(match, tuple(TIMINGS.values())):
        for timing, field in TIMINGS.items():
            value = durations.get(field)
            if value is not None and value >= 0:
                values[timing][name].append(value)
    for timing, by_source in values.items():
        for name, found in by_source.items():
            rows.setdefault(name, _empty())[timing] = percentiles(found)
        total[timing] = percentiles([value for found in by_source.values() for value in found])
    for figures in (*rows.values(), total):
        figures["assigned"] = figures["time_to_assignment"]["count"]
    return {"sources": rows, "total": total}
