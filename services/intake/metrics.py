"""Intake's part of the outcome metrics: the alert funnel by source (docs/outcomes.md).

Every figure counts alerts *received* in a period of whole UTC hours, read from the hour and day
buckets of :mod:`casewire.tallies` (``funnel_hours``, ``funnel_days``), never from the alerts. An
alert's :func:`contribution` to its hour is one count under the key
``"<source>|<status>|<dismissal reason or ->|<overdue 0/1>|<escalated 0/1>"`` and, per stored
duration (``seconds_to_assignment``, ``seconds_to_first_action``, set once by the triage steps), its
milliseconds in the list of its source (``{"durations": {"assignment": {"alpr":
[60000]}}}``, stored as one string per list, :func:`casewire.tallies.pack`): the lists of a period
hold every duration of it, so its percentiles are exact nearest ranks. An alert's resolution (its own
document, stored when the entities service resolved it) counts once under
``"<source>|connected|<records|cases>"`` when it relates the alert to earlier records.
"""

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from casewire.alerts import DISMISS_REASONS, SOURCES

if TYPE_CHECKING:
    from services.intake.dependencies import AlertStore

DEFAULT_PERIOD = timedelta(days=30)
PERCENTILES = (50, 90)
TIMINGS = {
    "time_to_assignment": ("assignment", "seconds_to_assignment"),
    "time_to_first_action": ("first_action", "seconds_to_first_action"),
}
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
FIELDS = (
    "source",
    "status",
    "dismissal.reason",
    "overdue",
    "escalated_at",
    *(field for _, field in TIMINGS.values()),
)
"""What :func:`contribution` reads of an alert."""
CONNECTED = "connected"
"""The key part of a resolution's count: ``"<source>|connected|<records|cases>"``."""
NONE = "-"


def period(query: dict, now: datetime) -> tuple[datetime, datetime]:
    """``until`` defaults to now, ``since`` to 30 days before ``until`` (the tallies then round them out
    to whole hours, :func:`casewire.tallies.whole_hours`)."""
    until = query.get("until") or now
    return query.get("since") or until - DEFAULT_PERIOD, until


def _key_part(value: object) -> str:
    """A value as part of a bucket's field name (which may hold no ``.``, ``$`` or ``|`` of its own)."""
    text = NONE if value is None else str(value)
    return text.replace(".", "_").replace("$", "_").replace("|", "_")


def _milliseconds(value: object) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return round(value * 1000)
    return None


def contribution(record: dict) -> dict:
    """One alert's tally: ``{"counts": {key: 1}, "durations": {"assignment": {"alpr": [60000]}, ...}}``;
    or, for an alert's resolution (no ``status``), ``{"counts": {"alpr|connected|cases": 1}}`` when it
    relates the alert to earlier records (to a case among them: ``cases``)."""
    if "status" not in record:
        return _connection(record)
    alert = record
    status = alert.get("status")
    reason = (alert.get("dismissal") or {}).get("reason") if status == "dismissed" else None
    flags = ("1" if alert.get("overdue") is True else "0", "0" if alert.get("escalated_at") is None else "1")
    source = _key_part(alert.get("source"))
    key = "|".join((source, _key_part(status), _key_part(reason), *flags))
    durations = {}
    for name, field in TIMINGS.values():
        milliseconds = _milliseconds(alert.get(field))
        if milliseconds is not None:
            durations[name] = {source: [milliseconds]}
    return {"counts": {key: 1}, "durations": durations}


def _connection(resolution: dict) -> dict:
    related = resolution.get("related") or []
    if not related:
        return {}
    cases = any(record.get("record_type") == "case" for record in related)
    return {"counts": {f"{_key_part(resolution.get('source'))}|{CONNECTED}|{'cases' if cases else 'records'}": 1}}


def nearest_rank(count: int, percentile: int) -> int:
    """0-based rank of the ``percentile``-th value among ``count`` sorted values (nearest-rank method)."""
    return max((percentile * count + 99) // 100 - 1, 0)


def percentiles(milliseconds: list[int]) -> dict:
    """``{"count", "p50", "p90"}`` in seconds of durations in milliseconds (None without any)."""
    ordered = sorted(milliseconds)
    found = {f"p{p}": ordered[nearest_rank(len(ordered), p)] / 1000 if ordered else None for p in PERCENTILES}
    return {"count": len(ordered), **found}


def _empty() -> dict:
    return {
        **dict.fromkeys(COUNTS, 0),
        "dismissed_by_reason": dict.fromkeys(DISMISS_REASONS, 0),
        **{name: percentiles([]) for name in TIMINGS},
    }


def _count(figures: dict, key: list[str], n: int) -> None:
    """Add the ``n`` alerts counted under one key (its parts after the source) to ``figures``."""
    if key[0] == CONNECTED:
        figures["connected_to_earlier_records"] += n
        figures["connected_to_earlier_cases"] += n if key[1] == "cases" else 0
        return
    status, reason, overdue, escalated = key
    figures["alerts"] += n
    if status in ("dismissed", "promoted"):
        figures[status] += n
    elif status in ("new", "assigned"):
        figures["open"] += n
    if status == "dismissed":
        reason = "unknown" if reason == NONE else reason
        figures["dismissed_by_reason"][reason] = figures["dismissed_by_reason"].get(reason, 0) + n
    figures["escalated"] += n if escalated == "1" else 0
    figures["overdue_now"] += n if overdue == "1" else 0


def alert_funnel(
    store: "AlertStore", agency: str | None, since: datetime, until: datetime, source: str | None = None
) -> dict:
    """``{"sources": {source: figures}, "total": figures}`` for alerts received in ``[since, until)``
    (whole hours); figures are :data:`COUNTS`, ``dismissed_by_reason`` and, per timing,
    ``{"count", "p50", "p90"}`` in seconds. The buckets' counts are added up per key first, then each
    key is read once."""
    counts, durations = Counter(), {timing: defaultdict(list) for timing in TIMINGS}
    for tally in store.tallies.read(agency, since, until):
        counts.update(tally.get("counts", {}))
        for timing, (name, _) in TIMINGS.items():
            for found, values in tally.get("durations", {}).get(name, {}).items():
                durations[timing][found].extend(values)
    rows = {name: _empty() for name in ([source] if source else SOURCES)}
    total = _empty()
    for key, n in counts.items():
        name, *rest = key.split("|")
        if not source or name == source:
            for figures in (rows.setdefault(name, _empty()), total):
                _count(figures, rest, n)
    for timing, by_source in durations.items():
        chosen = {name: values for name, values in by_source.items() if not source or name == source}
        for name, values in chosen.items():
            rows.setdefault(name, _empty())[timing] = percentiles(values)
        total[timing] = percentiles([value for values in chosen.values() for value in values])
    for figures in (*rows.values(), total):
        figures["assigned"] = figures["time_to_assignment"]["count"]
    return {"sources": rows, "total": total}
