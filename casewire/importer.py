"""``casewire import``: read alerts from JSON lines or CSV and post them through the batch endpoint.

CSV columns: ``source``, ``source_system``, ``source_event_id``, ``occurred_at``, ``lat``, ``lon``,
``address``, ``priority``, ``notes``, and ``payload.<field>`` for payload fields (dotted for nested
ones, e.g. ``payload.vehicle.make``). A cell holding a JSON array or object (``["s1","s2"]``) is
decoded; empty cells are left out. See README, Intake.
"""

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

LOCATION_COLUMNS = {"lat", "lon", "address"}


def _cell(value: str):
    text = value.strip()
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def csv_row_to_alert(row: dict) -> dict:
    alert: dict = {}
    for column, value in row.items():
        if column is None or value is None or not value.strip():
            continue
        column = column.strip()
        if column in LOCATION_COLUMNS:
            alert.setdefault("location", {})[column] = value.strip()
            continue
        target, *path = column.split(".")
        if not path:
            alert[column] = _cell(value)
            continue
        node = alert.setdefault(target, {})
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _cell(value)
    return alert


def read_records(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    """``(line, alert, error)`` for every record; ``error`` when the line itself cannot be read."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            for row_number, row in enumerate(csv.DictReader(handle), start=2):  # the header is line 1
                yield row_number, csv_row_to_alert(row), None
        return
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield line_number, json.loads(line), None
            except ValueError as exc:
                yield line_number, None, f"not JSON: {exc}"


def chunks(records: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_import(records: Iterable, post_batch: Callable[[list[dict]], list[dict]], size: int, on_chunk=None) -> dict:
    """Post ``records`` in chunks; returns counts and the failures ``{"line", "errors", "alert"}``."""
    counts = {"created": 0, "known": 0, "near_duplicate": 0, "failed": 0}
    failures = []
    for chunk in chunks(records, size):
        readable = [(line, alert) for line, alert, error in chunk if error is None]
        for line, _alert, error in chunk:
            if error is not None:
                failures.append({"line": line, "errors": {"_line": [error]}, "alert": None})
        results = post_batch([alert for _, alert in readable]) if readable else []
        for (line, alert), result in zip(readable, results, strict=True):
            if result["status"] == 201:
                counts["created"] += 1
            elif result["status"] == 200:
                counts["near_duplicate" if result.get("near_duplicate") else "known"] += 1
            else:
                failures.append({"line": line, "errors": result.get("errors"), "alert": alert})
        if on_chunk:
            on_chunk(len(chunk))
    counts["failed"] = len(failures)
    return {"counts": counts, "failures": failures}
