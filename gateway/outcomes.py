"""The outcome metrics as the gateway serves them: intake's alert funnel and the cases service's
outcomes combined per source, and the same figures as CSV (docs/outcomes.md).

Pure functions over the two services' answers; ``gateway/api/metrics.py`` calls the services.
"""

import csv
import io

from casewire.alerts import SOURCES

TOTAL = "total"
OUTCOME_KEYS = ("cases", "cases_by_outcome")


def combine(funnel: dict, outcomes: dict | None) -> list[dict]:
    """One row per source (in SOURCES order) and a last ``total`` row: the funnel's figures plus
    ``cases`` and ``cases_by_outcome`` when the outcomes are given."""
    rows = []
    names = [name for name in SOURCES if name in funnel["sources"]] + [TOTAL]
    for name in names:
        figures = funnel["total"] if name == TOTAL else funnel["sources"][name]
        row = {"source": name, **figures}
        if outcomes is not None:
            part = outcomes["total"] if name == TOTAL else outcomes["sources"].get(name) or {}
            row.update({key: part.get(key) for key in OUTCOME_KEYS})
        rows.append(row)
    return rows


def project(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """The rows cut to ``source`` and ``keys``."""
    return [{"source": row["source"], **{key: row.get(key) for key in keys}} for row in rows]


def flatten(row: dict, prefix: str = "") -> dict:
    """``{"time_to_assignment": {"p50": 3}}`` → ``{"time_to_assignment_p50": 3}``, order kept."""
    flat = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}_"))
        else:
            flat[name] = value
    return flat


def to_csv(rows: list[dict]) -> str:
    """The rows as CSV with a header; nested figures become ``outer_inner`` columns, empty for None."""
    flat = [flatten(row) for row in rows]
    columns = list(dict.fromkeys(key for row in flat for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()
