"""``casewire import``: read alerts from JSON lines or CSV and post them through the batch endpoint.

CSV columns: ``source``, ``source_system``, ``source_event_id``, ``occurred_at``, ``lat``, ``lon``,
``address``, ``priority``, ``notes``, and ``payload.<field>`` for payload fields (dotted for nested
ones, e.g. ``payload.vehicle.make``). A cell holding a JSON array or object (``["s1","s2"]``) is
decoded; empty cells are left out. See docs/intake.md.

A batch the gateway cannot take now (503, or 429 for the rate limit) is sent again after the wait its
``Retry-After`` asks for, else after a doubling backoff; a batch still refused after the retries, or
refused for another reason, is written to the failures with the gateway's answer, and the import goes
on with the next batch.
"""

import csv
import json
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

LOCATION_COLUMNS = {"lat", "lon", "address"}
RETRYABLE = (429, 503)
MAX_WAIT = 60.0


class BatchRefused(Exception):
    """The gateway did not take a batch: ``status`` and the start of its answer."""

    def __init__(self, status: int, answer: str, attempts: int):
        super().__init__(f"the gateway answered {status} after {attempts} attempt(s): {answer}")
        self.status = status


def retry_wait(retry_after: str | None, retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...): the server's ``Retry-After`` (seconds or
    an HTTP date) when it gives one, else 1, 2, 4, ... seconds; never more than a minute."""
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), MAX_WAIT)
        except ValueError:
            try:
                when = parsedate_to_datetime(retry_after)
                return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_WAIT)
            except (TypeError, ValueError):
                pass
    return min(2.0 ** (retry - 1), MAX_WAIT)


def post_with_retries(
    send: Callable, alerts: list[dict], retries: int, sleep: Callable[[float], None] = time.sleep
) -> list[dict]:
    """``send(alerts)`` → a response with ``status_code``, ``headers``, ``text`` and ``json()``; returns the
    batch's results, retrying 503 and 429 up to ``retries`` times. Raises BatchRefused otherwise."""
    attempt = 1
    while True:
        response = send(alerts)
        if response.status_code == 200:
            return response.json()["results"]
        if response.status_code not in RETRYABLE or attempt > retries:
            raise BatchRefused(response.status_code, response.text[:500], attempt)
        sleep(retry_wait(response.headers.get("Retry-After"), attempt))
        attempt += 1


def _cell(value: str) -> object:
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


def run_import(
    records: Iterable,
    post_batch: Callable[[list[dict]], list[dict]],
    size: int,
    on_chunk: Callable[[int], None] | None = None,
) -> dict:
    """Post ``records`` in chunks; returns counts and the failures ``{"line", "errors", "alert"}``."""
    counts = {"created": 0, "known": 0, "near_duplicate": 0, "failed": 0}
    failures = []
    for chunk in chunks(records, size):
        readable = [(line, alert) for line, alert, error in chunk if error is None]
        for line, _alert, error in chunk:
            if error is not None:
                failures.append({"line": line, "errors": {"_line": [error]}, "alert": None})
        try:
            results = post_batch([alert for _, alert in readable]) if readable else []
        except BatchRefused as refused:
            failures += [
                {"line": line, "errors": {"_batch": [str(refused)]}, "alert": alert} for line, alert in readable
            ]
            readable, results = [], []
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
