"""The cases service's part of the outcome metrics: cases by disposition and by alert source.

The figures count cases *opened* in a period of whole UTC hours, read from the hour and day buckets
of :mod:`casewire.tallies` (``outcome_hours``, ``outcome_days``), never from the cases. A case's
:func:`contribution` to its hour is one count under ``"<outcome or no_disposition>|<the distinct
sources of its linked alerts, sorted, joined by +>"``: a case counts once for each of those sources.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from casewire.alerts import SOURCES
from casewire.contracts.case_inputs import OUTCOMES

if TYPE_CHECKING:
    from services.cases.dependencies import CaseStore

NO_DISPOSITION = "no_disposition"
FIELDS = ("disposition.outcome", "alerts.source")
"""What :func:`contribution` reads of a case."""


def _sources(case: dict) -> list[str]:
    links = case.get("alerts") if isinstance(case.get("alerts"), list) else []
    found = {link.get("source") for link in links if isinstance(link, dict) and link.get("source")}
    return sorted(str(source).translate(str.maketrans(".$|+", "____")) for source in found)


def contribution(case: dict) -> dict:
    """One case's tally: ``{"counts": {"arrest|alpr+tip": 1}}``."""
    outcome = (case.get("disposition") or {}).get("outcome")
    outcome = outcome if outcome in OUTCOMES else NO_DISPOSITION
    return {"counts": {f"{outcome}|{'+'.join(_sources(case))}": 1}}


def _by_outcome() -> dict:
    return {"cases": 0, "cases_by_outcome": dict.fromkeys((*OUTCOMES, NO_DISPOSITION), 0)}


def _add(figures: dict, outcome: str, n: int) -> None:
    figures["cases"] += n
    figures["cases_by_outcome"][outcome if outcome in OUTCOMES else NO_DISPOSITION] += n


def outcomes_by_source(
    store: "CaseStore", agency: str | None, since: datetime, until: datetime, source: str | None = None
) -> dict:
    """``{"sources": {source: {"cases", "cases_by_outcome"}}, "total": ..., "all_cases": ...}`` for the
    cases of ``agency`` opened in ``[since, until)`` (whole hours); ``total`` counts cases with an
    alert of the sources once each, ``all_cases`` every case."""
    sources = [source] if source else list(SOURCES)
    rows, total, all_cases = {name: _by_outcome() for name in sources}, _by_outcome(), _by_outcome()
    for tally in store.tallies.read(agency, since, until):
        for key, n in tally.get("counts", {}).items():
            outcome, joined = key.split("|", 1)
            linked = joined.split("+") if joined else []
            present = [name for name in sources if name in linked]
            for name in present:
                _add(rows[name], outcome, n)
            if present:
                _add(total, outcome, n)
            _add(all_cases, outcome, n)
    return {"sources": rows, "total": total, "all_cases": all_cases}
